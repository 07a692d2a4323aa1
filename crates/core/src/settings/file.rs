//! The settings file (`settings.json` in the config folder, mode 0600: it may hold the broker
//! password and the API token): every key optional, unknown keys kept when it is saved.

use crate::fleet::RoleSetting;
use crate::fsutil::write_atomic;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

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

/// Why the settings could not be read or resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file is broken (it is left untouched).
    #[error(
        "{path} is not a valid settings file: {message} (line {line}, column {column}); it was left untouched"
    )]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The settings file cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The settings file cannot be written (the old one is intact).
    #[error("cannot write {path}: {source}")]
    Unwritable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A value is not usable.
    #[error("{0}")]
    Invalid(String),
}

impl SettingsFile {
    /// Reads `path`; a missing file is the empty settings file.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => {
                return Err(SettingsError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|error| SettingsError::File {
            path: path.to_path_buf(),
            message: error.to_string(),
            line: error.line(),
            column: error.column(),
        })
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SETTINGS_FILE_NAME;

    #[test]
    fn a_broken_settings_file_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, "{\n \"api_port\": \"x\"\n}").unwrap();
        let error = SettingsFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn the_settings_file_round_trips_unknown_keys_privately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, r#"{"mqtt_password": "pw", "window_layout": "wide"}"#).unwrap();
        let file = SettingsFile::load(&path).unwrap();
        assert_eq!(file.mqtt_password.as_ref().unwrap().expose(), "pw");
        file.save(&path).unwrap();
        let again = SettingsFile::load(&path).unwrap();
        assert_eq!(again.other["window_layout"], "wide");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
