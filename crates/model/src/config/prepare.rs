//! A document as the store would take it: masked secrets restored from the stored one, the
//! managed fields set, its size checked and validated — the store's rule, which a face also
//! runs on a draft to show each field's problem before it saves.

use super::change::ConfigError;
use super::managed::stamp_managed_fields;
use super::schema::{FieldError, validate_document};
use super::secrets::restore_masked_secrets_with;
use super::settings_schemas::SchemaRecord;
use crate::limits::{CONFIG_DOCUMENT_LIMIT, human_size, json_len};
use serde_json::Value;

/// Makes an incoming document the one to store: restores masked secrets from the stored one,
/// sets the managed fields (`now`: the time they record) and validates (with the service's
/// settings schema, if any). The one rule a face and the store both apply to a draft.
pub fn prepare_document(
    service: &str,
    mut document: Value,
    stored: Option<&Value>,
    schemas: Option<&SchemaRecord>,
    now: time::OffsetDateTime,
) -> Result<Value, ConfigError> {
    let secrets = schemas.map(SchemaRecord::secret_paths).unwrap_or_default();
    restore_masked_secrets_with(&mut document, stored, &secrets)
        .map_err(|details| ConfigError::Invalid { details })?;
    let settings_schema = schemas.and_then(|r| r.enforced.as_ref());
    let Some(fields) = document.as_object_mut() else {
        return Err(ConfigError::Invalid {
            details: vec![FieldError::new(
                "",
                "must be a JSON object (a service document)",
            )],
        });
    };
    let mut details = stamp_managed_fields(fields, service, stored, now);
    let size = json_len(&document);
    if size > CONFIG_DOCUMENT_LIMIT {
        // CONTRACT §6: a larger document could not travel to the services and followers.
        details.push(FieldError::new(
            "",
            format!(
                "the document is {size} bytes of JSON, over the {} limit",
                human_size(CONFIG_DOCUMENT_LIMIT)
            ),
        ));
    }
    details.extend(validate_document(&document, settings_schema));
    if details.is_empty() {
        Ok(document)
    } else {
        Err(ConfigError::Invalid { details })
    }
}
