//! The device registry (CONTRACT §2, `alicia/device/<id>/…`): a live map fed by MQTT, and the
//! commands sent to devices that still await their result.

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Commands remembered while waiting for their result.
const PENDING_COMMANDS_LIMIT: usize = 10_000;
/// How long a command's result is waited for.
const COMMAND_RESULT_TIMEOUT: Duration = Duration::from_secs(120);

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
    fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: None,
            kind: None,
            room: None,
            online: false,
            last_seen: None,
            state: Arc::new(Value::Null),
            availability: None,
        }
    }

    fn refresh_online(&mut self) {
        self.online = self.availability.unwrap_or(!self.state.is_null());
    }

    fn is_empty(&self) -> bool {
        self.state.is_null() && self.availability.is_none()
    }
}

/// What a device message did to the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceChange {
    /// The device is new or changed.
    Updated(Arc<Device>),
    /// The device is gone (its retained topics were cleared).
    Removed(String),
}

/// A command sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommand {
    /// The device it was sent to.
    pub device_id: String,
    /// The command's name, as sent.
    pub command: String,
    sent: Instant,
}

/// The registry; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct DeviceRegistry {
    devices: Arc<RwLock<HashMap<String, Arc<Device>>>>,
    pending: Arc<Mutex<PendingCommands>>,
}

#[derive(Debug, Default)]
struct PendingCommands {
    by_id: HashMap<String, PendingCommand>,
    order: VecDeque<String>,
}

impl DeviceRegistry {
    /// Applies `alicia/device/<id>/state`: `Some(object)` is the new state, `None` clears it.
    pub fn apply_state(
        &self,
        id: &str,
        state: Option<Arc<Value>>,
        now: &str,
    ) -> Option<DeviceChange> {
        self.update(id, |device| match state {
            Some(state) => {
                lift(&state, "name", &mut device.name);
                lift(&state, "type", &mut device.kind);
                lift(&state, "room", &mut device.room);
                device.state = state;
                device.last_seen = Some(now.to_owned());
            }
            None => device.state = Arc::new(Value::Null),
        })
    }

    /// Applies `alicia/device/<id>/availability`: `Some(online)`, or `None` when cleared.
    pub fn apply_availability(
        &self,
        id: &str,
        online: Option<bool>,
        now: &str,
    ) -> Option<DeviceChange> {
        self.update(id, |device| {
            device.availability = online;
            if online == Some(true) {
                device.last_seen = Some(now.to_owned());
            }
        })
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Device)) -> Option<DeviceChange> {
        let mut devices = self.devices.write();
        let mut device = devices
            .get(id)
            .map_or_else(|| Device::new(id), |existing| Device::clone(existing));
        change(&mut device);
        device.refresh_online();
        if device.is_empty() {
            return devices
                .remove(id)
                .map(|_| DeviceChange::Removed(id.to_owned()));
        }
        if devices.get(id).is_some_and(|existing| **existing == device) {
            return None;
        }
        let device = Arc::new(device);
        devices.insert(id.to_owned(), Arc::clone(&device));
        Some(DeviceChange::Updated(device))
    }

    /// One device.
    pub fn get(&self, id: &str) -> Option<Arc<Device>> {
        self.devices.read().get(id).cloned()
    }

    /// Every device, sorted by id.
    pub fn list(&self) -> Vec<Arc<Device>> {
        let mut list: Vec<Arc<Device>> = self.devices.read().values().cloned().collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// (online, total) device counts.
    pub fn counts(&self) -> (usize, usize) {
        let devices = self.devices.read();
        (devices.values().filter(|d| d.online).count(), devices.len())
    }

    /// Remembers a command sent, to match its result.
    pub fn remember_command(&self, request_id: &str, device_id: &str, command: &str) {
        let mut pending = self.pending.lock();
        let now = Instant::now();
        while let Some(oldest) = pending.order.front().cloned() {
            let expired = pending
                .by_id
                .get(&oldest)
                .is_none_or(|p| now.duration_since(p.sent) > COMMAND_RESULT_TIMEOUT);
            if expired || pending.order.len() >= PENDING_COMMANDS_LIMIT {
                pending.order.pop_front();
                pending.by_id.remove(&oldest);
            } else {
                break;
            }
        }
        pending.by_id.insert(
            request_id.to_owned(),
            PendingCommand {
                device_id: device_id.to_owned(),
                command: command.to_owned(),
                sent: now,
            },
        );
        pending.order.push_back(request_id.to_owned());
    }

    /// Takes the command a result answers, if this manager sent it and still waits for it.
    pub fn take_command(&self, request_id: &str) -> Option<PendingCommand> {
        let mut pending = self.pending.lock();
        pending.by_id.remove(request_id)
    }
}

/// Lifts a string field of the state into the record, allocating only when it changed.
fn lift(state: &Value, key: &str, field: &mut Option<String>) {
    if let Some(text) = state.get(key).and_then(Value::as_str)
        && field.as_deref() != Some(text)
    {
        *field = Some(text.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Arc<Value> {
        assert!(value.is_object());
        Arc::new(value)
    }

    #[test]
    fn state_lifts_name_type_and_room() {
        let registry = DeviceRegistry::default();
        let change = registry.apply_state(
            "lamp-1",
            Some(object(
                json!({"name": "Desk lamp", "type": "light", "room": "office", "on": true}),
            )),
            "2026-01-01T00:00:00.000Z",
        );
        let Some(DeviceChange::Updated(device)) = change else {
            panic!("{change:?}")
        };
        assert_eq!(device.name.as_deref(), Some("Desk lamp"));
        assert_eq!(device.kind.as_deref(), Some("light"));
        assert_eq!(device.room.as_deref(), Some("office"));
        assert!(device.online);
        assert_eq!(device.state["on"], true);
        let json = serde_json::to_value(&*device).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["id", "name", "type", "room", "online", "last_seen", "state"]
        );
    }

    #[test]
    fn availability_rules_online() {
        let registry = DeviceRegistry::default();
        registry.apply_state("t", Some(object(json!({"temp": 20}))), "now");
        registry.apply_availability("t", Some(false), "now");
        assert!(!registry.get("t").unwrap().online);
        registry.apply_availability("t", None, "now");
        assert!(registry.get("t").unwrap().online);
        assert_eq!(registry.counts(), (1, 1));
    }

    #[test]
    fn clearing_everything_removes_the_device() {
        let registry = DeviceRegistry::default();
        registry.apply_state("t", Some(object(json!({"temp": 20}))), "now");
        registry.apply_availability("t", Some(true), "now");
        assert!(matches!(
            registry.apply_state("t", None, "now"),
            Some(DeviceChange::Updated(_))
        ));
        assert_eq!(
            registry.apply_availability("t", None, "now"),
            Some(DeviceChange::Removed("t".into()))
        );
        assert!(registry.list().is_empty());
    }

    #[test]
    fn an_identical_message_changes_nothing() {
        let registry = DeviceRegistry::default();
        assert!(registry.apply_availability("x", Some(false), "a").is_some());
        assert!(registry.apply_availability("x", Some(false), "a").is_none());
    }

    #[test]
    fn list_is_sorted_by_id() {
        let registry = DeviceRegistry::default();
        for id in ["b", "c", "a"] {
            registry.apply_availability(id, Some(true), "now");
        }
        let ids: Vec<String> = registry.list().iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, vec!["a", "b", "c"]);
    }

    #[test]
    fn commands_are_matched_once() {
        let registry = DeviceRegistry::default();
        registry.remember_command("r1", "lamp", "turn_on");
        assert_eq!(registry.take_command("r1").unwrap().device_id, "lamp");
        assert!(registry.take_command("r1").is_none());
    }
}
