//! Alicia Config Manager: the control plane of the Alicia self-hosted voice assistant.
//!
//! - [`core`]: configs, devices, health and MQTT on a background tokio runtime (no UI code);
//! - [`api`]: the embedded REST + socket.io server over the core;
//! - [`gui`]: the desktop app and kiosk (egui);
//! - [`cli`]: the command line (flags and environment, CONTRACT §4);
//! - [`commands`]: what the binary runs: the desktop app, headless mode, and the `simulate`,
//!   `backup`, `restore` and `import` subcommands;
//! - [`logging`]: console and JSON-lines logs;
//! - [`session`]: one run of the manager (core, server, demo), whatever its face;
//! - [`sim`]: a simulated fleet of services and devices (demo, tests, benchmarks).

pub mod api;
pub mod cli;
pub mod commands;
pub mod core;
pub mod gui;
pub mod logging;
pub mod session;
pub mod sim;
