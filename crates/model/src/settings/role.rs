//! A manager's role on a fleet (CONTRACT §5), and the role asked for.

use serde::{Deserialize, Serialize};

/// A manager's role on a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Owns `config.json` and publishes `alicia/config/<service>`.
    #[default]
    Authority,
    /// Mirrors an authority and sends its edits as `/set` requests.
    Follower,
}

impl Role {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authority => "authority",
            Self::Follower => "follower",
        }
    }
}

/// The role asked for (`--role`, `ALICIA_ROLE`, the settings file's `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum RoleSetting {
    /// Follower when a live authority is already announced at start, else authority.
    #[default]
    Auto,
    /// Authority: takes over from any authority already running.
    Authority,
    /// Follower: never publishes configs, never promotes itself.
    Follower,
}
