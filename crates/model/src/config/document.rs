//! Building and reading service documents (CONTRACT §1). Documents stay JSON values: the
//! schema is their single definition, and forms are generated from it.

use super::service_type::ServiceType;
use crate::payloads::Announcement;
use serde_json::{Map, Value, json};

/// The document a new service of `service_type` starts from (an admin creating one): enabled,
/// version 1.0.0, one endpoint of its type on this machine, no settings. Valid once the
/// manager has stamped it.
pub fn new_service_document(name: &str, service_type: ServiceType) -> Value {
    json!({
        "service_name": name,
        "service_type": service_type,
        "enabled": true,
        "version": "1.0.0",
        "config": {
            "endpoints": [{"type": service_type, "ip": "127.0.0.1", "protocol": "http"}],
            "settings": {}
        }
    })
}

/// A new endpoint for a service of `service_type`: its type, HTTP, the port its kind of
/// server usually listens on, and the address left for the admin to fill in.
pub fn new_endpoint(service_type: ServiceType) -> Value {
    json!({
        "type": service_type,
        "ip": "",
        "port": default_port(service_type),
        "protocol": "http"
    })
}

/// The port a server of this kind usually listens on: the seed's Whisper (8001), Piper's HTTP
/// server (5000), Ollama (11434), Home Assistant (8123), the voice router (8700).
pub fn default_port(service_type: ServiceType) -> u16 {
    match service_type {
        ServiceType::Stt => 8001,
        ServiceType::Tts => 5000,
        ServiceType::Llm => 11434,
        ServiceType::DeviceControl => 8123,
        ServiceType::VoiceRouter => 8700,
    }
}

/// The seed's default document, written when `config.json` does not exist.
pub fn seed_default_document(last_updated: &str) -> Value {
    json!({
        "service_name": "whisper-service",
        "service_type": "stt",
        "status": "unknown",
        "enabled": true,
        "version": "1.0.0",
        "last_updated": last_updated,
        "config": {
            "api_key": "",
            "provider": "openai",
            "model": "whisper-1",
            "language": "en",
            "endpoints": [{
                "type": "stt",
                "model": "whisper-1",
                "ip": "http://whisper:8001",
                "port": 8001,
                "protocol": "http"
            }],
            "settings": {
                "temperature": 0.0,
                "max_tokens": 1000,
                "timeout": 30
            }
        }
    })
}

/// A first document for a service that announced itself and has no config yet: enabled, its
/// announced version and endpoints, and settings filled from the defaults of its settings
/// schema (top-level `properties.*.default`).
pub fn document_from_announcement(announcement: &Announcement) -> Value {
    let endpoints = announcement
        .endpoints
        .as_ref()
        .and_then(|e| serde_json::to_value(e).ok())
        .unwrap_or_else(|| json!([]));
    let mut config = Map::new();
    config.insert("endpoints".into(), endpoints);
    config.insert(
        "settings".into(),
        Value::Object(
            announcement
                .settings_schema
                .as_ref()
                .map(settings_defaults)
                .unwrap_or_default(),
        ),
    );
    json!({
        "service_name": announcement.service_name,
        "service_type": announcement.service_type,
        "status": "unknown",
        "enabled": true,
        "version": announcement.version,
        "config": config,
    })
}

/// The `default` of each top-level property of a settings schema.
pub fn settings_defaults(schema: &Value) -> Map<String, Value> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .filter_map(|(name, property)| {
                    property.get("default").map(|d| (name.clone(), d.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The document's `last_updated`, when it has one.
pub fn last_updated_of(document: &Value) -> Option<&str> {
    document.get("last_updated").and_then(Value::as_str)
}

/// The document's `service_name`, when it has one.
pub fn service_name_of(document: &Value) -> Option<&str> {
    document.get("service_name").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::validate_document;
    use crate::payloads::Endpoint;

    #[test]
    fn new_service_documents_are_valid_for_every_type() {
        for service_type in ServiceType::ALL {
            let mut document = new_service_document("new-service", service_type);
            document["last_updated"] = json!("2026-01-01T00:00:00.000Z");
            assert_eq!(validate_document(&document, None), vec![], "{service_type}");
        }
    }

    #[test]
    fn documents_built_from_announcements_are_valid() {
        let announcement = Announcement {
            service_name: "piper-tts".into(),
            service_type: "tts".into(),
            version: "2.1.0".into(),
            endpoints: Some(vec![Endpoint {
                kind: "tts".into(),
                model: None,
                ip: "10.0.0.5".into(),
                port: Some(5002),
                protocol: Some("http".into()),
            }]),
            settings_schema: Some(json!({
                "type": "object",
                "properties": {"speed": {"type": "number", "default": 1.0}, "pitch": {"type": "number"}}
            })),
        };
        let mut doc = document_from_announcement(&announcement);
        doc["last_updated"] = json!("2026-01-01T00:00:00.000Z");
        assert_eq!(validate_document(&doc, None), vec![]);
        assert_eq!(doc["config"]["settings"], json!({"speed": 1.0}));
        assert_eq!(doc["config"]["endpoints"][0]["port"], 5002);
    }
}
