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
pub mod store;

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

/// Values from the command line and the environment (clap fills both); `None` = not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--broker` / `MQTT_BROKER`.
    pub broker: Option<String>,
    /// `MQTT_PORT`.
    pub mqtt_port: Option<u16>,
    /// `ALICIA_BROKER_BIND`.
    pub broker_bind: Option<IpAddr>,
    /// `MQTT_USERNAME`.
    pub mqtt_username: Option<String>,
    /// `MQTT_PASSWORD`.
    pub mqtt_password: Option<Secret>,
    /// `ALICIA_MQTT_CA_FILE`.
    pub mqtt_ca_file: Option<PathBuf>,
    /// `ALICIA_TOPIC_PREFIX`.
    pub topic_prefix: Option<String>,
    /// `--role` / `ALICIA_ROLE`.
    pub role: Option<RoleSetting>,
    /// `ALICIA_HEALTH_TTL_SECS`.
    pub health_ttl_secs: Option<u64>,
    /// `ALICIA_MAX_DEVICES`.
    pub max_devices: Option<usize>,
    /// `ALICIA_MAX_SERVICES`.
    pub max_services: Option<usize>,
    /// `ALICIA_COMMAND_TIMEOUT_SECS`.
    pub command_timeout_secs: Option<u64>,
    /// `ALICIA_SAFE_APPLY_SECS`.
    pub safe_apply_secs: Option<u64>,
    /// `ALICIA_DEVICE_STALE_SECS`.
    pub device_stale_secs: Option<u64>,
    /// `ALICIA_HA_DISCOVERY`.
    pub ha_discovery: Option<bool>,
    /// `ALICIA_HA_PREFIX`.
    pub ha_prefix: Option<String>,
    /// `ALICIA_DEVICE_EXPIRE_DAYS`.
    pub device_expire_days: Option<f64>,
    /// `--port` / `PORT`.
    pub api_port: Option<u16>,
    /// `ALICIA_API_BIND`.
    pub api_bind: Option<IpAddr>,
    /// `ALICIA_API_TOKEN`.
    pub api_token: Option<Secret>,
    /// `ALICIA_API_READ_TOKEN`.
    pub api_read_token: Option<Secret>,
    /// `FRONTEND_URL`.
    pub frontend_url: Option<String>,
    /// `RATE_LIMIT_MAX`.
    pub rate_limit_max: Option<u32>,
    /// `RATE_LIMIT_WINDOW_MS`.
    pub rate_limit_window_ms: Option<u64>,
    /// `ALICIA_MAX_CONNECTIONS`.
    pub max_connections: Option<usize>,
    /// `ALICIA_ALLOWED_HOSTS`.
    pub allowed_hosts: Option<Vec<String>>,
    /// `--log-level` / `LOG_LEVEL`.
    pub log_level: Option<String>,
    /// `LOG_FILE`.
    pub log_file: Option<PathBuf>,
    /// `ERROR_LOG_FILE`.
    pub error_log_file: Option<PathBuf>,
    /// `ALICIA_LOG_DIR` (or systemd's `LOGS_DIRECTORY`).
    pub log_dir: Option<PathBuf>,
    /// `ALICIA_LOG_ROTATION`.
    pub log_rotation: Option<LogRotation>,
    /// `NODE_ENV`.
    pub node_env: Option<String>,
}

/// The platform's config folder for the app (`~/.config/alicia-config-manager` on Linux).
pub fn platform_config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "alicia-config-manager")
        .map(|d| d.config_dir().to_path_buf())
}

/// Combines the layers: overrides, then the file, then the defaults.
pub fn resolve(
    config_dir: PathBuf,
    overrides: &Overrides,
    file: &SettingsFile,
) -> Result<Settings, SettingsError> {
    let named_broker = overrides
        .broker
        .clone()
        .or_else(|| file.broker.clone())
        .filter(|b| !b.trim().is_empty() && !b.trim().eq_ignore_ascii_case("embedded"));
    let embedded_forced = overrides
        .broker
        .as_deref()
        .is_some_and(|b| b.trim().eq_ignore_ascii_case("embedded"));
    let mut url_login = None;
    let broker = match named_broker {
        Some(text) if !embedded_forced => {
            let (url, login) = BrokerUrl::parse_with_login(&text, overrides.mqtt_port)
                .map_err(SettingsError::Invalid)?;
            url_login = login;
            BrokerTarget::External(url)
        }
        _ => BrokerTarget::Embedded {
            port: overrides
                .mqtt_port
                .or(file.embedded_broker_port)
                .unwrap_or(DEFAULT_MQTT_PORT),
        },
    };
    let topic_prefix = overrides
        .topic_prefix
        .clone()
        .or_else(|| file.topic_prefix.clone())
        .unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
    if topic_prefix.is_empty() || crate::mqtt::topics::has_wildcard(&topic_prefix) {
        return Err(SettingsError::Invalid(format!(
            "topic prefix {topic_prefix:?} must be non-empty and free of + and #"
        )));
    }
    let ha_prefix = overrides
        .ha_prefix
        .clone()
        .or_else(|| file.ha_prefix.clone())
        .unwrap_or_else(|| DEFAULT_HA_PREFIX.to_owned());
    let ha_prefix = ha_prefix.trim_matches('/').to_owned();
    if ha_prefix.is_empty() || crate::mqtt::topics::has_wildcard(&ha_prefix) {
        return Err(SettingsError::Invalid(format!(
            "Home Assistant prefix {ha_prefix:?} must be non-empty and free of + and #"
        )));
    }
    let embedded_broker_bind = overrides
        .broker_bind
        .or(file.embedded_broker_bind)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let token = overrides
        .api_token
        .clone()
        .or_else(|| file.api_token.clone())
        .filter(|t| !t.is_empty());
    let settings = Settings {
        config_dir,
        broker,
        embedded_broker_bind,
        // A login written in the broker's address is that broker's: it wins.
        mqtt_username: url_login
            .as_ref()
            .map(|login| login.username.clone())
            .or_else(|| overrides.mqtt_username.clone())
            .or_else(|| file.mqtt_username.clone())
            .filter(|u| !u.is_empty()),
        mqtt_password: url_login
            .and_then(|login| login.password)
            .or_else(|| overrides.mqtt_password.clone())
            .or_else(|| file.mqtt_password.clone())
            .filter(|p| !p.is_empty()),
        mqtt_ca_file: overrides
            .mqtt_ca_file
            .clone()
            .or_else(|| file.mqtt_ca_file.clone()),
        topic_prefix: topic_prefix.trim_end_matches('/').to_owned(),
        health_ttl_secs: overrides
            .health_ttl_secs
            .or(file.health_ttl_secs)
            .unwrap_or(DEFAULT_HEALTH_TTL.as_secs())
            .max(1),
        message_log_capacity: file
            .message_log_capacity
            .unwrap_or(DEFAULT_MESSAGE_LOG_CAPACITY)
            .max(1),
        embedded_broker_limits: BrokerLimits {
            log_bytes: file
                .embedded_broker_log_bytes
                .unwrap_or(DEFAULT_BROKER_LOG_BYTES)
                .max(MIN_BROKER_LOG_BYTES),
            max_connections: file
                .embedded_broker_max_connections
                .unwrap_or(DEFAULT_BROKER_MAX_CONNECTIONS)
                .max(1),
        },
        message_log_bytes: file
            .message_log_bytes
            .unwrap_or(DEFAULT_MESSAGE_LOG_BYTES)
            .max(1024),
        history_limit: file.history_limit.unwrap_or(DEFAULT_HISTORY_LIMIT).max(1),
        role: overrides.role.or(file.role).unwrap_or_default(),
        max_devices: overrides
            .max_devices
            .or(file.max_devices)
            .unwrap_or(DEFAULT_MAX_DEVICES),
        max_services: overrides
            .max_services
            .or(file.max_services)
            .unwrap_or(DEFAULT_MAX_SERVICES),
        command_timeout_secs: overrides
            .command_timeout_secs
            .or(file.command_timeout_secs)
            .unwrap_or(DEFAULT_COMMAND_TIMEOUT.as_secs())
            .max(1),
        safe_apply_secs: crate::safe_apply::check_watch(
            overrides
                .safe_apply_secs
                .or(file.safe_apply_secs)
                .unwrap_or(0),
        )
        .map_err(|e| SettingsError::Invalid(format!("safe_apply_secs: {e}")))?,
        ha_discovery: overrides
            .ha_discovery
            .or(file.ha_discovery)
            .unwrap_or(false),
        ha_prefix,
        device_stale_secs: overrides
            .device_stale_secs
            .or(file.device_stale_secs)
            .unwrap_or(DEFAULT_DEVICE_STALE.as_secs())
            .max(1),
        device_expire_days: overrides
            .device_expire_days
            .or(file.device_expire_days)
            .filter(|days| days.is_finite() && *days > 0.0)
            .unwrap_or(DEFAULT_DEVICE_EXPIRE_DAYS),
        api: ApiSettings {
            bind: overrides
                .api_bind
                .or(file.api_bind)
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: overrides
                .api_port
                .or(file.api_port)
                .unwrap_or(DEFAULT_API_PORT),
            token,
            read_token: overrides
                .api_read_token
                .clone()
                .or_else(|| file.api_read_token.clone())
                .filter(|t| !t.is_empty()),
            frontend_url: overrides
                .frontend_url
                .clone()
                .or_else(|| file.frontend_url.clone())
                .unwrap_or_else(|| DEFAULT_FRONTEND_URL.to_owned()),
            rate_limit_max: overrides
                .rate_limit_max
                .or(file.rate_limit_max)
                .unwrap_or(DEFAULT_RATE_LIMIT_MAX),
            rate_limit_window_ms: overrides
                .rate_limit_window_ms
                .or(file.rate_limit_window_ms)
                .unwrap_or(DEFAULT_RATE_LIMIT_WINDOW_MS)
                .max(1),
            max_connections: overrides
                .max_connections
                .or(file.max_connections)
                .unwrap_or(DEFAULT_MAX_CONNECTIONS)
                .max(1),
            allowed_hosts: overrides
                .allowed_hosts
                .clone()
                .or_else(|| file.allowed_hosts.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|host| host.trim().to_owned())
                .filter(|host| !host.is_empty())
                .collect(),
        },
        log: LogSettings {
            level: overrides
                .log_level
                .clone()
                .or_else(|| file.log_level.clone())
                .unwrap_or_else(|| "info".to_owned()),
            file: overrides.log_file.clone(),
            error_file: overrides.error_log_file.clone(),
            dir: overrides.log_dir.clone().or_else(platform_log_dir),
            rotation: overrides.log_rotation.unwrap_or_default(),
        },
        development: overrides
            .node_env
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("development")),
    };
    check_embedded_broker_login(&settings)?;
    settings
        .api
        .check_tokens()
        .map_err(|error| SettingsError::Invalid(error.to_string()))?;
    Ok(settings)
}

/// The embedded broker has no topic rights (rumqttd): beyond loopback, anyone on the network
/// could write every topic. It is opened there only with a login, which every client then
/// needs.
fn check_embedded_broker_login(settings: &Settings) -> Result<(), SettingsError> {
    let embedded = matches!(settings.broker, BrokerTarget::Embedded { .. });
    let bind = settings.embedded_broker_bind;
    if embedded
        && !bind.is_loopback()
        && (settings.mqtt_username.is_none() || settings.mqtt_password.is_none())
    {
        return Err(SettingsError::Invalid(format!(
            "the embedded MQTT broker would listen on {bind} without a login: set MQTT_USERNAME              and MQTT_PASSWORD (every service then logs in with them), or leave              ALICIA_BROKER_BIND at 127.0.0.1; per-topic rights need Mosquitto (see the README,              \"Securing the fleet\")"
        )));
    }
    Ok(())
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
