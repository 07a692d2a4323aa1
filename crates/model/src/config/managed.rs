//! The fields the manager sets itself (CONTRACT §1), defined once for every face:
//! `service_name` (fixed by the service a change is for), `status` (the runtime state from the
//! health topic) and `last_updated` (stamped on every accepted change). Forms leave them out
//! (they edit [`editable_schema`]), diffs and reviews ignore them, and the config service sets
//! them on every change ([`stamp_managed_fields`]).

use super::document::last_updated_of;
use super::schema::{FieldError, schema_document};
use crate::clock::next_timestamp_after;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use time::OffsetDateTime;

/// The top-level fields the manager sets.
pub const MANAGED_FIELDS: [&str; 3] = ["service_name", "status", "last_updated"];

/// True when `pointer` (a JSON Pointer into a document) is one of [`MANAGED_FIELDS`].
pub fn is_managed(pointer: &str) -> bool {
    pointer
        .strip_prefix('/')
        .is_some_and(|field| MANAGED_FIELDS.contains(&field))
}

/// The service-config schema without the managed fields: what an admin edits. Built once.
pub fn editable_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = schema_document().clone();
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for field in MANAGED_FIELDS {
                properties.remove(field);
            }
        }
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| {
                r.as_str()
                    .is_none_or(|name| !MANAGED_FIELDS.contains(&name))
            });
        }
        schema
    })
}

/// Sets the managed fields of a document about to be stored for `service` at `now`: a fresh
/// `last_updated` (later than the stored one's), and `status` kept from the stored document
/// (or `unknown`) when the change does not carry one. A `service_name` that names another
/// service is returned as an error; a missing one is left for the schema to report.
pub fn stamp_managed_fields(
    fields: &mut Map<String, Value>,
    service: &str,
    stored: Option<&Value>,
    now: OffsetDateTime,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(Value::String(name)) = fields.get("service_name")
        && name != service
    {
        errors.push(FieldError::new(
            "/service_name",
            format!("must be {service:?}, the service this change is for"),
        ));
    }
    let stamp = next_timestamp_after(stored.and_then(last_updated_of), now);
    fields.insert("last_updated".to_owned(), Value::String(stamp));
    if !fields.contains_key("status") {
        let status = stored
            .and_then(|d| d.get("status"))
            .cloned()
            .unwrap_or_else(|| Value::String("unknown".to_owned()));
        fields.insert("status".to_owned(), status);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_editable_schema_leaves_out_exactly_the_managed_fields() {
        let schema = editable_schema();
        let properties = schema["properties"].as_object().unwrap();
        for field in MANAGED_FIELDS {
            assert!(!properties.contains_key(field), "{field}");
        }
        assert!(properties.contains_key("config"));
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| !MANAGED_FIELDS.contains(&r.as_str().unwrap()))
        );
        assert!(is_managed("/status") && is_managed("/last_updated"));
        assert!(!is_managed("/config/status") && !is_managed("/enabled"));
    }

    #[test]
    fn stamping_keeps_the_status_and_moves_the_time_forward() {
        // A stamp a little ahead (two changes within one millisecond) is followed...
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let ahead = crate::clock::format_rfc3339(now + time::Duration::seconds(5));
        let stored = json!({"status": "healthy", "last_updated": ahead});
        let mut fields = Map::new();
        fields.insert("service_name".into(), json!("stt"));
        assert!(stamp_managed_fields(&mut fields, "stt", Some(&stored), now).is_empty());
        assert_eq!(fields["status"], "healthy");
        let stamped = fields["last_updated"].as_str().unwrap().to_owned();
        assert!(stamped > ahead, "{stamped} follows {ahead}");
        // ...one far in the future (a wrong clock, a crafted file) is not.
        let far = json!({"status": "healthy", "last_updated": "2999-01-01T00:00:00.000Z"});
        assert!(stamp_managed_fields(&mut fields, "stt", Some(&far), now).is_empty());
        assert!(fields["last_updated"].as_str().unwrap() < "2999");
        let errors = stamp_managed_fields(&mut fields, "tts", None, now);
        assert_eq!(errors[0].path, "/service_name");
    }
}
