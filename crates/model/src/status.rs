//! A service's runtime state as the services overview reads it (CONTRACT §3
//! `GET /api/system/services`): its health, staleness and whether it runs its current config
//! revision, as its acks say.

use crate::payloads::HealthStatus;
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

/// One row of `GET /api/system/services`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceSummary {
    /// The service's `service_name`.
    pub service_name: String,
    /// Its status as shown: `unknown` when stale.
    pub status: HealthStatus,
    /// When it was last heard from.
    pub last_seen: Option<String>,
    /// Not heard from within the TTL (or never).
    pub stale: bool,
    /// Whether it runs the current revision.
    pub config_state: ConfigState,
    /// Why it refused the current revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    /// While its current revision is `pending`: when that revision was stored and published
    /// (its `last_updated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_since: Option<String>,
    /// A manager's presence: how far its clock was from this manager's at its last live
    /// report (seconds).
    #[serde(skip)]
    #[schema(ignore)]
    pub clock_skew_secs: Option<i64>,
}
