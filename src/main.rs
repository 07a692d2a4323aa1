//! `alicia-config-manager`: reads the command line and runs what it asks for
//! ([`alicia_config_manager::commands`]).

use alicia_config_manager::cli::Cli;
use alicia_config_manager::commands;
use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the message path allocates many small, short-lived values across threads, where
/// glibc's malloc spent a third of the CPU time (measured with perf; see BENCHMARKS.md).
#[cfg(not(feature = "dhat-heap"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With the `dhat-heap` feature, every allocation is recorded for a heap profile instead.
#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() -> ExitCode {
    // Written to dhat-heap.json when main returns (a stop signal ends it that way too).
    #[cfg(feature = "dhat-heap")]
    let _profiler = dhat::Profiler::new_heap();
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
