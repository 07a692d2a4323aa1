//! The config service (CONTRACT §1): documents validated by the JSON Schema, stored in
//! `config.json` atomically and durably, with revisions and an append-only history.
//!
//! - [`actor`] (the model's) and [`desktop_actor`]: who made a change, and the origin a
//!   change is submitted with;
//! - [`change`]: what the service takes and gives (changes, preconditions, errors);
//! - [`rules`]: the rules as plain functions (what a change does, what the manager stamps,
//!   reconciliation), tested without tokio or a disk;
//! - [`open`]: opening and reconciling the files at start-up;
//! - [`writer`]: the one writer task (group commit, restore, compaction);
//! - [`service`]: the handle every face calls;
//! - [`managed`], [`secrets`], [`service_type`], [`document`], [`schema`]: what a document is
//!   made of and which of its fields are the manager's or secret;
//! - [`diff`], [`history`], [`store`]: comparing documents, the history file, `config.json`.

pub mod change;
mod compaction;
pub mod desktop_actor;
pub mod history;
pub mod open;
mod paths;
mod rules;
pub mod service;
pub mod settings_schemas;
mod shared;
pub mod store;
pub mod writer;

// What a document is and its rules are the model's (no I/O), here under their old names.
pub use alicia_model::config::{
    actor, diff, document, managed, prepare, schema, secret_paths, secrets, service_type, source,
};

pub use actor::{Actor, ActorKind, Origin};
pub use change::{
    Change, ChangeSetCommit, Committed, ConfigError, Precondition, REMOTE_ANSWER_TIMEOUT, Remote,
    RemoteChange, RemoteSent, Restore, SetCheck, Snapshot, StoredDocument,
};
pub use desktop_actor::{desktop_origin, desktop_user};
pub use diff::Difference;
pub use document::{
    default_port, document_from_announcement, last_updated_of, new_endpoint, new_service_document,
    seed_default_document, service_name_of, settings_defaults,
};
pub use history::{ChangeSource, HistoryEntry, HistoryLog, LoadedHistory, read_history};
pub use managed::{MANAGED_FIELDS, editable_schema, is_managed};
pub use open::{OpenError, OpenReport};
pub use paths::ConfigPaths;
pub use prepare::prepare_document;
pub use schema::{
    FieldError, MAX_PATTERNS_IN_ALL, MAX_PATTERNS_PER_SCHEMA, PATTERN_SIZE_LIMIT, SCHEMA_SOURCE,
    SETTINGS_POINTER, SettingsSchema, count_patterns, schema_document, validate_document,
};
pub use secrets::{
    ENTER_AGAIN, MASK, SecretPaths, is_secret, is_secret_schema, mask_differences, mask_document,
    mask_document_with, mask_in_place, mask_in_place_with, restore_masked_secrets,
    restore_masked_secrets_with,
};
pub use service::{ConfigService, DEFAULT_HISTORY_LIMIT};
pub use service_type::{ROUTER_TARGETS, ServiceType};
pub use settings_schemas::{SchemaOp, SchemaRecord, Schemas};
pub use store::{LoadError, load as load_config_file, render as render_config_file};
pub use writer::ConfigWriter;
