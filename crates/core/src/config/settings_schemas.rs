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

use super::schema::{MAX_PATTERNS_IN_ALL, SettingsSchema};
pub use alicia_model::config::settings_schemas::{
    PendingReason, SchemaOp, SchemaRecord, Schemas, admit_in_order, apply_schema_op,
    pending_failures, pending_reason, render,
};
use serde_json::Value;
use std::path::Path;

/// The file's name, beside `config.json`.
pub const SCHEMAS_FILE_NAME: &str = "settings-schemas.json";

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
    for service in admit_in_order(&mut schemas) {
        warnings.push(format!(
            "the settings schema of {service} is pending, not enforced: the enforced schemas together would hold more than {MAX_PATTERNS_IN_ALL} patterns"
        ));
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
