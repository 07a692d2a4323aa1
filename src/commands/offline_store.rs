//! A config folder opened by a command-line tool while no manager runs on it: the folder is
//! claimed first (a running manager makes the tool refuse, naming its pid), then the config
//! service and its writer run until the tool closes them, storing everything in flight.

use crate::core::config::{ConfigPaths, ConfigService};
use crate::core::events::EventBus;
use crate::core::fleet::identity::{FolderClaim, claim_folder};
use crate::core::settings::{SETTINGS_FILE_NAME, SettingsStore};
use std::path::Path;
use tokio::task::JoinHandle;

/// The folder's store, open for a tool.
pub struct OfflineStore {
    /// The configs.
    pub config: ConfigService,
    /// The settings file.
    pub settings: SettingsStore,
    writer: JoinHandle<()>,
    _claim: FolderClaim,
}

impl OfflineStore {
    /// Claims `config_dir` and opens its store, keeping `history_limit` revisions a service.
    pub async fn open(config_dir: &Path, history_limit: usize) -> anyhow::Result<Self> {
        let dir = config_dir.to_path_buf();
        let claim = tokio::task::spawn_blocking(move || claim_folder(&dir)).await??;
        let paths = ConfigPaths::in_dir(config_dir);
        let (config, writer, _) = tokio::task::spawn_blocking(move || {
            ConfigService::open(paths, EventBus::default(), history_limit)
        })
        .await??;
        Ok(Self {
            config,
            settings: SettingsStore::new(config_dir.join(SETTINGS_FILE_NAME)),
            writer: tokio::spawn(writer.run()),
            _claim: claim,
        })
    }

    /// Stores what is in flight, stops the writer and releases the folder.
    pub async fn close(self) -> anyhow::Result<()> {
        self.config.shutdown().await;
        self.writer
            .await
            .map_err(|error| anyhow::anyhow!("the config writer failed while stopping: {error}"))
    }
}
