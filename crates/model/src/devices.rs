//! A device as the manager knows it (CONTRACT §3 `GET /api/devices`, §9 `stale`).

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// A device as the manager knows it (`GET /api/devices` shape).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Device {
    /// Its id (the topic level).
    pub id: String,
    /// `name` lifted from its state.
    pub name: Option<String>,
    /// `type` lifted from its state.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `room` lifted from its state.
    pub room: Option<String>,
    /// Online: its availability says so, or (with no availability yet) it has reported state.
    pub online: bool,
    /// Not heard from (state or availability) for `ALICIA_DEVICE_STALE_SECS` (CONTRACT §9).
    pub stale: bool,
    /// When it was last heard from (RFC 3339).
    pub last_seen: Option<String>,
    /// Its last reported state (a JSON object), `null` when cleared; shared with the message
    /// log that brought it.
    #[schema(value_type = Option<Object>)]
    pub state: Arc<Value>,
    /// The availability it reported (`None`: never, or cleared).
    #[serde(skip)]
    #[schema(ignore)]
    pub availability: Option<bool>,
}

impl Device {
    /// A device known by its id alone (nothing reported yet).
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: None,
            kind: None,
            room: None,
            online: false,
            stale: false,
            last_seen: None,
            state: Arc::new(Value::Null),
            availability: None,
        }
    }

    /// Works `online` out again: its availability, else whether it has reported state.
    pub fn refresh_online(&mut self) {
        self.online = self.availability.unwrap_or(!self.state.is_null());
    }

    /// True when nothing is known of it any more (state and availability cleared).
    pub fn is_empty(&self) -> bool {
        self.state.is_null() && self.availability.is_none()
    }
}
