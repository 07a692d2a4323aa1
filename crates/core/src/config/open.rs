//! Opening the store at start-up: `config.json` (the seed's default written when it is
//! missing), the history, and their reconciliation. Any document in `config.json` that differs
//! from its latest history entry (a crash between the two writes, or an edit made by hand
//! while the app was stopped) is recorded as an `import` change, and so is a service the file
//! no longer holds. Blocking file I/O: run it before the UI starts or on a blocking task.

use super::change::{Snapshot, StoredDocument};
use super::compaction::compact_if_large;
use super::document::seed_default_document;
use super::history::{HistoryEntry, HistoryLog};
pub use super::paths::ConfigPaths;
use super::rules::{Histories, push_bounded, reconcile};
use super::schema::validate_document;
use super::store::{self, LoadError};
use crate::clock::now_rfc3339;
use crate::fsutil::{remove_stale_temp_files, write_atomic};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

    let (mut log, mut loaded) =
        HistoryLog::open(&paths.history_file).map_err(io_error(&paths.history_file))?;
    report.warnings.extend(std::mem::take(&mut loaded.warnings));
    let unfinished = unfinished_change_set(&loaded.entries, &documents);
    if unfinished > 0 {
        // A change set is all or nothing (CONTRACT §7): its entries reached the history but
        // config.json was never written (a crash between the two): it was never acknowledged.
        let kept = loaded.entries.len() - unfinished;
        loaded.entries.truncate(kept);
        log.rewrite(&loaded.entries)
            .map_err(io_error(&paths.history_file))?;
        report.warnings.push(format!(
            "{}: the last change set ({unfinished} entries) was cut short by a stop before it was stored; it was taken out of the history",
            paths.history_file.display()
        ));
    }
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

/// How many entries at the end of the history belong to a change set that `config.json` does
/// not hold at all: the set was interrupted between its history append and the `config.json`
/// write (or in the middle of the append), so none of it was stored. A set some of whose
/// members `config.json` holds was stored, and was edited by hand since: it stays.
fn unfinished_change_set(
    entries: &[HistoryEntry],
    documents: &BTreeMap<String, Arc<Value>>,
) -> usize {
    let Some(change_id) = entries.last().and_then(|e| e.change_id.as_deref()) else {
        return 0;
    };
    let members = entries
        .iter()
        .rev()
        .take_while(|e| e.change_id.as_deref() == Some(change_id))
        .count();
    let stored = entries[entries.len() - members..]
        .iter()
        .any(|entry| documents.get(&entry.service).map(|d| &**d) == entry.document.as_deref());
    if stored { 0 } else { members }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChangeSource, HistoryLog};
    use serde_json::json;

    fn entry(revision: u64, service: &str, model: &str, change_id: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            revision,
            service: service.to_owned(),
            last_updated: format!("2026-01-0{revision}T00:00:00.000Z"),
            source: ChangeSource::Rest,
            actor: None,
            reason: None,
            change_id: change_id.map(str::to_owned),
            document: Some(Arc::new(json!({"service_name": service, "model": model}))),
            created: false,
        }
    }

    /// A change set whose entries reached the history but not config.json (a crash between
    /// the two writes, or in the middle of the append) was never stored: opening takes it
    /// out of the history; a stored set stays.
    #[test]
    fn an_interrupted_change_set_is_taken_out_of_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::in_dir(dir.path());
        let stored = [entry(1, "a", "one", None), entry(2, "b", "one", None)];
        let stored_set = [
            entry(3, "a", "two", Some("s1")),
            entry(4, "b", "two", Some("s1")),
        ];
        // Half of the next set made it into the history before the crash.
        let torn = [entry(5, "a", "three", Some("s2"))];
        let (mut log, _) = HistoryLog::open(&paths.history_file).unwrap();
        log.append(&stored).unwrap();
        log.append(&stored_set).unwrap();
        log.append(&torn).unwrap();
        drop(log);
        let documents: BTreeMap<String, Arc<Value>> = stored_set
            .iter()
            .map(|e| (e.service.clone(), Arc::clone(e.document.as_ref().unwrap())))
            .collect();
        write_atomic(&paths.config_file, &store::render(&documents)).unwrap();

        let opened = open_store(&paths, 100).unwrap();
        assert!(
            opened
                .report
                .warnings
                .iter()
                .any(|w| w.contains("change set")),
            "{:?}",
            opened.report.warnings
        );
        let revisions: Vec<u64> = opened.history["a"].iter().map(|e| e.revision).collect();
        assert_eq!(
            revisions,
            [1, 3],
            "the torn set is gone, the stored one stays"
        );
        assert_eq!(opened.snapshot.documents["a"].revision, 3);
        let (_, reread) = HistoryLog::open(&paths.history_file).unwrap();
        assert_eq!(reread.entries.len(), 4, "and gone from the file");
        assert!(unfinished_change_set(&reread.entries, &documents) == 0);
    }
}
