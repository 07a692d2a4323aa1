//! Edits that arrive on the bus for the authority (a follower's `/set` and change sets) and
//! what a follower mirrors of the authority's documents: each submitted to the config service
//! off the connection task, and answered on the bus.

use super::*;

impl ConnectionTask {
    /// Applies a `/set` request: its `base` becomes the precondition (a base that is not the
    /// current document's `last_updated` is refused at once as a conflict), its actor is
    /// recorded (else `mqtt`); any refusal goes to `/error`.
    pub(super) fn submit_set(&self, service: String, request: SetRequest) {
        let request_id = request.request_id.clone();
        let current = self.config.get(&service);
        let precondition = match &request.base {
            SetBase::Unstated => Precondition::None,
            SetBase::Absent => Precondition::Absent,
            SetBase::LastUpdated(base) => match &current {
                Some(stored) if last_updated_of(&stored.document) == Some(base.as_str()) => {
                    Precondition::Revision(stored.revision)
                }
                _ => {
                    let current_last_updated = current
                        .as_ref()
                        .and_then(|s| last_updated_of(&s.document))
                        .map(str::to_owned);
                    tracing::info!(
                        service,
                        base,
                        current = current_last_updated,
                        "refused a /set based on an old document"
                    );
                    publish_refusal(
                        &self.mqtt,
                        &service,
                        &SetRefusal::conflict(current_last_updated)
                            .answering(request_id.as_deref()),
                    );
                    return;
                }
            },
        };
        // What the bus says of who made the change is recorded as claimed (CONTRACT §10).
        let actor = request
            .actor
            .map(Actor::claimed)
            .unwrap_or_else(|| Actor::of_kind(ActorKind::Mqtt));
        let change = Change::Put {
            service: service.clone(),
            document: request.document,
            precondition,
        };
        let watch = self
            .safe_apply
            .clone()
            .map(|(safe, health, default)| (safe, health, request.watch.unwrap_or(default)));
        match self
            .config
            .try_submit(change, Origin::new(ChangeSource::Mqtt, actor))
        {
            Ok(answer) => {
                let mqtt = self.mqtt.clone();
                let config = self.config.clone();
                tokio::spawn(async move {
                    match answer.await {
                        Ok(Err(error)) => {
                            refuse_set(&mqtt, &service, &error, request_id.as_deref());
                        }
                        Ok(Ok(committed)) => {
                            if let Some(request_id) = &request_id {
                                publish_result(&mqtt, &service, request_id, &committed);
                            }
                            if let Some((safe, health, secs)) = watch {
                                safe.start(&service, committed.revision, secs, &health, &config);
                            }
                        }
                        Err(_) => {}
                    }
                });
            }
            Err(error) => refuse_set(&self.mqtt, &service, &error, request_id.as_deref()),
        }
    }

    /// A deletion seen on the authority's topic: applied only if nothing arrived for the
    /// service during the repair window (§6: the authority publishes its document again
    /// within 5 s of a foreign write) and the authority is live then (CONTRACT §10). It is a
    /// revision of the history like any other, restorable.
    pub(super) fn mirror_deletion(&self, service: String, seen: u64) {
        let sightings = self.handler.sightings();
        let fleet = self.mqtt.fleet().clone();
        let config = self.config.clone();
        let remote = self.remote.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DELETION_REPAIR_WINDOW).await;
            if sightings.seen(&service) != seen {
                tracing::debug!(
                    service,
                    "a cleared config was replaced within the repair window"
                );
                return;
            }
            if !fleet.state().has_live_authority() {
                tracing::warn!(
                    service,
                    "a cleared config was not mirrored: no live authority to stand behind it"
                );
                return;
            }
            let change = Change::Mirror {
                service: service.clone(),
                document: None,
            };
            if let Ok(answer) = config.try_submit(change, ChangeSource::Mqtt)
                && let Ok(Ok(committed)) = answer.await
            {
                tracing::info!(service, "the authority deleted the service; mirrored");
                if let Some(remote) = remote {
                    remote.answered(&committed);
                }
            }
        });
    }

    /// Stores the authority's document here; a follower's edit waiting for it hears it.
    pub(super) fn mirror(&self, service: String, document: serde_json::Value) {
        let change = Change::Mirror {
            service: service.clone(),
            document: Some(document),
        };
        match self.config.try_submit(change, ChangeSource::Mqtt) {
            Ok(answer) => {
                let remote = self.remote.clone();
                tokio::spawn(async move {
                    match answer.await {
                        Ok(Ok(committed)) => {
                            if let Some(remote) = remote {
                                remote.answered(&committed);
                            }
                        }
                        Ok(Err(ConfigError::Invalid { details })) => tracing::warn!(
                            service,
                            problems = details.len(),
                            first = details.first().map(|d| format!("{} {}", d.path, d.message)),
                            "an invalid config arrived on the authority's topic; not mirrored"
                        ),
                        _ => {}
                    }
                });
            }
            Err(error) => tracing::warn!(%error, "could not mirror the authority's config"),
        }
    }
}

/// Hands a change set to its task; waits (reading nothing more from the broker) while the
/// queue is full. False when shutdown came first.
pub(super) async fn queue_change_set(
    intake: Option<tokio::sync::mpsc::Sender<Bytes>>,
    payload: Bytes,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let Some(intake) = intake else {
        return true;
    };
    tokio::select! {
        biased;
        _ = shutdown.changed() => false,
        sent = intake.send(payload) => {
            if sent.is_err() {
                tracing::warn!("the change-set task has stopped; a follower's change set was not answered");
            }
            true
        }
    }
}

pub(super) fn refuse_set(
    mqtt: &MqttHandle,
    service: &str,
    error: &ConfigError,
    request_id: Option<&str>,
) {
    let refusal = match error {
        ConfigError::Conflict {
            current_last_updated,
            ..
        } => SetRefusal::conflict(current_last_updated.clone()),
        ConfigError::Invalid { details } => SetRefusal {
            error: error.to_string(),
            details: details.clone(),
            current_last_updated: None,
            request_id: None,
        },
        _ => SetRefusal {
            error: error.to_string(),
            details: Vec::new(),
            current_last_updated: None,
            request_id: None,
        },
    };
    publish_refusal(mqtt, service, &refusal.answering(request_id));
}

/// Answers a stored `/set` on `config/<service>/result/<request_id>` (CONTRACT §10): not
/// retained, QoS 1.
pub(super) fn publish_result(
    mqtt: &MqttHandle,
    service: &str,
    request_id: &str,
    committed: &Committed,
) {
    let result = SetResult {
        request_id: request_id.to_owned(),
        revision: committed.revision,
        last_updated: committed
            .document
            .as_deref()
            .and_then(last_updated_of)
            .unwrap_or_default()
            .to_owned(),
        instance_id: mqtt.fleet().instance_id().to_owned(),
    };
    let topic = mqtt.topics().config_result(service, request_id);
    let payload = serde_json::to_vec(&result).unwrap_or_default();
    if let Err(error) = mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
        tracing::warn!(service, %error, "could not answer a stored /set on its result topic");
    }
}

pub(super) fn publish_refusal(mqtt: &MqttHandle, service: &str, refusal: &SetRefusal) {
    let topic = mqtt.topics().config_error(service);
    let payload = serde_json::to_vec(refusal).unwrap_or_default();
    if let Err(error) = mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
        tracing::warn!(service, %error, "could not publish a /set refusal");
    }
}
