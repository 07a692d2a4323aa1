//! The config service's handle: the documents, their revisions and history, and the change
//! API every face calls. Reads are lock-free snapshots (`Arc<Snapshot>` behind a `watch`);
//! every change goes to the one writer task ([`super::writer`]), which stores it durably
//! before it is acknowledged. On a follower, changes go to the authority instead.

use super::actor::{Actor, Origin};
use super::change::{
    Change, ChangeSetCommit, Committed, ConfigError, REMOTE_ANSWER_TIMEOUT, Remote, RemoteChange,
    Restore, Snapshot, StoredDocument,
};
use super::document::last_updated_of;
use super::history::{ChangeSource, HistoryEntry};
use super::open::{OpenError, OpenReport, open_store};
use super::paths::ConfigPaths;
use super::prepare::prepare_document;
use super::rules::{check_precondition, find_revision};
use super::schema::{FieldError, SettingsSchema};
use super::secrets::{SecretPaths, mask_document_with, restore_masked_secrets_with};
use super::settings_schemas::{self, SchemaOp, SchemaRecord, Schemas};
use super::shared::Shared;
use super::writer::{ConfigWriter, Request, SchemaInput, SourceKind};
use crate::events::EventBus;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, watch};

/// How many times a follower sends an edit made without a precondition when the authority
/// answers that its document moved meanwhile.
const LAST_WRITER_ATTEMPTS: u32 = 3;

/// How long a follower waits for the authority's current document after a conflict.
const MIRROR_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(3);

/// Revisions kept per service, in memory and in the history file, unless configured.
pub const DEFAULT_HISTORY_LIMIT: usize = 100;
/// Changes that may wait for the writer before callers are slowed down.
const QUEUE_CAPACITY: usize = 1024;

/// Handle to the config service; cheap to clone.
#[derive(Clone)]
pub struct ConfigService {
    shared: Arc<Shared>,
    requests: mpsc::Sender<Request>,
}

impl ConfigService {
    /// Opens the store (see [`super::open`]) and returns the handle with its writer task, which
    /// the caller runs. Blocking file I/O: call it before the UI starts or from a blocking
    /// task.
    pub fn open(
        paths: ConfigPaths,
        events: EventBus,
        history_limit: usize,
    ) -> Result<(Self, ConfigWriter, OpenReport), OpenError> {
        let mut opened = open_store(&paths, history_limit)?;
        let (schemas, warnings) = settings_schemas::load(&paths.schemas_file);
        opened.report.warnings.extend(warnings);
        let (snapshot, _) = watch::channel(Arc::new(opened.snapshot));
        let shared = Arc::new(Shared {
            paths,
            snapshot,
            history: RwLock::new(opened.history),
            settings_schemas: RwLock::new(schemas),
            schemas_changed: watch::channel(0).0,
            events,
            history_limit: history_limit.max(1),
            accepting: AtomicBool::new(true),
            stored_by_source: Mutex::default(),
            remote: OnceLock::new(),
        });
        let (requests, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let writer = ConfigWriter {
            shared: Arc::clone(&shared),
            requests: receiver,
            log: Arc::new(Mutex::new(opened.log)),
            next_revision: opened.next_revision,
        };
        Ok((Self { shared, requests }, writer, opened.report))
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

    /// Changes stored since start, by the channel they came by.
    pub fn stored_by_source(&self) -> std::collections::BTreeMap<ChangeSource, u64> {
        self.shared.stored_by_source.lock().clone()
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
        self.shared
            .history
            .read()
            .get(service)
            .map(|entries| entries.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    /// A service's latest retained change, if any.
    pub fn last_change(&self, service: &str) -> Option<Arc<HistoryEntry>> {
        self.shared
            .history
            .read()
            .get(service)
            .and_then(|entries| entries.back())
            .cloned()
    }

    /// Every retained history entry of every service, oldest first.
    pub fn all_history(&self) -> Vec<Arc<HistoryEntry>> {
        let mut entries: Vec<Arc<HistoryEntry>> = self
            .shared
            .history
            .read()
            .values()
            .flat_map(|entries| entries.iter().cloned())
            .collect();
        entries.sort_by_key(|e| e.revision);
        entries
    }

    /// The members (service, revision) of each change set in `ids`, from the retained
    /// history, in service-name order; one pass over the history, nothing cloned but them.
    pub fn change_set_members(
        &self,
        ids: &std::collections::HashSet<&str>,
    ) -> std::collections::HashMap<String, Vec<(String, u64)>> {
        let mut members: std::collections::HashMap<String, Vec<(String, u64)>> = Default::default();
        if ids.is_empty() {
            return members;
        }
        for entries in self.shared.history.read().values() {
            for entry in entries {
                if let Some(id) = entry.change_id.as_deref()
                    && ids.contains(id)
                {
                    members
                        .entry(id.to_owned())
                        .or_default()
                        .push((entry.service.clone(), entry.revision));
                }
            }
        }
        for list in members.values_mut() {
            list.sort();
        }
        members
    }

    /// The settings schema enforced for a service, if any (CONTRACT §9).
    pub fn settings_schema(&self, service: &str) -> Option<SettingsSchema> {
        self.shared
            .settings_schemas
            .read()
            .get(service)
            .and_then(|r| r.enforced.clone())
    }

    /// A service's settings schemas: enforced and pending.
    pub fn schema_record(&self, service: &str) -> Option<SchemaRecord> {
        self.shared.settings_schemas.read().get(service).cloned()
    }

    /// Every service's settings schemas.
    pub fn schemas(&self) -> Schemas {
        self.shared.settings_schemas.read().clone()
    }

    /// Counts the changes of the settings schemas.
    pub fn schemas_generation(&self) -> u64 {
        *self.shared.schemas_changed.borrow()
    }

    /// Wakes on every change of the settings schemas.
    pub fn watch_schemas(&self) -> watch::Receiver<u64> {
        self.shared.schemas_changed.subscribe()
    }

    /// The secret fields a service's settings schemas declare (paths into its document).
    pub fn secret_paths(&self, service: &str) -> SecretPaths {
        self.shared
            .settings_schemas
            .read()
            .get(service)
            .map(SchemaRecord::secret_paths)
            .unwrap_or_default()
    }

    /// `document` of `service` as shown outside: `api_key` and the secrets its settings
    /// schemas declare masked.
    pub fn mask(&self, service: &str, document: &Value) -> Value {
        mask_document_with(document, &self.secret_paths(service))
    }

    /// A service announced its settings schema (or none), as it arrived: compiled by the
    /// writer (off the MQTT connection task) unless it is recorded already, then stored by
    /// trust on first use (CONTRACT §10, [`settings_schemas::apply_schema_op`]). Queued
    /// without waiting; the service announces again if the queue is full.
    pub fn announce_schema(&self, service: &str, source: Option<Arc<Value>>) {
        self.queue_schema(service, SchemaInput::Source(SourceKind::Announced, source));
    }

    /// A follower copies the authority's enforced settings schema, as it arrived (queued,
    /// like [`ConfigService::announce_schema`]).
    pub fn mirror_schema(&self, service: &str, source: Option<Arc<Value>>) {
        self.queue_schema(service, SchemaInput::Source(SourceKind::Mirror, source));
    }

    /// A follower saw a service announce its settings schema: shown as pending here when it
    /// is not the authority's (queued, like [`ConfigService::announce_schema`]).
    pub fn saw_announced_schema(&self, service: &str, source: Option<Arc<Value>>) {
        self.queue_schema(
            service,
            SchemaInput::Source(SourceKind::SeenByFollower, source),
        );
    }

    fn queue_schema(&self, service: &str, op: SchemaInput) {
        let request = Request::Schema {
            service: service.to_owned(),
            op,
            reply: None,
        };
        if let Err(error) = self.requests.try_send(request) {
            tracing::warn!(service, %error, "a settings schema could not be queued for storing; it is taken when announced again");
        }
    }

    /// An admin accepts the pending settings schema of `service` (CONTRACT §9): it becomes
    /// the enforced one. Only on the authority; refused when none is pending.
    pub async fn accept_schema(&self, service: &str) -> Result<(), ConfigError> {
        if self.forwarding().is_some() {
            return Err(ConfigError::OnlyOnAuthority(
                "a follower cannot accept a settings schema; accept it on the authority".to_owned(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Schema {
                service: service.to_owned(),
                op: SchemaInput::Op(SchemaOp::Accept),
                reply: Some(reply),
            })
            .await
            .map_err(|_| ConfigError::Unavailable)?;
        answer.await.unwrap_or(Err(ConfigError::Unavailable))
    }

    /// Checks a document as [`ConfigService::put`] would, without storing it (for forms that
    /// validate as the admin types).
    pub fn validate(&self, service: &str, document: &Value) -> Vec<FieldError> {
        let stored = self.get(service);
        let schemas = self.schema_record(service);
        let prepared = prepare_document(
            service,
            document.clone(),
            stored.as_ref().map(|s| &*s.document),
            schemas.as_ref(),
            time::OffsetDateTime::now_utc(),
        );
        match prepared {
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
        origin: impl Into<Origin>,
        precondition: super::Precondition,
    ) -> Result<Committed, ConfigError> {
        let change = Change::Put {
            service: service.to_owned(),
            document,
            precondition,
        };
        self.submit(change, origin).await
    }

    /// Deletes a document.
    pub async fn delete(
        &self,
        service: &str,
        origin: impl Into<Origin>,
        precondition: super::Precondition,
    ) -> Result<Committed, ConfigError> {
        let change = Change::Delete {
            service: service.to_owned(),
            precondition,
        };
        self.submit(change, origin).await
    }

    /// Makes an old revision current again (a new change with source `rollback`), at the
    /// request of `actor`.
    pub async fn rollback(
        &self,
        service: &str,
        revision: u64,
        actor: Actor,
    ) -> Result<Committed, ConfigError> {
        self.rollback_as(
            service,
            revision,
            Origin::new(ChangeSource::Rollback, actor),
        )
        .await
    }

    /// [`ConfigService::rollback`] with the whole origin given (a rollback the manager made
    /// by itself carries its reason).
    pub async fn rollback_as(
        &self,
        service: &str,
        revision: u64,
        origin: Origin,
    ) -> Result<Committed, ConfigError> {
        let change = Change::Rollback {
            service: service.to_owned(),
            revision,
        };
        self.submit(change, origin).await
    }

    /// Stores a change set (CONTRACT §7): every member in one commit, each with its own
    /// revision and `origin.change_id`, or none (the first refusal, or every invalid member's
    /// details prefixed `/documents/<index>`). Only on the authority: a follower sends the
    /// whole set to it instead (see [`crate::change_sets`]).
    pub async fn commit_set(&self, set: ChangeSetCommit) -> Result<Vec<Committed>, ConfigError> {
        if self.forwarding().is_some() {
            return Err(ConfigError::OnlyOnAuthority(
                "a follower sends change sets to the authority".to_owned(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Set { set, reply })
            .await
            .map_err(|_| ConfigError::Unavailable)?;
        answer.await.unwrap_or(Err(ConfigError::Unavailable))
    }

    /// Installs where a follower's changes go (once, at start; a second call is ignored).
    pub fn set_remote(&self, remote: Arc<dyn Remote>) {
        if self.shared.remote.set(remote).is_err() {
            tracing::warn!("the follower's route to the authority was already set; kept it");
        }
    }

    /// True while this manager's changes go to the authority (it follows another).
    pub fn forwards(&self) -> bool {
        self.forwarding().is_some()
    }

    fn forwarding(&self) -> Option<&Arc<dyn Remote>> {
        self.shared.remote.get().filter(|r| r.active())
    }

    /// Sends any change to the writer and waits until it is stored (or refused). On a
    /// follower, every change but a mirror goes to the authority instead, and the answer is
    /// the authority's.
    pub async fn submit(
        &self,
        change: Change,
        origin: impl Into<Origin>,
    ) -> Result<Committed, ConfigError> {
        let origin = origin.into();
        if let Some(remote) = self.forwarding()
            && !matches!(change, Change::Mirror { .. })
        {
            return self.forward(remote.as_ref(), change, origin).await;
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Change {
                change,
                origin,
                reply,
            })
            .await
            .map_err(|_| ConfigError::Unavailable)?;
        answer.await.unwrap_or(Err(ConfigError::Unavailable))
    }

    async fn forward(
        &self,
        remote: &dyn Remote,
        change: Change,
        origin: Origin,
    ) -> Result<Committed, ConfigError> {
        // An edit made without a precondition means "last writer wins": a conflict only says
        // this manager's mirror was behind, and the edit goes again from the authority's
        // current document (a few times at most).
        let (service, mut document, last_writer_wins) = match change {
            Change::Put {
                service,
                document,
                precondition,
            } => {
                check_precondition(&service, self.get(&service).as_ref(), precondition)?;
                (service, document, precondition == super::Precondition::None)
            }
            Change::Rollback { service, revision } => {
                let old = find_revision(&self.shared.history.read(), &service, revision)?;
                (service, Value::clone(&old), true)
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
        restore_masked_secrets_with(
            &mut document,
            stored.as_ref().map(|s| &*s.document),
            &self.secret_paths(&service),
        )
        .map_err(|details| ConfigError::Invalid { details })?;
        let mut base = stored
            .as_ref()
            .and_then(|s| last_updated_of(&s.document))
            .map(str::to_owned);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let change = RemoteChange {
                document: document.clone(),
                base: base.clone(),
                actor: origin.actor.clone(),
                watch: origin.watch,
            };
            let sent = remote.send(&service, change)?;
            let result = match tokio::time::timeout(REMOTE_ANSWER_TIMEOUT, sent.answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(ConfigError::Unavailable),
                Err(_) => Err(ConfigError::NoAnswer {
                    secs: REMOTE_ANSWER_TIMEOUT.as_secs(),
                    request_id: sent.request_id,
                }),
            };
            match result {
                Err(ConfigError::Conflict {
                    current_last_updated,
                    ..
                }) if last_writer_wins && attempts < LAST_WRITER_ATTEMPTS => {
                    base = current_last_updated;
                }
                Err(ConfigError::Conflict {
                    current_last_updated,
                    ..
                }) => {
                    return Err(self
                        .conflict_once_mirrored(&service, current_last_updated)
                        .await);
                }
                other => return other,
            }
        }
    }

    /// The authority refused a follower's change as based on an old document: waits (briefly)
    /// until the authority's current document is mirrored here, so that the conflict is
    /// shown against it, as a local one would be.
    async fn conflict_once_mirrored(
        &self,
        service: &str,
        current_last_updated: Option<String>,
    ) -> ConfigError {
        let mut snapshots = self.watch();
        let mirrored = |snapshot: &Snapshot| {
            let stored = snapshot.documents.get(service);
            stored.and_then(|s| last_updated_of(&s.document)) == current_last_updated.as_deref()
        };
        // A timeout (or a closed store) only means the conflict is shown against what is here.
        let _ = tokio::time::timeout(
            MIRROR_CATCH_UP,
            snapshots.wait_for(|snapshot| mirrored(snapshot)),
        )
        .await;
        let stored = self.get(service);
        ConfigError::Conflict {
            service: service.to_owned(),
            current: stored.as_ref().map(|s| s.revision),
            current_last_updated,
        }
    }

    /// Queues a change without waiting (for the MQTT connection task, which must never
    /// block); the receiver yields the outcome. Queued changes are applied in order.
    pub fn try_submit(
        &self,
        change: Change,
        origin: impl Into<Origin>,
    ) -> Result<oneshot::Receiver<Result<Committed, ConfigError>>, ConfigError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .try_send(Request::Change {
                change,
                origin: origin.into(),
                reply,
            })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => ConfigError::Busy,
                mpsc::error::TrySendError::Closed(_) => ConfigError::Unavailable,
            })?;
        Ok(answer)
    }

    /// Replaces the whole store with `restore` (a backup): validates every document first
    /// (nothing changes if one is refused), keeps a copy of the files it replaces in a
    /// `before-restore-<time>` folder beside them, takes the backup's history, and records
    /// one `import` revision for each service the restore changes (deletions included).
    /// Only the authority restores.
    pub async fn restore(&self, restore: Restore) -> Result<Vec<Committed>, ConfigError> {
        if self.forwarding().is_some() {
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
            // An error only says the writer is gone already: nothing left to wait for.
            let _ = finished.await;
        }
    }
}
