//! Unsaved drafts kept across quitting, SIGTERM and crashes: `drafts.json` in the config
//! folder (mode 0600: a draft may hold an `api_key`), written on the runtime half a second
//! after the last keystroke and once more when the window closes, read at the next start and
//! offered back. A broken file is set aside (`drafts.json.broken`), never overwritten.

use crate::tasks::Task;
use alicia_core::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The file's name in the config folder.
pub const DRAFTS_FILE_NAME: &str = "drafts.json";
/// How long after the last change a draft is written.
const WRITE_AFTER: Duration = Duration::from_millis(500);

/// One service's unsaved edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The stored revision the edit started from (`None`: a service not stored yet).
    pub base_revision: Option<u64>,
    /// The document the edit started from (`null` for a new one).
    pub base: Value,
    /// The draft.
    pub document: Value,
    /// When it was last changed (RFC 3339).
    pub changed_at: String,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftFile {
    /// The drafts by service.
    pub drafts: BTreeMap<String, Draft>,
}

impl DraftFile {
    /// Reads `path`: a missing file holds no draft; a broken one is renamed aside and
    /// reported.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
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
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if self.drafts.is_empty() {
            return match std::fs::remove_file(path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
                _ => Ok(()),
            };
        }
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }
}

/// The drafts of this session: those offered back from the last one, and the open editor's.
pub struct Drafts {
    path: PathBuf,
    /// Drafts from the last session not opened yet.
    offered: BTreeMap<String, Draft>,
    /// The open editor's draft, when it has edits.
    open: Option<(String, Draft)>,
    loading: Task<Result<DraftFile, String>>,
    loaded: bool,
    writing: Task<Result<(), String>>,
    changed: Option<Instant>,
    /// Why the file could not be read or written.
    pub problem: Option<String>,
}

impl Drafts {
    /// The drafts kept in `config_dir`, read on `runtime`.
    pub fn start(config_dir: &Path, runtime: &tokio::runtime::Handle) -> Self {
        let path = config_dir.join(DRAFTS_FILE_NAME);
        let mut loading = Task::default();
        let read = path.clone();
        loading.start(runtime, async move {
            tokio::task::spawn_blocking(move || DraftFile::load(&read))
                .await
                .map_err(|e| e.to_string())?
        });
        Self {
            path,
            offered: BTreeMap::new(),
            open: None,
            loading,
            loaded: false,
            writing: Task::default(),
            changed: None,
            problem: None,
        }
    }

    /// The drafts from the last session, not opened yet.
    pub fn offered(&self) -> &BTreeMap<String, Draft> {
        &self.offered
    }

    /// Takes an offered draft to open it.
    pub fn take_offered(&mut self, service: &str) -> Option<Draft> {
        let draft = self.offered.remove(service);
        if draft.is_some() {
            self.changed = Some(Instant::now());
        }
        draft
    }

    /// Drops an offered draft.
    pub fn discard_offered(&mut self, service: &str) {
        if self.offered.remove(service).is_some() {
            self.changed = Some(Instant::now());
        }
    }

    /// The open editor's draft now (`None`: no editor, or no edits).
    pub fn set_open(&mut self, open: Option<(String, Draft)>) {
        let same = match (&self.open, &open) {
            (Some((a, x)), Some((b, y))) => a == b && x.document == y.document,
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.open = open;
            self.changed = Some(Instant::now());
        }
    }

    /// Takes in the read file and writes changes half a second after the last; returns true
    /// while something is still to be written (the caller asks for a frame then).
    pub fn poll(&mut self, runtime: &tokio::runtime::Handle) -> bool {
        if let Some(loaded) = self.loading.take() {
            self.loaded = true;
            match loaded {
                Ok(file) => {
                    for (service, draft) in file.drafts {
                        self.offered.entry(service).or_insert(draft);
                    }
                }
                Err(problem) => self.problem = Some(problem),
            }
        }
        if let Some(Err(problem)) = self.writing.take() {
            self.problem = Some(format!("Drafts not kept: {problem}"));
        }
        // Nothing is written before the last session's drafts are read (they would be lost).
        let Some(changed) = self.changed.filter(|_| self.loaded) else {
            return self.changed.is_some();
        };
        if changed.elapsed() < WRITE_AFTER || self.writing.running() {
            return true;
        }
        self.changed = None;
        let (file, path) = (self.file(), self.path.clone());
        self.writing.start(runtime, async move {
            tokio::task::spawn_blocking(move || file.save(&path).map_err(|e| e.to_string()))
                .await
                .map_err(|e| e.to_string())?
        });
        false
    }

    /// Writes now, on the calling thread (the window is closing).
    pub fn write_now(&mut self) {
        if !self.loaded {
            return;
        }
        if let Err(error) = self.file().save(&self.path) {
            tracing::error!(file = %self.path.display(), %error, "unsaved drafts could not be kept");
        }
    }

    fn file(&self) -> DraftFile {
        let mut drafts = self.offered.clone();
        if let Some((service, draft)) = &self.open {
            drafts.insert(service.clone(), draft.clone());
        }
        DraftFile { drafts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        file.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(DraftFile::load(&path).unwrap(), file);
        DraftFile::default().save(&path).unwrap();
        assert!(!path.exists());
        assert_eq!(DraftFile::load(&path).unwrap(), DraftFile::default());
    }

    #[test]
    fn a_broken_drafts_file_is_set_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DRAFTS_FILE_NAME);
        std::fs::write(&path, "{ half a draft").unwrap();
        let problem = DraftFile::load(&path).unwrap_err();
        assert!(problem.contains("drafts.json.broken"), "{problem}");
        let aside = std::fs::read_to_string(dir.path().join("drafts.json.broken")).unwrap();
        assert_eq!(aside, "{ half a draft");
    }
}
