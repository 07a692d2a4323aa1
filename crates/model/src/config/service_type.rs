//! The kinds of Alicia service (CONTRACT §1's `service_type`), as a type: every face, the
//! checks across services and the simulated fleet name them through it, and a test holds it
//! equal to the schema's list.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an Alicia service does.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    /// Speech-to-text (Whisper, Vosk…).
    Stt,
    /// Text-to-speech (Piper, Coqui…).
    Tts,
    /// A language model (Ollama, OpenAI…).
    Llm,
    /// Device control (Home Assistant…).
    DeviceControl,
    /// The voice router: wake word, then STT → LLM → TTS.
    VoiceRouter,
}

impl ServiceType {
    /// Every type, in the schema's order.
    pub const ALL: [Self; 5] = [
        Self::Stt,
        Self::Tts,
        Self::Llm,
        Self::DeviceControl,
        Self::VoiceRouter,
    ];

    /// The name used in documents and on the wire (`stt`, `device_control`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stt => "stt",
            Self::Tts => "tts",
            Self::Llm => "llm",
            Self::DeviceControl => "device_control",
            Self::VoiceRouter => "voice_router",
        }
    }

    /// The type a document or announcement names, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// What it does, for people ("speech-to-text").
    pub fn description(self) -> &'static str {
        match self {
            Self::Stt => "speech-to-text",
            Self::Tts => "text-to-speech",
            Self::Llm => "language model",
            Self::DeviceControl => "device control",
            Self::VoiceRouter => "voice router",
        }
    }
}

/// The services a voice router names in its `config.settings`: the type each must be, and the
/// settings key that names it.
pub const ROUTER_TARGETS: [(ServiceType, &str); 3] = [
    (ServiceType::Stt, "stt_service"),
    (ServiceType::Tts, "tts_service"),
    (ServiceType::Llm, "llm_service"),
];

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::schema_document;

    #[test]
    fn the_types_are_the_schemas() {
        let listed: Vec<&str> = schema_document()["properties"]["service_type"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let ours: Vec<&str> = ServiceType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(listed, ours);
        for kind in ServiceType::ALL {
            assert_eq!(ServiceType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(ServiceType::parse("manager"), None);
    }
}
