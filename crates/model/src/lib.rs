//! The model of Alicia Config Manager: what every face and the core agree on, with no I/O
//! and no runtime (it builds for `wasm32-unknown-unknown`). Times are passed in, never read
//! from the clock here.
//!
//! - [`config`]: the service config document (CONTRACT §1) — its schema and validation,
//!   secrets and masking, diffs, managed fields, service types, who made a change;
//! - [`payloads`], [`topics`], [`ids`]: the MQTT contract's payloads, topic tree and request ids
//!   (§2, §10);
//! - [`kiosk_pin`]: the kiosk PIN's rules and the outcome of a try;
//! - [`limits`]: the sizes and counts the manager accepts (§6, §10);
//! - [`clock`]: RFC 3339 times as the whole app writes them;
//! - [`status`], [`trouble`], [`overview`], [`checks`]: a service's runtime state and the one
//!   "in trouble" rule (§10), the services overview's rows, the checks across services;
//! - [`backend`]: the interface a GUI talks to, in-process or across the network;
//! - [`change_sets`]: several services changed as one — the request, the answer, the preview;
//! - [`settings`]: the REST server's settings and their rules, the broker's address, roles,
//!   the settings file's contents;
//! - [`transfer`]: import, export, backup and restore as a face shows them;
//! - [`secret`], [`json_footprint`]: secrets that never print, and what JSON takes in memory;
//! - [`message_filter`]: which MQTT messages a view shows (REST, the monitor, live events);
//! - [`events`], [`devices`], [`messages`], [`commands`], [`watch`]: what changes and the data
//!   it names — devices, MQTT messages as kept, device commands, safe apply's words.

pub mod backend;
pub mod change_sets;
pub mod checks;
pub mod clock;
pub mod commands;
pub mod config;
pub mod devices;
pub mod events;
pub mod ids;
pub mod json_footprint;
pub mod kiosk_pin;
pub mod limits;
pub mod message_filter;
pub mod messages;
pub mod overview;
pub mod payloads;
pub mod secret;
pub mod settings;
pub mod status;
pub mod topics;
pub mod transfer;
pub mod trouble;
pub mod watch;
