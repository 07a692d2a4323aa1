//! Change sets (CONTRACT §7): several services changed as one. Every document is validated
//! and the checks across services run on the fleet as the set would leave it; any invalid
//! member or new error refuses the whole set (new warnings too, unless allowed). Accepted, all
//! members are stored in one commit with a shared `change_id`, watched as one when asked, and
//! can be rolled back as one. A follower sends the set to the authority as one MQTT request
//! (`system/changes/set`, answered on `system/changes/result/<request_id>`).
//!
//! - [`request`]: reading a set's request (REST body or MQTT payload);
//! - [`findings`]: the checks on the fleet as it would be;
//! - [`undo`]: what rolling a set back stores.

mod findings;
pub mod undo;

use crate::config::{
    Actor, ActorKind, Change, ChangeSetCommit, ChangeSource, Committed, ConfigError, ConfigService,
    FieldError, Origin, Precondition, REMOTE_ANSWER_TIMEOUT,
};
use crate::fleet::remote::RemoteEdits;
use crate::health::HealthRegistry;
use crate::mqtt::{MqttHandle, QoS};
use crate::random::unique_id;
use crate::safe_apply::SafeApply;
pub use alicia_model::change_sets::{
    ChangeSetAnswer, ChangeSetRequest, MAX_MEMBERS, RequestError, SetPreview, WireExtras, request,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a follower waits for the authority's documents of an accepted set to be mirrored.
const MIRROR_CATCH_UP: Duration = Duration::from_secs(3);

/// Decides, stores, watches and undoes change sets; cheap to clone.
#[derive(Clone)]
pub struct ChangeSets {
    config: ConfigService,
    health: HealthRegistry,
    safe_apply: SafeApply,
    default_watch: u64,
    remote: Option<RemoteEdits>,
}

impl ChangeSets {
    /// Change sets over `config`, watched by `safe_apply` for `default_watch` seconds when a
    /// set does not say (the `safe_apply_secs` setting).
    pub fn new(
        config: ConfigService,
        health: HealthRegistry,
        safe_apply: SafeApply,
        default_watch: u64,
    ) -> Self {
        Self {
            config,
            health,
            safe_apply,
            default_watch,
            remote: None,
        }
    }

    /// Sends sets to the authority while this manager follows it.
    pub fn with_remote(mut self, remote: RemoteEdits) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Decides and stores a set made by `origin` (on a follower: sends it to the authority
    /// and answers with the authority's answer once its documents are mirrored here).
    pub async fn apply(
        &self,
        request: ChangeSetRequest,
        origin: Origin,
    ) -> Result<ChangeSetAnswer, ConfigError> {
        if self.config.forwards() {
            return self.forward(&request, origin.actor).await;
        }
        let change_id = unique_id();
        let services = request.services();
        let changes = request
            .documents
            .into_iter()
            .zip(&services)
            .map(|(document, service)| Change::Put {
                service: service.clone(),
                document,
                precondition: Precondition::None,
            })
            .collect();
        let check = findings::set_check(
            self.config.clone(),
            self.health.clone(),
            services,
            request.allow_warnings,
        );
        let committed = self
            .config
            .commit_set(ChangeSetCommit {
                changes,
                origin: origin.in_change_set(&change_id),
                check: Some(check),
            })
            .await?;
        let watch = request.watch.unwrap_or(self.default_watch);
        let members: Vec<undo::Member> = committed
            .iter()
            .map(|c| (c.service.clone(), c.revision))
            .collect();
        tracing::info!(
            change_id,
            members = members.len(),
            watch,
            "change set stored"
        );
        self.safe_apply
            .start_set(&change_id, &members, watch, &self.health, &self.config);
        Ok(ChangeSetAnswer::of(change_id, &committed))
    }

    /// What storing `documents` as a set would do now: each member validated, and the new
    /// findings of the checks across services (the documents taken as they are, before the
    /// manager stamps them).
    pub fn preview(&self, documents: &[Value]) -> SetPreview {
        let before = self.config.snapshot();
        let mut after = crate::config::Snapshot::clone(&before);
        let mut invalid = Vec::new();
        for (index, document) in documents.iter().enumerate() {
            let service = document
                .get("service_name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            invalid.extend(
                self.config
                    .validate(service, document)
                    .into_iter()
                    .map(|e| FieldError::new(format!("/documents/{index}{}", e.path), e.message)),
            );
            let revision = before.documents.get(service).map_or(0, |s| s.revision);
            after.documents.insert(
                service.to_owned(),
                crate::config::StoredDocument {
                    document: Arc::new(document.clone()),
                    revision,
                },
            );
        }
        let findings = findings::new_findings(&self.config, &self.health, &before, &after);
        SetPreview { invalid, findings }
    }

    /// Rolls the set `change_id` back as one new set: every member's document before it
    /// stored again, a member it created deleted. Refused when a member changed since,
    /// unless `force`. Only on the authority (a follower's history holds no change ids).
    pub async fn rollback(
        &self,
        change_id: &str,
        force: bool,
        actor: Actor,
    ) -> Result<ChangeSetAnswer, ConfigError> {
        if self.config.forwards() {
            return Err(ConfigError::OnlyOnAuthority(
                "a follower cannot roll a change set back; roll it back on the authority"
                    .to_owned(),
            ));
        }
        let members = undo::members_of(&self.config, change_id);
        if members.is_empty() {
            return Err(ConfigError::ChangeSetNotFound {
                change_id: change_id.to_owned(),
            });
        }
        undo::check_unchanged(&self.config, change_id, &members, force)?;
        let origin = Origin::new(ChangeSource::Rollback, actor);
        let (new_id, committed) = self.store_undo(&members, origin).await?;
        tracing::info!(
            change_id,
            rollback = new_id,
            force,
            "change set rolled back"
        );
        Ok(ChangeSetAnswer::of(new_id, &committed))
    }

    /// Stores the undoing of `members` as one new set; returns its id and members.
    async fn store_undo(
        &self,
        members: &[undo::Member],
        origin: Origin,
    ) -> Result<(String, Vec<Committed>), ConfigError> {
        let new_id = unique_id();
        let changes = undo::undo_changes(&self.config, members)?;
        if changes.is_empty() {
            return Ok((new_id, Vec::new()));
        }
        let committed = self
            .config
            .commit_set(ChangeSetCommit {
                changes,
                origin: origin.in_change_set(&new_id),
                check: None,
            })
            .await?;
        Ok((new_id, committed))
    }

    /// Safe apply's undo of a watched set (CONTRACT §7): the members still as the set left
    /// them, with the reason that triggered it. Returns each member's new revision.
    pub async fn undo_watched(
        &self,
        members: &[undo::Member],
        reason: &str,
    ) -> Result<Vec<Committed>, ConfigError> {
        let unchanged: Vec<undo::Member> = members
            .iter()
            .filter(|(service, revision)| {
                self.config.get(service).map(|s| s.revision) == Some(*revision)
            })
            .cloned()
            .collect();
        let origin = Origin::new(ChangeSource::Rollback, Actor::of_kind(ActorKind::System))
            .with_reason(reason);
        Ok(self.store_undo(&unchanged, origin).await?.1)
    }

    /// The authority answers a follower's set from `system/changes/set` on its result topic.
    /// `payload` is the message as it arrived: read by [`ChangeSetRequest::from_wire`], never
    /// as one JSON tree.
    pub async fn answer_remote(&self, payload: &[u8], mqtt: &MqttHandle) {
        let (extras, decided) = match ChangeSetRequest::from_wire(payload) {
            Ok((extras, set)) => {
                let decided = self.decide_remote(set, extras.actor.as_ref()).await;
                (extras, decided)
            }
            Err((extras, error)) => (extras, Err(request_refusal(&error))),
        };
        let Some(request_id) = extras
            .request_id
            .as_deref()
            .filter(|id| crate::random::is_request_id(id))
        else {
            tracing::warn!(
                "a change set without a valid request_id (32 lowercase hex digits) was ignored: there is nowhere to answer it"
            );
            return;
        };
        let mut body = match decided {
            Ok(answer) => json!(answer),
            Err((status, error, details)) => {
                json!({"error": error, "details": details, "status": status})
            }
        };
        // The answer says who gave it: a follower takes it from its authority only (§10).
        body["instance_id"] = json!(mqtt.fleet().instance_id());
        let topic = mqtt.topics().changes_result(request_id);
        let payload = serde_json::to_vec(&body).unwrap_or_default();
        if let Err(error) = mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
            tracing::warn!(request_id, %error, "could not answer a follower's change set");
        }
    }

    async fn decide_remote(
        &self,
        set: ChangeSetRequest,
        actor: Option<&Value>,
    ) -> Result<ChangeSetAnswer, (u16, String, Vec<FieldError>)> {
        let actor = match actor {
            None | Some(Value::Null) => Actor::of_kind(ActorKind::Mqtt),
            Some(wire) => Actor::from_wire(wire).map_err(|(path, message)| {
                let path = format!("/actor{path}");
                (
                    400,
                    format!("the change set is invalid: {path} {message}"),
                    vec![FieldError::new(path, message)],
                )
            })?,
        };
        self.apply(set, Origin::new(ChangeSource::Mqtt, actor))
            .await
            .map_err(|error| {
                let details = match &error {
                    ConfigError::Invalid { details }
                    | ConfigError::NewFindings { details }
                    | ConfigError::RefusedByAuthority { details, .. } => details.clone(),
                    _ => Vec::new(),
                };
                (wire_status(&error), error.to_string(), details)
            })
    }

    /// A follower sends the set to the authority and waits for its answer.
    async fn forward(
        &self,
        request: &ChangeSetRequest,
        actor: Actor,
    ) -> Result<ChangeSetAnswer, ConfigError> {
        let Some(remote) = &self.remote else {
            return Err(ConfigError::NoAuthority(
                "this manager follows another but cannot reach it".to_owned(),
            ));
        };
        let services = request.services();
        let before: Vec<Option<Arc<Value>>> = services
            .iter()
            .map(|s| self.config.get(s).map(|d| d.document))
            .collect();
        let (request_id, answer) = remote.send_set(request.to_wire(), actor)?;
        let body = match tokio::time::timeout(REMOTE_ANSWER_TIMEOUT, answer).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => return Err(ConfigError::Unavailable),
            Err(_) => {
                return Err(ConfigError::NoAnswer {
                    secs: REMOTE_ANSWER_TIMEOUT.as_secs(),
                    request_id,
                });
            }
        };
        if let Ok(answer) = serde_json::from_value::<ChangeSetAnswer>(body.clone()) {
            self.mirrored(&services, &before).await;
            // The authority watches the set; here its countdown is shown.
            let members: Vec<undo::Member> = services
                .iter()
                .filter_map(|s| Some((s.clone(), self.config.get(s)?.revision)))
                .collect();
            let watch = request.watch.unwrap_or(self.default_watch);
            self.safe_apply.start_set(
                &answer.change_id,
                &members,
                watch,
                &self.health,
                &self.config,
            );
            return Ok(answer);
        }
        Err(refusal_from_wire(&body))
    }

    /// Waits (briefly) until every member's document differs here from `before`: the
    /// authority's documents were mirrored.
    async fn mirrored(&self, services: &[String], before: &[Option<Arc<Value>>]) {
        let mut snapshots = self.config.watch();
        let caught_up = |snapshot: &Arc<crate::config::Snapshot>| {
            services.iter().zip(before).all(|(service, old)| {
                snapshot.documents.get(service).map(|d| &d.document) != old.as_ref()
            })
        };
        // A timeout only means the answer comes before the mirror: it stands.
        let _ = tokio::time::timeout(MIRROR_CATCH_UP, snapshots.wait_for(caught_up)).await;
    }
}

/// A request that could not even be decided, as the answer's status, error and details.
fn request_refusal(error: &RequestError) -> (u16, String, Vec<FieldError>) {
    let status = match error {
        RequestError::TooLarge(_) => 413,
        RequestError::Invalid(_) => 400,
    };
    let details = match error {
        RequestError::Invalid(details) => details.clone(),
        RequestError::TooLarge(_) => Vec::new(),
    };
    (status, error.message(), details)
}

/// The HTTP status a refusal answers with, carried in a follower's answer so that it answers
/// as the authority did.
fn wire_status(error: &ConfigError) -> u16 {
    match error {
        ConfigError::Invalid { .. }
        | ConfigError::NewFindings { .. }
        | ConfigError::RefusedByAuthority { .. }
        | ConfigError::RevisionIsDeletion { .. } => 400,
        ConfigError::NotFound { .. }
        | ConfigError::RevisionNotFound { .. }
        | ConfigError::ChangeSetNotFound { .. }
        | ConfigError::NoPendingSchema { .. } => 404,
        ConfigError::OnlyOnAuthority(_)
        | ConfigError::MembersChanged { .. }
        | ConfigError::BeforeSetForgotten { .. } => 409,
        ConfigError::Conflict { .. } => 412,
        ConfigError::DiskFull(_) => 507,
        _ => 503,
    }
}

/// The authority's refusal as this follower's error.
fn refusal_from_wire(body: &Value) -> ConfigError {
    let error = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("the authority refused the change set")
        .to_owned();
    let details: Vec<FieldError> = body
        .get("details")
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    match body.get("status").and_then(Value::as_u64) {
        Some(507) => ConfigError::DiskFull(error),
        Some(400 | 413) | None => ConfigError::RefusedByAuthority { error, details },
        Some(409) => ConfigError::OnlyOnAuthority(error),
        Some(_) => ConfigError::Storage(error),
    }
}
