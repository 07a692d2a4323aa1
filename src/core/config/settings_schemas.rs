//! Settings schemas that outlive restarts (CONTRACT §9): what each service announced, kept in
//! `settings-schemas.json` beside `config.json`.
//!
//! A service's record holds the schema **enforced** (changes to its `config.settings` are
//! checked against it, forms are drawn from it, followers get it on
//! `alicia/config/<service>/schema`) and, at most one, a schema **pending**: announced, but
//! the stored settings do not pass it. A pending schema is not enforced; a check names the
//! failing fields until an admin accepts it (after fixing the settings) or the service
//! announces a schema the settings pass. The rules are plain functions ([`apply_schema_op`]);
//! the config writer applies them in order with the documents' changes and stores the file.

use super::change::ConfigError;
use super::schema::{FieldError, SettingsSchema};
use super::secrets::SecretPaths;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The file's name, beside `config.json`.
pub const SCHEMAS_FILE_NAME: &str = "settings-schemas.json";

/// What this manager holds for one service.
#[derive(Debug, Clone, Default)]
pub struct SchemaRecord {
    /// The schema enforced.
    pub enforced: Option<SettingsSchema>,
    /// A schema announced that the stored settings do not pass, awaiting an admin.
    pub pending: Option<SettingsSchema>,
}

impl SchemaRecord {
    /// The secret fields either schema declares (both are masked: a field one of them calls
    /// secret is never shown).
    pub fn secret_paths(&self) -> SecretPaths {
        [&self.enforced, &self.pending]
            .into_iter()
            .flatten()
            .fold(SecretPaths::default(), |all, schema| {
                all.merged(schema.secret_paths())
            })
    }

    fn is_empty(&self) -> bool {
        self.enforced.is_none() && self.pending.is_none()
    }
}

/// Every service's record, by service name.
pub type Schemas = HashMap<String, SchemaRecord>;

/// Something that happens to a service's schemas.
#[derive(Debug, Clone)]
pub enum SchemaOp {
    /// The service announced this schema (`None`: an announcement without one).
    Announced(Option<SettingsSchema>),
    /// An admin accepts the pending schema.
    Accept,
    /// A follower copies the authority's enforced schema (`None`: it has none).
    Mirror(Option<SettingsSchema>),
}

/// Applies `op` to `service`'s record, given its stored document; true when the record
/// changed. [`SchemaOp::Accept`] without a pending schema is refused.
pub fn apply_schema_op(
    schemas: &mut Schemas,
    service: &str,
    op: SchemaOp,
    document: Option<&Value>,
) -> Result<bool, ConfigError> {
    let record = schemas.entry(service.to_owned()).or_default();
    let changed = match op {
        SchemaOp::Announced(None) | SchemaOp::Mirror(None) => {
            let had = !record.is_empty();
            *record = SchemaRecord::default();
            had
        }
        SchemaOp::Announced(Some(schema)) => {
            let passes = document.is_none_or(|d| schema.failures(d).is_empty());
            if record.enforced.as_ref().is_some_and(|e| e.same_as(&schema)) {
                record.pending.take().is_some()
            } else if passes {
                record.enforced = Some(schema);
                record.pending = None;
                true
            } else if record.pending.as_ref().is_some_and(|p| p.same_as(&schema)) {
                false
            } else {
                record.pending = Some(schema);
                true
            }
        }
        SchemaOp::Accept => {
            let Some(pending) = record.pending.take() else {
                return Err(ConfigError::NoPendingSchema {
                    service: service.to_owned(),
                });
            };
            record.enforced = Some(pending);
            true
        }
        SchemaOp::Mirror(Some(schema)) => {
            let same = record.enforced.as_ref().is_some_and(|e| e.same_as(&schema))
                && record.pending.is_none();
            record.enforced = Some(schema);
            record.pending = None;
            !same
        }
    };
    if record.is_empty() {
        schemas.remove(service);
    }
    Ok(changed)
}

/// Where the stored settings fail the pending schema (for the check).
pub fn pending_failures(record: &SchemaRecord, document: &Value) -> Vec<FieldError> {
    record
        .pending
        .as_ref()
        .map(|pending| pending.failures(document))
        .unwrap_or_default()
}

/// The file's contents: `{"<service>": {"enforced": schema | null, "pending": schema | null}}`,
/// sorted by service.
pub fn render(schemas: &Schemas) -> Vec<u8> {
    let sorted: BTreeMap<&String, Value> = schemas
        .iter()
        .map(|(service, record)| {
            let source = |schema: &Option<SettingsSchema>| {
                schema
                    .as_ref()
                    .map_or(Value::Null, |s| Value::clone(&s.source))
            };
            let mut fields = Map::new();
            fields.insert("enforced".to_owned(), source(&record.enforced));
            fields.insert("pending".to_owned(), source(&record.pending));
            (service, Value::Object(fields))
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&sorted).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    bytes
}

/// Reads the file; a missing file is no schema. What cannot be read (a broken file, a schema
/// that no longer compiles) is left out and reported, never fatal: the service announces
/// again.
pub fn load(path: &Path) -> (Schemas, Vec<String>) {
    let mut warnings = Vec::new();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return (Schemas::new(), warnings);
        }
        Err(error) => {
            warnings.push(format!(
                "{}: {error}; settings schemas are not enforced until announced again",
                path.display()
            ));
            return (Schemas::new(), warnings);
        }
    };
    let Ok(Value::Object(services)) = serde_json::from_slice::<Value>(&bytes) else {
        warnings.push(format!(
            "{}: not a JSON object; settings schemas are not enforced until announced again",
            path.display()
        ));
        return (Schemas::new(), warnings);
    };
    let mut schemas = Schemas::new();
    for (service, record) in services {
        let mut compiled = |key: &str| match record.get(key) {
            None | Some(Value::Null) => None,
            Some(source) => match SettingsSchema::compile(source.clone()) {
                Ok(schema) => Some(schema),
                Err(error) => {
                    warnings.push(format!(
                        "{}: the {key} settings schema of {service} does not compile ({error}); left out",
                        path.display()
                    ));
                    None
                }
            },
        };
        let record = SchemaRecord {
            enforced: compiled("enforced"),
            pending: compiled("pending"),
        };
        if !record.is_empty() {
            schemas.insert(service, record);
        }
    }
    (schemas, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(maximum: u64) -> SettingsSchema {
        SettingsSchema::compile(json!({
            "type": "object",
            "properties": {
                "beam_size": {"type": "integer", "maximum": maximum},
                "password": {"type": "string", "writeOnly": true}
            }
        }))
        .unwrap()
    }

    fn document(beam_size: u64) -> Value {
        json!({"config": {"settings": {"beam_size": beam_size}}})
    }

    #[test]
    fn a_schema_the_settings_pass_is_enforced_one_they_fail_waits() {
        let mut schemas = Schemas::new();
        let stored = document(8);
        let op = SchemaOp::Announced(Some(schema(10)));
        assert!(apply_schema_op(&mut schemas, "stt", op.clone(), Some(&stored)).unwrap());
        assert!(!apply_schema_op(&mut schemas, "stt", op, Some(&stored)).unwrap());
        assert!(schemas["stt"].enforced.is_some() && schemas["stt"].pending.is_none());

        let stricter = SchemaOp::Announced(Some(schema(5)));
        assert!(apply_schema_op(&mut schemas, "stt", stricter, Some(&stored)).unwrap());
        let record = &schemas["stt"];
        assert!(
            record.enforced.as_ref().unwrap().same_as(&schema(10)),
            "the old one stays"
        );
        let failures = pending_failures(record, &stored);
        assert_eq!(failures[0].path, "/config/settings/beam_size");

        // The service goes back to a schema the settings pass: nothing is pending any more.
        let relaxed = SchemaOp::Announced(Some(schema(10)));
        assert!(apply_schema_op(&mut schemas, "stt", relaxed, Some(&stored)).unwrap());
        assert!(schemas["stt"].pending.is_none());
    }

    #[test]
    fn an_admin_accepts_a_pending_schema() {
        let mut schemas = Schemas::new();
        assert!(matches!(
            apply_schema_op(&mut schemas, "stt", SchemaOp::Accept, None),
            Err(ConfigError::NoPendingSchema { .. })
        ));
        apply_schema_op(
            &mut schemas,
            "stt",
            SchemaOp::Announced(Some(schema(5))),
            Some(&document(8)),
        )
        .unwrap();
        assert!(schemas["stt"].enforced.is_none());
        apply_schema_op(&mut schemas, "stt", SchemaOp::Accept, Some(&document(8))).unwrap();
        assert!(
            schemas["stt"]
                .enforced
                .as_ref()
                .unwrap()
                .same_as(&schema(5))
        );
        let secrets = schemas["stt"].secret_paths();
        assert!(secrets.covers("/config/settings/password"));
        assert!(!secrets.covers("/config/settings/language"));
    }

    #[test]
    fn the_file_round_trips_and_a_broken_one_is_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SCHEMAS_FILE_NAME);
        let mut schemas = Schemas::new();
        apply_schema_op(
            &mut schemas,
            "stt",
            SchemaOp::Announced(Some(schema(10))),
            None,
        )
        .unwrap();
        apply_schema_op(
            &mut schemas,
            "stt",
            SchemaOp::Announced(Some(schema(5))),
            Some(&document(8)),
        )
        .unwrap();
        std::fs::write(&path, render(&schemas)).unwrap();
        let (loaded, warnings) = load(&path);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(
            loaded["stt"]
                .enforced
                .as_ref()
                .unwrap()
                .same_as(&schema(10))
        );
        assert!(loaded["stt"].pending.as_ref().unwrap().same_as(&schema(5)));

        std::fs::write(&path, b"{\"stt\": {\"enforced\": {\"type\": 7}}}").unwrap();
        let (loaded, warnings) = load(&path);
        assert!(loaded.is_empty());
        assert!(warnings[0].contains("stt"), "{warnings:?}");
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(load(&path).1.len(), 1);
        assert!(load(&dir.path().join("missing.json")).1.is_empty());
    }
}
