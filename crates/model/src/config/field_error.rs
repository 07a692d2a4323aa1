//! A failing field: where (its JSON Pointer into the document) and what is wrong, in words
//! that never echo its value.

use serde::{Deserialize, Serialize};

/// One failing field: its JSON Pointer into the document and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer of the field, e.g. `/config/endpoints/0/port` (empty for the whole document).
    pub path: String,
    /// What is wrong with it, without echoing its value (it may be a secret).
    pub message: String,
}

impl FieldError {
    /// A field error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}
