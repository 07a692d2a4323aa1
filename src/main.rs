//! `alicia-config-manager`: reads the command line and settings, starts logging and the
//! runtime, and runs the chosen face.

use alicia_config_manager::cli::{Cli, Command};
use alicia_config_manager::core::settings;
use alicia_config_manager::core::settings::{
    BrokerTarget, LogSettings, SETTINGS_FILE_NAME, Settings, SettingsFile, resolve,
};
use alicia_config_manager::gui::{self, GuiOptions};
use alicia_config_manager::session::{ServeApi, Session};
use alicia_config_manager::{backup_cli, headless, logging, simulate};
use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the message path allocates many small, short-lived values across threads, where
/// glibc's malloc spent a third of the CPU time (measured with perf; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Simulate(args)) = cli.command {
        let log = LogSettings {
            level: cli.log_level.clone().unwrap_or_else(|| "info".to_owned()),
            file: cli.log_file.clone(),
            error_file: cli.error_log_file.clone(),
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
        return backup_cli::backup(&config_dir, args);
    }
    let file = SettingsFile::load(&config_dir.join(SETTINGS_FILE_NAME))?;
    let mut settings = resolve(config_dir, &cli.overrides(), &file)?;
    if let Some(dir) = cli.portable_dir()
        && settings.log.file.is_none()
    {
        settings.log.file = Some(dir.join("logs").join("alicia-config-manager.log"));
    }
    let _log_guards = logging::init(&settings.log).map_err(anyhow::Error::msg)?;
    if let Some(Command::Restore(args)) = &cli.command {
        return runtime()?.block_on(backup_cli::restore(
            &settings.config_dir,
            args,
            settings.history_limit,
        ));
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
    if cli.headless {
        return runtime()?.block_on(headless::run(settings, cli.demo));
    }
    run_desktop(settings, file, cli.demo, cli.kiosk)
}

/// The desktop app (or the kiosk): the core on a background runtime, the window on this
/// thread.
fn run_desktop(
    settings: Settings,
    file: SettingsFile,
    demo: bool,
    kiosk: bool,
) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let serve = if file.api_enabled == Some(true) {
        ServeApi::On
    } else {
        ServeApi::Off
    };
    let session = runtime.block_on(Session::start(settings, demo, serve))?;
    let options = GuiOptions { kiosk, demo };
    let shown = gui::run(
        session.core.clone(),
        runtime.handle().clone(),
        options,
        file,
    );
    runtime.block_on(session.stop());
    shown.map_err(anyhow::Error::msg)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("alicia-core")
        .build()
}
