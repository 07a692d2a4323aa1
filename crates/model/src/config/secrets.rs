//! Which fields of a document are secret, decided once for every face, and their masking.
//!
//! A field is secret when a schema that could apply to it marks it `writeOnly: true` or
//! `format: "password"` ([`is_secret_schema`]; where such schemas are found:
//! [`super::secret_paths`]). In the service-config schema that is `config.api_key`
//! ([`is_secret`]); a service's settings schema may declare secrets of its own anywhere inside
//! `config.settings` — in nested objects, array items, maps (CONTRACT §9, §10) — given to the
//! `_with` functions as [`SecretPaths`]. Outward (REST answers, socket.io events, the message
//! log, exports, backups without secrets, the GUI's JSON views) a non-empty secret becomes
//! [`MASK`]; an empty one means "unset" and stays empty. Inward, a document that carries
//! [`MASK`] in a secret field keeps the value already stored there — where it is the same
//! field: in an array only while the array keeps its stored length, in a map only under a
//! key that is stored; anything else is refused, "enter this secret again" (CONTRACT §10).

use super::contract_schema::schema_document;
use super::diff::Difference;
use super::field_error::FieldError;
pub use super::secret_paths::is_secret_schema;
use super::secret_paths::{Applicable, SecretSchema};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

pub use crate::secret::MASK;

/// What a masked value that cannot be restored is refused with.
pub const ENTER_AGAIN: &str = "enter this secret again";

/// True when `pointer` (a JSON Pointer into a service document) names a secret field of the
/// service-config schema, or a field inside one.
pub fn is_secret(pointer: &str) -> bool {
    covers(document_schema(), pointer)
}

/// The service-config schema, as a source of secrets.
fn document_schema() -> &'static SecretSchema {
    static SCHEMA: OnceLock<SecretSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        SecretSchema::new(schema_document().clone(), &[])
            .expect("the bundled schema declares its secrets plainly")
    })
}

/// Where the settings schemas of a service put secrets in its document (beside the
/// service-config schema's own, which every function here masks anyway); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SecretPaths(Arc<[SecretSchema]>);

impl SecretPaths {
    /// The secrets `schema` declares.
    pub fn of(schema: SecretSchema) -> Self {
        Self(Arc::new([schema]))
    }

    /// True when no settings schema declares anything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Both (a field either calls secret is masked).
    pub fn merged(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        Self(self.0.iter().chain(other.0.iter()).cloned().collect())
    }

    /// True when `pointer` is a secret field (these schemas' or the service-config schema's),
    /// or a field inside one.
    pub fn covers(&self, pointer: &str) -> bool {
        self.schemas().any(|schema| covers(schema, pointer))
    }

    fn schemas(&self) -> impl Iterator<Item = &SecretSchema> {
        std::iter::once(document_schema()).chain(self.0.iter())
    }
}

/// A pointer's tokens, unescaped.
fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// What applies at `tokens` below `schema`'s place, and whether something on the way (or
/// there) is secret; `None` when the tokens leave the schema's place.
fn at_tokens<'a>(schema: &'a SecretSchema, tokens: &[String]) -> Option<(Applicable<'a>, bool)> {
    let prefix = schema.prefix();
    if tokens.len() < prefix.len() || tokens[..prefix.len()] != *prefix {
        return None;
    }
    let mut applicable = schema.at_root();
    let mut secret = applicable.is_secret();
    for token in &tokens[prefix.len()..] {
        if applicable.is_empty() {
            break;
        }
        applicable = schema.at_token(&applicable, token);
        secret |= applicable.is_secret();
    }
    Some((applicable, secret))
}

fn covers(schema: &SecretSchema, pointer: &str) -> bool {
    at_tokens(schema, &tokens(pointer)).is_some_and(|(_, secret)| secret)
}

/// Masks the secrets in `value`, which stands where `applicable` applies.
fn mask_tree(schema: &SecretSchema, value: &mut Value, applicable: &Applicable<'_>) {
    if applicable.is_empty() {
        return;
    }
    if applicable.is_secret() {
        mask_value(value);
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, child) in fields.iter_mut() {
                mask_tree(schema, child, &schema.at_key(applicable, key));
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                mask_tree(schema, child, &schema.at_index(applicable, index));
            }
        }
        _ => {}
    }
}

/// Masks the secrets of `schema` in `value`, found at `pointer` of a document.
fn mask_at(schema: &SecretSchema, pointer: &str, value: &mut Value) {
    let tokens = tokens(pointer);
    let prefix = schema.prefix();
    if tokens.len() < prefix.len() {
        // The value holds the schema's place further down.
        if tokens[..] != prefix[..tokens.len()] {
            return;
        }
        let mut place = value;
        for key in &prefix[tokens.len()..] {
            match place.get_mut(key) {
                Some(child) => place = child,
                None => return,
            }
        }
        mask_tree(schema, place, &schema.at_root());
        return;
    }
    if let Some((applicable, secret)) = at_tokens(schema, &tokens) {
        if secret {
            mask_value(value);
        } else {
            mask_tree(schema, value, &applicable);
        }
    }
}

fn mask_value(value: &mut Value) {
    if !value.as_str().is_some_and(str::is_empty) && !value.is_null() {
        *value = Value::String(MASK.to_owned());
    }
}

/// A copy of `document` with every non-empty secret replaced by [`MASK`].
pub fn mask_document(document: &Value) -> Value {
    mask_document_with(document, &SecretPaths::default())
}

/// [`mask_document`], also masking what `extra` (a service's settings schemas) declares.
pub fn mask_document_with(document: &Value, extra: &SecretPaths) -> Value {
    let mut masked = document.clone();
    mask_in_place_with(&mut masked, extra);
    masked
}

/// Replaces every non-empty secret in `document` by [`MASK`].
pub fn mask_in_place(document: &mut Value) {
    mask_in_place_with(document, &SecretPaths::default());
}

/// [`mask_in_place`], also masking what `extra` (a service's settings schemas) declares.
pub fn mask_in_place_with(document: &mut Value, extra: &SecretPaths) {
    for schema in extra.schemas() {
        mask_at(schema, "", document);
    }
}

/// Masks the secrets in the values of differences (for tables of changes): a value at a
/// secret field, and secrets inside a value that holds them.
pub fn mask_differences(changes: &mut [Difference], extra: &SecretPaths) {
    for change in changes {
        for value in [&mut change.before, &mut change.after]
            .into_iter()
            .flatten()
        {
            for schema in extra.schemas() {
                mask_at(schema, &change.pointer, value);
            }
        }
    }
}

/// What changed from `before` to `after`, with every secret masked — the service-config
/// schema's and those `extra` declares: the one way every face shows a change.
pub fn masked_diff(before: &Value, after: &Value, extra: &SecretPaths) -> Vec<Difference> {
    let mut changes = super::diff::diff(before, after);
    mask_differences(&mut changes, extra);
    changes
}

/// Where an incoming document carries [`MASK`] in a secret field, puts back the stored value
/// (or drops the field when nothing is stored), so a masked round trip never overwrites a
/// secret.
pub fn restore_masked_secrets(
    incoming: &mut Value,
    stored: Option<&Value>,
) -> Result<(), Vec<FieldError>> {
    restore_masked_secrets_with(incoming, stored, &SecretPaths::default())
}

/// [`restore_masked_secrets`], also for what `extra` (a service's settings schemas) declares.
/// A mask in an array whose length is not the stored one, or in a map under a key that is not
/// stored, cannot be restored: each is named, "enter this secret again".
pub fn restore_masked_secrets_with(
    incoming: &mut Value,
    stored: Option<&Value>,
    extra: &SecretPaths,
) -> Result<(), Vec<FieldError>> {
    let mut problems = Vec::new();
    for schema in extra.schemas() {
        let prefix = schema.prefix();
        let stored_place = prefix.iter().try_fold(stored, |s, key| Some(s?.get(key)));
        let at: String = prefix
            .iter()
            .map(|key| format!("/{}", escape(key)))
            .collect();
        let Some(place) = prefix
            .iter()
            .try_fold(&mut *incoming, |value, key| value.get_mut(key))
        else {
            continue;
        };
        let mut restoring = Restoring {
            schema,
            problems: &mut problems,
        };
        restoring.walk(place, stored_place.flatten(), &schema.at_root(), &at, false);
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.dedup();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// One schema's pass of [`restore_masked_secrets_with`].
struct Restoring<'s, 'p> {
    schema: &'s SecretSchema,
    problems: &'p mut Vec<FieldError>,
}

impl Restoring<'_, '_> {
    /// `incoming` at pointer `at`, where `applicable` applies, with `stored` the stored value
    /// at the same place (`None`: none, or not the same place any more); `moved`: the way
    /// here passed an array item or a map value.
    fn walk(
        &mut self,
        incoming: &mut Value,
        stored: Option<&Value>,
        applicable: &Applicable<'_>,
        at: &str,
        moved: bool,
    ) {
        if applicable.is_empty() {
            return;
        }
        match incoming {
            Value::Object(fields) => self.object(fields, stored, applicable, at, moved),
            Value::Array(items) => {
                let stored_items = stored.and_then(Value::as_array);
                let same_length = stored_items.is_some_and(|s| s.len() == items.len());
                for (index, item) in items.iter_mut().enumerate() {
                    let child = self.schema.at_index(applicable, index);
                    let stored = stored_items
                        .filter(|_| same_length)
                        .and_then(|s| s.get(index));
                    let pointer = format!("{at}/{index}");
                    if child.is_secret() {
                        if item.as_str() == Some(MASK) {
                            match stored {
                                Some(kept) => *item = kept.clone(),
                                None => self.problems.push(FieldError::new(pointer, ENTER_AGAIN)),
                            }
                        }
                    } else {
                        self.walk(item, stored, &child, &pointer, true);
                    }
                }
            }
            _ => {}
        }
    }

    fn object(
        &mut self,
        fields: &mut Map<String, Value>,
        stored: Option<&Value>,
        applicable: &Applicable<'_>,
        at: &str,
        moved: bool,
    ) {
        let keys: Vec<String> = fields.keys().cloned().collect();
        for key in keys {
            let child = self.schema.at_key(applicable, &key);
            let stored_child = stored.and_then(|s| s.get(&key));
            let pointer = format!("{at}/{}", escape(&key));
            if !child.is_secret() {
                if let Some(value) = fields.get_mut(&key) {
                    let moved = moved || !self.schema.names_property(applicable, &key);
                    self.walk(value, stored_child, &child, &pointer, moved);
                }
                continue;
            }
            if fields.get(&key).and_then(Value::as_str) != Some(MASK) {
                continue;
            }
            let plain_field = !moved && self.schema.names_property(applicable, &key);
            match stored_child {
                Some(kept) => {
                    fields.insert(key, kept.clone());
                }
                // A plain field with nothing stored: the mask means "unset".
                None if plain_field => {
                    fields.remove(&key);
                }
                None => self.problems.push(FieldError::new(pointer, ENTER_AGAIN)),
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
        restore_masked_secrets(&mut incoming, Some(&stored)).unwrap();
        assert_eq!(incoming["config"]["api_key"], "sk-live");
        assert_eq!(incoming["config"]["model"], "new");
    }

    #[test]
    fn a_new_key_replaces_the_stored_one() {
        let stored = json!({"config": {"api_key": "old"}});
        let mut incoming = json!({"config": {"api_key": "new"}});
        restore_masked_secrets(&mut incoming, Some(&stored)).unwrap();
        assert_eq!(incoming["config"]["api_key"], "new");
    }

    #[test]
    fn masked_key_without_a_stored_one_is_dropped() {
        let mut incoming = json!({"config": {"api_key": MASK}});
        restore_masked_secrets(&mut incoming, None).unwrap();
        assert!(incoming["config"].get("api_key").is_none());
    }

    fn nested_paths() -> SecretPaths {
        let schema = json!({
            "properties": {
                "accounts": {"type": "array", "items": {"properties": {
                    "password": {"type": "string", "format": "password"},
                    "user": {"type": "string"},
                }}},
                "tokens": {"type": "object", "additionalProperties": {"type": "string", "writeOnly": true}},
            }
        });
        SecretPaths::of(SecretSchema::new(schema, &["config", "settings"]).unwrap())
    }

    #[test]
    fn secrets_in_arrays_and_maps_are_masked_and_restored_in_place() {
        let paths = nested_paths();
        let stored = json!({"config": {"api_key": "", "settings": {
            "accounts": [{"user": "a", "password": "secret-pa"}, {"user": "b", "password": "secret-pb"}],
            "tokens": {"hue": "secret-th", "sonos": "secret-ts"},
        }}});
        let masked = mask_document_with(&stored, &paths);
        let settings = &masked["config"]["settings"];
        assert_eq!(settings["accounts"][1]["password"], MASK);
        assert_eq!(settings["accounts"][1]["user"], "b");
        assert_eq!(settings["tokens"]["sonos"], MASK);
        assert!(!masked.to_string().contains("secret-"), "{masked}");
        let mut back = masked.clone();
        restore_masked_secrets_with(&mut back, Some(&stored), &paths).unwrap();
        assert_eq!(back, stored);
        assert!(paths.covers("/config/settings/accounts/0/password"));
        assert!(paths.covers("/config/settings/tokens/hue"));
        assert!(!paths.covers("/config/settings/accounts/0/user"));
    }

    #[test]
    fn a_mask_that_moved_must_be_entered_again() {
        let paths = nested_paths();
        let stored = json!({"config": {"settings": {
            "accounts": [{"user": "a", "password": "pa"}, {"user": "b", "password": "pb"}],
            "tokens": {"hue": "th"},
        }}});
        // An account removed: the masks no longer stand where their secrets were.
        let mut shorter = json!({"config": {"settings": {
            "accounts": [{"user": "b", "password": MASK}],
            "tokens": {"hue": MASK, "new": MASK},
        }}});
        let problems =
            restore_masked_secrets_with(&mut shorter, Some(&stored), &paths).unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/config/settings/accounts/0/password",
                "/config/settings/tokens/new"
            ]
        );
        assert!(problems.iter().all(|p| p.message == ENTER_AGAIN));
    }
}
