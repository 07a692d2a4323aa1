//! `alicia-config-manager`: reads the command line and settings, starts logging and the
//! runtime, and runs the chosen face.

use alicia_config_manager::cli::Cli;
use alicia_config_manager::core::settings::{SETTINGS_FILE_NAME, SettingsFile, resolve};
use alicia_config_manager::{headless, logging};
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
    let config_dir = cli.config_dir().ok_or_else(|| {
        anyhow::anyhow!(
            "no config folder: set CONFIG_PATH or --config-dir (the platform has no config folder)"
        )
    })?;
    let file = SettingsFile::load(&config_dir.join(SETTINGS_FILE_NAME))?;
    let settings = resolve(config_dir, &cli.overrides(), &file)?;
    let _log_guards = logging::init(&settings.log).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("alicia-core")
        .build()?;
    if !cli.headless {
        tracing::warn!("the desktop app is not part of this build yet; running headless");
    }
    runtime.block_on(headless::run(settings))
}
