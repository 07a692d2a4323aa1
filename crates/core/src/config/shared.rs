//! What the config service's handles and its writer task share: the paths, the documents as
//! committed, the retained history, the settings schemas, the event bus.

use super::change::{Remote, Snapshot};
use super::history::ChangeSource;
use super::paths::ConfigPaths;
use super::rules::Histories;
use super::settings_schemas::Schemas;
use crate::events::EventBus;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use tokio::sync::watch;

/// What the handle and the writer share.
pub(super) struct Shared {
    pub(super) paths: ConfigPaths,
    pub(super) snapshot: watch::Sender<Arc<Snapshot>>,
    pub(super) history: RwLock<Histories>,
    pub(super) settings_schemas: RwLock<Schemas>,
    /// Moves on every change of the settings schemas (for the publisher).
    pub(super) schemas_changed: watch::Sender<u64>,
    pub(super) events: EventBus,
    pub(super) history_limit: usize,
    pub(super) accepting: AtomicBool,
    /// Changes stored since start, by the channel they came by (for `/metrics`).
    pub(super) stored_by_source: Mutex<std::collections::BTreeMap<ChangeSource, u64>>,
    pub(super) remote: OnceLock<Arc<dyn Remote>>,
}
