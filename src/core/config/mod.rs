//! The config service (CONTRACT §1): documents validated by the JSON Schema, stored in
//! `config.json` atomically and durably, with revisions and an append-only history.

mod diff;
mod document;
mod history;
mod mask;
mod schema;
mod service;
mod store;

pub use diff::{Difference, diff};
pub use document::{
    document_from_announcement, last_updated_of, seed_default_document, service_name_of,
    settings_defaults,
};
pub use history::{ChangeSource, HistoryEntry, HistoryLog, LoadedHistory, read_history};
pub use mask::{MASK, mask_document, mask_in_place, restore_masked_key};
pub use schema::{FieldError, SCHEMA_SOURCE, SettingsSchema, schema_document, validate_document};
pub use service::{
    Change, Committed, ConfigError, ConfigPaths, ConfigService, ConfigWriter,
    DEFAULT_HISTORY_LIMIT, OpenError, OpenReport, Precondition, REMOTE_ANSWER_TIMEOUT, Remote,
    Restore, Snapshot, StoredDocument,
};
pub use store::{LoadError, load as load_config_file, render as render_config_file};
