//! Alicia Config Manager: the control plane of the Alicia self-hosted voice assistant.
//!
//! - [`core`]: configs, devices, health and MQTT on a background tokio runtime (no UI code);
//! - [`api`]: the embedded REST + socket.io server over the core;
//! - [`gui`]: the desktop app and kiosk (egui);
//! - [`cli`]: the command line (flags and environment, CONTRACT §4);
//! - [`backup_cli`]: the `backup` and `restore` subcommands;
//! - [`headless`]: the core without a window, for the home server;
//! - [`logging`]: console and JSON-lines logs;
//! - [`session`]: one run of the manager (core, server, demo), whatever its face;
//! - [`sim`]: a simulated fleet of services and devices (demo, tests, benchmarks);
//! - [`simulate`]: the `simulate` subcommand.

pub mod api;
pub mod backup_cli;
pub mod cli;
pub mod core;
pub mod gui;
pub mod headless;
pub mod logging;
pub mod session;
pub mod sim;
pub mod simulate;
