//! The command line. Every flag can also come from the environment variable named beside it
//! (the seed's names, and CONTRACT §4's); flags win over the environment, which wins over the
//! settings file. Secrets (`MQTT_PASSWORD`, `ALICIA_API_TOKEN`) come from the environment or
//! the settings file only, never from flags (other users can read a command line).

use crate::core::fleet::RoleSetting;
use crate::core::secret::Secret;
use crate::core::settings::{LogRotation, Overrides, platform_config_dir};
use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// Portable mode's folder, beside the executable.
pub const PORTABLE_DIR: &str = "alicia-data";
/// A file of this name beside the executable turns portable mode on.
pub const PORTABLE_MARKER: &str = "portable";

/// Alicia Config Manager: configs, devices and health of an Alicia voice assistant over MQTT.
#[derive(Debug, Clone, Parser)]
#[command(name = "alicia-config-manager", version, about, long_about = None)]
pub struct Cli {
    /// Something else than running the manager.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Demo: the embedded broker plus a simulated fleet (8 services, 200 devices), with its
    /// configs kept apart in the `demo` folder of the config folder.
    #[arg(long)]
    pub demo: bool,

    /// Run without a window (home server): the core, the embedded broker when no broker is
    /// named, and the REST + socket.io server.
    #[arg(long)]
    pub headless: bool,

    /// Keep every file (configs, history, settings, logs) in `alicia-data` beside the
    /// executable and nothing in the home folder (a kiosk on a stick). Also on when a file
    /// named `portable` lies beside the executable.
    #[arg(long, global = true)]
    pub portable: bool,

    /// Full-screen kiosk for the home server's own display.
    #[arg(long, conflicts_with = "headless")]
    pub kiosk: bool,

    /// MQTT broker: a host (with MQTT_PORT) or a URL, mqtt://host:port or mqtts://host:port.
    /// Without one, an embedded broker starts on 127.0.0.1.
    #[arg(long, env = "MQTT_BROKER", value_name = "URL")]
    pub broker: Option<String>,

    /// Broker port (or the embedded broker's port when no broker is named) [default: 1883].
    #[arg(long, env = "MQTT_PORT", value_name = "PORT")]
    pub mqtt_port: Option<u16>,

    /// Address the embedded broker listens on; beyond loopback it requires MQTT_USERNAME and
    /// MQTT_PASSWORD, which every client then logs in with [default: 127.0.0.1].
    #[arg(long, env = "ALICIA_BROKER_BIND", value_name = "ADDR")]
    pub broker_bind: Option<IpAddr>,

    /// MQTT user name (the password comes from MQTT_PASSWORD or the settings file).
    #[arg(long, env = "MQTT_USERNAME", value_name = "NAME")]
    pub mqtt_username: Option<String>,

    /// CA certificate (PEM) to trust for mqtts:// [default: the system's roots].
    #[arg(long, env = "ALICIA_MQTT_CA_FILE", value_name = "FILE")]
    pub mqtt_ca_file: Option<PathBuf>,

    /// Folder of config.json, history.jsonl and settings.json
    /// [default: the platform's config folder, ~/.config/alicia-config-manager on Linux].
    #[arg(long, env = "CONFIG_PATH", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// REST server port [default: 3000].
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,

    /// REST server bind address; off loopback a bearer token is required [default: 127.0.0.1].
    #[arg(long, env = "ALICIA_API_BIND", value_name = "ADDR")]
    pub api_bind: Option<IpAddr>,

    /// Origin allowed by CORS [default: http://localhost:3002].
    #[arg(long, env = "FRONTEND_URL", value_name = "URL")]
    pub frontend_url: Option<String>,

    /// REST requests per window per client, 0 = no limit [default: 100].
    #[arg(long, env = "RATE_LIMIT_MAX", value_name = "N")]
    pub rate_limit_max: Option<u32>,

    /// Rate-limit window in milliseconds [default: 900000].
    #[arg(long, env = "RATE_LIMIT_WINDOW_MS", value_name = "MS")]
    pub rate_limit_window_ms: Option<u64>,

    /// HTTP connections (socket.io ones included) open at once; past it new ones wait
    /// [default: 512].
    #[arg(long, env = "ALICIA_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// Host names the REST server answers besides localhost and its bind address, for a
    /// reverse proxy (comma-separated; checked while no token is required).
    #[arg(
        long,
        env = "ALICIA_ALLOWED_HOSTS",
        value_name = "HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Option<Vec<String>>,

    /// Seconds without a health report before a service shows as stale [default: 60].
    #[arg(long, env = "ALICIA_HEALTH_TTL_SECS", value_name = "SECS")]
    pub health_ttl_secs: Option<u64>,

    /// MQTT topic prefix [default: alicia].
    #[arg(long, env = "ALICIA_TOPIC_PREFIX", value_name = "PREFIX")]
    pub topic_prefix: Option<String>,

    /// Devices the registry holds at most; messages about new ones beyond are refused
    /// [default: 10000].
    #[arg(long, env = "ALICIA_MAX_DEVICES", value_name = "N")]
    pub max_devices: Option<usize>,

    /// Services the bus may introduce at most (discovery creates configs for them); services
    /// an admin creates are not counted [default: 1000].
    #[arg(long, env = "ALICIA_MAX_SERVICES", value_name = "N")]
    pub max_services: Option<usize>,

    /// Seconds a device command waits for its result before it is `timeout` [default: 10].
    #[arg(long, env = "ALICIA_COMMAND_TIMEOUT_SECS", value_name = "SECS")]
    pub command_timeout_secs: Option<u64>,

    /// Seconds a config change made without `?watch=` is watched: rolled back by itself if the
    /// service refuses it, turns unhealthy, or (one that confirms its configs) stays silent
    /// [default: 0 = off].
    #[arg(long, env = "ALICIA_SAFE_APPLY_SECS", value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(0..=600))]
    pub safe_apply_secs: Option<u64>,

    /// Publish Home Assistant MQTT discovery: each service becomes a device in Home Assistant
    /// (a problem sensor, its config state, an enabled switch) [default: off].
    #[arg(long, env = "ALICIA_HA_DISCOVERY", value_name = "ON",
        value_parser = clap::builder::BoolishValueParser::new(),
        num_args = 0..=1, default_missing_value = "true")]
    pub ha_discovery: Option<bool>,

    /// Home Assistant's MQTT discovery prefix [default: homeassistant].
    #[arg(long, env = "ALICIA_HA_PREFIX", value_name = "PREFIX")]
    pub ha_prefix: Option<String>,

    /// Seconds a device may stay silent (no state, no availability) before it shows
    /// `stale` [default: 600].
    #[arg(long, env = "ALICIA_DEVICE_STALE_SECS", value_name = "SECS")]
    pub device_stale_secs: Option<u64>,

    /// Days a device may stay silent before it is forgotten (its retained topics cleared);
    /// fractions are allowed (0.5 is 12 hours) [default: 30].
    #[arg(long, env = "ALICIA_DEVICE_EXPIRE_DAYS", value_name = "DAYS", value_parser = positive_days)]
    pub device_expire_days: Option<f64>,

    /// Role when several managers share a fleet: `auto` follows an authority already
    /// running (else becomes it), `authority` takes over, `follower` never publishes configs
    /// [default: auto].
    #[arg(long, env = "ALICIA_ROLE", value_name = "ROLE", value_enum)]
    pub role: Option<RoleSetting>,

    /// Log level: winston's (error, warn, info, http, verbose, debug, silly) or tracing's
    /// (trace, …), or a tracing filter with a target=level directive [default: info].
    #[arg(long, env = "LOG_LEVEL", value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Write every log line, as JSON, to this exact file (not rotated) instead of the
    /// rotated combined.log files.
    #[arg(long, env = "LOG_FILE", value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Write errors, as JSON, to this exact file (not rotated) instead of the rotated
    /// error.log files.
    #[arg(long, env = "ERROR_LOG_FILE", value_name = "FILE")]
    pub error_log_file: Option<PathBuf>,

    /// Folder of the rotated log files (combined.log.<date>, error.log.<date>; 14 kept)
    /// [default: systemd's LOGS_DIRECTORY, else the platform's state folder].
    #[arg(long, env = "ALICIA_LOG_DIR", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// How often the log files roll over: daily, hourly or minutely [default: daily].
    #[arg(long, env = "ALICIA_LOG_ROTATION", value_name = "EVERY", value_enum)]
    pub log_rotation: Option<LogRotation>,

    /// `development` shows error causes in REST 500 answers.
    #[arg(long, env = "NODE_ENV", value_name = "ENV", hide = true)]
    pub node_env: Option<String>,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Play a simulated Alicia fleet (services and devices) on a broker.
    Simulate(SimulateArgs),
    /// Write one file holding every config, its history and the settings (secrets left out
    /// unless asked). Works while a manager runs on the folder.
    Backup(BackupArgs),
    /// Bring a backup back: checks every config first, prints what will change, then
    /// replaces the configs, history and settings (a copy of the replaced files is kept).
    /// Stop the manager using the folder first.
    Restore(RestoreArgs),
    /// Import configs from a file in config.json's format (as the app exports them): checks
    /// every document first, prints what will change, then stores each change (source
    /// `import`). Stop the manager using the folder first.
    Import(ImportArgs),
    /// Set or clear the kiosk's unlock PIN (4 to 8 digits) for the account this runs as, in
    /// the same settings file the kiosk reads (mind --config-dir, --portable and --demo). The
    /// PIN is read from the terminal twice without echo, or from the first line of stdin when
    /// piped; only its Argon2 hash is stored (mode 0600).
    KioskPin(KioskPinArgs),
}

/// `kiosk-pin`'s options.
#[derive(Debug, Clone, Args)]
pub struct KioskPinArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: KioskPinAction,
}

/// What `kiosk-pin` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum KioskPinAction {
    /// Set the PIN (a new one replaces the old, and the count of wrong tries is reset).
    Set,
    /// Remove the PIN: the kiosk stays read-only until one is set.
    Clear,
}

/// `import`'s options.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file to read: an object mapping service names to documents.
    pub file: PathBuf,
    /// Only print what would change.
    #[arg(long)]
    pub dry_run: bool,
}

/// `backup`'s options.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The backup file to write.
    pub file: PathBuf,
    /// Keep the secrets (API keys, MQTT password, API token, kiosk PIN hash) in the file.
    #[arg(long)]
    pub include_secrets: bool,
}

/// `restore`'s options.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup file to read.
    pub file: PathBuf,
    /// Only print what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore a backup that names another MQTT broker than the settings do now (the MQTT
    /// password stored now is then not kept).
    #[arg(long)]
    pub accept_broker: bool,
}

/// `simulate`'s options.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Broker: a host, host:port or mqtt:// URL [default: 127.0.0.1:1883].
    #[arg(long, env = "MQTT_BROKER", value_name = "URL")]
    pub broker: Option<String>,

    /// Broker port when --broker names none.
    #[arg(long, env = "MQTT_PORT", value_name = "PORT")]
    pub mqtt_port: Option<u16>,

    /// Number of services (every type is played in turn).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub services: usize,

    /// Number of devices.
    #[arg(long, default_value_t = 200, value_name = "M")]
    pub devices: usize,

    /// Device state changes per second, across the fleet.
    #[arg(long, default_value_t = 20.0, value_name = "MSGS_PER_SEC")]
    pub rate: f64,

    /// Seed: the same seed plays the same fleet.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Stop after this many seconds [default: run until Ctrl-C].
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Seconds between health reports.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub health_period_secs: u64,

    /// MQTT topic prefix.
    #[arg(
        long,
        env = "ALICIA_TOPIC_PREFIX",
        default_value = "alicia",
        value_name = "PREFIX"
    )]
    pub topic_prefix: String,
}

impl Cli {
    /// The config folder: `alicia-data` beside the executable in portable mode, else
    /// `--config-dir` / `CONFIG_PATH`, else the platform's.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.portable_dir()
            .or_else(|| self.config_dir.clone())
            .or_else(platform_config_dir)
    }

    /// Portable mode's folder, when portable mode is on (`--portable`, or a `portable` file
    /// beside the executable).
    pub fn portable_dir(&self) -> Option<PathBuf> {
        let exe = std::env::current_exe().ok()?;
        let beside = exe.parent()?;
        (self.portable || beside.join(PORTABLE_MARKER).is_file()).then(|| beside.join(PORTABLE_DIR))
    }

    /// The flags and environment as a settings layer; secrets are read from the environment.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            broker: self.broker.clone(),
            mqtt_port: self.mqtt_port,
            broker_bind: self.broker_bind,
            mqtt_username: self.mqtt_username.clone(),
            mqtt_password: secret_from_env("MQTT_PASSWORD"),
            mqtt_ca_file: self.mqtt_ca_file.clone(),
            topic_prefix: self.topic_prefix.clone(),
            role: self.role,
            health_ttl_secs: self.health_ttl_secs,
            max_devices: self.max_devices,
            max_services: self.max_services,
            command_timeout_secs: self.command_timeout_secs,
            safe_apply_secs: self.safe_apply_secs,
            device_stale_secs: self.device_stale_secs,
            ha_discovery: self.ha_discovery,
            ha_prefix: self.ha_prefix.clone(),
            device_expire_days: self.device_expire_days,
            api_port: self.port,
            api_bind: self.api_bind,
            api_token: secret_from_env("ALICIA_API_TOKEN"),
            api_read_token: secret_from_env("ALICIA_API_READ_TOKEN"),
            frontend_url: self.frontend_url.clone(),
            rate_limit_max: self.rate_limit_max,
            rate_limit_window_ms: self.rate_limit_window_ms,
            max_connections: self.max_connections,
            allowed_hosts: self.allowed_hosts.clone(),
            log_level: self.log_level.clone(),
            log_file: self.log_file.clone(),
            error_log_file: self.error_log_file.clone(),
            log_dir: self.log_dir.clone().or_else(systemd_logs_directory),
            log_rotation: self.log_rotation,
            node_env: self.node_env.clone(),
        }
    }
}

/// A number of days above zero (fractions allowed).
fn positive_days(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(days) if days.is_finite() && days > 0.0 => Ok(days),
        _ => Err(format!("`{text}` is no number of days above 0")),
    }
}

fn secret_from_env(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

/// The folder systemd made for the unit's logs (`LogsDirectory=`; the first when several).
fn systemd_logs_directory() -> Option<PathBuf> {
    let value = std::env::var_os("LOGS_DIRECTORY")?;
    let first = value.to_string_lossy().split(':').next()?.trim().to_owned();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_fill_the_overrides() {
        let cli = Cli::try_parse_from([
            "alicia-config-manager",
            "--headless",
            "--broker",
            "mqtts://broker.lan",
            "--config-dir",
            "/tmp/alicia",
            "--port",
            "3100",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert!(cli.headless);
        assert_eq!(cli.config_dir(), Some(PathBuf::from("/tmp/alicia")));
        let overrides = cli.overrides();
        assert_eq!(overrides.broker.as_deref(), Some("mqtts://broker.lan"));
        assert_eq!(overrides.api_port, Some(3100));
        assert_eq!(overrides.log_level.as_deref(), Some("debug"));
    }

    #[test]
    fn simulate_takes_its_own_options() {
        let cli = Cli::try_parse_from([
            "x",
            "simulate",
            "--broker",
            "mqtt://10.0.0.2:1884",
            "--services",
            "5",
            "--devices",
            "10000",
            "--rate",
            "100000",
            "--seed",
            "42",
            "--duration",
            "30",
        ])
        .unwrap();
        let Some(Command::Simulate(args)) = cli.command else {
            panic!()
        };
        assert_eq!((args.services, args.devices, args.seed), (5, 10_000, 42));
        assert_eq!(args.rate, 100_000.0);
        assert_eq!(args.duration, Some(30.0));
    }

    #[test]
    fn role_and_portable_and_the_backup_commands_parse() {
        let cli =
            Cli::try_parse_from(["x", "--headless", "--role", "follower", "--portable"]).unwrap();
        assert_eq!(cli.overrides().role, Some(RoleSetting::Follower));
        assert!(cli.portable);
        let exe_dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        assert_eq!(cli.config_dir(), Some(exe_dir.join(PORTABLE_DIR)));
        assert!(Cli::try_parse_from(["x", "--role", "boss"]).is_err());
        let cli = Cli::try_parse_from(["x", "backup", "b.json", "--include-secrets"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Backup(BackupArgs {
                include_secrets: true,
                ..
            }))
        ));
        let cli = Cli::try_parse_from(["x", "restore", "b.json", "--dry-run"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Restore(RestoreArgs { dry_run: true, .. }))
        ));
        let cli = Cli::try_parse_from(["x", "import", "configs.json"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Import(ImportArgs { dry_run: false, .. }))
        ));
    }

    #[test]
    fn kiosk_and_headless_exclude_each_other() {
        assert!(Cli::try_parse_from(["x", "--kiosk", "--headless"]).is_err());
    }
}
