//! The JSON payloads of CONTRACT §2, shared by the manager and the simulated fleet so the two
//! cannot drift apart. Unknown fields are tolerated (services may add their own); wrong types
//! are refused.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A service's health: `status` is one of these three.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Working.
    Healthy,
    /// Running but failing.
    Unhealthy,
    /// Not known (never heard from, or stale).
    #[default]
    Unknown,
}

impl HealthStatus {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Unknown => "unknown",
        }
    }
}

/// `alicia/system/health/<service>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The reported status.
    pub status: HealthStatus,
    /// When the service says it reported (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Anything else the service wants to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
    /// The reporting manager's instance id (managers only, CONTRACT §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The reporting manager's role (managers only, CONTRACT §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One endpoint of a service, as in `config.endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// What the endpoint serves (`stt`, `http`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Model served there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Host name, IP address or URL.
    pub ip: String,
    /// TCP/UDP port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `http`, `https`, `tcp` or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// `alicia/system/discovery/<service>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    /// The service's name (must match the topic).
    pub service_name: String,
    /// Its type (`stt`, `tts`, `llm`, `device_control`, `voice_router`).
    pub service_type: String,
    /// Its software version.
    pub version: String,
    /// Where it listens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<Endpoint>>,
    /// A JSON Schema for its `config.settings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_schema: Option<Value>,
}

/// `alicia/config/<service>/ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigAck {
    /// The `last_updated` of the revision acknowledged.
    pub last_updated: String,
    /// Whether the service applied it.
    pub applied: bool,
    /// Why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `alicia/config/<service>/error`: why a `/set` was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRefusal {
    /// A sentence.
    pub error: String,
    /// The failing fields (`{path, message}`), empty when not a validation problem.
    pub details: Vec<crate::core::config::FieldError>,
}

/// `alicia/device/<id>/command`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceCommand {
    /// Correlates the result.
    pub request_id: String,
    /// The command (`turn_on`, `set_temperature`, …).
    pub command: String,
    /// Its parameters.
    #[serde(default)]
    pub params: Map<String, Value>,
}

/// `alicia/device/<id>/command/result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    /// The command's `request_id`.
    pub request_id: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
