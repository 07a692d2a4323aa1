//! The settings in force: the command line and environment over the settings file over the
//! defaults (CONTRACT §4), each checked; a refusal names what to change.

use super::*;

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
