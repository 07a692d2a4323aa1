//! Safe apply's words (CONTRACT §7): how long a change may be watched, and why a watched
//! change was undone.

use serde::{Deserialize, Serialize};

/// The longest watch.
pub const MAX_WATCH_SECS: u64 = 600;
/// Why a watched change was undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollbackReason {
    /// The service acked it with `"applied": false`.
    Refused,
    /// Its health turned `unhealthy` after the change.
    Unhealthy,
    /// A service that confirms its configs never acked it.
    Silent,
}

impl RollbackReason {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Unhealthy => "unhealthy",
            Self::Silent => "silent",
        }
    }
}

/// Checks a `watch` value (seconds): 0 (no watch) to [`MAX_WATCH_SECS`].
pub fn check_watch(secs: u64) -> Result<u64, String> {
    if secs > MAX_WATCH_SECS {
        return Err(format!(
            "watch must be 0 (no watch) to {MAX_WATCH_SECS} seconds"
        ));
    }
    Ok(secs)
}
