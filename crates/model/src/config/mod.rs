//! The service config document (CONTRACT §1) as every face sees it: its JSON Schema and
//! validation ([`schema`]), which fields are secret and their masking ([`secret_paths`],
//! [`secrets`]), structural diffs ([`diff`]), the fields the manager sets ([`managed`]), the
//! service types and their templates ([`service_type`], [`document`]), and who made a change
//! and by which channel ([`actor`], [`source`]).

pub mod actor;
pub mod bounded;
pub mod change;
pub mod contract_schema;
pub mod diff;
pub mod document;
pub mod field_error;
pub mod history_entry;
pub mod managed;
pub mod prepare;
pub mod schema;
pub mod secret_paths;
pub mod secrets;
pub mod service_type;
pub mod settings_schemas;
pub mod source;

pub use change::{Committed, ConfigError, Precondition, Snapshot, StoredDocument};
pub use diff::{Difference, diff};
pub use document::{last_updated_of, new_service_document};
pub use history_entry::HistoryEntry;
pub use managed::editable_schema;
pub use managed::is_managed;
pub use prepare::prepare_document;
pub use schema::FieldError;
pub use secrets::{MASK, SecretPaths, is_secret, is_secret_schema, mask_differences, masked_diff};
pub use service_type::ServiceType;
pub use settings_schemas::pending_failures;
pub use settings_schemas::{SchemaRecord, Schemas};
