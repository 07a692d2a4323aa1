//! Import, export, backup and restore as a face shows them: what a file would change,
//! service by service, until the admin confirms; and what applying it did. Reading files and
//! storing their documents is the core's (`core::transfer`, `core::backup`).

use crate::config::{ConfigError, FieldError};
use serde_json::Value;
use std::sync::Arc;

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
    /// The service it is about, by name.
    pub service: String,
    /// Its document, as the file holds it.
    pub document: Value,
    /// What it would do.
    pub kind: ImportKind,
    /// The service's revision when the preview was made (`None`: it had no document).
    pub base: Option<u64>,
}

impl ImportItem {
    /// True when applying it changes something (a new service or a changed one).
    pub fn applies(&self) -> bool {
        matches!(self.kind, ImportKind::New | ImportKind::Changed(_))
    }
}

/// What applying one item of an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// The service it is about, by name.
    pub service: String,
    /// Its new revision, or why it was not changed (a [`ConfigError::Conflict`] when the
    /// service changed after the preview).
    pub result: Result<u64, ConfigError>,
}

impl std::fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            Ok(revision) => write!(f, "{}: revision {revision}", self.service),
            Err(ConfigError::Conflict { .. }) => write!(
                f,
                "{}: not imported, it changed since the preview (preview again)",
                self.service
            ),
            Err(error) => write!(f, "{}: {error}", self.service),
        }
    }
}

/// What restoring a backup would do to one service.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreKind {
    /// The service is not here now.
    New,
    /// Its document changes (how many values differ, `last_updated` and `status` aside).
    Changed(usize),
    /// It stays as it is.
    Unchanged,
    /// The backup does not have it: it will be deleted.
    Removed,
}

/// One line of a restore preview.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreItem {
    /// The service it is about, by name.
    pub service: String,
    /// What happens to it.
    pub kind: RestoreKind,
}

/// A restore that would point the manager at another MQTT broker than the one its settings
/// name now: shown in the preview, and restored only when the admin confirms it. The password
/// stored now is never sent to the backup's broker: it is kept only when the broker stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerChange {
    /// The broker named now (no credentials).
    pub now: String,
    /// The broker the backup names (no credentials).
    pub restored: String,
    /// True when the backup brings its own MQTT password (else none is kept).
    pub password_in_backup: bool,
}

impl std::fmt::Display for BrokerChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the backup points the manager at another MQTT broker: {} (now {}); {}",
            self.restored,
            self.now,
            if self.password_in_backup {
                "its password comes from the backup"
            } else {
                "the MQTT password stored now is not kept"
            }
        )
    }
}

/// What importing an export file would do, until the admin confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPreview {
    /// Each document of the file and what it would do.
    pub items: Vec<ImportItem>,
}

/// What restoring a backup file would do, until the admin confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct RestorePreview {
    /// When the backup was made (RFC 3339).
    pub created: String,
    /// True when the backup holds secrets (else the keys stored now are kept).
    pub secrets_included: bool,
    /// What happens to each service.
    pub items: Vec<RestoreItem>,
    /// The broker it would point the manager at, when that is another one.
    pub broker_change: Option<BrokerChange>,
    /// The backup file as read, restored from when the admin confirms.
    pub bytes: Arc<[u8]>,
}
