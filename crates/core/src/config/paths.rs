//! Where the config service keeps its files.

use std::path::{Path, PathBuf};

/// Where the config service keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `config.json`, the seed's format.
    pub config_file: PathBuf,
    /// `history.jsonl`, the append-only history.
    pub history_file: PathBuf,
    /// `settings-schemas.json`, the settings schemas services announced (CONTRACT §9).
    pub schemas_file: PathBuf,
}

impl ConfigPaths {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            config_file: dir.join("config.json"),
            history_file: dir.join("history.jsonl"),
            schemas_file: dir.join(super::settings_schemas::SCHEMAS_FILE_NAME),
        }
    }
}
