//! Import and export of configs in `config.json`'s format: every document as a file holds
//! it (`api_key` masked unless asked), and what importing a file would do — every document
//! validated first, nothing stored. The desktop app's Import / Export and tools share it.

use crate::core::Core;
use crate::core::config::{FieldError, diff, mask_document, restore_masked_key};
use serde_json::{Map, Value};

/// What importing one document would do.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportKind {
    /// A service the manager does not have.
    New,
    /// Changes to an existing service (how many fields).
    Changed(usize),
    /// Identical to what is stored.
    Unchanged,
    /// Refused: the errors.
    Invalid(Vec<FieldError>),
}

/// One document of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    /// The service.
    pub service: String,
    /// Its document.
    pub document: Value,
    /// What it would do.
    pub kind: ImportKind,
}

/// Reads an import file's bytes and says what each document would do.
pub fn preview_import(core: &Core, bytes: &[u8]) -> Result<Vec<ImportItem>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(documents) = value else {
        return Err("the file must be an object mapping service names to documents".to_owned());
    };
    Ok(documents
        .into_iter()
        .map(|(service, document)| {
            let errors = core.config.validate(&service, &document);
            let kind = if !errors.is_empty() {
                ImportKind::Invalid(errors)
            } else {
                match core.config.get(&service) {
                    None => ImportKind::New,
                    Some(stored) => {
                        let mut incoming = document.clone();
                        restore_masked_key(&mut incoming, Some(&stored.document));
                        match diff(&stored.document, &incoming).len() {
                            0 => ImportKind::Unchanged,
                            n => ImportKind::Changed(n),
                        }
                    }
                }
            };
            ImportItem {
                service,
                document,
                kind,
            }
        })
        .collect())
}

/// Every document, as the export file holds them.
pub fn export_documents(core: &Core, include_secrets: bool) -> Value {
    let documents: Map<String, Value> = core
        .config
        .snapshot()
        .documents
        .iter()
        .map(|(name, stored)| {
            let document = if include_secrets {
                Value::clone(&stored.document)
            } else {
                mask_document(&stored.document)
            };
            (name.clone(), document)
        })
        .collect();
    Value::Object(documents)
}
