//! Reusable widgets: the schema-driven form, JSON diffs and views, small badges.

pub mod badge;
pub mod json;
pub mod notice;
pub mod schema_form;
