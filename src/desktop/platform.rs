//! This machine as the GUI's platform: the settings file (through the one store that writes
//! it), the kiosk PIN, drafts in the config folder, the desktop's file dialogs; every file
//! and hash on the runtime's blocking pool, never a UI frame.

use super::{dialogs, drafts_file};
use crate::core::kiosk_pin;
use crate::core::settings::SettingsStore;
use crate::gui::drafts::DraftFile;
use crate::gui::platform::{FileKind, PickedFile, Platform, SettingsChange};
use crate::model::backend::Reply;
use crate::model::kiosk_pin::{LockState, Verdict};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The desktop's platform.
pub struct NativePlatform {
    settings: SettingsStore,
    drafts: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl NativePlatform {
    /// The platform over the settings file of `settings`, keeping drafts in `config_dir`,
    /// working on `runtime`.
    pub fn new(
        settings: SettingsStore,
        config_dir: &Path,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            settings,
            drafts: config_dir.join(drafts_file::DRAFTS_FILE_NAME),
            runtime,
        }
    }

    fn spawn<T: Send + 'static>(&self, work: impl Future<Output = T> + Send + 'static) -> Reply<T> {
        let _inside = self.runtime.enter();
        Reply::spawn_async(work)
    }

    fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Reply<Result<T, String>> {
        self.spawn(async move {
            tokio::task::spawn_blocking(work)
                .await
                .unwrap_or_else(|error| Err(format!("the work stopped: {error}")))
        })
    }
}

impl Platform for NativePlatform {
    fn update_settings(&self, change: SettingsChange) -> Reply<Result<(), String>> {
        let store = self.settings.clone();
        self.spawn(async move {
            store
                .update(change)
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        })
    }

    fn lock_state(&self) -> Reply<Result<LockState, String>> {
        let store = self.settings.clone();
        self.blocking(move || kiosk_pin::lock_state(&store))
    }

    fn try_pin(&self, pin: String) -> Reply<Verdict> {
        let store = self.settings.clone();
        self.spawn(async move {
            tokio::task::spawn_blocking(move || kiosk_pin::attempt(&store, &pin, SystemTime::now()))
                .await
                .unwrap_or_else(|error| Verdict::Failed(error.to_string()))
        })
    }

    fn set_pin(&self, pin: String) -> Reply<Result<(), String>> {
        let store = self.settings.clone();
        self.blocking(move || kiosk_pin::set_pin(&store, &pin))
    }

    fn load_drafts(&self) -> Reply<Result<DraftFile, String>> {
        let path = self.drafts.clone();
        self.blocking(move || drafts_file::load(&path))
    }

    fn save_drafts(&self, drafts: DraftFile) -> Reply<Result<(), String>> {
        let path = self.drafts.clone();
        self.blocking(move || drafts_file::save(&drafts, &path).map_err(|e| e.to_string()))
    }

    fn save_drafts_now(&self, drafts: &DraftFile) -> Result<(), String> {
        drafts_file::save(drafts, &self.drafts)
            .map_err(|error| format!("{}: {error}", self.drafts.display()))
    }

    fn save_file(
        &self,
        name: &str,
        bytes: Vec<u8>,
        private: bool,
    ) -> Reply<Result<Option<String>, String>> {
        self.spawn(dialogs::save_file(name.to_owned(), bytes, private))
    }

    fn open_file(&self, kind: FileKind) -> Reply<Result<Option<PickedFile>, String>> {
        self.spawn(dialogs::open_file(kind))
    }

    fn pick_path(&self, kind: FileKind) -> Reply<Option<String>> {
        self.spawn(dialogs::pick_path(kind))
    }

    fn release(&self, garbage: Box<dyn Send>) {
        self.runtime.spawn_blocking(move || drop(garbage));
    }
}
