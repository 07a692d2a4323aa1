//! The one writer task that stores every accepted change. It takes change requests in order
//! and commits them in batches: the rules decide each change against the documents as the
//! batch leaves them, then one fsynced history append and one atomic `config.json` write store
//! the whole batch (group commit), and only then is every request of the batch answered.
//!
//! Write order (CONTRACT §6: a change is wholly stored and then acknowledged, or not stored at
//! all): the history first, then `config.json`. A failed append is cut back by the log itself;
//! a failed `config.json` write cuts the batch's entries back out of the history, so a refused
//! change is in neither file, after a restart too. A crash between the two writes leaves an
//! unacknowledged entry that opening supersedes with `config.json`'s document (an `import`).
//! A restore writes both new files before renaming either. It also keeps the history compact.

mod restore;
mod schemas;

use super::actor::Origin;
use super::change::{
    Change, ChangeSetCommit, Committed, ConfigError, Restore, Snapshot, StoredDocument,
    refusal_of_io,
};
use super::compaction::compact_if_large;
use super::history::{HistoryEntry, HistoryLog};
use super::paths::ConfigPaths;
use super::rules::{
    Histories, Rules, apply_change, compaction_due, push_bounded, reconcile, retained_entries,
};
use super::schema::{FieldError, SettingsSchema, validate_document};
use super::secrets::restore_masked_secrets_with;
use super::settings_schemas::{self, SchemaOp, SchemaRecord};
use super::shared::Shared;
use super::store;
use crate::clock::now_rfc3339;
use crate::events::CoreEvent;
use crate::fsutil::{write_atomic, write_atomic_all};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// Most changes committed together in one write.
const BATCH_LIMIT: usize = 256;

/// Where a change's outcome goes.
pub(super) type Reply = oneshot::Sender<Result<Committed, ConfigError>>;

/// What the handle asks of the writer.
pub(super) enum Request {
    /// Store a change (or refuse it).
    Change {
        change: Change,
        origin: Origin,
        reply: Reply,
    },
    /// Store what is queued, then stop.
    Shutdown { done: oneshot::Sender<()> },
    /// Replace the whole store with a backup.
    Restore {
        restore: Restore,
        reply: oneshot::Sender<Result<Vec<Committed>, ConfigError>>,
    },
    /// Store a change set: every member or none (CONTRACT §7).
    Set {
        set: ChangeSetCommit,
        reply: oneshot::Sender<Result<Vec<Committed>, ConfigError>>,
    },
    /// Change a service's settings schemas (CONTRACT §9); `reply` when someone waits.
    Schema {
        service: String,
        op: SchemaInput,
        reply: Option<oneshot::Sender<Result<(), ConfigError>>>,
    },
}

/// A settings-schema change as it is asked for.
pub(super) enum SchemaInput {
    /// Decided already (an admin's acceptance, a deletion).
    Op(SchemaOp),
    /// A schema as it arrived on the bus (`None`: none), compiled here — off the MQTT
    /// connection task, and only when it is not the schema recorded already (CONTRACT §10).
    Source(SourceKind, Option<Arc<Value>>),
}

/// What a schema that arrived on the bus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SourceKind {
    /// A service's announcement, on the authority.
    Announced,
    /// The authority's enforced schema, on a follower.
    Mirror,
    /// A service's announcement, seen by a follower.
    SeenByFollower,
}

impl SourceKind {
    fn op(self, schema: Option<SettingsSchema>) -> SchemaOp {
        match self {
            Self::Announced => SchemaOp::Announced(schema),
            Self::Mirror => SchemaOp::Mirror(schema),
            Self::SeenByFollower => SchemaOp::SeenByFollower(schema),
        }
    }
}

/// A settings-schema change and whoever waits for its outcome.
type SchemaRequest = (
    String,
    SchemaInput,
    Option<oneshot::Sender<Result<(), ConfigError>>>,
);

/// The services these entries delete.
fn deleted_services<'a>(entries: impl Iterator<Item = &'a HistoryEntry>) -> Vec<String> {
    entries
        .filter(|entry| entry.document.is_none())
        .map(|entry| entry.service.clone())
        .collect()
}

/// Sends an outcome to whoever asked.
fn answer<T>(reply: oneshot::Sender<T>, outcome: T) {
    // An error only says the caller stopped waiting (it gave up, or shut down): the outcome
    // stands either way.
    let _ = reply.send(outcome);
}

/// The writer task: run it with [`ConfigWriter::run`] on the runtime.
pub struct ConfigWriter {
    pub(super) shared: Arc<Shared>,
    pub(super) requests: mpsc::Receiver<Request>,
    pub(super) log: Arc<Mutex<HistoryLog>>,
    pub(super) next_revision: u64,
}

impl ConfigWriter {
    /// Runs until [`super::ConfigService::shutdown`].
    pub async fn run(mut self) {
        while let Some(first) = self.requests.recv().await {
            let mut batch = Vec::new();
            // Settings-schema changes gathered with a batch are applied right after it, so
            // that a stream of announcements does not break the group commit.
            let mut schema_ops = Vec::new();
            let mut shutdown = None;
            match first {
                Request::Change {
                    change,
                    origin,
                    reply,
                } => batch.push((change, origin, reply)),
                Request::Shutdown { done } => shutdown = Some(done),
                Request::Restore { restore, reply } => {
                    answer(reply, self.restore(restore).await);
                    continue;
                }
                Request::Set { set, reply } => {
                    answer(reply, self.commit_set(set).await);
                    continue;
                }
                Request::Schema { service, op, reply } => schema_ops.push((service, op, reply)),
            }
            while shutdown.is_none() && batch.len() < BATCH_LIMIT {
                match self.requests.try_recv() {
                    Ok(Request::Change {
                        change,
                        origin,
                        reply,
                    }) => batch.push((change, origin, reply)),
                    Ok(Request::Shutdown { done }) => shutdown = Some(done),
                    Ok(Request::Restore { restore, reply }) => {
                        if !batch.is_empty() {
                            self.commit(std::mem::take(&mut batch)).await;
                        }
                        answer(reply, self.restore(restore).await);
                    }
                    Ok(Request::Set { set, reply }) => {
                        if !batch.is_empty() {
                            self.commit(std::mem::take(&mut batch)).await;
                        }
                        answer(reply, self.commit_set(set).await);
                    }
                    Ok(Request::Schema { service, op, reply }) => {
                        schema_ops.push((service, op, reply));
                    }
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.commit(batch).await;
            }
            if !schema_ops.is_empty() {
                self.schemas(schema_ops).await;
            }
            if let Some(done) = shutdown {
                self.stop().await;
                answer(done, ());
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
                    origin,
                    reply,
                } => rest.push((change, origin, reply)),
                Request::Shutdown { done } => answer(done, ()),
                Request::Restore { reply, .. } => answer(reply, Err(ConfigError::Unavailable)),
                Request::Set { reply, .. } => answer(reply, Err(ConfigError::Unavailable)),
                Request::Schema { reply, .. } => {
                    if let Some(reply) = reply {
                        answer(reply, Err(ConfigError::Unavailable));
                    }
                }
            }
        }
        if !rest.is_empty() {
            self.commit(rest).await;
        }
    }

    /// Decides every change of a batch, stores the accepted ones in one write, then answers.
    async fn commit(&mut self, batch: Vec<(Change, Origin, Reply)>) {
        let current = Arc::clone(&self.shared.snapshot.borrow());
        let mut working = current.documents.clone();
        let mut next_revision = self.next_revision;
        let mut accepted = Vec::new();
        {
            let schemas = self.shared.settings_schemas.read();
            let history = self.shared.history.read();
            let rules = Rules {
                schemas: &schemas,
                history: &history,
            };
            for (change, origin, reply) in batch {
                let service = change.service().to_owned();
                match apply_change(&rules, &mut working, &mut next_revision, change, origin) {
                    Ok((entry, created)) => accepted.push((entry, created, reply)),
                    Err(error) => {
                        if error != ConfigError::Unchanged {
                            tracing::info!(service, %error, "config change refused");
                        }
                        answer(reply, Err(error));
                    }
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        let entries: Vec<HistoryEntry> = accepted.iter().map(|(e, _, _)| e.clone()).collect();
        if let Err(refusal) = self.persist(entries, &working).await {
            for (_, _, reply) in accepted {
                answer(reply, Err(refusal.clone()));
            }
            return;
        }
        self.install(working, next_revision, accepted.iter().map(|(e, _, _)| e));
        let deleted = deleted_services(accepted.iter().map(|(e, _, _)| e));
        for (entry, created, reply) in accepted {
            answer(
                reply,
                Ok(self.announce(entry, created, "config change stored")),
            );
        }
        self.forget_schemas(deleted).await;
        self.compact().await;
    }

    /// Decides every member of a change set against the documents as the set leaves them,
    /// runs its check on the fleet as it would be, and stores all members in one write — or
    /// refuses the whole set. An invalid member's details are prefixed `/documents/<index>`.
    async fn commit_set(&mut self, set: ChangeSetCommit) -> Result<Vec<Committed>, ConfigError> {
        let current = Arc::clone(&self.shared.snapshot.borrow());
        let mut working = current.documents.clone();
        let mut next_revision = self.next_revision;
        let mut accepted = Vec::new();
        let mut details = Vec::new();
        let mut refusal = None;
        {
            let schemas = self.shared.settings_schemas.read();
            let history = self.shared.history.read();
            let rules = Rules {
                schemas: &schemas,
                history: &history,
            };
            for (index, change) in set.changes.into_iter().enumerate() {
                let origin = set.origin.clone();
                match apply_change(&rules, &mut working, &mut next_revision, change, origin) {
                    Ok(member) => accepted.push(member),
                    Err(ConfigError::Invalid { details: found }) => {
                        details.extend(found.into_iter().map(|e| {
                            FieldError::new(format!("/documents/{index}{}", e.path), e.message)
                        }));
                    }
                    Err(error) => {
                        refusal.get_or_insert(error);
                    }
                }
            }
        }
        if !details.is_empty() {
            return Err(ConfigError::Invalid { details });
        }
        if let Some(error) = refusal {
            return Err(error);
        }
        if let Some(check) = set.check {
            let after = Snapshot {
                documents: working.clone(),
            };
            check(&current, &after)?;
        }
        let entries: Vec<HistoryEntry> = accepted.iter().map(|(e, _)| e.clone()).collect();
        self.persist(entries, &working).await?;
        self.install(working, next_revision, accepted.iter().map(|(e, _)| e));
        let deleted = deleted_services(accepted.iter().map(|(e, _)| e));
        let committed = accepted
            .into_iter()
            .map(|(entry, created)| self.announce(entry, created, "change set member stored"))
            .collect();
        self.forget_schemas(deleted).await;
        self.compact().await;
        Ok(committed)
    }

    /// Stores a commit: the history entries (fsynced), then `config.json` with `documents`;
    /// a failed `config.json` write takes the entries back out of the history.
    async fn persist(
        &self,
        entries: Vec<HistoryEntry>,
        working: &BTreeMap<String, StoredDocument>,
    ) -> Result<(), ConfigError> {
        let documents: BTreeMap<String, Arc<Value>> = working
            .iter()
            .map(|(name, stored)| (name.clone(), Arc::clone(&stored.document)))
            .collect();
        let config_file = self.shared.paths.config_file.clone();
        let log = Arc::clone(&self.log);
        let stored = tokio::task::spawn_blocking(move || {
            let mut log = log.lock();
            let mark = log.append(&entries)?;
            if let Err(error) = write_atomic(&config_file, &store::render(&documents)) {
                if let Err(cut) = log.cut_back(mark) {
                    tracing::error!(%cut, "could not take the refused changes back out of the history; the next start supersedes them with config.json");
                }
                return Err(error);
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
        stored.map_err(|error| {
            tracing::error!(
                file = %self.shared.paths.config_file.display(),
                %error,
                "could not store config changes; they were refused and nothing changed"
            );
            refusal_of_io(&error)
        })
    }

    /// Makes a stored commit current: the documents, the next revision and the history.
    fn install<'a>(
        &mut self,
        working: BTreeMap<String, StoredDocument>,
        next_revision: u64,
        entries: impl Iterator<Item = &'a HistoryEntry>,
    ) {
        self.next_revision = next_revision;
        self.shared
            .snapshot
            .send_replace(Arc::new(Snapshot { documents: working }));
        let mut history = self.shared.history.write();
        for entry in entries {
            push_bounded(
                &mut history,
                Arc::new(entry.clone()),
                self.shared.history_limit,
            );
        }
    }

    /// Logs a stored change and tells every face about it; returns the caller's answer.
    fn announce(&self, entry: HistoryEntry, created: bool, what: &str) -> Committed {
        *self
            .shared
            .stored_by_source
            .lock()
            .entry(entry.source)
            .or_default() += 1;
        tracing::info!(
            service = entry.service,
            revision = entry.revision,
            source = entry.source.as_str(),
            actor = entry.actor().describe(),
            deleted = entry.document.is_none(),
            "{what}"
        );
        self.shared.events.emit(CoreEvent::ConfigChanged {
            service: entry.service.clone(),
            revision: entry.revision,
            source: entry.source,
        });
        Committed {
            service: entry.service,
            revision: entry.revision,
            document: entry.document,
            created,
        }
    }

    /// Rewrites the history file with only the retained entries when it has grown too long.
    async fn compact(&self) {
        if !compaction_due(self.log.lock().len(), &self.shared.history.read()) {
            return;
        }
        let history = self.shared.history.read().clone();
        let log = Arc::clone(&self.log);
        let result =
            tokio::task::spawn_blocking(move || compact_if_large(&mut log.lock(), &history)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not compact the config history (it keeps growing)")
            }
            Err(error) => tracing::warn!(%error, "the history compaction failed"),
        }
    }
}
