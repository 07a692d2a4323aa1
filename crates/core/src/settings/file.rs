//! The settings file (`settings.json` in the config folder, mode 0600: it may hold the broker
//! password and the API token): every key optional, unknown keys kept when it is saved.

use crate::fsutil::write_atomic;
pub use alicia_model::settings::file::SettingsFile;
use std::path::{Path, PathBuf};

/// Why the settings could not be read or resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file is broken (it is left untouched).
    #[error(
        "{path} is not a valid settings file: {message} (line {line}, column {column}); it was left untouched"
    )]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The settings file cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The settings file cannot be written (the old one is intact).
    #[error("cannot write {path}: {source}")]
    Unwritable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A value is not usable.
    #[error("{0}")]
    Invalid(String),
}

/// Reading and writing the settings file (the model's [`SettingsFile`] is the contents).
pub trait SettingsFileIo: Sized {
    /// Reads `path`; a missing file is the empty settings file.
    fn load(path: &Path) -> Result<Self, SettingsError>;
    /// Writes the file atomically with mode 0600.
    fn save(&self, path: &Path) -> std::io::Result<()>;
}

impl SettingsFileIo for SettingsFile {
    fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(source) => {
                return Err(SettingsError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|error| SettingsError::File {
            path: path.to_path_buf(),
            message: error.to_string(),
            line: error.line(),
            column: error.column(),
        })
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SETTINGS_FILE_NAME;

    #[test]
    fn a_broken_settings_file_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, "{\n \"api_port\": \"x\"\n}").unwrap();
        let error = SettingsFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn the_settings_file_round_trips_unknown_keys_privately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE_NAME);
        std::fs::write(&path, r#"{"mqtt_password": "pw", "window_layout": "wide"}"#).unwrap();
        let file = SettingsFile::load(&path).unwrap();
        assert_eq!(file.mqtt_password.as_ref().unwrap().expose(), "pw");
        file.save(&path).unwrap();
        let again = SettingsFile::load(&path).unwrap();
        assert_eq!(again.other["window_layout"], "wide");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
