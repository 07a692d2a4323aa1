//! The config service: the documents, their revisions and history, and the one writer task
//! that stores every accepted change.
//!
//! Reads are lock-free snapshots (`Arc<Snapshot>` behind a `watch`). Writes are requests to a
//! single writer task, which validates them in order and commits them in batches: one atomic
//! `config.json` write and one fsynced history append per batch (group commit), then answers
//! every request of the batch. A change is acknowledged only once it is on disk.
//!
//! Write order: `config.json` first, then the history. At start-up any document in
//! `config.json` that differs from its latest history entry (a crash between the two writes,
//! or an edit made by hand while the app was stopped) is recorded as an `import` change.

use super::document::{last_updated_of, seed_default_document};
use super::history::{ChangeSource, HistoryEntry, HistoryLog};
use super::mask::restore_masked_key;
use super::schema::{FieldError, SettingsSchema, validate_document};
use super::store::{self, LoadError};
use crate::core::clock::{next_timestamp_after, now_rfc3339};
use crate::core::events::{CoreEvent, EventBus};
use crate::core::fsutil::{remove_stale_temp_files, write_atomic};
use crate::core::locks::{lock, read, write};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{mpsc, oneshot, watch};

/// Revisions kept per service, in memory and in the history file, unless configured.
pub const DEFAULT_HISTORY_LIMIT: usize = 100;
/// Most changes committed together in one write.
const BATCH_LIMIT: usize = 256;
/// Changes that may wait for the writer before callers are slowed down.
const QUEUE_CAPACITY: usize = 1024;

/// Where the config service keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `config.json`, the seed's format.
    pub config_file: PathBuf,
    /// `history.jsonl`, the append-only history.
    pub history_file: PathBuf,
}

impl ConfigPaths {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            config_file: dir.join("config.json"),
            history_file: dir.join("history.jsonl"),
        }
    }
}

/// A stored document and the revision that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// The document, secrets included.
    pub document: Arc<Value>,
    /// The revision of its last accepted change.
    pub revision: u64,
}

/// Every stored document at one moment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    /// By service name.
    pub documents: BTreeMap<String, StoredDocument>,
}

/// What must hold for a change to be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Nothing: last writer wins.
    #[default]
    None,
    /// The service is still at this revision (the editor's base; REST `If-Match`).
    Revision(u64),
    /// The service has no document yet.
    Absent,
}

/// A change request.
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or replace a document.
    Put {
        /// The service (the document's `service_name` must match).
        service: String,
        /// The new document.
        document: Value,
        /// What must hold.
        precondition: Precondition,
    },
    /// Delete a document.
    Delete {
        /// The service.
        service: String,
        /// What must hold.
        precondition: Precondition,
    },
    /// Make an old revision current again, as a new change.
    Rollback {
        /// The service.
        service: String,
        /// The revision to bring back.
        revision: u64,
    },
    /// A follower copies what the authority published, exactly as published (`None`: the
    /// authority deleted the service). Never forwarded, never validated again.
    Mirror {
        /// The service.
        service: String,
        /// The authority's document.
        document: Option<Value>,
    },
}

impl Change {
    fn service(&self) -> &str {
        match self {
            Self::Put { service, .. }
            | Self::Delete { service, .. }
            | Self::Rollback { service, .. }
            | Self::Mirror { service, .. } => service,
        }
    }
}

/// An accepted, stored change.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    /// The service.
    pub service: String,
    /// The new revision.
    pub revision: u64,
    /// The new document, `None` after a delete.
    pub document: Option<Arc<Value>>,
    /// True when the service had no document before.
    pub created: bool,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The document breaks the schema; every failing field is listed.
    #[error("the configuration is invalid: {}", summarize(.details))]
    Invalid {
        /// Each failing field by JSON Pointer.
        details: Vec<FieldError>,
    },
    /// The change was based on a revision that is no longer current.
    #[error("{service} was changed meanwhile (it is now at {})", describe_revision(*.current))]
    Conflict {
        /// The service.
        service: String,
        /// Its current revision (`None`: it has no document).
        current: Option<u64>,
    },
    /// No document for that service.
    #[error("no configuration for {service}")]
    NotFound {
        /// The service.
        service: String,
    },
    /// The history holds no such revision for that service.
    #[error("{service} has no revision {revision} in its history")]
    RevisionNotFound {
        /// The service.
        service: String,
        /// The revision asked for.
        revision: u64,
    },
    /// That revision deleted the service: there is no document to bring back.
    #[error("revision {revision} deleted {service}; there is no document to roll back to")]
    RevisionIsDeletion {
        /// The service.
        service: String,
        /// The revision asked for.
        revision: u64,
    },
    /// Too many changes are waiting to be stored.
    #[error("too many changes are waiting to be stored; try again")]
    Busy,
    /// The change could not be written to disk; nothing was changed.
    #[error("the change could not be stored: {0}")]
    Storage(String),
    /// The service is shutting down.
    #[error("the config service is not accepting changes (shutting down)")]
    Unavailable,
    /// A follower with no live authority to send the change to.
    #[error("{0}")]
    NoAuthority(String),
    /// The authority refused a follower's change (its `/error` answer).
    #[error("the authority refused the change: {error}")]
    RefusedByAuthority {
        /// The authority's sentence.
        error: String,
        /// The failing fields, as the authority named them.
        details: Vec<FieldError>,
    },
    /// The authority did not answer a follower's change in time.
    #[error("the authority did not answer within {0} s; the change may still land")]
    NoAnswer(u64),
    /// Something only the authority can do.
    #[error("{0}")]
    OnlyOnAuthority(String),
    /// A mirrored document equal to the stored one (nothing to record).
    #[error("unchanged")]
    Unchanged,
}

/// Where a follower's changes go: to the authority (over MQTT `/set`).
pub trait Remote: Send + Sync {
    /// True while changes must be forwarded (this manager follows another).
    fn active(&self) -> bool;
    /// Sends a full document for `service`; the receiver yields the authority's answer once
    /// it is mirrored here (or its refusal).
    fn send(
        &self,
        service: &str,
        document: Value,
    ) -> Result<oneshot::Receiver<Result<Committed, ConfigError>>, ConfigError>;
}

/// How long a follower waits for the authority's answer.
pub const REMOTE_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn summarize(details: &[FieldError]) -> String {
    let shown: Vec<String> = details
        .iter()
        .take(3)
        .map(|e| format!("{} {}", display_path(&e.path), e.message))
        .collect();
    let more = details.len().saturating_sub(3);
    if more > 0 {
        format!("{} (and {more} more)", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(document)" } else { path }
}

fn describe_revision(revision: Option<u64>) -> String {
    revision.map_or_else(|| "no document".to_owned(), |r| format!("revision {r}"))
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

type Reply = oneshot::Sender<Result<Committed, ConfigError>>;

enum Request {
    Change {
        change: Change,
        source: ChangeSource,
        reply: Reply,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
    Restore {
        restore: Restore,
        reply: oneshot::Sender<Result<Vec<Committed>, ConfigError>>,
    },
}

/// A whole store to bring back (from a backup): every document and the history behind them.
#[derive(Debug, Clone, Default)]
pub struct Restore {
    /// The documents, by service; a masked `api_key` keeps the key stored now.
    pub documents: BTreeMap<String, Value>,
    /// The history to keep, in any order.
    pub history: Vec<HistoryEntry>,
}

struct Shared {
    paths: ConfigPaths,
    snapshot: watch::Sender<Arc<Snapshot>>,
    history: RwLock<HashMap<String, VecDeque<Arc<HistoryEntry>>>>,
    settings_schemas: RwLock<HashMap<String, SettingsSchema>>,
    events: EventBus,
    history_limit: usize,
    accepting: AtomicBool,
    remote: std::sync::OnceLock<Arc<dyn Remote>>,
}

/// Handle to the config service; cheap to clone.
#[derive(Clone)]
pub struct ConfigService {
    shared: Arc<Shared>,
    requests: mpsc::Sender<Request>,
}

/// The writer task: run it with [`ConfigWriter::run`] on the runtime.
pub struct ConfigWriter {
    shared: Arc<Shared>,
    requests: mpsc::Receiver<Request>,
    log: Arc<Mutex<HistoryLog>>,
    next_revision: u64,
}

impl ConfigService {
    /// Opens the store: loads `config.json` (writing the seed's default when missing), loads
    /// the history and reconciles the two. Blocking file I/O: call it before the UI starts or
    /// from a blocking task.
    pub fn open(
        paths: ConfigPaths,
        events: EventBus,
        history_limit: usize,
    ) -> Result<(Self, ConfigWriter, OpenReport), OpenError> {
        let mut report = OpenReport::default();
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OpenError::Io { path, source }
        };
        let leftovers = remove_stale_temp_files(&paths.config_file)
            + remove_stale_temp_files(&paths.history_file);
        if leftovers > 0 {
            report.warnings.push(format!(
                "removed {leftovers} temp file(s) left by an interrupted write (the stored files are intact)"
            ));
        }
        let documents = match store::load(&paths.config_file)? {
            Some(documents) => documents,
            None => {
                let default = seed_default_document(&now_rfc3339());
                let mut map = BTreeMap::new();
                map.insert("whisper-service".to_owned(), Arc::new(default.clone()));
                write_atomic(&paths.config_file, &store::render(&map))
                    .map_err(io_error(&paths.config_file))?;
                report.created_default = true;
                [("whisper-service".to_owned(), default)]
                    .into_iter()
                    .collect()
            }
        };
        for (name, document) in &documents {
            if document.get("service_name").and_then(Value::as_str) != Some(name.as_str()) {
                report.warnings.push(format!(
                    "{}: /{name}/service_name does not match its key {name:?}",
                    paths.config_file.display()
                ));
            }
            for error in validate_document(document, None) {
                report.warnings.push(format!(
                    "{}: /{name}{} {}",
                    paths.config_file.display(),
                    error.path,
                    error.message
                ));
            }
        }

        let (mut log, loaded) =
            HistoryLog::open(&paths.history_file).map_err(io_error(&paths.history_file))?;
        report.warnings.extend(loaded.warnings);
        let mut latest: HashMap<String, HistoryEntry> = HashMap::new();
        let mut next_revision = 1;
        for entry in &loaded.entries {
            next_revision = next_revision.max(entry.revision + 1);
            latest.insert(entry.service.clone(), entry.clone());
        }

        let mut imports = Vec::new();
        let mut snapshot = Snapshot::default();
        for (name, document) in documents {
            let document = Arc::new(document);
            let revision = match latest.get(&name) {
                Some(entry) if entry.document.as_deref() == Some(&*document) => entry.revision,
                _ => {
                    let revision = next_revision;
                    next_revision += 1;
                    imports.push(HistoryEntry {
                        revision,
                        service: name.clone(),
                        last_updated: last_updated_of(&document)
                            .map_or_else(now_rfc3339, str::to_owned),
                        source: ChangeSource::Import,
                        document: Some(Arc::clone(&document)),
                    });
                    revision
                }
            };
            snapshot
                .documents
                .insert(name, StoredDocument { document, revision });
        }
        let mut vanished: Vec<&HistoryEntry> = latest
            .values()
            .filter(|e| e.document.is_some() && !snapshot.documents.contains_key(&e.service))
            .collect();
        vanished.sort_by_key(|e| e.revision);
        for entry in vanished {
            imports.push(HistoryEntry {
                revision: next_revision,
                service: entry.service.clone(),
                last_updated: now_rfc3339(),
                source: ChangeSource::Import,
                document: None,
            });
            next_revision += 1;
        }
        if !imports.is_empty() && !loaded.entries.is_empty() {
            report.warnings.push(format!(
                "{} differs from its history for {} service(s); recorded as `import` changes",
                paths.config_file.display(),
                imports.len()
            ));
        }
        log.append(&imports)
            .map_err(io_error(&paths.history_file))?;

        let mut history: HashMap<String, VecDeque<Arc<HistoryEntry>>> = HashMap::new();
        for entry in loaded.entries.into_iter().chain(imports) {
            push_bounded(&mut history, Arc::new(entry), history_limit);
        }
        compact_if_large(&mut log, &history).map_err(io_error(&paths.history_file))?;

        let (snapshot_tx, _) = watch::channel(Arc::new(snapshot));
        let shared = Arc::new(Shared {
            paths,
            snapshot: snapshot_tx,
            history: RwLock::new(history),
            settings_schemas: RwLock::new(HashMap::new()),
            events,
            history_limit: history_limit.max(1),
            accepting: AtomicBool::new(true),
            remote: std::sync::OnceLock::new(),
        });
        let (requests_tx, requests_rx) = mpsc::channel(QUEUE_CAPACITY);
        let writer = ConfigWriter {
            shared: Arc::clone(&shared),
            requests: requests_rx,
            log: Arc::new(Mutex::new(log)),
            next_revision,
        };
        Ok((
            Self {
                shared,
                requests: requests_tx,
            },
            writer,
            report,
        ))
    }

    /// The files this service uses.
    pub fn paths(&self) -> &ConfigPaths {
        &self.shared.paths
    }

    /// True while changes are accepted (the writer runs).
    pub fn is_ready(&self) -> bool {
        self.shared.accepting.load(Ordering::Relaxed)
    }

    /// Every document now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.shared.snapshot.borrow())
    }

    /// Watches the documents: wakes on every committed batch.
    pub fn watch(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.shared.snapshot.subscribe()
    }

    /// One service's document.
    pub fn get(&self, service: &str) -> Option<StoredDocument> {
        self.shared
            .snapshot
            .borrow()
            .documents
            .get(service)
            .cloned()
    }

    /// A service's retained revisions, newest first.
    pub fn history(&self, service: &str) -> Vec<Arc<HistoryEntry>> {
        read(&self.shared.history)
            .get(service)
            .map(|entries| entries.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// The settings schema a service announced, if any.
    pub fn settings_schema(&self, service: &str) -> Option<SettingsSchema> {
        read(&self.shared.settings_schemas).get(service).cloned()
    }

    /// Records (or forgets) the settings schema a service announced; later changes to its
    /// `config.settings` are checked against it.
    pub fn set_settings_schema(&self, service: &str, schema: Option<SettingsSchema>) {
        let mut schemas = write(&self.shared.settings_schemas);
        match schema {
            Some(schema) => schemas.insert(service.to_owned(), schema),
            None => schemas.remove(service),
        };
    }

    /// Checks a document as [`ConfigService::put`] would, without storing it (for forms that
    /// validate as the admin types).
    pub fn validate(&self, service: &str, document: &Value) -> Vec<FieldError> {
        let stored = self.get(service);
        match prepare_document(&self.shared, service, document.clone(), stored.as_ref()) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid { details }) => details,
            Err(other) => vec![FieldError::new("", other.to_string())],
        }
    }

    /// Creates or replaces a document.
    pub async fn put(
        &self,
        service: &str,
        document: Value,
        source: ChangeSource,
        precondition: Precondition,
    ) -> Result<Committed, ConfigError> {
        let change = Change::Put {
            service: service.to_owned(),
            document,
            precondition,
        };
        self.submit(change, source).await
    }

    /// Deletes a document.
    pub async fn delete(
        &self,
        service: &str,
        source: ChangeSource,
        precondition: Precondition,
    ) -> Result<Committed, ConfigError> {
        let change = Change::Delete {
            service: service.to_owned(),
            precondition,
        };
        self.submit(change, source).await
    }

    /// Makes an old revision current again (a new change with source `rollback`).
    pub async fn rollback(&self, service: &str, revision: u64) -> Result<Committed, ConfigError> {
        let change = Change::Rollback {
            service: service.to_owned(),
            revision,
        };
        self.submit(change, ChangeSource::Rollback).await
    }

    /// Installs where a follower's changes go (once, at start).
    pub fn set_remote(&self, remote: Arc<dyn Remote>) {
        let _ = self.shared.remote.set(remote);
    }

    /// Sends any change to the writer and waits until it is stored (or refused). On a
    /// follower, every change but a mirror goes to the authority instead, and the answer is
    /// the authority's.
    pub async fn submit(
        &self,
        change: Change,
        source: ChangeSource,
    ) -> Result<Committed, ConfigError> {
        if let Some(remote) = self.shared.remote.get().filter(|r| r.active())
            && !matches!(change, Change::Mirror { .. })
        {
            return self.forward(remote.as_ref(), change).await;
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Change {
                change,
                source,
                reply,
            })
            .await
            .map_err(|_| ConfigError::Unavailable)?;
        answer.await.unwrap_or(Err(ConfigError::Unavailable))
    }

    async fn forward(&self, remote: &dyn Remote, change: Change) -> Result<Committed, ConfigError> {
        let (service, mut document) = match change {
            Change::Put {
                service,
                document,
                precondition,
            } => {
                check_precondition(&service, self.get(&service).as_ref(), precondition)?;
                (service, document)
            }
            Change::Rollback { service, revision } => {
                let old = find_revision(&self.shared, &service, revision)?;
                (service, Value::clone(&old))
            }
            Change::Delete { .. } => {
                return Err(ConfigError::OnlyOnAuthority(
                    "a follower cannot delete a service (MQTT /set carries documents only); \
                     delete it on the authority"
                        .to_owned(),
                ));
            }
            Change::Mirror { .. } => {
                return Err(ConfigError::OnlyOnAuthority(
                    "a mirror of the authority's document is stored here, never sent back"
                        .to_owned(),
                ));
            }
        };
        let stored = self.get(&service);
        restore_masked_key(&mut document, stored.as_ref().map(|s| &*s.document));
        let answer = remote.send(&service, document)?;
        match tokio::time::timeout(REMOTE_ANSWER_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ConfigError::Unavailable),
            Err(_) => Err(ConfigError::NoAnswer(REMOTE_ANSWER_TIMEOUT.as_secs())),
        }
    }

    /// Queues a change without waiting (for the MQTT connection task, which must never
    /// block); the receiver yields the outcome. Queued changes are applied in order.
    pub fn try_submit(
        &self,
        change: Change,
        source: ChangeSource,
    ) -> Result<oneshot::Receiver<Result<Committed, ConfigError>>, ConfigError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .try_send(Request::Change {
                change,
                source,
                reply,
            })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => ConfigError::Busy,
                mpsc::error::TrySendError::Closed(_) => ConfigError::Unavailable,
            })?;
        Ok(answer)
    }

    /// Every retained history entry of every service, oldest first.
    pub fn all_history(&self) -> Vec<Arc<HistoryEntry>> {
        let mut entries: Vec<Arc<HistoryEntry>> = read(&self.shared.history)
            .values()
            .flat_map(|entries| entries.iter().cloned())
            .collect();
        entries.sort_by_key(|e| e.revision);
        entries
    }

    /// Replaces the whole store with `restore` (a backup): validates every document first
    /// (nothing changes if one is refused), keeps a copy of the files it replaces in a
    /// `before-restore-<time>` folder beside them, takes the backup's history, and records
    /// one `import` revision for each service the restore changes (deletions included).
    /// Only the authority restores.
    pub async fn restore(&self, restore: Restore) -> Result<Vec<Committed>, ConfigError> {
        if self.shared.remote.get().is_some_and(|r| r.active()) {
            return Err(ConfigError::OnlyOnAuthority(
                "a follower cannot restore a backup; restore it on the authority".to_owned(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Restore { restore, reply })
            .await
            .map_err(|_| ConfigError::Unavailable)?;
        answer.await.unwrap_or(Err(ConfigError::Unavailable))
    }

    /// Stores every change already queued, then stops accepting changes.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}

impl ConfigWriter {
    /// Runs until [`ConfigService::shutdown`].
    pub async fn run(mut self) {
        while let Some(first) = self.requests.recv().await {
            let mut batch = Vec::new();
            let mut shutdown = None;
            match first {
                Request::Change {
                    change,
                    source,
                    reply,
                } => batch.push((change, source, reply)),
                Request::Shutdown { done } => shutdown = Some(done),
                Request::Restore { restore, reply } => {
                    let _ = reply.send(self.restore(restore).await);
                    continue;
                }
            }
            while shutdown.is_none() && batch.len() < BATCH_LIMIT {
                match self.requests.try_recv() {
                    Ok(Request::Change {
                        change,
                        source,
                        reply,
                    }) => batch.push((change, source, reply)),
                    Ok(Request::Shutdown { done }) => shutdown = Some(done),
                    Ok(Request::Restore { restore, reply }) => {
                        if !batch.is_empty() {
                            self.commit(std::mem::take(&mut batch)).await;
                        }
                        let _ = reply.send(self.restore(restore).await);
                    }
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.commit(batch).await;
            }
            if let Some(done) = shutdown {
                self.stop().await;
                let _ = done.send(());
                return;
            }
        }
        self.shared.accepting.store(false, Ordering::Relaxed);
    }

    /// Refuses new changes, stores those already queued.
    async fn stop(&mut self) {
        self.shared.accepting.store(false, Ordering::Relaxed);
        self.requests.close();
        let mut rest = Vec::new();
        while let Ok(request) = self.requests.try_recv() {
            match request {
                Request::Change {
                    change,
                    source,
                    reply,
                } => rest.push((change, source, reply)),
                Request::Shutdown { done } => {
                    let _ = done.send(());
                }
                Request::Restore { reply, .. } => {
                    let _ = reply.send(Err(ConfigError::Unavailable));
                }
            }
        }
        if !rest.is_empty() {
            self.commit(rest).await;
        }
    }

    async fn commit(&mut self, batch: Vec<(Change, ChangeSource, Reply)>) {
        let current = Arc::clone(&self.shared.snapshot.borrow());
        let mut working = current.documents.clone();
        let mut next_revision = self.next_revision;
        let mut accepted = Vec::new();
        for (change, source, reply) in batch {
            let service = change.service().to_owned();
            match apply(
                &self.shared,
                &mut working,
                &mut next_revision,
                change,
                source,
            ) {
                Ok((entry, created)) => accepted.push((entry, created, reply)),
                Err(error) => {
                    if error != ConfigError::Unchanged {
                        tracing::info!(service, %error, "config change refused");
                    }
                    let _ = reply.send(Err(error));
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        let entries: Vec<HistoryEntry> = accepted.iter().map(|(e, _, _)| e.clone()).collect();
        let documents: BTreeMap<String, Arc<Value>> = working
            .iter()
            .map(|(name, stored)| (name.clone(), Arc::clone(&stored.document)))
            .collect();
        let config_file = self.shared.paths.config_file.clone();
        let log = Arc::clone(&self.log);
        let stored = tokio::task::spawn_blocking(move || {
            write_atomic(&config_file, &store::render(&documents))?;
            lock(&log).append(&entries)
        })
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));

        if let Err(error) = stored {
            tracing::error!(
                file = %self.shared.paths.config_file.display(),
                %error,
                "could not store config changes; they were refused"
            );
            for (_, _, reply) in accepted {
                let _ = reply.send(Err(ConfigError::Storage(error.to_string())));
            }
            return;
        }

        self.next_revision = next_revision;
        self.shared
            .snapshot
            .send_replace(Arc::new(Snapshot { documents: working }));
        {
            let mut history = write(&self.shared.history);
            for (entry, _, _) in &accepted {
                push_bounded(
                    &mut history,
                    Arc::new(entry.clone()),
                    self.shared.history_limit,
                );
            }
        }
        for (entry, created, reply) in accepted {
            let _ = reply.send(Ok(self.announce(entry, created, "config change stored")));
        }
        self.compact().await;
    }

    async fn restore(&mut self, restore: Restore) -> Result<Vec<Committed>, ConfigError> {
        let current = Arc::clone(&self.shared.snapshot.borrow());
        let mut details = Vec::new();
        let mut documents = BTreeMap::new();
        for (service, mut document) in restore.documents {
            let stored = current.documents.get(&service);
            restore_masked_key(&mut document, stored.map(|s| &*s.document));
            if document.get("service_name").and_then(Value::as_str) != Some(service.as_str()) {
                details.push(FieldError::new(
                    format!("/{service}/service_name"),
                    format!("must be {service:?}, its key"),
                ));
            }
            let schema = read(&self.shared.settings_schemas).get(&service).cloned();
            details.extend(
                validate_document(&document, schema.as_ref())
                    .into_iter()
                    .map(|e| FieldError::new(format!("/{service}{}", e.path), e.message)),
            );
            documents.insert(service, Arc::new(document));
        }
        if !details.is_empty() {
            return Err(ConfigError::Invalid { details });
        }
        let mut history = restore.history;
        history.sort_by_key(|e| e.revision);
        let mut next_revision = history
            .last()
            .map_or(self.next_revision, |e| e.revision + 1)
            .max(self.next_revision);
        let names: std::collections::BTreeSet<&String> =
            current.documents.keys().chain(documents.keys()).collect();
        let mut imports = Vec::new();
        for name in names {
            let before = current.documents.get(name).map(|s| &s.document);
            let after = documents.get(name);
            if before.map(|d| &**d) == after.map(|d| &**d) {
                continue;
            }
            imports.push(HistoryEntry {
                revision: next_revision,
                service: name.clone(),
                last_updated: after
                    .and_then(|d| last_updated_of(d))
                    .map_or_else(now_rfc3339, str::to_owned),
                source: ChangeSource::Import,
                document: after.cloned(),
            });
            next_revision += 1;
        }
        let mut kept: HashMap<String, VecDeque<Arc<HistoryEntry>>> = HashMap::new();
        for entry in history.into_iter().chain(imports.iter().cloned()) {
            push_bounded(&mut kept, Arc::new(entry), self.shared.history_limit);
        }
        let mut snapshot = Snapshot::default();
        for (name, document) in &documents {
            // The newest revision kept for it: its import, else the backup's last.
            let revision = kept
                .get(name)
                .and_then(|entries| entries.back())
                .map(|e| e.revision)
                .or_else(|| current.documents.get(name).map(|s| s.revision))
                .unwrap_or(0);
            snapshot.documents.insert(
                name.clone(),
                StoredDocument {
                    document: Arc::clone(document),
                    revision,
                },
            );
        }
        let all = retained_entries(&kept);

        let paths = self.shared.paths.clone();
        let rendered = store::render(&documents);
        let log = Arc::clone(&self.log);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            keep_copy_before_restore(&paths)?;
            write_atomic(&paths.config_file, &rendered)?;
            lock(&log).rewrite(&all)
        })
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())))
        .map_err(|error| {
            tracing::error!(%error, "could not store the restored configs; nothing was changed");
            ConfigError::Storage(error.to_string())
        })?;

        self.next_revision = next_revision;
        self.shared.snapshot.send_replace(Arc::new(snapshot));
        *write(&self.shared.history) = kept;
        let committed = imports
            .into_iter()
            .map(|entry| {
                let created = !current.documents.contains_key(&entry.service);
                self.announce(entry, created, "config restored")
            })
            .collect();
        Ok(committed)
    }

    /// Logs a stored change and tells every face about it; returns the caller's answer.
    fn announce(&self, entry: HistoryEntry, created: bool, what: &str) -> Committed {
        tracing::info!(
            service = entry.service,
            revision = entry.revision,
            source = entry.source.as_str(),
            deleted = entry.document.is_none(),
            "{what}"
        );
        self.shared.events.emit(CoreEvent::ConfigChanged {
            service: entry.service.clone(),
            revision: entry.revision,
            source: entry.source,
            document: entry.document.clone(),
        });
        Committed {
            service: entry.service,
            revision: entry.revision,
            document: entry.document,
            created,
        }
    }

    async fn compact(&self) {
        let retained: usize = read(&self.shared.history).values().map(VecDeque::len).sum();
        if lock(&self.log).len() <= compaction_threshold(retained) {
            return;
        }
        let history = read(&self.shared.history).clone();
        let log = Arc::clone(&self.log);
        let result =
            tokio::task::spawn_blocking(move || compact_if_large(&mut lock(&log), &history)).await;
        if let Ok(Err(error)) = result {
            tracing::warn!(%error, "could not compact the config history (it keeps growing)");
        }
    }
}

/// Applies one change to the working set; returns its history entry and whether it created
/// the service.
fn apply(
    shared: &Shared,
    working: &mut BTreeMap<String, StoredDocument>,
    next_revision: &mut u64,
    change: Change,
    source: ChangeSource,
) -> Result<(HistoryEntry, bool), ConfigError> {
    let mut mirrored = false;
    let (service, document, precondition) = match change {
        Change::Put {
            service,
            document,
            precondition,
        } => (service, Some(document), precondition),
        Change::Delete {
            service,
            precondition,
        } => (service, None, precondition),
        Change::Rollback { service, revision } => {
            let old = find_revision(shared, &service, revision)?;
            (service, Some(Value::clone(&old)), Precondition::None)
        }
        Change::Mirror { service, document } => {
            if working.get(&service).map(|s| &*s.document) == document.as_ref() {
                return Err(ConfigError::Unchanged);
            }
            mirrored = true;
            (service, document, Precondition::None)
        }
    };
    let stored = working.get(&service);
    check_precondition(&service, stored, precondition)?;
    let created = stored.is_none();
    let revision = *next_revision;
    let entry = match document {
        Some(document) => {
            let document = if mirrored {
                Arc::new(document)
            } else {
                Arc::new(prepare_document(shared, &service, document, stored)?)
            };
            working.insert(
                service.clone(),
                StoredDocument {
                    document: Arc::clone(&document),
                    revision,
                },
            );
            HistoryEntry {
                revision,
                last_updated: last_updated_of(&document).map_or_else(now_rfc3339, str::to_owned),
                service,
                source,
                document: Some(document),
            }
        }
        None => {
            if working.remove(&service).is_none() {
                return Err(ConfigError::NotFound { service });
            }
            HistoryEntry {
                revision,
                service,
                last_updated: now_rfc3339(),
                source,
                document: None,
            }
        }
    };
    *next_revision += 1;
    Ok((entry, created))
}

fn find_revision(shared: &Shared, service: &str, revision: u64) -> Result<Arc<Value>, ConfigError> {
    let history = read(&shared.history);
    let entry = history
        .get(service)
        .and_then(|entries| entries.iter().find(|e| e.revision == revision))
        .ok_or_else(|| ConfigError::RevisionNotFound {
            service: service.to_owned(),
            revision,
        })?;
    entry
        .document
        .clone()
        .ok_or_else(|| ConfigError::RevisionIsDeletion {
            service: service.to_owned(),
            revision,
        })
}

fn check_precondition(
    service: &str,
    stored: Option<&StoredDocument>,
    precondition: Precondition,
) -> Result<(), ConfigError> {
    let current = stored.map(|s| s.revision);
    let holds = match precondition {
        Precondition::None => true,
        Precondition::Revision(base) => current == Some(base),
        Precondition::Absent => current.is_none(),
    };
    if holds {
        Ok(())
    } else {
        Err(ConfigError::Conflict {
            service: service.to_owned(),
            current,
        })
    }
}

/// Restores a masked key, stamps `last_updated` (and a missing `status`), checks the name
/// and validates. Returns the document to store.
fn prepare_document(
    shared: &Shared,
    service: &str,
    mut document: Value,
    stored: Option<&StoredDocument>,
) -> Result<Value, ConfigError> {
    let stored_document = stored.map(|s| &*s.document);
    restore_masked_key(&mut document, stored_document);
    let Some(fields) = document.as_object_mut() else {
        return Err(ConfigError::Invalid {
            details: vec![FieldError::new(
                "",
                "must be a JSON object (a service document)",
            )],
        });
    };
    let mut details = Vec::new();
    if let Some(Value::String(name)) = fields.get("service_name")
        && name != service
    {
        details.push(FieldError::new(
            "/service_name",
            format!("must be {service:?}, the service this change is for"),
        ));
    }
    let stamp = next_timestamp_after(stored_document.and_then(last_updated_of));
    fields.insert("last_updated".to_owned(), Value::String(stamp));
    if !fields.contains_key("status") {
        let status = stored_document
            .and_then(|d| d.get("status"))
            .cloned()
            .unwrap_or_else(|| Value::String("unknown".to_owned()));
        fields.insert("status".to_owned(), status);
    }
    let schema = read(&shared.settings_schemas).get(service).cloned();
    details.extend(validate_document(&document, schema.as_ref()));
    if details.is_empty() {
        Ok(document)
    } else {
        Err(ConfigError::Invalid { details })
    }
}

/// Copies `config.json` and `history.jsonl` into `before-restore-<time>/` beside them.
fn keep_copy_before_restore(paths: &ConfigPaths) -> std::io::Result<()> {
    let Some(dir) = paths.config_file.parent() else {
        return Ok(());
    };
    let stamp = now_rfc3339().replace(':', "-");
    let copy = dir.join(format!("before-restore-{stamp}"));
    crate::core::fsutil::ensure_private_dir(&copy)?;
    for file in [&paths.config_file, &paths.history_file] {
        if let Some(name) = file.file_name()
            && file.exists()
        {
            let bytes = std::fs::read(file)?;
            write_atomic(&copy.join(name), &bytes)?;
        }
    }
    Ok(())
}

fn push_bounded(
    history: &mut HashMap<String, VecDeque<Arc<HistoryEntry>>>,
    entry: Arc<HistoryEntry>,
    limit: usize,
) {
    let entries = history.entry(entry.service.clone()).or_default();
    entries.push_back(entry);
    while entries.len() > limit.max(1) {
        entries.pop_front();
    }
}

/// Rewrites the history file with only the retained entries when it has grown to more than
/// twice their number (plus slack), so it never grows without bound.
fn compact_if_large(
    log: &mut HistoryLog,
    history: &HashMap<String, VecDeque<Arc<HistoryEntry>>>,
) -> std::io::Result<()> {
    let retained: usize = history.values().map(VecDeque::len).sum();
    if log.len() <= compaction_threshold(retained) {
        return Ok(());
    }
    log.rewrite(&retained_entries(history))
}

/// Every retained entry, oldest first (what the history file holds after a rewrite).
fn retained_entries(history: &HashMap<String, VecDeque<Arc<HistoryEntry>>>) -> Vec<HistoryEntry> {
    let mut entries: Vec<HistoryEntry> = history
        .values()
        .flat_map(|entries| entries.iter().map(|e| HistoryEntry::clone(e)))
        .collect();
    entries.sort_by_key(|e| e.revision);
    entries
}

/// History file lines beyond which it is compacted, for `retained` entries kept.
fn compaction_threshold(retained: usize) -> usize {
    retained * 2 + 1000
}
