//! What the config service takes and gives. The words every face shares — documents, changes,
//! preconditions, commits, refusals — are the model's ([`alicia_model::config::change`],
//! re-exported here); what only the core needs is here: a change set's commit and check, and
//! the way a follower's changes travel to the authority.

pub use alicia_model::config::change::{
    Change, Committed, ConfigError, Precondition, RemoteChange, Restore, Snapshot, StoredDocument,
};
use tokio::sync::oneshot;

/// What a change set's check sees: the documents before the set and as it would leave them;
/// an error refuses the whole set (CONTRACT §7).
pub type SetCheck = Box<dyn FnOnce(&Snapshot, &Snapshot) -> Result<(), ConfigError> + Send>;

/// A change set for the writer (CONTRACT §7): every member is stored, in one commit, or none.
pub struct ChangeSetCommit {
    /// The members, in order, each with its precondition.
    pub changes: Vec<Change>,
    /// How they came and who made them; its `change_id` goes into every member's entry.
    pub origin: super::actor::Origin,
    /// Run on the fleet as the set would leave it, before anything is stored.
    pub check: Option<SetCheck>,
}

/// Where a follower's changes go: to the authority (over MQTT `/set`).
pub trait Remote: Send + Sync {
    /// True while changes must be forwarded (this manager follows another).
    fn active(&self) -> bool;
    /// Sends a change for `service`; the receiver yields the authority's answer once it is
    /// mirrored here (or its refusal).
    fn send(&self, service: &str, change: RemoteChange) -> Result<RemoteSent, ConfigError>;
}

/// A change sent to the authority: its request id, and where its answer arrives.
#[derive(Debug)]
pub struct RemoteSent {
    /// The envelope's `request_id` (CONTRACT §10).
    pub request_id: String,
    /// The authority's answer, once mirrored here (or its refusal).
    pub answer: oneshot::Receiver<Result<Committed, ConfigError>>,
}

/// The refusal for a failed write: [`ConfigError::DiskFull`] when the disk or quota is full,
/// else [`ConfigError::Storage`].
pub fn refusal_of_io(error: &std::io::Error) -> ConfigError {
    if crate::fsutil::is_disk_full(error) {
        ConfigError::DiskFull(error.to_string())
    } else {
        ConfigError::Storage(error.to_string())
    }
}

/// How long a follower waits for the authority's answer.
pub const REMOTE_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
