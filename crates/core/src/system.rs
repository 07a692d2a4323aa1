//! The manager's view of itself: `GET /api/system` and `GET /api/health`.

use super::fleet::Role;
use super::mqtt::MqttStats;
use serde::Serialize;

/// `GET /api/system`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SystemInfo {
    /// The app's version.
    pub version: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// This instance's id.
    pub instance_id: String,
    /// Its role on the fleet now.
    pub role: Role,
    /// The broker connection.
    pub mqtt: MqttInfo,
    /// The REST server.
    pub api: ApiInfo,
    /// What the registries' limits refused (CONTRACT §6).
    pub limits: LimitsInfo,
}

/// The `limits` part of [`SystemInfo`]: messages about new devices or services refused since
/// start because the registry held the most it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LimitsInfo {
    /// Messages about a new device refused (`ALICIA_MAX_DEVICES` devices known, or the
    /// states' memory budget spent).
    pub devices_refused: u64,
    /// Messages about a new service refused (`ALICIA_MAX_SERVICES` services introduced by
    /// the bus, or the announcements' memory budget spent).
    pub services_refused: u64,
    /// `ALICIA_MAX_DEVICES`.
    pub max_devices: usize,
    /// `ALICIA_MAX_SERVICES`.
    pub max_services: usize,
}

/// The `mqtt` part of [`SystemInfo`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MqttInfo {
    /// Broker URL (no credentials).
    pub url: String,
    /// True for the embedded broker.
    pub embedded: bool,
    /// True while connected to the broker.
    pub connected: bool,
    /// The filters the broker refused at the last subscription (CONTRACT §9).
    pub subscriptions_refused: Vec<String>,
    /// Traffic counters since start.
    #[serde(flatten)]
    pub stats: MqttStats,
}

/// The `api` part of [`SystemInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiInfo {
    /// `address:port` the server binds.
    pub bind: String,
    /// True when a bearer token is required (off loopback).
    pub auth_required: bool,
}

/// `GET /api/health`'s `services`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HealthFlags {
    /// Connected to the broker.
    pub mqtt: bool,
    /// The config service accepts changes.
    pub config: bool,
    /// The device registry is fed (it is whenever MQTT runs).
    pub device: bool,
}

impl HealthFlags {
    /// True when every part is up.
    pub fn all_up(&self) -> bool {
        self.mqtt && self.config && self.device
    }
}
