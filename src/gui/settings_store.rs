//! Changing the settings file from the UI, off the UI thread: load, change, save (atomic,
//! 0600), on a blocking task.

use crate::core::settings::SettingsFile;
use std::path::PathBuf;

/// Loads the settings file at `path`, applies `change`, saves it.
pub async fn update(
    path: PathBuf,
    change: impl FnOnce(&mut SettingsFile) + Send + 'static,
) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let mut file = SettingsFile::load(&path).map_err(|e| e.to_string())?;
        change(&mut file);
        file.save(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
    })
    .await
    .map_err(|e| e.to_string())?
}
