//! Import and export of configs in `config.json`'s format: every document as a file holds
//! it (secrets masked unless asked); what importing a file would do — every document
//! validated first, nothing stored; and applying that preview, each service only if it is
//! still as the preview saw it. The desktop app's Import / Export and the `import` command
//! share it.

use crate::config::{ChangeSource, ConfigService, Precondition, diff, restore_masked_secrets_with};
use serde_json::{Map, Value};

pub use alicia_model::transfer::{ImportItem, ImportKind, ImportOutcome};

/// Reads an import file's bytes and says what each document would do.
pub fn preview_import(config: &ConfigService, bytes: &[u8]) -> Result<Vec<ImportItem>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(documents) = value else {
        return Err("the file must be an object mapping service names to documents".to_owned());
    };
    Ok(documents
        .into_iter()
        .map(|(service, document)| {
            let stored = config.get(&service);
            let mut incoming = document.clone();
            let mut errors = restore_masked_secrets_with(
                &mut incoming,
                stored.as_ref().map(|s| &*s.document),
                &config.secret_paths(&service),
            )
            .err()
            .unwrap_or_default();
            errors.extend(config.validate(&service, &document));
            let kind = if !errors.is_empty() {
                ImportKind::Invalid(errors)
            } else {
                match &stored {
                    None => ImportKind::New,
                    Some(stored) => match diff(&stored.document, &incoming).len() {
                        0 => ImportKind::Unchanged,
                        n => ImportKind::Changed(n),
                    },
                }
            };
            ImportItem {
                service,
                document,
                kind,
                base: stored.map(|s| s.revision),
            }
        })
        .collect())
}

/// Applies the items of a preview that change something (source `import`), in order. A
/// service whose revision moved since the preview is refused (a conflict, named in its
/// outcome): the admin previews again rather than overwrite a change they have not seen.
pub async fn apply_import(config: &ConfigService, items: Vec<ImportItem>) -> Vec<ImportOutcome> {
    let mut outcomes = Vec::new();
    for item in items.into_iter().filter(ImportItem::applies) {
        let precondition = Precondition::unchanged_since(item.base);
        let result = config
            .put(
                &item.service,
                item.document,
                ChangeSource::Import,
                precondition,
            )
            .await
            .map(|committed| committed.revision);
        outcomes.push(ImportOutcome {
            service: item.service,
            result,
        });
    }
    outcomes
}

/// Every document, as the export file holds them.
pub fn export_documents(config: &ConfigService, include_secrets: bool) -> Value {
    let documents: Map<String, Value> = config
        .snapshot()
        .documents
        .iter()
        .map(|(name, stored)| {
            let document = if include_secrets {
                Value::clone(&stored.document)
            } else {
                config.mask(name, &stored.document)
            };
            (name.clone(), document)
        })
        .collect();
    Value::Object(documents)
}
