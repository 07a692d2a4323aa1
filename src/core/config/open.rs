//! Opening the store at start-up: `config.json` (the seed's default written when it is
//! missing), the history, and their reconciliation. Any document in `config.json` that differs
//! from its latest history entry (a crash between the two writes, or an edit made by hand
//! while the app was stopped) is recorded as an `import` change, and so is a service the file
//! no longer holds. Blocking file I/O: run it before the UI starts or on a blocking task.

use super::change::{Snapshot, StoredDocument};
use super::document::seed_default_document;
use super::history::{HistoryEntry, HistoryLog};
use super::rules::{Histories, push_bounded, reconcile};
use super::schema::validate_document;
use super::store::{self, LoadError};
use super::writer::compact_if_large;
use crate::core::clock::now_rfc3339;
use crate::core::fsutil::{remove_stale_temp_files, write_atomic};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Why the config service could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// `config.json` is unreadable or broken (and was left untouched).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What opening found, for the start-up log.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// True when `config.json` did not exist and the default was written.
    pub created_default: bool,
    /// Things worth a warning: invalid stored documents, skipped history lines, imports.
    pub warnings: Vec<String>,
}

/// The store as opened: what the config service starts from.
pub(super) struct OpenedStore {
    /// The documents, each with the revision that made it.
    pub snapshot: Snapshot,
    /// The retained history.
    pub history: Histories,
    /// The history file, open for appending.
    pub log: HistoryLog,
    /// The revision the next change gets.
    pub next_revision: u64,
    /// What was found.
    pub report: OpenReport,
}

/// Opens the store in `paths`, keeping `history_limit` revisions per service.
pub(super) fn open_store(
    paths: &ConfigPaths,
    history_limit: usize,
) -> Result<OpenedStore, OpenError> {
    let mut report = OpenReport::default();
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OpenError::Io { path, source }
    };
    let leftovers =
        remove_stale_temp_files(&paths.config_file) + remove_stale_temp_files(&paths.history_file);
    if leftovers > 0 {
        report.warnings.push(format!(
            "removed {leftovers} temp file(s) left by an interrupted write (the stored files are intact)"
        ));
    }
    let documents: BTreeMap<String, Arc<Value>> = match store::load(&paths.config_file)? {
        Some(documents) => documents
            .into_iter()
            .map(|(name, document)| (name, Arc::new(document)))
            .collect(),
        None => {
            let default = Arc::new(seed_default_document(&now_rfc3339()));
            let map = BTreeMap::from([("whisper-service".to_owned(), default)]);
            write_atomic(&paths.config_file, &store::render(&map))
                .map_err(io_error(&paths.config_file))?;
            report.created_default = true;
            map
        }
    };
    report_invalid_documents(&paths.config_file, &documents, &mut report);

    let (mut log, loaded) =
        HistoryLog::open(&paths.history_file).map_err(io_error(&paths.history_file))?;
    report.warnings.extend(loaded.warnings);
    let mut latest: HashMap<&str, &HistoryEntry> = HashMap::new();
    let mut next_revision = 1;
    for entry in &loaded.entries {
        next_revision = next_revision.max(entry.revision + 1);
        latest.insert(&entry.service, entry);
    }
    let in_history: BTreeMap<String, Arc<Value>> = latest
        .values()
        .filter_map(|e| Some((e.service.clone(), Arc::clone(e.document.as_ref()?))))
        .collect();
    let imports = reconcile(&in_history, &documents, &mut next_revision);
    if !imports.is_empty() && !loaded.entries.is_empty() {
        report.warnings.push(format!(
            "{} differs from its history for {} service(s); recorded as `import` changes",
            paths.config_file.display(),
            imports.len()
        ));
    }
    log.append(&imports)
        .map_err(io_error(&paths.history_file))?;

    let mut snapshot = Snapshot::default();
    for (name, document) in documents {
        let revision = imports
            .iter()
            .find(|e| e.service == name)
            .or_else(|| latest.get(name.as_str()).copied())
            .map_or(0, |e| e.revision);
        snapshot
            .documents
            .insert(name, StoredDocument { document, revision });
    }
    let mut history = Histories::new();
    for entry in loaded.entries.into_iter().chain(imports) {
        push_bounded(&mut history, Arc::new(entry), history_limit);
    }
    compact_if_large(&mut log, &history).map_err(io_error(&paths.history_file))?;
    Ok(OpenedStore {
        snapshot,
        history,
        log,
        next_revision,
        report,
    })
}

/// Adds a warning for each stored document that the schema refuses or whose name does not
/// match its key (they are kept as they are: the admin fixes them).
fn report_invalid_documents(
    file: &Path,
    documents: &BTreeMap<String, Arc<Value>>,
    report: &mut OpenReport,
) {
    for (name, document) in documents {
        if document.get("service_name").and_then(Value::as_str) != Some(name.as_str()) {
            report.warnings.push(format!(
                "{}: /{name}/service_name does not match its key {name:?}",
                file.display()
            ));
        }
        for error in validate_document(document, None) {
            report.warnings.push(format!(
                "{}: /{name}{} {}",
                file.display(),
                error.path,
                error.message
            ));
        }
    }
}
