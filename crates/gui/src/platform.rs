//! What the GUI needs of the machine it runs on, beside the manager: this machine's settings
//! file (the look, the watch time, the kiosk PIN), unsaved drafts, files the admin picks or
//! saves, and freeing large things off the UI thread. The desktop implements it over the
//! file system and the desktop's dialogs; a browser over its storage and downloads.

use crate::drafts::DraftFile;
use alicia_model::backend::{Backend, Reply};
use alicia_model::kiosk_pin::{LockState, Verdict};
use alicia_model::settings::file::SettingsFile;
use std::sync::Arc;

/// A change to this machine's settings file.
pub type SettingsChange = Box<dyn FnOnce(&mut SettingsFile) + Send>;

/// Which files a picker offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// JSON: export files and backups.
    Json,
    /// PEM certificates: a broker's CA.
    Certificate,
}

/// A file the admin picked: its name (or path) and its bytes.
pub type PickedFile = (String, Vec<u8>);

/// The machine the GUI runs on.
pub trait Platform: Send + Sync {
    /// Changes this machine's settings file (one writer at a time).
    fn update_settings(&self, change: SettingsChange) -> Reply<Result<(), String>>;

    /// The kiosk PIN's status and any wait before the next try.
    fn lock_state(&self) -> Reply<Result<LockState, String>>;

    /// One try of `pin` at the kiosk's keypad (slow on purpose).
    fn try_pin(&self, pin: String) -> Reply<Verdict>;

    /// Sets the kiosk PIN (checked by the model's rule first; slow on purpose).
    fn set_pin(&self, pin: String) -> Reply<Result<(), String>>;

    /// The drafts kept by the last session.
    fn load_drafts(&self) -> Reply<Result<DraftFile, String>>;

    /// Keeps `drafts` (an empty file removes them).
    fn save_drafts(&self, drafts: DraftFile) -> Reply<Result<(), String>>;

    /// Keeps `drafts` now, on the calling thread (the window is closing).
    fn save_drafts_now(&self, drafts: &DraftFile) -> Result<(), String>;

    /// Asks where to save `bytes` (suggesting `name`) and writes them there — privately when
    /// `private` (the file holds secrets or history). `Ok(None)`: the admin cancelled; else
    /// where it went.
    fn save_file(
        &self,
        name: &str,
        bytes: Vec<u8>,
        private: bool,
    ) -> Reply<Result<Option<String>, String>>;

    /// Asks for a file of `kind` and reads it. `Ok(None)`: the admin cancelled.
    fn open_file(&self, kind: FileKind) -> Reply<Result<Option<PickedFile>, String>>;

    /// Asks for a file of `kind`, only its path (`None`: cancelled).
    fn pick_path(&self, kind: FileKind) -> Reply<Option<String>>;

    /// Frees `garbage` away from the UI thread (large tables let go of between frames).
    fn release(&self, garbage: Box<dyn Send>);
}

/// What the panels reach the manager and this machine through.
#[derive(Clone)]
pub struct Link {
    /// The manager.
    pub backend: Arc<dyn Backend>,
    /// This machine.
    pub platform: Arc<dyn Platform>,
}
