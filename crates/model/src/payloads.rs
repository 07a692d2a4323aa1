//! The JSON payloads of CONTRACT §2, shared by the manager and the simulated fleet so the two
//! cannot drift apart. Unknown fields are tolerated (services may add their own); wrong types
//! are refused.

use crate::config::actor::Actor;
use crate::ids::is_request_id;
use crate::watch::WatchSecs;
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

/// `alicia/config/<service>/set` (CONTRACT §2, §9, §10): a bare document (last writer wins),
/// or the envelope `{"document", "base", "watch"?, "actor"?, "request_id"?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetRequest {
    /// The requested document (not yet validated).
    pub document: Value,
    /// The envelope's `request_id` (32 lowercase hex digits): the authority echoes it in
    /// `/error` and answers success on `/result/<request_id>` (CONTRACT §10).
    pub request_id: Option<String>,
    /// What the change was based on.
    pub base: SetBase,
    /// Who made it (an envelope's `actor`).
    pub actor: Option<Actor>,
    /// How long to watch it (an envelope's `watch`, CONTRACT §7; `None`: the setting's
    /// default).
    pub watch: Option<u64>,
}

/// What a `/set` request was based on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetBase {
    /// A bare document: nothing, last writer wins.
    Unstated,
    /// `"base": null`: no document (the service is new to the sender).
    Absent,
    /// `"base": "<last_updated>"`: the document with that `last_updated`.
    LastUpdated(String),
}

impl SetRequest {
    /// Reads a `/set` payload: an object with `document` and no `service_name` is an
    /// envelope, anything else a bare document. `Err` says what is wrong with an envelope.
    pub fn read(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err("a JSON object is expected".to_owned());
        };
        if fields.contains_key("service_name") || !fields.contains_key("document") {
            return Ok(Self {
                document: Value::Object(fields),
                request_id: None,
                base: SetBase::Unstated,
                actor: None,
                watch: None,
            });
        }
        let invalid = |path: &str, problem: &str| format!("the envelope's {path} {problem}");
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["document", "base", "watch", "actor", "request_id"].contains(&k.as_str()))
        {
            return Err(invalid(
                &format!("/{unknown}"),
                "is not a field of the envelope (document, base, watch, actor, request_id)",
            ));
        }
        let request_id = match fields.remove("request_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if is_request_id(&id) => Some(id),
            Some(_) => {
                return Err(invalid(
                    "/request_id",
                    "must be 32 lowercase hex digits (128 random bits)",
                ));
            }
        };
        let document = fields.remove("document").unwrap_or_default();
        if !document.is_object() {
            return Err(invalid(
                "/document",
                "must be a JSON object (the full config)",
            ));
        }
        let base = match fields.remove("base") {
            Some(Value::String(base)) if !base.is_empty() => SetBase::LastUpdated(base),
            Some(Value::Null) => SetBase::Absent,
            _ => {
                return Err(invalid(
                    "/base",
                    "is required: the last_updated of the document the edit started from, or null for a new service",
                ));
            }
        };
        let watch = match fields.remove("watch") {
            None => None,
            Some(watch) => match WatchSecs::from_json(&watch) {
                Ok(secs) => Some(secs.secs()),
                Err(error) => return Err(invalid("/watch", &error)),
            },
        };
        let actor = match fields.remove("actor") {
            None | Some(Value::Null) => None,
            Some(actor) => Some(
                Actor::from_wire(&actor)
                    .map_err(|(path, problem)| invalid(&format!("/actor{path}"), &problem))?,
            ),
        };
        Ok(Self {
            document,
            request_id,
            base,
            actor,
            watch,
        })
    }
}

/// `alicia/config/<service>/error`: why a `/set` was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRefusal {
    /// A sentence; `conflict` when the envelope's `base` is not the current document's
    /// `last_updated` (CONTRACT §9).
    pub error: String,
    /// The failing fields (`{path, message}`), empty when not a validation problem.
    #[serde(default)]
    pub details: Vec<crate::config::schema::FieldError>,
    /// With a conflict: the current document's `last_updated` (`null`: there is none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub current_last_updated: Option<Option<String>>,
    /// The refused envelope's `request_id` (CONTRACT §10), when it had a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `alicia/config/<service>/result/<request_id>` (CONTRACT §10): the authority stored the
/// `/set` envelope `request_id` as `revision`, with `last_updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetResult {
    /// The envelope's `request_id`.
    pub request_id: String,
    /// The revision it was stored as.
    pub revision: u64,
    /// The stored document's `last_updated`.
    pub last_updated: String,
    /// The authority's `instance_id` (a follower takes results from its authority only).
    pub instance_id: String,
}

/// The `request_id` of a `/set` payload that could not be read otherwise (for its refusal's
/// echo), when it has the right shape.
pub fn request_id_of(payload: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope {
        request_id: Option<String>,
    }
    serde_json::from_slice::<Envelope>(payload)
        .ok()?
        .request_id
        .filter(|id| is_request_id(id))
}

/// A field that is there, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// The `error` of a refusal for a stale `base`.
pub const CONFLICT_ERROR: &str = "conflict";

impl SetRefusal {
    /// A refusal for a change based on an old document.
    pub fn conflict(current_last_updated: Option<String>) -> Self {
        Self {
            error: CONFLICT_ERROR.to_owned(),
            details: Vec::new(),
            current_last_updated: Some(current_last_updated),
            request_id: None,
        }
    }

    /// The same refusal, echoing `request_id`.
    pub fn answering(mut self, request_id: Option<&str>) -> Self {
        self.request_id = request_id.map(str::to_owned);
        self
    }
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
