//! What the binary does, one file per way to run it: the desktop app (or the kiosk), headless
//! mode, and the subcommands `simulate`, `backup`, `restore`, `import` and `kiosk-pin`. [`run`] reads the
//! settings, starts logging and picks one.

pub mod backup;
pub mod desktop;
pub mod headless;
pub mod import;
pub mod kiosk_pin;
mod offline_store;
pub mod open_files;
pub mod restore;
pub mod shutdown_signal;
pub mod simulate;

use crate::cli::{Cli, Command};
use crate::core::settings::{
    self, BrokerTarget, LogRotation, LogSettings, SETTINGS_FILE_NAME, SettingsFile, SettingsFileIo,
    resolve,
};
use crate::logging;

/// Runs what the command line asks for, until it is done (or the window is closed, or a
/// shutdown signal arrives).
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Simulate(args)) = cli.command {
        let log = LogSettings {
            level: cli.log_level.clone().unwrap_or_else(|| "info".to_owned()),
            file: cli.log_file.clone(),
            error_file: cli.error_log_file.clone(),
            // The simulator writes log files only when told to.
            dir: None,
            rotation: LogRotation::default(),
        };
        let _log_guards = logging::init(&log).map_err(anyhow::Error::msg)?;
        return runtime()?.block_on(simulate::run(args));
    }
    let config_dir = cli.config_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "no config folder: set CONFIG_PATH or --config-dir (the platform has no config folder)"
        )
    })?;
    if let Some(Command::Backup(args)) = &cli.command {
        return backup::run(&config_dir, args);
    }
    if let Some(Command::KioskPin(args)) = &cli.command {
        // The folder the kiosk reads: the demo keeps its settings apart.
        let dir = if cli.demo {
            config_dir.join("demo")
        } else {
            config_dir
        };
        return kiosk_pin::run(&dir.join(SETTINGS_FILE_NAME), args.action);
    }
    let file = SettingsFile::load(&config_dir.join(SETTINGS_FILE_NAME))?;
    let mut settings = resolve(config_dir, &cli.overrides(), &file)?;
    if let Some(dir) = cli.portable_dir()
        && cli.log_dir.is_none()
    {
        settings.log.dir = Some(dir.join("logs"));
    }
    let _log_guards = logging::init(&settings.log).map_err(anyhow::Error::msg)?;
    match &cli.command {
        Some(Command::Restore(args)) => {
            return runtime()?.block_on(restore::run(
                &settings.config_dir,
                args,
                settings.history_limit,
            ));
        }
        Some(Command::Import(args)) => {
            return runtime()?.block_on(import::run(
                &settings.config_dir,
                args,
                settings.history_limit,
            ));
        }
        _ => {}
    }
    if cli.demo {
        if let BrokerTarget::External(url) = &settings.broker {
            tracing::warn!(ignored = %url, "--demo plays its fleet on the embedded broker, never on a named one");
            settings.broker = BrokerTarget::Embedded {
                port: settings::DEFAULT_MQTT_PORT,
            };
        }
        settings.config_dir = settings.config_dir.join("demo");
    }
    // The window's own settings (theme, scale, kiosk PIN) are read from the folder the app
    // saves them to: the demo's is its own.
    let file = if cli.demo {
        SettingsFile::load(&settings.settings_file())?
    } else {
        file
    };
    let open_files = open_files::raise_open_files_limit();
    tracing::debug!(?open_files, "open-files limit");
    if cli.headless {
        return runtime()?.block_on(headless::run(settings, cli.demo));
    }
    desktop::run(settings, file, cli.demo, cli.kiosk)
}

/// The background runtime every command runs the core on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("alicia-core")
        .build()
}
