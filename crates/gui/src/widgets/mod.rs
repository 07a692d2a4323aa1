//! Reusable widgets: the style every panel draws with, the schema-driven form, change tables,
//! JSON views, status badges and the notice line.

pub mod a11y;
pub mod badge;
pub mod changes;
pub mod json;
pub mod notice;
pub mod reflow;
pub mod schema_form;
pub mod stepper;
pub mod style;
