//! Whether a service runs its current config revision, as its acks say (CONTRACT §2, §3).

use serde::Serialize;

/// Whether a service runs the current revision of its config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigState {
    /// It acknowledged the current revision as applied.
    Applied,
    /// It acknowledged an earlier revision, not yet the current one.
    Pending,
    /// It refused the current revision (see `config_error`).
    Refused,
    /// It never acknowledged anything (or has no config).
    Unknown,
}

impl ConfigState {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
        }
    }
}
