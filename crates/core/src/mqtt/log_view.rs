//! What the message log keeps of a message on the bus — rules only, no I/O: the secrets of
//! configs, `/set` requests and change sets masked (`api_key`, and whatever the service's
//! settings schema declares secret); a config payload that does not parse hidden, since it
//! cannot be masked; anything else as [`KeptPayload`] keeps it (CONTRACT §6).

use super::topics::{TopicKind, Topics};
use crate::config::{ConfigService, mask_in_place_with};
use crate::messages::KeptPayload;
use serde_json::Value;
use std::sync::Arc;

/// What the message log shows instead of a config payload that does not parse.
pub const HIDDEN_CONFIG_TEXT: &str =
    "(not shown: a config payload that does not parse may hold a secret)";
/// What the message log shows instead of a change set larger than it keeps as data.
pub const HIDDEN_CHANGE_SET_TEXT: &str =
    "(not shown: a change set this large is read off the connection task, and may hold secrets)";

/// The rules, over the topics they classify and the schemas that declare secrets.
pub struct LogView<'a> {
    topics: &'a Topics,
    config: &'a ConfigService,
}

impl<'a> LogView<'a> {
    /// The rules for messages under `topics`, with the secrets `config`'s schemas declare.
    pub fn new(topics: &'a Topics, config: &'a ConfigService) -> Self {
        Self { topics, config }
    }

    /// What the log keeps of a message that was parsed as `data` (`is_json`: its payload was
    /// JSON).
    pub fn kept(
        &self,
        topic: &str,
        payload: &[u8],
        data: Arc<Value>,
        is_json: bool,
    ) -> KeptPayload {
        match (self.masks(topic), is_json) {
            (true, true) => KeptPayload::value(&self.mask_settings_secrets(topic, data)),
            // A config that does not parse cannot be masked: its text may hold a key.
            (true, false) if !payload.is_empty() => KeptPayload::text(HIDDEN_CONFIG_TEXT),
            // The ring keeps `data` only of small payloads (CONTRACT §6), as their text.
            _ => KeptPayload::payload(payload, is_json),
        }
    }

    /// What the log keeps of a payload over its topic's limit, never parsed.
    pub fn kept_of_oversized(&self, topic: &str, payload: &[u8]) -> KeptPayload {
        if self.masks(topic) {
            KeptPayload::text(HIDDEN_CONFIG_TEXT)
        } else {
            KeptPayload::payload(payload, false)
        }
    }

    /// Whether messages on `topic` may carry a service's secrets.
    fn masks(&self, topic: &str) -> bool {
        matches!(
            self.topics.classify(topic),
            Some(TopicKind::Config(_) | TopicKind::ConfigSet(_) | TopicKind::ChangesSet)
        )
    }

    /// A config or `/set` as the message log shows it: besides `api_key` (masked when
    /// parsed), the secrets the service's settings schemas declare are masked.
    fn mask_settings_secrets(&self, topic: &str, data: Arc<Value>) -> Arc<Value> {
        let service = match self.topics.classify(topic) {
            Some(TopicKind::Config(service) | TopicKind::ConfigSet(service)) => service,
            Some(TopicKind::ChangesSet) => return self.mask_change_set_secrets(data),
            _ => return data,
        };
        let secrets = self.config.secret_paths(service);
        if secrets.is_empty() || !data.is_object() {
            return data;
        }
        let mut shown = Value::clone(&data);
        let envelope = shown.get("service_name").is_none() && shown.get("document").is_some();
        let document = if envelope {
            &mut shown["document"]
        } else {
            &mut shown
        };
        mask_in_place_with(document, &secrets);
        Arc::new(shown)
    }

    /// A change set as the message log shows it: each document's declared secrets masked.
    fn mask_change_set_secrets(&self, data: Arc<Value>) -> Arc<Value> {
        let mut shown = Value::clone(&data);
        let Some(documents) = shown.get_mut("documents").and_then(Value::as_array_mut) else {
            return data;
        };
        for document in documents {
            let Some(service) = document.get("service_name").and_then(Value::as_str) else {
                continue;
            };
            let secrets = self.config.secret_paths(service);
            mask_in_place_with(document, &secrets);
        }
        Arc::new(shown)
    }
}
