//! The service config document (CONTRACT §1) as every face sees it: its JSON Schema and
//! validation ([`schema`]), which fields are secret and their masking ([`secret_paths`],
//! [`secrets`]), structural diffs ([`diff`]), the fields the manager sets ([`managed`]), the
//! service types and their templates ([`service_type`], [`document`]), and who made a change
//! and by which channel ([`actor`], [`source`]).

pub mod actor;
pub mod change;
pub mod diff;
pub mod document;
pub mod history_entry;
pub mod managed;
pub mod schema;
pub mod secret_paths;
pub mod secrets;
pub mod service_type;
pub mod settings_schemas;
pub mod source;
