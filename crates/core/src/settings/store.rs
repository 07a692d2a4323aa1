//! Changing the settings file while the app runs. Every change is a load, a change and an
//! atomic save under one lock, so two changes at once (two panels, a restore) never lose each
//! other's update nor tear the file; the work runs on a blocking thread, never the UI's.

use super::file::{SettingsError, SettingsFile, SettingsFileIo};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The settings file of one config folder, changed by one writer at a time; cheap to clone
/// (clones share the lock).
#[derive(Debug, Clone)]
pub struct SettingsStore {
    path: PathBuf,
    writer: Arc<Mutex<()>>,
}

impl SettingsStore {
    /// The store of the settings file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            writer: Arc::default(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file as it is now (a missing file is the empty settings file). Blocking.
    pub fn load(&self) -> Result<SettingsFile, SettingsError> {
        SettingsFile::load(&self.path)
    }

    /// Loads the file, applies `change` and saves it (atomically, 0600), while no other change
    /// runs; returns what was saved. Blocking: for blocking tasks and command-line tools.
    pub fn update_blocking(
        &self,
        change: impl FnOnce(&mut SettingsFile),
    ) -> Result<SettingsFile, SettingsError> {
        let _one_writer = self.writer.lock();
        let mut file = SettingsFile::load(&self.path)?;
        change(&mut file);
        file.save(&self.path)
            .map_err(|source| SettingsError::Unwritable {
                path: self.path.clone(),
                source,
            })?;
        Ok(file)
    }

    /// [`SettingsStore::update_blocking`] on the runtime's blocking pool.
    pub async fn update(
        &self,
        change: impl FnOnce(&mut SettingsFile) + Send + 'static,
    ) -> Result<SettingsFile, SettingsError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.update_blocking(change))
            .await
            .map_err(|error| {
                SettingsError::Invalid(format!("the settings change failed: {error}"))
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The bug this store fixes: two tasks saving at once used to load, change and save
    /// without a lock and through one temp file name per process, so updates were lost or the
    /// file torn.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_hundred_concurrent_changes_from_two_tasks_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::new(dir.path().join("settings.json"));
        let writers = ["gui", "server"].map(|who| {
            let store = store.clone();
            tokio::spawn(async move {
                let changes = (0..100).map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .update(move |file| {
                                file.other.insert(format!("{who}-{i}"), json!(i));
                            })
                            .await
                    })
                });
                for change in changes.collect::<Vec<_>>() {
                    change.await.unwrap().unwrap();
                }
            })
        });
        for writer in writers {
            writer.await.unwrap();
        }
        let text = std::fs::read_to_string(store.path()).unwrap();
        let saved: serde_json::Value = serde_json::from_str(&text).expect("the file parses");
        for who in ["gui", "server"] {
            for i in 0..100 {
                assert_eq!(saved[format!("{who}-{i}")], json!(i), "{who}-{i} was lost");
            }
        }
    }
}
