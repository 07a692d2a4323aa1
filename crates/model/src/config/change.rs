//! What the config service takes and gives (CONTRACT §1, §3, §7): documents as stored, a
//! snapshot of them, changes and their preconditions, what an accepted change is, and why one
//! is refused. Every face speaks these.

use super::actor::Actor;
use super::history_entry::HistoryEntry;
use super::schema::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A stored document and the revision that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// The document, secrets included.
    pub document: Arc<Value>,
    /// The revision of its last accepted change.
    pub revision: u64,
}

/// Every stored document at one moment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    /// Each service's document, by service name.
    pub documents: BTreeMap<String, StoredDocument>,
}

/// What must hold for a change to be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Nothing: last writer wins.
    #[default]
    None,
    /// The service is still at this revision (the editor's base; REST `If-Match`).
    Revision(u64),
    /// The service has no document yet.
    Absent,
}

impl Precondition {
    /// "Still as it was": at `revision`, or still absent when it had none.
    pub fn unchanged_since(revision: Option<u64>) -> Self {
        revision.map_or(Self::Absent, Self::Revision)
    }
}

/// A change request.
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or replace a document.
    Put {
        /// The service (the document's `service_name` must match).
        service: String,
        /// The new document.
        document: Value,
        /// What must hold.
        precondition: Precondition,
    },
    /// Delete a document.
    Delete {
        /// The service it is about, by name.
        service: String,
        /// What must hold.
        precondition: Precondition,
    },
    /// Make an old revision current again, as a new change.
    Rollback {
        /// The service it is about, by name.
        service: String,
        /// The revision to bring back.
        revision: u64,
    },
    /// A follower copies what the authority published, exactly as published (`None`: the
    /// authority deleted the service). Never forwarded, never validated again.
    Mirror {
        /// The service it is about, by name.
        service: String,
        /// The authority's document.
        document: Option<Value>,
    },
}

impl Change {
    /// The service the change is for.
    pub fn service(&self) -> &str {
        match self {
            Self::Put { service, .. }
            | Self::Delete { service, .. }
            | Self::Rollback { service, .. }
            | Self::Mirror { service, .. } => service,
        }
    }
}

/// An accepted, stored change.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The service it is about, by name.
    pub service: String,
    /// The new revision.
    pub revision: u64,
    /// The new document, `None` after a delete.
    pub document: Option<Arc<Value>>,
    /// True when the service had no document before.
    pub created: bool,
}

/// A whole store to bring back (from a backup): every document and the history behind them.
#[derive(Debug, Clone, Default)]
pub struct Restore {
    /// The documents, by service; a masked secret keeps the one stored now.
    pub documents: BTreeMap<String, Value>,
    /// The history to keep, in any order.
    pub history: Vec<HistoryEntry>,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The document breaks the schema; every failing field is listed.
    #[error("the configuration is invalid: {}", summarize(.details))]
    Invalid {
        /// Each failing field by JSON Pointer.
        details: Vec<FieldError>,
    },
    /// The change was based on a revision that is no longer current.
    #[error("{service} was changed meanwhile (it is now at {})", describe_revision(*.current))]
    Conflict {
        /// The service it is about, by name.
        service: String,
        /// Its current revision (`None`: it has no document).
        current: Option<u64>,
        /// The current document's `last_updated` (`None`: it has no document).
        current_last_updated: Option<String>,
    },
    /// No document for that service.
    #[error("no configuration for {service}")]
    NotFound {
        /// The service it is about, by name.
        service: String,
    },
    /// The history holds no such revision for that service.
    #[error("{service} has no revision {revision} in its history")]
    RevisionNotFound {
        /// The service it is about, by name.
        service: String,
        /// The revision asked for.
        revision: u64,
    },
    /// That revision deleted the service: there is no document to bring back.
    #[error("revision {revision} deleted {service}; there is no document to roll back to")]
    RevisionIsDeletion {
        /// The service it is about, by name.
        service: String,
        /// The revision asked for.
        revision: u64,
    },
    /// Too many changes are waiting to be stored.
    #[error("too many changes are waiting to be stored; try again")]
    Busy,
    /// The disk (or the quota) is full: the change was not stored, nothing changed.
    #[error("the disk is full: the change was not stored ({0})")]
    DiskFull(String),
    /// The change could not be written to disk; nothing was changed.
    #[error("the change could not be stored: {0}")]
    Storage(String),
    /// The service is shutting down.
    #[error("the config service is not accepting changes (shutting down)")]
    Unavailable,
    /// A follower with no live authority to send the change to.
    #[error("{0}")]
    NoAuthority(String),
    /// The authority refused a follower's change (its `/error` answer).
    #[error("the authority refused the change: {error}")]
    RefusedByAuthority {
        /// The authority's sentence.
        error: String,
        /// The failing fields, as the authority named them.
        details: Vec<FieldError>,
    },
    /// The authority did not answer a follower's change in time: whether it was stored is not
    /// known (CONTRACT §10: 504 "outcome unknown").
    #[error(
        "outcome unknown: the authority did not answer request {request_id} within {secs} s; the change may still land"
    )]
    NoAnswer {
        /// How long the follower waited.
        secs: u64,
        /// The request it sent.
        request_id: String,
    },
    /// Something only the authority can do.
    #[error("{0}")]
    OnlyOnAuthority(String),
    /// A change set cannot be undone: the documents before it of these members (which it
    /// changed, not created) are no longer in the history.
    #[error(
        "the documents before the change set are no longer in the history for: {}; they cannot be restored",
        services.join(", ")
    )]
    BeforeSetForgotten {
        /// The members concerned.
        services: Vec<String>,
    },
    /// No settings schema of that service awaits acceptance.
    #[error("no settings schema of {service} awaits acceptance")]
    NoPendingSchema {
        /// The service it is about, by name.
        service: String,
    },
    /// A change set would bring new problems across services (CONTRACT §7): each finding by
    /// the member it concerns (`/documents/<index>` + the field).
    #[error("the change set would bring new problems: {}", summarize(.details))]
    NewFindings {
        /// Each new finding.
        details: Vec<FieldError>,
    },
    /// No change set has that id in the retained history.
    #[error("no change set {change_id} in the history")]
    ChangeSetNotFound {
        /// The id asked for.
        change_id: String,
    },
    /// A change set's members changed since the set: rolling it back would undo those
    /// changes too (CONTRACT §7; `force` does it anyway).
    #[error("{} changed since change set {change_id}; roll back with force to undo those changes too", .services.join(", "))]
    MembersChanged {
        /// The set.
        change_id: String,
        /// The members changed since, by name.
        services: Vec<String>,
    },
    /// A mirrored document equal to the stored one (nothing to record).
    #[error("unchanged")]
    Unchanged,
}

/// A follower's change as the authority gets it (the `/set` envelope, CONTRACT §9).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteChange {
    /// The full document.
    pub document: Value,
    /// The `last_updated` of the document the edit started from; `None` when the follower
    /// holds none (the service is new).
    pub base: Option<String>,
    /// Who made it here.
    pub actor: Actor,
    /// How long the authority is to watch it (CONTRACT §7).
    pub watch: Option<u64>,
}

fn summarize(details: &[FieldError]) -> String {
    let shown: Vec<String> = details
        .iter()
        .take(3)
        .map(|e| format!("{} {}", display_path(&e.path), e.message))
        .collect();
    let more = details.len().saturating_sub(3);
    if more > 0 {
        format!("{} (and {more} more)", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(document)" } else { path }
}

fn describe_revision(revision: Option<u64>) -> String {
    revision.map_or_else(|| "no document".to_owned(), |r| format!("revision {r}"))
}
