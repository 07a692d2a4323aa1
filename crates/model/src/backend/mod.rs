//! The interface every face's GUI talks to, whether the core runs in the same process or
//! across the network (CONTRACT §11): asynchronous and event-fed. The GUI never reads a
//! backend's state synchronously: it keeps its own view of it, fed by [`Update`]s from a
//! [`Feed`], and asks for everything else with requests whose answers arrive later as a
//! [`Reply`] it polls between frames.
//!
//! What works from anywhere is [`Backend`]'s; what only the manager's own machine may do
//! (API access, the broker connection, backup and restore, import and export) is
//! [`LocalAdmin`]'s, which a remote backend does not offer.

mod feed;
mod update;

pub use feed::{Feed, Wake};
pub use update::{HistoryPage, LocalSettings, SystemView, Update};

use crate::change_sets::{ChangeSetAnswer, ChangeSetRequest, SetPreview};
use crate::config::{Committed, ConfigError, Precondition};
use crate::settings::api::ApiSettings;
use crate::settings::broker::ProbeTarget;
use crate::transfer::{ImportOutcome, ImportPreview, RestorePreview};
use serde_json::{Map, Value};
use std::sync::Arc;

/// A request's answer, arriving later; polled between frames, never waited on.
pub type Reply<T> = poll_promise::Promise<T>;

/// Which high-volume streams the face shows right now: those ask for a frame at once, the
/// others within a second (for counts); a remote backend takes MQTT messages only while they
/// are shown (`live:mqtt`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Live {
    /// The MQTT monitor is on screen and not paused.
    pub messages: bool,
    /// The devices table is on screen.
    pub devices: bool,
}

/// The manager as a GUI reaches it.
pub trait Backend: Send + Sync {
    /// Starts the updates: the current state first (as [`Update`]s), then every change.
    /// `wake` asks the face to look at the feed within the given time.
    fn connect(&self, wake: Wake) -> Arc<Feed>;

    /// Says which live streams the face shows now.
    fn follow(&self, live: Live);

    /// The face missed updates (its feed overflowed): send the whole state again.
    fn resync(&self);

    /// A service's retained revisions, newest first, with the members of each change set
    /// they belong to.
    fn history(&self, service: &str) -> Reply<HistoryPage>;

    /// Stores `document` as `service`'s config if `precondition` holds, then watches it for
    /// `watch_secs` (0: not watched) and undoes it if the service refuses it (CONTRACT §7).
    fn put(
        &self,
        service: &str,
        document: Value,
        precondition: Precondition,
        watch_secs: u64,
    ) -> Reply<Result<Committed, ConfigError>>;

    /// Deletes `service`'s config if `precondition` holds.
    fn delete(
        &self,
        service: &str,
        precondition: Precondition,
    ) -> Reply<Result<Committed, ConfigError>>;

    /// Stores `revision` of `service` again as a new revision.
    fn rollback(&self, service: &str, revision: u64) -> Reply<Result<Committed, ConfigError>>;

    /// Enforces the settings schema `service` announced last (CONTRACT §10).
    fn accept_schema(&self, service: &str) -> Reply<Result<(), ConfigError>>;

    /// What a change set of `documents` would do, storing nothing.
    fn preview_set(&self, documents: Vec<Value>) -> Reply<SetPreview>;

    /// Decides and stores a change set.
    fn apply_set(&self, request: ChangeSetRequest) -> Reply<Result<ChangeSetAnswer, ConfigError>>;

    /// Rolls the change set `change_id` back as one new set (`force`: even over later
    /// changes).
    fn rollback_set(
        &self,
        change_id: &str,
        force: bool,
    ) -> Reply<Result<ChangeSetAnswer, ConfigError>>;

    /// Sends `command` with `params` to `device`; answers with the command's request id once
    /// it is sent (its end arrives as [`Update::CommandFinished`]).
    fn send_command(
        &self,
        device: &str,
        command: &str,
        params: Map<String, Value>,
    ) -> Reply<Result<String, String>>;

    /// Forgets a device and clears its retained state; false when it was not known.
    fn forget_device(&self, id: &str) -> Reply<bool>;

    /// Publishes a message on the bus (under the manager's rules for the topic).
    fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    ) -> Reply<Result<(), String>>;

    /// The retained topics the broker holds under `filters`, asked of the broker afresh.
    fn retained_topics(&self, filters: Vec<String>) -> Reply<Result<Vec<String>, String>>;

    /// Turns Home Assistant discovery on or off (and keeps the choice).
    fn set_home_assistant(&self, on: bool) -> Reply<Result<(), String>>;

    /// What only the manager's own machine may do; `None` from afar.
    fn local(&self) -> Option<&dyn LocalAdmin>;
}

/// What only the manager's own machine may do (CONTRACT §11: local only).
pub trait LocalAdmin: Send + Sync {
    /// Starts (or restarts) the REST server with `settings`, keeping them for the next start;
    /// settings its rules refuse are said in words, and nothing starts.
    fn start_api(&self, settings: ApiSettings) -> Reply<Result<(), String>>;

    /// A new access token for the REST server (random, from the OS).
    fn new_token(&self) -> Reply<Result<String, String>>;

    /// Stops the REST server, keeping that for the next start.
    fn stop_api(&self) -> Reply<Result<(), String>>;

    /// Tries to reach the broker `target` with its login and CA file; says what happened.
    fn test_broker(&self, target: ProbeTarget) -> Reply<Result<String, String>>;

    /// Every config as an export file's JSON (secrets masked unless `secrets`).
    fn export(&self, secrets: bool) -> Reply<Result<Vec<u8>, String>>;

    /// A backup file's JSON: every config, its history and the settings.
    fn backup(&self, secrets: bool) -> Reply<Result<Vec<u8>, String>>;

    /// What importing the export file `bytes` would change.
    fn preview_import(&self, bytes: Vec<u8>) -> Reply<Result<ImportPreview, String>>;

    /// Imports what the admin confirmed of a previewed export file.
    fn apply_import(&self, preview: ImportPreview) -> Reply<Vec<ImportOutcome>>;

    /// What restoring the backup file `bytes` would change.
    fn preview_restore(&self, bytes: Vec<u8>) -> Reply<Result<RestorePreview, String>>;

    /// Restores a previewed backup (`accept_broker`: its broker settings too).
    fn apply_restore(
        &self,
        preview: RestorePreview,
        accept_broker: bool,
    ) -> Reply<Result<usize, String>>;
}
