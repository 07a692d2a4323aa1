//! The channel a change came by: the history's `source` (CONTRACT §3).

use serde::{Deserialize, Serialize};

/// Who made a change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ChangeSource {
    /// The desktop app.
    Gui,
    /// The REST API.
    Rest,
    /// An MQTT `alicia/config/<service>/set` request.
    Mqtt,
    /// Home Assistant's switch (CONTRACT §8).
    Ha,
    /// Built from a service's discovery announcement.
    Discovery,
    /// Read from a file: an import, a restore, or an edit made to `config.json` by hand.
    Import,
    /// An older revision made current again.
    Rollback,
}

impl ChangeSource {
    /// The lowercase name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gui => "gui",
            Self::Rest => "rest",
            Self::Mqtt => "mqtt",
            Self::Ha => "ha",
            Self::Discovery => "discovery",
            Self::Import => "import",
            Self::Rollback => "rollback",
        }
    }
}
