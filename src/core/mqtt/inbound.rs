//! Recognising an incoming MQTT message: topic + payload → what it means, or why it is
//! invalid. Pure functions, no I/O: the whole of §2's inbound side is tested without a broker.

use super::payloads::{Announcement, CommandResult, ConfigAck, HealthReport};
use super::topics::{TopicKind, Topics, is_valid_device_id, is_valid_service_name};
use crate::core::clock::parse_rfc3339;
use crate::core::config::{SettingsSchema, mask_in_place};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Service types of CONTRACT §1.
pub const SERVICE_TYPES: [&str; 5] = ["stt", "tts", "llm", "device_control", "voice_router"];

/// What a valid message means. `None` payloads are cleared retained topics.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// A service's health report.
    Health {
        /// The service.
        service: String,
        /// The report; `None` when cleared.
        report: Option<HealthReport>,
    },
    /// A service announced itself.
    Discovery {
        /// The service.
        service: String,
        /// The announcement and its compiled settings schema; `None` when cleared.
        announcement: Option<(Announcement, Option<SettingsSchema>)>,
    },
    /// Someone asked every service to announce itself.
    DiscoveryRequest,
    /// A desired config (what the authority publishes), `None` when cleared.
    Config {
        /// The service.
        service: String,
        /// The document.
        document: Option<Value>,
    },
    /// A change request over MQTT.
    ConfigSet {
        /// The service.
        service: String,
        /// The requested document (not yet validated).
        document: Value,
    },
    /// A refusal of a `/set` (published by a manager).
    ConfigError {
        /// The service.
        service: String,
    },
    /// A service acknowledged a revision.
    ConfigAck {
        /// The service.
        service: String,
        /// The ack.
        ack: ConfigAck,
    },
    /// A device's state; `None` when cleared.
    DeviceState {
        /// The device.
        id: String,
        /// The state object.
        state: Option<Map<String, Value>>,
    },
    /// A device's availability; `None` when cleared.
    DeviceAvailability {
        /// The device.
        id: String,
        /// Online or not.
        online: Option<bool>,
    },
    /// A command to a device (published by a manager).
    DeviceCommand {
        /// The device.
        id: String,
    },
    /// A device's answer to a command.
    CommandResult {
        /// The device.
        id: String,
        /// The answer.
        result: CommandResult,
    },
}

/// A message, understood.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// What it means, or why it is invalid.
    pub meaning: Result<Inbound, String>,
    /// Its JSON (`null` when not JSON), with `config.api_key` masked on config topics: this is
    /// what the message log shows.
    pub data: Value,
    /// True when the payload was JSON.
    pub is_json: bool,
}

/// Understands one message.
pub fn parse(topics: &Topics, topic: &str, payload: &[u8]) -> Parsed {
    let json = (!payload.is_empty()).then(|| serde_json::from_slice::<Value>(payload));
    let (data, is_json) = match &json {
        Some(Ok(value)) => (value.clone(), true),
        _ => (Value::Null, false),
    };
    let kind = topics.classify(topic);
    let mut data = data;
    if matches!(kind, Some(TopicKind::Config(_) | TopicKind::ConfigSet(_))) {
        mask_in_place(&mut data);
    }
    let meaning = match kind {
        None => Err("not a topic of the Alicia contract".to_owned()),
        Some(kind) => understand(kind, payload, json),
    };
    Parsed {
        meaning,
        data,
        is_json,
    }
}

type Json = Option<Result<Value, serde_json::Error>>;

fn understand(kind: TopicKind<'_>, payload: &[u8], json: Json) -> Result<Inbound, String> {
    match kind {
        TopicKind::Health(service) => {
            let service = service_name(service)?;
            let report: Option<HealthReport> = optional(json)?;
            if let Some(timestamp) = report.as_ref().and_then(|r| r.timestamp.as_deref())
                && parse_rfc3339(timestamp).is_none()
            {
                return Err("/timestamp must be an RFC 3339 date-time".to_owned());
            }
            Ok(Inbound::Health { service, report })
        }
        TopicKind::Discovery(service) => {
            let service = service_name(service)?;
            let announcement = match optional::<Announcement>(json)? {
                Some(announcement) => Some(check_announcement(&service, announcement)?),
                None => None,
            };
            Ok(Inbound::Discovery {
                service,
                announcement,
            })
        }
        TopicKind::DiscoveryRequest => Ok(Inbound::DiscoveryRequest),
        TopicKind::Config(service) => {
            let service = service_name(service)?;
            let document = match json {
                None => None,
                Some(Ok(value)) if value.is_object() => Some(value),
                Some(Ok(_)) => return Err("a config document must be a JSON object".to_owned()),
                Some(Err(error)) => return Err(json_error(&error)),
            };
            Ok(Inbound::Config { service, document })
        }
        TopicKind::ConfigSet(service) => {
            let service = service_name(service)?;
            let document = required_json(json)?;
            Ok(Inbound::ConfigSet { service, document })
        }
        TopicKind::ConfigError(service) => Ok(Inbound::ConfigError {
            service: service_name(service)?,
        }),
        TopicKind::ConfigAck(service) => {
            let service = service_name(service)?;
            let ack = typed(required_json(json)?)?;
            Ok(Inbound::ConfigAck { service, ack })
        }
        TopicKind::DeviceState(id) => {
            let id = device_id(id)?;
            let state = match json {
                None => None,
                Some(Ok(Value::Object(state))) => Some(state),
                Some(Ok(_)) => return Err("a device state must be a JSON object".to_owned()),
                Some(Err(error)) => return Err(json_error(&error)),
            };
            Ok(Inbound::DeviceState { id, state })
        }
        TopicKind::DeviceAvailability(id) => {
            let id = device_id(id)?;
            Ok(Inbound::DeviceAvailability {
                id,
                online: availability(payload)?,
            })
        }
        TopicKind::DeviceCommand(id) => Ok(Inbound::DeviceCommand { id: device_id(id)? }),
        TopicKind::DeviceCommandResult(id) => {
            let id = device_id(id)?;
            let result = typed(required_json(json)?)?;
            Ok(Inbound::CommandResult { id, result })
        }
    }
}

fn check_announcement(
    service: &str,
    announcement: Announcement,
) -> Result<(Announcement, Option<SettingsSchema>), String> {
    if announcement.service_name != service {
        return Err(format!(
            "/service_name must be {service:?}, the service of the topic"
        ));
    }
    if !SERVICE_TYPES.contains(&announcement.service_type.as_str()) {
        return Err(format!(
            "/service_type must be one of: {}",
            SERVICE_TYPES.join(", ")
        ));
    }
    let schema = match &announcement.settings_schema {
        Some(source) => Some(
            SettingsSchema::compile(source.clone())
                .map_err(|error| format!("/settings_schema does not compile: {error}"))?,
        ),
        None => None,
    };
    Ok((announcement, schema))
}

fn service_name(name: &str) -> Result<String, String> {
    if is_valid_service_name(name) {
        Ok(name.to_owned())
    } else {
        Err("the service name in the topic must match ^[a-z0-9][a-z0-9_-]{0,63}$".to_owned())
    }
}

fn device_id(id: &str) -> Result<String, String> {
    if is_valid_device_id(id) {
        Ok(id.to_owned())
    } else {
        Err("the device id in the topic must be 1-128 of A-Z a-z 0-9 _ - : .".to_owned())
    }
}

fn availability(payload: &[u8]) -> Result<Option<bool>, String> {
    if payload.is_empty() {
        return Ok(None);
    }
    let text = std::str::from_utf8(payload).map_err(|_| "availability must be text".to_owned())?;
    match text.trim().trim_matches('"') {
        "online" => Ok(Some(true)),
        "offline" => Ok(Some(false)),
        _ => Err("availability must be `online` or `offline`".to_owned()),
    }
}

fn required_json(json: Json) -> Result<Value, String> {
    match json {
        None => Err("empty payload (a JSON object is expected)".to_owned()),
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(json_error(&error)),
    }
}

fn optional<T: DeserializeOwned>(json: Json) -> Result<Option<T>, String> {
    match json {
        None => Ok(None),
        Some(Ok(value)) => typed(value).map(Some),
        Some(Err(error)) => Err(json_error(&error)),
    }
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    if !value.is_object() {
        return Err("a JSON object is expected".to_owned());
    }
    serde_json::from_value(value).map_err(|error| format!("wrong shape: {error}"))
}

fn json_error(error: &serde_json::Error) -> String {
    format!("not valid JSON: {error}")
}
