//! What the members of a change set made by hand share (CONTRACT §7): the household's
//! language, `enabled`, an endpoint's host. One rule for every face that offers it.

use crate::config::Snapshot;
use serde_json::{Value, json};

/// The fields a set's members are to share; `None`: left as each member has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedFields {
    /// `config.language`, trimmed.
    pub language: Option<String>,
    /// `enabled`.
    pub enabled: Option<bool>,
    /// Every `config.endpoints[].ip`, trimmed.
    pub host: Option<String>,
}

impl SharedFields {
    /// `document` with the shared fields set (an endpoint's host only where it has
    /// endpoints).
    pub fn apply_to(&self, document: &Value) -> Value {
        let mut changed = document.clone();
        if let Some(language) = &self.language {
            changed["config"]["language"] = json!(language.trim());
        }
        if let Some(enabled) = self.enabled {
            changed["enabled"] = json!(enabled);
        }
        if let Some(host) = &self.host
            && let Some(endpoints) = changed
                .pointer_mut("/config/endpoints")
                .and_then(Value::as_array_mut)
        {
            for endpoint in endpoints {
                endpoint["ip"] = json!(host.trim());
            }
        }
        changed
    }

    /// True when a field is to be shared.
    pub fn any(&self) -> bool {
        self.language.is_some() || self.enabled.is_some() || self.host.is_some()
    }
}

/// The services that speak the household's language: every stored document with a
/// `config.language`, in name order.
pub fn household_language_members(config: &Snapshot) -> Vec<String> {
    config
        .documents
        .iter()
        .filter(|(_, stored)| stored.document.pointer("/config/language").is_some())
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StoredDocument;
    use std::sync::Arc;

    #[test]
    fn shared_fields_change_only_what_is_shared() {
        let document = json!({
            "enabled": false,
            "config": {"language": "en", "endpoints": [{"ip": "a", "port": 1}, {"ip": "b", "port": 2}]}
        });
        let shared = SharedFields {
            language: Some(" de ".to_owned()),
            enabled: None,
            host: Some("10.0.0.9".to_owned()),
        };
        let changed = shared.apply_to(&document);
        assert_eq!(changed["config"]["language"], "de");
        assert_eq!(changed["enabled"], false);
        assert_eq!(
            changed["config"]["endpoints"][1],
            json!({"ip": "10.0.0.9", "port": 2})
        );
        assert!(shared.any());
        assert!(!SharedFields::default().any());
        assert_eq!(SharedFields::default().apply_to(&document), document);
    }

    #[test]
    fn the_household_language_is_every_service_with_a_language() {
        let stored = |document: Value| StoredDocument {
            document: Arc::new(document),
            revision: 1,
        };
        let mut config = Snapshot::default();
        config
            .documents
            .insert("tts".into(), stored(json!({"config": {"language": "en"}})));
        config
            .documents
            .insert("devices".into(), stored(json!({"config": {}})));
        config
            .documents
            .insert("stt".into(), stored(json!({"config": {"language": "de"}})));
        assert_eq!(household_language_members(&config), ["stt", "tts"]);
    }
}
