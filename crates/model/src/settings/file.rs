//! The settings file's contents (`settings.json` in the config folder): every key optional,
//! unknown keys kept. Reading and writing it is the core's.

use super::role::RoleSetting;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::path::PathBuf;

/// The settings file (`settings.json`): every key optional; unknown keys are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsFile {
    /// Broker host or URL; absent = embedded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// The embedded broker's port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_broker_port: Option<u16>,
    /// Where the embedded broker listens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_broker_bind: Option<IpAddr>,
    /// The broker login's user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_username: Option<String>,
    /// The broker login's password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_password: Option<Secret>,
    /// CA certificate for `mqtts://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_ca_file: Option<PathBuf>,
    /// The MQTT topic prefix (default `alicia`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_prefix: Option<String>,
    /// Health TTL in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_ttl_secs: Option<u64>,
    /// Devices the registry holds at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_devices: Option<usize>,
    /// Services the bus may introduce at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_services: Option<usize>,
    /// Seconds a command waits for its device's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_timeout_secs: Option<u64>,
    /// Seconds a change made without `?watch=` is watched (0 = off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_apply_secs: Option<u64>,
    /// Seconds a silent device takes to turn stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_stale_secs: Option<u64>,
    /// Publish Home Assistant MQTT discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_discovery: Option<bool>,
    /// Home Assistant's discovery prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_prefix: Option<String>,
    /// Days a silent device takes to be forgotten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_expire_days: Option<f64>,
    /// Messages kept in the message log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_log_capacity: Option<usize>,
    /// Memory each subscription filter's log may take in the embedded broker, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_broker_log_bytes: Option<usize>,
    /// Clients the embedded broker takes at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_broker_max_connections: Option<usize>,
    /// Memory the message log may hold, in bytes (roughly: each record's kept text and its
    /// own size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_log_bytes: Option<usize>,
    /// Revisions kept per service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_limit: Option<usize>,
    /// The REST server's port (`PORT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_port: Option<u16>,
    /// REST bind address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_bind: Option<IpAddr>,
    /// REST bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<Secret>,
    /// REST read-only bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_read_token: Option<Secret>,
    /// The origin CORS allows (`FRONTEND_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontend_url: Option<String>,
    /// Rate limit per window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_max: Option<u32>,
    /// Rate-limit window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_window_ms: Option<u64>,
    /// HTTP connections open at once, at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Host names a reverse proxy may send to the REST server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    /// A log level name or tracing filter directives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// Role on a fleet: `auto`, `authority` or `follower`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleSetting>,
    /// The desktop app starts the REST server (the admin turned it on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_enabled: Option<bool>,
    /// The desktop app's theme: `dark`, `light` or `system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Seconds the desktop app watches each save (CONTRACT §7; 60 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gui_watch_secs: Option<u64>,
    /// Topics the monitor's topic tree keeps at most (50,000 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_tree_limit: Option<usize>,
    /// The desktop app's zoom factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_scale: Option<f32>,
    /// The kiosk's unlock PIN, hashed (Argon2, PHC string); never the PIN itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kiosk_pin_hash: Option<String>,
    /// The rule the PIN was checked against (`4-8 digits`); a hash without it was set under
    /// the old rule and must be set again (`core::kiosk_pin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kiosk_pin_rule: Option<String>,
    /// Keys this version does not know (kept on save).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
