//! Settings: flags override the environment, the environment overrides the settings file,
//! the settings file overrides the defaults (CONTRACT §4). The seed's variable names keep
//! their meaning.
//!
//! Decisions where the contract is silent:
//! - the settings file is `settings.json` in the config folder (mode 0600: it may hold the
//!   broker password and the API token); unknown keys in it are kept when it is saved;
//! - `MQTT_BROKER` may be a host (`MQTT_PORT` gives the port) or a URL (`mqtt://`,
//!   `mqtts://`, `tcp://`, `ssl://`); `embedded` forces the embedded broker;
//! - with no broker named, `MQTT_PORT` (default 1883) is the embedded broker's port;
//! - a login written in the broker's address (`mqtt://user:password@host`) wins over
//!   `MQTT_USERNAME` / `MQTT_PASSWORD` and the settings file's: it names that broker's login.
//!
//! [`broker`]: which broker; [`api`]: the REST server's settings and their rule; [`file`]: the
//! settings file; [`store`]: changing it, one writer at a time.

pub mod file;
mod resolution;
pub mod store;

pub use resolution::{Overrides, resolve};

pub use alicia_model::settings::broker::{DEFAULT_MQTT_PORT, DEFAULT_MQTTS_PORT};
pub use alicia_model::settings::{api, broker};
pub use api::{ApiSettings, ApiSettingsError};
pub use broker::{BrokerTarget, BrokerUrl};
pub use file::{SettingsError, SettingsFile, SettingsFileIo};
pub use store::SettingsStore;

use crate::broker::{
    BrokerLimits, DEFAULT_BROKER_LOG_BYTES, DEFAULT_BROKER_MAX_CONNECTIONS, MIN_BROKER_LOG_BYTES,
};
use crate::commands::DEFAULT_COMMAND_TIMEOUT;
use crate::config::DEFAULT_HISTORY_LIMIT;
use crate::devices::{DEFAULT_DEVICE_EXPIRE_DAYS, DEFAULT_DEVICE_STALE};
use crate::fleet::RoleSetting;
use crate::health::DEFAULT_HEALTH_TTL;
use crate::limits::{DEFAULT_MAX_DEVICES, DEFAULT_MAX_SERVICES};
use crate::messages::{DEFAULT_MESSAGE_LOG_BYTES, DEFAULT_MESSAGE_LOG_CAPACITY};
use crate::mqtt::topics::DEFAULT_PREFIX;
use crate::secret::Secret;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// The REST server's port when none is given (`PORT`).
pub const DEFAULT_API_PORT: u16 = 3000;
/// The seed's CORS origin (`FRONTEND_URL`).
pub const DEFAULT_FRONTEND_URL: &str = "http://localhost:3002";
/// The seed's rate limit: requests per window.
pub const DEFAULT_RATE_LIMIT_MAX: u32 = 100;
/// HTTP connections open at once, at most, unless `ALICIA_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// The seed's rate-limit window: 15 minutes.
pub const DEFAULT_RATE_LIMIT_WINDOW_MS: u64 = 900_000;
/// Home Assistant's MQTT discovery prefix unless `ALICIA_HA_PREFIX` says otherwise.
pub const DEFAULT_HA_PREFIX: &str = "homeassistant";
/// The settings file's name inside the config folder.
pub const SETTINGS_FILE_NAME: &str = "settings.json";

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `LOG_LEVEL`: a level name (winston's or tracing's) or tracing filter directives.
    pub level: String,
    /// `LOG_FILE`: JSON lines of everything logged, to this exact file.
    pub file: Option<PathBuf>,
    /// `ERROR_LOG_FILE`: JSON lines of errors, to this exact file.
    pub error_file: Option<PathBuf>,
    /// Where the rotated `combined.log.*` and `error.log.*` files go when no exact file is
    /// named (`None`: no log files).
    pub dir: Option<PathBuf>,
    /// How often they roll over.
    pub rotation: LogRotation,
}

/// How often the log files roll over (`ALICIA_LOG_ROTATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogRotation {
    /// A new file each day (the seed's winston-daily-rotate-file default).
    #[default]
    Daily,
    /// A new file each hour.
    Hourly,
    /// A new file each minute (for trying rotation out).
    Minutely,
}

/// The log folder the platform offers: the XDG state folder on Linux
/// (`~/.local/state/alicia-config-manager`), the local data folder's `logs` elsewhere.
pub fn platform_log_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "alicia-config-manager")?;
    Some(
        dirs.state_dir()
            .map_or_else(|| dirs.data_local_dir().join("logs"), Path::to_path_buf),
    )
}

/// Everything the core needs to start, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where `config.json`, the history and the settings file live.
    pub config_dir: PathBuf,
    /// The MQTT broker: the embedded one, or a named one.
    pub broker: BrokerTarget,
    /// Where the embedded broker listens (`ALICIA_BROKER_BIND`, default 127.0.0.1).
    pub embedded_broker_bind: IpAddr,
    /// The broker login's user name.
    pub mqtt_username: Option<String>,
    /// The broker login's password.
    pub mqtt_password: Option<Secret>,
    /// CA certificate (PEM) for `mqtts://`; the system's roots when absent.
    pub mqtt_ca_file: Option<PathBuf>,
    /// The MQTT topic prefix, without a trailing slash.
    pub topic_prefix: String,
    /// Seconds without news before a service is stale.
    pub health_ttl_secs: u64,
    /// Messages kept in the message log.
    pub message_log_capacity: usize,
    /// Memory the message log may hold, in bytes (roughly).
    pub message_log_bytes: usize,
    /// What the embedded broker may hold (when it runs).
    pub embedded_broker_limits: BrokerLimits,
    /// Revisions kept per service.
    pub history_limit: usize,
    /// The role asked for on a fleet of several managers (CONTRACT §5).
    pub role: RoleSetting,
    /// Devices the registry holds at most (`ALICIA_MAX_DEVICES`, CONTRACT §6).
    pub max_devices: usize,
    /// Services the bus may introduce at most (`ALICIA_MAX_SERVICES`, CONTRACT §6).
    pub max_services: usize,
    /// Seconds a command waits for its device's answer (`ALICIA_COMMAND_TIMEOUT_SECS`).
    pub command_timeout_secs: u64,
    /// Seconds a change made without `?watch=` is watched (`ALICIA_SAFE_APPLY_SECS`, CONTRACT
    /// §7; 0 = off, the default).
    pub safe_apply_secs: u64,
    /// Seconds a silent device takes to turn stale (`ALICIA_DEVICE_STALE_SECS`, CONTRACT §9).
    pub device_stale_secs: u64,
    /// Publish Home Assistant MQTT discovery (`ALICIA_HA_DISCOVERY`, CONTRACT §8; off by
    /// default). The desktop app's Settings turn it on and off while running too.
    pub ha_discovery: bool,
    /// Home Assistant's discovery prefix (`ALICIA_HA_PREFIX`, default `homeassistant`).
    pub ha_prefix: String,
    /// Days a silent device takes to be forgotten (`ALICIA_DEVICE_EXPIRE_DAYS`, CONTRACT §9).
    pub device_expire_days: f64,
    /// The REST server.
    pub api: ApiSettings,
    /// Where and how much to log.
    pub log: LogSettings,
    /// `NODE_ENV=development`: error details in 500 answers.
    pub development: bool,
}

impl Settings {
    /// `settings.json` in the config folder.
    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join(SETTINGS_FILE_NAME)
    }

    /// Defaults only, with the config folder given (for tests and tools).
    pub fn defaults_in(config_dir: &Path) -> Self {
        resolve(
            config_dir.to_path_buf(),
            &Overrides::default(),
            &SettingsFile::default(),
        )
        .expect("defaults resolve")
    }
}

/// The platform's config folder for the app (`~/.config/alicia-config-manager` on Linux).
pub fn platform_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "alicia-config-manager")
        .map(|d| d.config_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_the_embedded_broker_and_the_seed_values() {
        let settings = Settings::defaults_in(Path::new("/tmp/x"));
        assert_eq!(settings.broker, BrokerTarget::Embedded { port: 1883 });
        assert_eq!(settings.api.port, 3000);
        assert_eq!(settings.api.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(settings.api.frontend_url, "http://localhost:3002");
        assert_eq!(
            (
                settings.api.rate_limit_max,
                settings.api.rate_limit_window_ms
            ),
            (100, 900_000)
        );
        assert_eq!(settings.health_ttl_secs, 60);
        assert_eq!(settings.topic_prefix, "alicia");
        assert_eq!(settings.settings_file(), Path::new("/tmp/x/settings.json"));
    }

    #[test]
    fn overrides_beat_the_file_which_beats_defaults() {
        let file = SettingsFile {
            broker: Some("file-host".into()),
            api_port: Some(4000),
            health_ttl_secs: Some(30),
            log_level: Some("debug".into()),
            ..SettingsFile::default()
        };
        let overrides = Overrides {
            api_port: Some(5000),
            ..Overrides::default()
        };
        let settings = resolve(PathBuf::from("/c"), &overrides, &file).unwrap();
        assert_eq!(settings.api.port, 5000);
        assert_eq!(settings.health_ttl_secs, 30);
        assert_eq!(settings.log.level, "debug");
        assert_eq!(
            settings.broker,
            BrokerTarget::External(BrokerUrl {
                tls: false,
                host: "file-host".into(),
                port: 1883
            })
        );
    }

    #[test]
    fn memory_limits_come_from_the_file_within_their_floors() {
        let defaults = resolve(
            PathBuf::from("/c"),
            &Overrides::default(),
            &SettingsFile::default(),
        )
        .unwrap();
        assert_eq!(defaults.embedded_broker_limits, BrokerLimits::default());
        assert_eq!(defaults.message_log_bytes, DEFAULT_MESSAGE_LOG_BYTES);
        let file = SettingsFile {
            embedded_broker_log_bytes: Some(4 << 20),
            embedded_broker_max_connections: Some(64),
            message_log_bytes: Some(2 << 20),
            ..SettingsFile::default()
        };
        let settings = resolve(PathBuf::from("/c"), &Overrides::default(), &file).unwrap();
        assert_eq!(
            settings.embedded_broker_limits,
            BrokerLimits {
                log_bytes: 4 << 20,
                max_connections: 64
            }
        );
        assert_eq!(settings.message_log_bytes, 2 << 20);
        let tiny = SettingsFile {
            embedded_broker_log_bytes: Some(1),
            embedded_broker_max_connections: Some(0),
            message_log_bytes: Some(0),
            ..SettingsFile::default()
        };
        let settings = resolve(PathBuf::from("/c"), &Overrides::default(), &tiny).unwrap();
        assert_eq!(
            settings.embedded_broker_limits.log_bytes,
            MIN_BROKER_LOG_BYTES
        );
        assert_eq!(settings.embedded_broker_limits.max_connections, 1);
        assert_eq!(settings.message_log_bytes, 1024);
    }

    #[test]
    fn the_seed_host_and_port_variables_name_a_broker() {
        let overrides = Overrides {
            broker: Some("127.0.0.1".into()),
            mqtt_port: Some(18830),
            ..Overrides::default()
        };
        let settings = resolve(PathBuf::from("/c"), &overrides, &SettingsFile::default()).unwrap();
        assert_eq!(broker_text(&settings.broker), "mqtt://127.0.0.1:18830");
    }

    #[test]
    fn without_a_broker_mqtt_port_is_the_embedded_port() {
        let overrides = Overrides {
            mqtt_port: Some(18831),
            ..Overrides::default()
        };
        let settings = resolve(PathBuf::from("/c"), &overrides, &SettingsFile::default()).unwrap();
        assert_eq!(settings.broker, BrokerTarget::Embedded { port: 18831 });
        let forced = Overrides {
            broker: Some("embedded".into()),
            ..Overrides::default()
        };
        let file = SettingsFile {
            broker: Some("elsewhere".into()),
            ..SettingsFile::default()
        };
        let settings = resolve(PathBuf::from("/c"), &forced, &file).unwrap();
        assert_eq!(settings.broker, BrokerTarget::Embedded { port: 1883 });
    }

    #[test]
    fn a_wildcard_prefix_is_refused() {
        let overrides = Overrides {
            topic_prefix: Some("a/#".into()),
            ..Overrides::default()
        };
        assert!(resolve(PathBuf::from("/c"), &overrides, &SettingsFile::default()).is_err());
    }

    #[test]
    fn a_login_in_the_broker_address_is_the_login() {
        let overrides = Overrides {
            broker: Some("mqtt://alicia:pw@broker.lan".into()),
            mqtt_username: Some("other".into()),
            ..Overrides::default()
        };
        let settings = resolve(PathBuf::from("/c"), &overrides, &SettingsFile::default()).unwrap();
        assert_eq!(settings.mqtt_username.as_deref(), Some("alicia"));
        assert_eq!(settings.mqtt_password.as_ref().unwrap().expose(), "pw");
        assert_eq!(broker_text(&settings.broker), "mqtt://broker.lan:1883");
        assert!(!format!("{settings:?}").contains("pw\""));
    }

    fn broker_text(target: &BrokerTarget) -> String {
        match target {
            BrokerTarget::External(url) => url.to_string(),
            BrokerTarget::Embedded { port } => format!("embedded:{port}"),
        }
    }
}
