//! Who this manager is on the fleet: its instance id and role (CONTRACT §5).

use serde::{Deserialize, Serialize};

/// A manager's role on a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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

/// This manager's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    /// Random per start-up; also part of the MQTT client id.
    pub instance_id: String,
    /// Its role.
    pub role: Role,
}

impl InstanceInfo {
    /// A fresh identity with a random instance id.
    pub fn new(role: Role) -> Self {
        Self {
            instance_id: format!("{:016x}", fastrand::u64(..)),
            role,
        }
    }
}
