//! What the stored documents hold against the rules: a settings schema waiting for an admin,
//! a document stored before the rules refused it.

use super::{Check, CheckKind, Severity};
use crate::config::schema::{FieldError, MAX_PATTERNS_IN_ALL, SETTINGS_POINTER, validate_document};
use crate::config::settings_schemas::{PendingReason, SchemaRecord, Schemas, pending_reason};
use crate::limits::{CONFIG_DOCUMENT_LIMIT, human_size, json_len};
use serde_json::Value;

/// A settings schema that waits for an admin (CONTRACT §9, §10): one warning per service,
/// saying why it is not enforced.
pub(super) fn schema_pending(
    name: &str,
    document: &Value,
    record: &SchemaRecord,
    schemas: &Schemas,
    checks: &mut Vec<Check>,
) {
    let Some(reason) = pending_reason(schemas, name, record, document) else {
        return;
    };
    let (path, message) = match reason {
        PendingReason::SettingsFail(failures) => match failures.first() {
            Some(first) => (
                first.path.clone(),
                format!(
                    "{name} announced a settings schema its stored settings do not pass ({} {}{}): it is not enforced until the settings are fixed and an admin accepts it, or the service announces one they pass",
                    first.path,
                    first.message,
                    match failures.len() {
                        1 => String::new(),
                        n => format!(", and {} more", n - 1),
                    }
                ),
            ),
            None => (
                SETTINGS_POINTER.to_owned(),
                format!(
                    "{name} announced a settings schema its stored settings now pass: an admin accepts it to enforce it"
                ),
            ),
        },
        PendingReason::Changed => {
            let failures = record
                .pending
                .as_ref()
                .map(|pending| pending.failures(document))
                .unwrap_or_default();
            let fails = failures.first().map_or_else(String::new, |first| {
                format!(
                    "; the stored settings do not pass it yet ({} {})",
                    first.path, first.message
                )
            });
            (
                failures
                    .first()
                    .map_or_else(|| SETTINGS_POINTER.to_owned(), |f| f.path.clone()),
                format!(
                    "{name} announced a settings schema different from the one enforced: it is not enforced until an admin accepts it (a schema changes only with an admin's consent){fails}"
                ),
            )
        }
        PendingReason::OverPatternBudget => (
            SETTINGS_POINTER.to_owned(),
            format!(
                "{name}'s settings schema is not enforced: the enforced schemas together would hold more than {MAX_PATTERNS_IN_ALL} patterns"
            ),
        ),
    };
    checks.push(Check {
        id: format!("settings_schema_pending:{name}"),
        kind: CheckKind::SettingsSchemaPending,
        severity: Severity::Warning,
        service: name.to_owned(),
        path,
        message,
        related: Vec::new(),
    });
}

/// A stored document that the schema, the enforced settings schema or the size limit refuses
/// now.
pub(super) fn stored_invalid(
    name: &str,
    document: &Value,
    record: Option<&SchemaRecord>,
    checks: &mut Vec<Check>,
) {
    let enforced = record.and_then(|r| r.enforced.as_ref());
    let mut problems = validate_document(document, enforced);
    let size = json_len(document);
    if size > CONFIG_DOCUMENT_LIMIT {
        problems.push(FieldError::new(
            "",
            format!(
                "is {size} bytes of JSON, over the {} limit",
                human_size(CONFIG_DOCUMENT_LIMIT)
            ),
        ));
    }
    for problem in problems {
        checks.push(Check {
            id: format!("stored_invalid:{name}:{}", problem.path),
            kind: CheckKind::StoredInvalid,
            severity: Severity::Warning,
            service: name.to_owned(),
            path: problem.path.clone(),
            message: format!(
                "{name}'s stored document no longer passes the rules ({} {}): it is served as it is, and must be fixed at its next change",
                if problem.path.is_empty() { "the document" } else { problem.path.as_str() },
                problem.message
            ),
            related: Vec::new(),
        });
    }
}
