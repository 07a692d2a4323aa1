//! What a kept draft is: the edit, the document and revision it started from, and when it
//! last changed; the drafts file holds them by service.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One service's unsaved edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The stored revision the edit started from (`None`: a service not stored yet).
    pub base_revision: Option<u64>,
    /// The document the edit started from (`null` for a new one).
    pub base: Value,
    /// The draft.
    pub document: Value,
    /// When it was last changed (RFC 3339).
    pub changed_at: String,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftFile {
    /// The drafts by service.
    pub drafts: BTreeMap<String, Draft>,
}
