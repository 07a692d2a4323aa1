//! The desktop's drafts file: `drafts.json` in the config folder, mode 0600 (a draft may
//! hold an `api_key`), written atomically; a missing file holds no draft; a broken one is set
//! aside (`drafts.json.broken`), never overwritten.

use crate::core::fsutil::write_atomic;
use crate::gui::drafts::DraftFile;
use std::path::Path;

/// The file's name in the config folder.
pub const DRAFTS_FILE_NAME: &str = "drafts.json";

/// Reads `path`: a missing file holds no draft; a broken one is renamed aside and
/// reported.
pub fn load(path: &Path) -> Result<DraftFile, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(DraftFile::default());
        }
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    serde_json::from_slice(&bytes).map_err(|error| {
        let aside = path.with_extension("json.broken");
        let kept = std::fs::rename(path, &aside).is_ok();
        format!(
            "{} is not a drafts file ({error}); {}",
            path.display(),
            if kept {
                format!("it was kept as {}", aside.display())
            } else {
                "it was left as it is".to_owned()
            }
        )
    })
}

/// Writes the file (atomically, 0600), or removes it when no draft is left.
pub fn save(file: &DraftFile, path: &Path) -> std::io::Result<()> {
    if file.drafts.is_empty() {
        return match std::fs::remove_file(path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        };
    }
    let mut bytes = serde_json::to_vec_pretty(file)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::drafts::Draft;
    use serde_json::json;

    fn draft(model: &str) -> Draft {
        Draft {
            base_revision: Some(2),
            base: json!({"config": {"model": "a"}}),
            document: json!({"config": {"model": model}}),
            changed_at: "2026-11-29T12:00:00.000Z".to_owned(),
        }
    }

    #[test]
    fn drafts_round_trip_privately_and_an_empty_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DRAFTS_FILE_NAME);
        let mut file = DraftFile::default();
        file.drafts.insert("llm".to_owned(), draft("b"));
        save(&file, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path).unwrap(), file);
        save(&DraftFile::default(), &path).unwrap();
        assert!(!path.exists());
        assert_eq!(load(&path).unwrap(), DraftFile::default());
    }

    #[test]
    fn a_broken_drafts_file_is_set_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DRAFTS_FILE_NAME);
        std::fs::write(&path, "{ half a draft").unwrap();
        let problem = load(&path).unwrap_err();
        assert!(problem.contains("drafts.json.broken"), "{problem}");
        let aside = std::fs::read_to_string(dir.path().join("drafts.json.broken")).unwrap();
        assert_eq!(aside, "{ half a draft");
    }
}
