//! `alicia-config-manager`: reads the command line and runs what it asks for
//! ([`alicia_config_manager::commands`]).

use alicia_config_manager::cli::Cli;
use alicia_config_manager::commands;
use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the message path allocates many small, short-lived values across threads, where
/// glibc's malloc spent a third of the CPU time (measured with perf; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // While the process has one thread: the only moment the OS's zone is trusted.
    alicia_config_manager::core::clock::remember_local_offset();
    match commands::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
