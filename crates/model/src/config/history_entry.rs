//! One accepted revision as the history keeps it (CONTRACT §3 `GET …/history`, §7, §9, §10).

use super::actor::Actor;
use super::source::ChangeSource;
use crate::topics::check_service_name;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// One accepted change. `document` is `None` for a deletion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Revision number: unique and increasing across all services.
    pub revision: u64,
    /// The service the change was made to.
    pub service: String,
    /// When the change was accepted (the document's `last_updated`).
    pub last_updated: String,
    /// The channel it came by.
    pub source: ChangeSource,
    /// Who made it (CONTRACT §9); `None` in entries stored before v2 (see
    /// [`HistoryEntry::actor`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// Why the manager rolled a watched change back by itself: `refused`, `unhealthy` or
    /// `silent` (CONTRACT §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change set it was stored with (CONTRACT §7): every member's entry carries the same
    /// id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// The document as accepted, or `None` when the service was deleted.
    pub document: Option<Arc<Value>>,
    /// True when this revision created the service (it had no document before): undoing it
    /// deletes the service — and only such a revision's undo does (CONTRACT §10).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// The largest revision the manager reads or makes: JSON clients (JavaScript) read integers
/// exactly up to 2^53 - 1, and the next revision must still fit.
pub const MAX_REVISION: u64 = (1 << 53) - 1;

impl HistoryEntry {
    /// Who made it: the recorded actor, or (for an entry stored before v2) one of the kind
    /// its source names.
    pub fn actor(&self) -> Actor {
        self.actor
            .clone()
            .unwrap_or_else(|| Actor::of_kind(self.source.into()))
    }

    /// Why this entry, read from a file (the history, a backup), cannot be taken: a service
    /// name that is not one, a revision past [`MAX_REVISION`], a document that is not one.
    pub fn problem(&self) -> Option<String> {
        if let Err(problem) = check_service_name(&self.service) {
            return Some(problem);
        }
        if self.revision == 0 || self.revision > MAX_REVISION {
            return Some(format!(
                "revision {} is out of range (1 to {MAX_REVISION})",
                self.revision
            ));
        }
        if self.document.as_deref().is_some_and(|d| !d.is_object()) {
            return Some("the document is not an object".to_owned());
        }
        None
    }
}
