//! The one masking helper for `config.api_key`, used by every face that shows a document.
//!
//! Outward (REST answers, socket.io events, the message log, exports, logs) a non-empty key
//! becomes [`MASK`]; an empty key means "unset" and stays empty. Inward, a document that
//! carries [`MASK`] as its key keeps the key already stored.

use serde_json::Value;

pub use crate::core::secret::MASK;

/// A copy of `document` with a non-empty `config.api_key` replaced by [`MASK`].
pub fn mask_document(document: &Value) -> Value {
    let mut masked = document.clone();
    mask_in_place(&mut masked);
    masked
}

/// Replaces a non-empty `config.api_key` in `document` by [`MASK`].
pub fn mask_in_place(document: &mut Value) {
    if let Some(key) = api_key_mut(document)
        && !key.as_str().is_some_and(str::is_empty)
    {
        *key = Value::String(MASK.to_owned());
    }
}

/// Where an incoming document carries [`MASK`] as its key, puts back the stored key (or drops
/// the field when nothing is stored), so a masked round trip never overwrites the secret.
pub fn restore_masked_key(incoming: &mut Value, stored: Option<&Value>) {
    let carries_mask = api_key_mut(incoming).is_some_and(|key| key.as_str() == Some(MASK));
    if !carries_mask {
        return;
    }
    let stored_key = stored
        .and_then(|doc| doc.get("config"))
        .and_then(|config| config.get("api_key"))
        .cloned();
    let Some(config) = incoming.get_mut("config").and_then(Value::as_object_mut) else {
        return;
    };
    match stored_key {
        Some(key) => {
            config.insert("api_key".to_owned(), key);
        }
        None => {
            config.remove("api_key");
        }
    }
}

fn api_key_mut(document: &mut Value) -> Option<&mut Value> {
    document.get_mut("config")?.get_mut("api_key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_only_non_empty_keys() {
        let doc = json!({"config": {"api_key": "sk-live", "model": "m"}});
        assert_eq!(mask_document(&doc)["config"]["api_key"], MASK);
        assert_eq!(mask_document(&doc)["config"]["model"], "m");
        let empty = json!({"config": {"api_key": ""}});
        assert_eq!(mask_document(&empty)["config"]["api_key"], "");
        let none = json!({"config": {}});
        assert_eq!(mask_document(&none), none);
    }

    #[test]
    fn masked_key_coming_back_keeps_the_stored_one() {
        let stored = json!({"config": {"api_key": "sk-live"}});
        let mut incoming = json!({"config": {"api_key": MASK, "model": "new"}});
        restore_masked_key(&mut incoming, Some(&stored));
        assert_eq!(incoming["config"]["api_key"], "sk-live");
        assert_eq!(incoming["config"]["model"], "new");
    }

    #[test]
    fn a_new_key_replaces_the_stored_one() {
        let stored = json!({"config": {"api_key": "old"}});
        let mut incoming = json!({"config": {"api_key": "new"}});
        restore_masked_key(&mut incoming, Some(&stored));
        assert_eq!(incoming["config"]["api_key"], "new");
    }

    #[test]
    fn masked_key_without_a_stored_one_is_dropped() {
        let mut incoming = json!({"config": {"api_key": MASK}});
        restore_masked_key(&mut incoming, None);
        assert!(incoming["config"].get("api_key").is_none());
    }
}
