//! Unsaved drafts kept across quitting, SIGTERM and crashes: kept by the platform (on the
//! desktop `drafts.json` in the config folder, mode 0600: a draft may hold an `api_key`)
//! half a second after the last keystroke and once more when the window closes, read at the
//! next start and offered back.

mod file;

pub use file::{Draft, DraftFile};

use crate::platform::Platform;
use crate::tasks::Task;
use std::collections::BTreeMap;
use std::time::Duration;
use web_time::Instant;
/// How long after the last change a draft is written.
const WRITE_AFTER: Duration = Duration::from_millis(500);

/// The drafts of this session: those offered back from the last one, and the open editor's.
pub struct Drafts {
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
    /// The drafts `platform` kept, being read.
    pub fn start(platform: &dyn Platform) -> Self {
        let mut loading = Task::default();
        loading.start(platform.load_drafts());
        Self {
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
            self.changed = Some(crate::clock::instant());
        }
        draft
    }

    /// Drops an offered draft.
    pub fn discard_offered(&mut self, service: &str) {
        if self.offered.remove(service).is_some() {
            self.changed = Some(crate::clock::instant());
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
            self.changed = Some(crate::clock::instant());
        }
    }

    /// Takes in the read file and writes changes half a second after the last; returns true
    /// while something is still to be written (the caller asks for a frame then).
    pub fn poll(&mut self, platform: &dyn Platform) -> bool {
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
        self.writing.start(platform.save_drafts(self.file()));
        false
    }

    /// Writes now, on the calling thread (the window is closing).
    pub fn write_now(&mut self, platform: &dyn Platform) {
        if !self.loaded {
            return;
        }
        if let Err(error) = platform.save_drafts_now(&self.file()) {
            tracing::error!(%error, "unsaved drafts could not be kept");
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
