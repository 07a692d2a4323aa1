//! Alicia Config Manager: the control plane of the Alicia self-hosted voice assistant.
//!
//! - [`core`]: configs, devices, health and MQTT on a background tokio runtime (no UI code);
//! - [`api`]: the embedded REST + socket.io server over the core;
//! - [`gui`]: the desktop app and kiosk (egui);
//! - [`cli`]: the command line (flags and environment, CONTRACT §4);
//! - [`commands`]: what the binary runs: the desktop app, headless mode, and the `simulate`,
//!   `backup`, `restore` and `import` subcommands;
//! - [`desktop`]: the GUI's links on the desktop: the in-process backend, this machine;
//! - [`logging`]: console and JSON-lines logs;
//! - [`session`]: one run of the manager (core, server, demo), whatever its face;
//! - [`sim`]: a simulated fleet of services and devices (demo, tests, benchmarks).

pub mod cli;
pub mod commands;
pub mod desktop;
pub mod logging;
pub mod session;

// The workspace's crates, under the names the binary and its tests have always used.
pub use alicia_api as api;
pub use alicia_core as core;
pub use alicia_gui as gui;
pub use alicia_model as model;
pub use alicia_sim as sim;
