//! What a simulated fleet is made of: realistic service names, providers, models, voices and
//! languages for each service type, the settings schema each type announces, and the rooms
//! and kinds of devices.

use alicia_core::config::ServiceType;
use serde_json::{Value, json};

/// One kind of service a fleet can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceModel {
    /// Base of the service name.
    pub name: &'static str,
    /// What kind of service it is.
    pub service_type: ServiceType,
    /// Who provides the engine.
    pub provider: &'static str,
    /// Models it can run (the first is the default).
    pub models: &'static [&'static str],
    /// Voices it has (TTS only; the first is the default).
    pub voices: &'static [&'static str],
    /// Languages it understands or speaks.
    pub languages: &'static [&'static str],
    /// The port its endpoint listens on.
    pub port: u16,
    /// Its software version.
    pub version: &'static str,
}

const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "nl"];

/// The services a fleet picks from, by type.
pub const SERVICE_MODELS: &[ServiceModel] = &[
    ServiceModel {
        name: "whisper-stt",
        service_type: ServiceType::Stt,
        provider: "faster-whisper",
        models: &["small.en", "medium", "large-v3"],
        voices: &[],
        languages: LANGUAGES,
        port: 10300,
        version: "1.1.0",
    },
    ServiceModel {
        name: "vosk-stt",
        service_type: ServiceType::Stt,
        provider: "vosk",
        models: &["vosk-model-small-en-us-0.15", "vosk-model-de-0.21"],
        voices: &[],
        languages: &["en", "de"],
        port: 2700,
        version: "0.3.45",
    },
    ServiceModel {
        name: "piper-tts",
        service_type: ServiceType::Tts,
        provider: "piper",
        models: &["piper-1.2"],
        voices: &[
            "en_GB-alba-medium",
            "en_US-lessac-high",
            "de_DE-thorsten-high",
            "fr_FR-siwis-medium",
        ],
        languages: &["en", "de", "fr"],
        port: 10200,
        version: "1.2.0",
    },
    ServiceModel {
        name: "coqui-tts",
        service_type: ServiceType::Tts,
        provider: "coqui",
        models: &["xtts-v2"],
        voices: &[
            "Claribel Dervla",
            "Daisy Studious",
            "Gracie Wise",
            "Viktor Eka",
        ],
        languages: LANGUAGES,
        port: 5002,
        version: "0.22.0",
    },
    ServiceModel {
        name: "ollama-llm",
        service_type: ServiceType::Llm,
        provider: "ollama",
        models: &["llama3.1:8b", "mistral:7b", "qwen2.5:7b", "phi3:mini"],
        voices: &[],
        languages: LANGUAGES,
        port: 11434,
        version: "0.4.7",
    },
    ServiceModel {
        name: "openai-llm",
        service_type: ServiceType::Llm,
        provider: "openai",
        models: &["gpt-4o-mini", "gpt-4o"],
        voices: &[],
        languages: LANGUAGES,
        port: 443,
        version: "1.0.0",
    },
    ServiceModel {
        name: "home-control",
        service_type: ServiceType::DeviceControl,
        provider: "home-assistant",
        models: &[],
        voices: &[],
        languages: &["en"],
        port: 8123,
        version: "2026.11.2",
    },
    ServiceModel {
        name: "voice-router",
        service_type: ServiceType::VoiceRouter,
        provider: "alicia",
        models: &[],
        voices: &[],
        languages: LANGUAGES,
        port: 8700,
        version: "0.9.0",
    },
];

/// The models of one type, in catalogue order.
pub fn models_of(service_type: ServiceType) -> Vec<&'static ServiceModel> {
    SERVICE_MODELS
        .iter()
        .filter(|m| m.service_type == service_type)
        .collect()
}

/// The settings schema a service of this type announces.
pub fn settings_schema(service_type: ServiceType) -> Value {
    let properties = match service_type {
        ServiceType::Stt => json!({
            "beam_size": {"type": "integer", "title": "Beam size", "minimum": 1, "maximum": 10, "default": 5},
            "vad_filter": {"type": "boolean", "title": "Skip silence", "default": true},
            "temperature": {"type": "number", "title": "Temperature", "minimum": 0, "maximum": 1, "default": 0.0}
        }),
        ServiceType::Tts => json!({
            "speed": {"type": "number", "title": "Speed", "minimum": 0.5, "maximum": 2, "default": 1.0},
            "sample_rate": {"type": "integer", "title": "Sample rate", "enum": [16000, 22050, 44100], "default": 22050}
        }),
        ServiceType::Llm => json!({
            "temperature": {"type": "number", "title": "Temperature", "minimum": 0, "maximum": 2, "default": 0.7},
            "max_tokens": {"type": "integer", "title": "Max tokens", "minimum": 1, "maximum": 32768, "default": 1024},
            "system_prompt": {"type": "string", "title": "System prompt", "default": "You are Alicia, a helpful home assistant."}
        }),
        ServiceType::DeviceControl => json!({
            "poll_interval_secs": {"type": "integer", "title": "Poll interval (s)", "minimum": 1, "maximum": 3600, "default": 30},
            "confirm_actions": {"type": "boolean", "title": "Confirm risky actions", "default": true}
        }),
        ServiceType::VoiceRouter => json!({
            "wake_word": {"type": "string", "title": "Wake word", "minLength": 1, "default": "hey alicia"},
            "stt_service": {"type": "string", "title": "Speech-to-text service"},
            "tts_service": {"type": "string", "title": "Text-to-speech service"},
            "llm_service": {"type": "string", "title": "Language model service"},
            "timeout_secs": {"type": "integer", "title": "Timeout (s)", "minimum": 1, "maximum": 120, "default": 15}
        }),
    };
    let mut properties = properties;
    // Misbehaving on request, for demos and tests of safe apply (CONTRACT §7).
    if let Some(map) = properties.as_object_mut() {
        map.insert(
            "fail_after_apply".to_owned(),
            json!({"type": "boolean", "title": "Simulate: fail after applying", "default": false}),
        );
        map.insert(
            "ignore".to_owned(),
            json!({"type": "boolean", "title": "Simulate: never answer", "default": false}),
        );
    }
    json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false
    })
}

/// Rooms devices live in.
pub const ROOMS: &[&str] = &[
    "living-room",
    "kitchen",
    "bedroom",
    "office",
    "hallway",
    "bathroom",
    "garage",
    "garden",
    "kids-room",
    "dining-room",
];

/// Device kinds, with the share of a fleet each takes (out of 10).
pub const DEVICE_KINDS: &[(&str, u32)] = &[
    ("light", 4),
    ("sensor", 3),
    ("thermostat", 2),
    ("speaker", 1),
];

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_core::config::SettingsSchema;

    #[test]
    fn every_type_has_models_and_a_compiling_settings_schema() {
        for service_type in ServiceType::ALL {
            assert!(!models_of(service_type).is_empty(), "{service_type}");
            let schema = settings_schema(service_type);
            SettingsSchema::compile(schema.clone()).unwrap();
            let defaults = alicia_core::config::settings_defaults(&schema);
            assert!(
                !defaults.is_empty(),
                "{service_type} has defaults for its form"
            );
        }
    }
}
