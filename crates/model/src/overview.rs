//! The services overview: one row per service seen or configured, joining what the health
//! registry knows (health, staleness, config acks) with what the store holds (type, enabled,
//! version, the last change and who made it). The desktop app's services table and `GET
//! /api/system/services` both show it.

use crate::config::actor::Actor;
use crate::config::service_type::ServiceType;
use crate::config::source::ChangeSource;
use crate::payloads::HealthStatus;
use crate::status::ConfigState;
use serde::Serialize;

/// One service as the overview shows it. The first six fields are those of CONTRACT §3's
/// `GET /api/system/services`; the rest are additions.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceOverview {
    /// The service's name.
    pub service_name: String,
    /// Its health as shown: `unknown` when stale or never heard from.
    pub status: HealthStatus,
    /// When it last reported its health (RFC 3339).
    pub last_seen: Option<String>,
    /// True when it has not reported within the health TTL (or never has).
    pub stale: bool,
    /// Whether it runs its current config revision.
    pub config_state: ConfigState,
    /// Why it refused its current revision, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    /// While its current revision is `pending`: since when (the revision's `last_updated`,
    /// when it was stored and published; CONTRACT §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_since: Option<String>,
    /// The configured `service_type`; `null` without a config.
    pub service_type: Option<ServiceType>,
    /// True for another config manager's presence (it has a health topic, not a config).
    pub manager: bool,
    /// The configured `enabled`; `null` without a config.
    pub enabled: Option<bool>,
    /// The configured `version`, else the one it announced.
    pub version: Option<String>,
    /// The `last_updated` of its config.
    pub last_updated: Option<String>,
    /// The channel of the last change to its config (`gui`, `rest`, `mqtt`…).
    pub last_changed_by: Option<ChangeSource>,
    /// Who made the last change to its config (CONTRACT §9).
    pub last_changed_actor: Option<Actor>,
    /// True when the manager holds a config for it.
    pub configured: bool,
    /// While a change to it is on watch: when the watch ends (RFC 3339, CONTRACT §7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch_until: Option<String>,
    /// True when it is in trouble by CONTRACT §10's one rule ([`crate::trouble`]).
    pub in_trouble: bool,
    /// Why it says it is unwell: its last report's `details.reason`, else `details.error`,
    /// else `details.message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ServiceOverview {
    /// True when the service refused its current config.
    pub fn refused(&self) -> bool {
        self.config_state == ConfigState::Refused
    }

    /// The health to show: `stale` for a service heard from once but not within the TTL,
    /// else its reported status.
    pub fn shown_health(&self) -> ShownHealth {
        if self.stale && self.last_seen.is_some() {
            ShownHealth::Stale
        } else {
            ShownHealth::Reported(self.status)
        }
    }
}

/// A service's health as a table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownHealth {
    /// What it reported (`unknown` when never heard from).
    Reported(HealthStatus),
    /// Heard from once, silent for longer than the TTL.
    Stale,
}

impl ShownHealth {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported(status) => status.as_str(),
            Self::Stale => "stale",
        }
    }
}
