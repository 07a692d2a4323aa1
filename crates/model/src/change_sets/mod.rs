//! Change sets as every face speaks of them (CONTRACT §7): the request, its answer, and what
//! a set would do before it is applied. Deciding and storing them is the core's.

pub mod request;
pub mod shared;

pub use request::{ChangeSetRequest, MAX_MEMBERS, RequestError, WireExtras};
pub use shared::{SharedFields, household_language_members};

use crate::checks::{Check, Severity};
use crate::config::{Committed, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A stored change set: its id and each member's new revision (the REST answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeSetAnswer {
    /// Shared by every member's history entry.
    pub change_id: String,
    /// Each member's new revision, by service.
    pub revisions: BTreeMap<String, u64>,
}

impl ChangeSetAnswer {
    /// The answer for the set `change_id` whose members were stored as `committed`.
    pub fn of(change_id: String, committed: &[Committed]) -> Self {
        Self {
            change_id,
            revisions: committed
                .iter()
                .map(|c| (c.service.clone(), c.revision))
                .collect(),
        }
    }
}

/// What a set would do, worked out without storing anything (for a face that shows it before
/// the admin applies it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetPreview {
    /// Each member's problems, by `/documents/<index>` + the field.
    pub invalid: Vec<FieldError>,
    /// The new findings of the checks across services on the fleet as it would be.
    pub findings: Vec<Check>,
}

impl SetPreview {
    /// True when a new finding is an error (the set would be refused).
    pub fn has_new_errors(&self) -> bool {
        self.findings.iter().any(|c| c.severity == Severity::Error)
    }

    /// The new warnings (the set needs `allow_warnings`).
    pub fn new_warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|c| c.severity == Severity::Warning)
            .count()
    }
}
