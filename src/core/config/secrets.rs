//! Which fields of a document are secret, decided once for every face, and their masking.
//!
//! A field is secret when its schema marks it `writeOnly: true` or `format: "password"`
//! ([`is_secret_schema`]); in the service-config schema that is `config.api_key`
//! ([`is_secret`]). Outward (REST answers, socket.io events, the message log, exports,
//! backups without secrets, the GUI's JSON views) a non-empty secret becomes [`MASK`]; an
//! empty one means "unset" and stays empty. Inward, a document that carries [`MASK`] in a
//! secret field keeps the value already stored.
//!
//! A service's settings schema may declare secrets of its own inside `config.settings`
//! (CONTRACT §9): the `_with` functions take those pointers
//! ([`super::SettingsSchema::secret_pointers`]) besides the schema's.

use super::diff::Difference;
use super::schema::schema_document;
use serde_json::Value;
use std::sync::OnceLock;

pub use crate::core::secret::MASK;

/// True when a schema marks its field secret: `writeOnly: true` or `format: "password"`.
pub fn is_secret_schema(schema: &Value) -> bool {
    schema.get("writeOnly").and_then(Value::as_bool) == Some(true)
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

/// True when `pointer` (a JSON Pointer into a service document) names a secret field.
pub fn is_secret(pointer: &str) -> bool {
    secret_pointers().iter().any(|p| p == pointer)
}

/// The pointers of every secret field the service-config schema declares, found once.
fn secret_pointers() -> &'static [String] {
    static POINTERS: OnceLock<Vec<String>> = OnceLock::new();
    POINTERS.get_or_init(|| {
        let mut pointers = Vec::new();
        collect_secret_pointers(schema_document(), "", &mut pointers);
        pointers
    })
}

/// Collects the pointers of the fields `schema` marks secret, under `pointer`.
pub(super) fn collect_secret_pointers(schema: &Value, pointer: &str, out: &mut Vec<String>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let child = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
        if is_secret_schema(property) {
            out.push(child);
        } else {
            collect_secret_pointers(property, &child, out);
        }
    }
}

/// A copy of `document` with every non-empty secret replaced by [`MASK`].
pub fn mask_document(document: &Value) -> Value {
    mask_document_with(document, &[])
}

/// [`mask_document`], also masking the fields at `extra` (a settings schema's secrets).
pub fn mask_document_with(document: &Value, extra: &[String]) -> Value {
    let mut masked = document.clone();
    mask_in_place_with(&mut masked, extra);
    masked
}

/// Replaces every non-empty secret in `document` by [`MASK`].
pub fn mask_in_place(document: &mut Value) {
    mask_in_place_with(document, &[]);
}

/// [`mask_in_place`], also masking the fields at `extra` (a settings schema's secrets).
pub fn mask_in_place_with(document: &mut Value, extra: &[String]) {
    for pointer in secret_pointers().iter().chain(extra) {
        if let Some(value) = document.pointer_mut(pointer)
            && !value.as_str().is_some_and(str::is_empty)
            && !value.is_null()
        {
            *value = Value::String(MASK.to_owned());
        }
    }
}

/// Masks the values of the differences at a secret field (for tables of changes).
pub fn mask_differences(changes: &mut [Difference], extra: &[String]) {
    let masked = |value: &mut Option<Value>| {
        if let Some(value) = value
            && !value.as_str().is_some_and(str::is_empty)
        {
            *value = Value::String(MASK.to_owned());
        }
    };
    for change in changes {
        let secret = is_secret(&change.pointer)
            || extra.iter().any(|p| {
                change.pointer == *p
                    || change
                        .pointer
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            });
        if secret {
            masked(&mut change.before);
            masked(&mut change.after);
        }
    }
}

/// Where an incoming document carries [`MASK`] in a secret field, puts back the stored value
/// (or drops the field when nothing is stored), so a masked round trip never overwrites a
/// secret.
pub fn restore_masked_secrets(incoming: &mut Value, stored: Option<&Value>) {
    restore_masked_secrets_with(incoming, stored, &[]);
}

/// [`restore_masked_secrets`], also for the fields at `extra` (a settings schema's secrets).
pub fn restore_masked_secrets_with(incoming: &mut Value, stored: Option<&Value>, extra: &[String]) {
    for pointer in secret_pointers().iter().chain(extra) {
        if incoming.pointer(pointer).and_then(Value::as_str) != Some(MASK) {
            continue;
        }
        let kept = stored.and_then(|doc| doc.pointer(pointer)).cloned();
        let Some((parent, field)) = pointer.rsplit_once('/') else {
            continue;
        };
        let field = field.replace("~1", "/").replace("~0", "~");
        let Some(fields) = incoming.pointer_mut(parent).and_then(Value::as_object_mut) else {
            continue;
        };
        match kept {
            Some(value) => {
                fields.insert(field.clone(), value);
            }
            None => {
                fields.remove(&field);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_names_the_api_key_secret() {
        assert!(is_secret("/config/api_key"));
        assert!(!is_secret("/config/model"));
        assert!(!is_secret("/config/settings/api_key"));
        assert!(is_secret_schema(
            &json!({"type": "string", "format": "password"})
        ));
        assert!(!is_secret_schema(&json!({"type": "string"})));
    }

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
        restore_masked_secrets(&mut incoming, Some(&stored));
        assert_eq!(incoming["config"]["api_key"], "sk-live");
        assert_eq!(incoming["config"]["model"], "new");
    }

    #[test]
    fn a_new_key_replaces_the_stored_one() {
        let stored = json!({"config": {"api_key": "old"}});
        let mut incoming = json!({"config": {"api_key": "new"}});
        restore_masked_secrets(&mut incoming, Some(&stored));
        assert_eq!(incoming["config"]["api_key"], "new");
    }

    #[test]
    fn masked_key_without_a_stored_one_is_dropped() {
        let mut incoming = json!({"config": {"api_key": MASK}});
        restore_masked_secrets(&mut incoming, None);
        assert!(incoming["config"].get("api_key").is_none());
    }
}
