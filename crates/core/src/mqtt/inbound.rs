//! Recognising an incoming MQTT message: topic + payload → what it means, or why it is
//! invalid. Pure functions, no I/O: the whole of §2's inbound side is tested without a broker.

use super::payloads::{
    Announcement, CommandResult, ConfigAck, HealthReport, SetRefusal, SetRequest, SetResult,
};
use super::topics::{
    MANAGER_SERVICE_NAME, TopicKind, Topics, is_valid_device_id, is_valid_service_name,
};
use crate::clock::{FUTURE_TOLERANCE, is_too_far_ahead, parse_rfc3339};
use crate::config::{MAX_PATTERNS_PER_SCHEMA, ServiceType, count_patterns, mask_document};
use crate::random::is_request_id;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

/// The `null` every non-JSON message shares.
static NULL: LazyLock<Arc<Value>> = LazyLock::new(|| Arc::new(Value::Null));

/// What a valid message means. `None` payloads are cleared retained topics.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// A service's health report.
    Health {
        /// The service it is about, by name.
        service: String,
        /// The report; `None` when cleared.
        report: Option<HealthReport>,
    },
    /// A service announced itself.
    Discovery {
        /// The service it is about, by name.
        service: String,
        /// The announcement (its settings schema as it arrived: compiled later, off the
        /// connection task); `None` when cleared.
        announcement: Option<Announcement>,
    },
    /// Someone asked every service to announce itself.
    DiscoveryRequest,
    /// A desired config (what the authority publishes), `None` when cleared.
    Config {
        /// The service it is about, by name.
        service: String,
        /// The published document (secrets masked for the message log), `None` when cleared.
        document: Option<Arc<Value>>,
    },
    /// A change request over MQTT.
    ConfigSet {
        /// The service it is about, by name.
        service: String,
        /// The request: the document (not yet validated), its base and actor.
        request: SetRequest,
    },
    /// A refusal of a `/set` (published by a manager).
    ConfigError {
        /// The service it is about, by name.
        service: String,
        /// The refusal, when it has the contract's shape.
        refusal: Option<SetRefusal>,
    },
    /// The settings schema the authority enforces for a service (CONTRACT §9).
    ConfigSchema {
        /// The service it is about, by name.
        service: String,
        /// The schema as it arrived (never compiled here: the authority compares it with its
        /// own, a follower's writer compiles it); `None` when cleared.
        schema: Option<Arc<Value>>,
    },
    /// The authority stored a `/set` (CONTRACT §10).
    ConfigResult {
        /// The service it is about, by name.
        service: String,
        /// The answer.
        result: SetResult,
    },
    /// A service acknowledged a revision.
    ConfigAck {
        /// The service it is about, by name.
        service: String,
        /// The service's acknowledgement.
        ack: ConfigAck,
    },
    /// A device's state; `None` when cleared.
    DeviceState {
        /// The device.
        id: String,
        /// The state (a JSON object), shared with the message log.
        state: Option<Arc<Value>>,
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
    /// A follower's change set for the authority (CONTRACT §7), read as JSON; its shape is
    /// checked where it is answered (the answer needs its `request_id`).
    ChangeSetRequest {
        /// The request.
        request: Arc<Value>,
    },
    /// The authority's answer to a change set.
    ChangeSetResult {
        /// The request it answers.
        request_id: String,
        /// The REST answer's body, or `{"error", "details"}`.
        body: Arc<Value>,
    },
    /// Home Assistant switched a service on or off (CONTRACT §8).
    HaSwitch {
        /// The service it is about, by name.
        service: String,
        /// `ON` (true) or `OFF`.
        on: bool,
    },
    /// A state this manager published for Home Assistant (nothing to do).
    HaState,
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
    pub data: Arc<Value>,
    /// True when the payload was JSON.
    pub is_json: bool,
}

/// Understands one message.
pub fn parse(topics: &Topics, topic: &str, payload: &[u8]) -> Parsed {
    let json =
        (!payload.is_empty()).then(|| serde_json::from_slice::<Value>(payload).map(Arc::new));
    let kind = topics.classify(topic);
    let (data, is_json) = match &json {
        Some(Ok(value)) if matches!(kind, Some(TopicKind::Config(_))) => {
            (Arc::new(mask_document(value)), true)
        }
        Some(Ok(value)) if matches!(kind, Some(TopicKind::ConfigSet(_))) => {
            (Arc::new(mask_set_request(value)), true)
        }
        Some(Ok(value)) if matches!(kind, Some(TopicKind::ChangesSet)) => {
            (Arc::new(mask_change_set(value)), true)
        }
        Some(Ok(value)) => (Arc::clone(value), true),
        _ => (Arc::clone(&NULL), false),
    };
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

type Json = Option<Result<Arc<Value>, serde_json::Error>>;

/// A `/set` payload as the message log shows it: the document's secrets masked, in an
/// envelope as in a bare document.
fn mask_set_request(value: &Value) -> Value {
    match value.get("document") {
        Some(document) if value.get("service_name").is_none() => {
            let mut shown = value.clone();
            shown["document"] = mask_document(document);
            shown
        }
        _ => mask_document(value),
    }
}

/// A change set as the message log shows it: each document's secrets masked.
fn mask_change_set(value: &Value) -> Value {
    let mut shown = value.clone();
    if let Some(documents) = shown.get_mut("documents").and_then(Value::as_array_mut) {
        for document in documents {
            *document = mask_document(document);
        }
    }
    shown
}

fn understand(kind: TopicKind<'_>, payload: &[u8], json: Json) -> Result<Inbound, String> {
    match kind {
        TopicKind::Health(service) => health(service_name(service)?, json),
        TopicKind::FollowerPresence(id) => {
            health(format!("{MANAGER_SERVICE_NAME}/{}", device_id(id)?), json)
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
            let payload: Arc<Value> = required_json(json)?;
            let request = SetRequest::read(Value::clone(&payload))?;
            Ok(Inbound::ConfigSet { service, request })
        }
        TopicKind::ConfigSchema(service) => {
            let service = service_name(service)?;
            let schema = match json {
                None => None,
                Some(Ok(source)) => {
                    check_schema_shape(&source)
                        .map_err(|problem| format!("the settings schema {problem}"))?;
                    Some(source)
                }
                Some(Err(error)) => return Err(json_error(&error)),
            };
            Ok(Inbound::ConfigSchema { service, schema })
        }
        TopicKind::ConfigError(service) => Ok(Inbound::ConfigError {
            service: service_name(service)?,
            refusal: json
                .and_then(Result::ok)
                .and_then(|value| serde_json::from_value(Value::clone(&value)).ok()),
        }),
        TopicKind::ConfigResult(service, id) => {
            let service = service_name(service)?;
            if !is_request_id(id) {
                return Err(
                    "the request id in the topic must be 32 lowercase hex digits".to_owned(),
                );
            }
            let result: Arc<Value> = required_json(json)?;
            let result: SetResult = typed(&result)?;
            if result.request_id != id {
                return Err("/request_id must be the request id of the topic".to_owned());
            }
            Ok(Inbound::ConfigResult { service, result })
        }
        TopicKind::ConfigAck(service) => {
            let service = service_name(service)?;
            let ack: Arc<Value> = required_json(json)?;
            let ack = typed(&ack)?;
            Ok(Inbound::ConfigAck { service, ack })
        }
        TopicKind::DeviceState(id) => {
            let id = device_id(id)?;
            let state = match json {
                None => None,
                Some(Ok(state)) if state.is_object() => Some(state),
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
        TopicKind::HaCommand(service) => {
            let service = service_name(service)?;
            let on = match payload {
                b"ON" => true,
                b"OFF" => false,
                _ => return Err("a switch command must be ON or OFF".to_owned()),
            };
            Ok(Inbound::HaSwitch { service, on })
        }
        TopicKind::HaState => Ok(Inbound::HaState),
        TopicKind::ChangesSet => {
            let request = required_json(json)?;
            if !request.is_object() {
                return Err("a change set must be a JSON object".to_owned());
            }
            Ok(Inbound::ChangeSetRequest { request })
        }
        TopicKind::ChangesResult(id) => {
            let request_id = device_id(id)
                .map_err(|_| "the request id in the topic must be 1-128 of A-Z a-z 0-9 _ - : .")?;
            let body = required_json(json)?;
            if !body.is_object() {
                return Err("a change set's answer must be a JSON object".to_owned());
            }
            Ok(Inbound::ChangeSetResult { request_id, body })
        }
        TopicKind::DeviceCommandResult(id) => {
            let id = device_id(id)?;
            let result: Arc<Value> = required_json(json)?;
            let result = typed(&result)?;
            Ok(Inbound::CommandResult { id, result })
        }
    }
}

fn health(service: String, json: Json) -> Result<Inbound, String> {
    let report: Option<HealthReport> = optional(json)?;
    if let Some(timestamp) = report.as_ref().and_then(|r| r.timestamp.as_deref()) {
        let Some(at) = parse_rfc3339(timestamp) else {
            return Err(
                "/timestamp must be an RFC 3339 date-time between 1970 and 9999".to_owned(),
            );
        };
        let now = time::OffsetDateTime::now_utc();
        if is_too_far_ahead(at, now) {
            return Err(format!(
                "/timestamp is {} s ahead of this manager's clock (at most {} s is believed): is one of the clocks wrong?",
                (at - now).whole_seconds(),
                FUTURE_TOLERANCE.whole_seconds()
            ));
        }
    }
    Ok(Inbound::Health { service, report })
}

/// For a manager's presence that was refused for a timestamp too far ahead: how far ahead
/// (seconds), so that the clock check can say so.
pub fn presence_clock_skew(topics: &Topics, topic: &str, payload: &[u8]) -> Option<(String, i64)> {
    let service = match topics.classify(topic)? {
        TopicKind::Health(MANAGER_SERVICE_NAME) => MANAGER_SERVICE_NAME.to_owned(),
        TopicKind::FollowerPresence(id) if is_valid_device_id(id) => {
            format!("{MANAGER_SERVICE_NAME}/{id}")
        }
        _ => return None,
    };
    let report: HealthReport = serde_json::from_slice(payload).ok()?;
    let at = parse_rfc3339(report.timestamp.as_deref()?)?;
    Some((
        service,
        (at - time::OffsetDateTime::now_utc()).whole_seconds(),
    ))
}

fn check_announcement(service: &str, announcement: Announcement) -> Result<Announcement, String> {
    if announcement.service_name != service {
        return Err(format!(
            "/service_name must be {service:?}, the service of the topic"
        ));
    }
    if ServiceType::parse(&announcement.service_type).is_none() {
        return Err(format!(
            "/service_type must be one of: {}",
            ServiceType::ALL.map(ServiceType::as_str).join(", ")
        ));
    }
    if let Some(schema) = &announcement.settings_schema {
        check_schema_shape(schema).map_err(|problem| format!("/settings_schema {problem}"))?;
    }
    Ok(announcement)
}

/// What can be told of a settings schema without compiling it (CONTRACT §10): an object (or a
/// boolean schema), with at most [`MAX_PATTERNS_PER_SCHEMA`] patterns. Compiling, with the
/// limits of each pattern, happens off the connection task.
fn check_schema_shape(schema: &Value) -> Result<(), String> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err("must be a JSON Schema (an object)".to_owned());
    }
    let patterns = count_patterns(schema);
    if patterns > MAX_PATTERNS_PER_SCHEMA {
        return Err(format!(
            "holds {patterns} patterns (pattern, patternProperties), over the limit of {MAX_PATTERNS_PER_SCHEMA} per schema"
        ));
    }
    Ok(())
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

fn required_json(json: Json) -> Result<Arc<Value>, String> {
    match json {
        None => Err("empty payload (a JSON object is expected)".to_owned()),
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(json_error(&error)),
    }
}

fn optional<T: DeserializeOwned>(json: Json) -> Result<Option<T>, String> {
    match json {
        None => Ok(None),
        Some(Ok(value)) => typed(&value).map(Some),
        Some(Err(error)) => Err(json_error(&error)),
    }
}

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    if !value.is_object() {
        return Err("a JSON object is expected".to_owned());
    }
    T::deserialize(value).map_err(|error| format!("wrong shape: {error}"))
}

fn json_error(error: &serde_json::Error) -> String {
    format!("not valid JSON: {error}")
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
