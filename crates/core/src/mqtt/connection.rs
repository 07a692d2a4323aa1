//! The one task that owns the rumqttc event loop: it connects (with a capped exponential
//! backoff while the broker is away), subscribes and announces itself on every ConnAck,
//! hands every message to the [`MessageHandler`], and says goodbye on shutdown.
//!
//! It never awaits a publish (rumqttc #1025): replies use `try_publish`, and slow work (config
//! changes) runs in spawned tasks.

use super::handle::MqttHandle;
use super::handler::{Action, MessageHandler};
use super::payloads::{HealthStatus, SetBase, SetRefusal, SetRequest, SetResult};
use crate::change_sets::ChangeSets;
use crate::config::{
    Actor, ActorKind, Change, ChangeSource, Committed, ConfigError, ConfigService, Origin,
    Precondition, document_from_announcement, last_updated_of,
};
use crate::events::{CoreEvent, EventBus};
use crate::fleet::Role;
use crate::fleet::remote::RemoteEdits;
use crate::ha::HomeAssistant;
use crate::health::HealthRegistry;
use crate::safe_apply::SafeApply;
use bytes::Bytes;
use rumqttc::{ConnectionError, Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// First delay before reconnecting.
const BACKOFF_INITIAL: Duration = Duration::from_millis(200);
/// Longest delay before reconnecting: a returning broker is found within ~3.6 s.
const BACKOFF_MAX: Duration = Duration::from_secs(3);
/// Follower change sets that may wait for the one being decided.
const CHANGE_SET_QUEUE: usize = 1;
/// How long the goodbye (offline health, DISCONNECT) may take.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a cleared config must stay cleared before a follower deletes its copy: past the
/// authority's 5 s repair of a foreign write (CONTRACT §6, §10).
const DELETION_REPAIR_WINDOW: Duration = Duration::from_secs(6);

/// Capped exponential backoff with ±20 % jitter.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    /// The jitter's source (not a secret: a seeded generator is enough).
    jitter: fastrand::Rng,
}

impl Backoff {
    /// Starts at [`BACKOFF_INITIAL`].
    pub fn new() -> Self {
        Self {
            next: BACKOFF_INITIAL,
            jitter: fastrand::Rng::new(),
        }
    }

    /// The delay to wait now; doubles the next one up to [`BACKOFF_MAX`].
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        base.mul_f64(0.8 + self.jitter.f64() * 0.4)
    }

    /// Back to the first delay (after a successful connection).
    pub fn reset(&mut self) {
        self.next = BACKOFF_INITIAL;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// The connection task's state.
pub struct ConnectionTask {
    eventloop: EventLoop,
    mqtt: MqttHandle,
    handler: MessageHandler,
    config: ConfigService,
    events: EventBus,
    remote: Option<RemoteEdits>,
    /// Where `/set` changes are put on watch, and the default watch (CONTRACT §7).
    safe_apply: Option<(SafeApply, HealthRegistry, u64)>,
    /// Where followers' change sets go to be decided (CONTRACT §7, §10).
    change_set_intake: Option<tokio::sync::mpsc::Sender<Bytes>>,
    /// Home Assistant's switch commands (CONTRACT §8).
    home_assistant: Option<HomeAssistant>,
    /// The role the Last Will was set for.
    will_role: Role,
}

impl ConnectionTask {
    /// A task over a fresh event loop.
    pub fn new(
        eventloop: EventLoop,
        mqtt: MqttHandle,
        handler: MessageHandler,
        config: ConfigService,
        events: EventBus,
    ) -> Self {
        let will_role = mqtt.fleet().role();
        Self {
            eventloop,
            mqtt,
            handler,
            config,
            events,
            remote: None,
            safe_apply: None,
            change_set_intake: None,
            home_assistant: None,
            will_role,
        }
    }

    /// Hands mirrored documents to a follower's waiting edits.
    pub fn with_remote(mut self, remote: RemoteEdits) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Puts `/set` changes on watch: the envelope's `watch`, else `default_secs`.
    pub fn with_safe_apply(
        mut self,
        safe_apply: SafeApply,
        health: HealthRegistry,
        default_secs: u64,
    ) -> Self {
        self.safe_apply = Some((safe_apply, health, default_secs));
        self
    }

    /// Answers followers' change sets from `system/changes/set`, one at a time on a task of
    /// their own (CONTRACT §10: at most two payloads over 1 MiB are processed at once; more
    /// wait in a bounded queue, then in the broker).
    pub fn with_change_sets(mut self, change_sets: ChangeSets) -> Self {
        let (intake, mut queued) = tokio::sync::mpsc::channel::<Bytes>(CHANGE_SET_QUEUE);
        let mqtt = self.mqtt.clone();
        tokio::spawn(async move {
            while let Some(payload) = queued.recv().await {
                change_sets.answer_remote(&payload, &mqtt).await;
            }
        });
        self.change_set_intake = Some(intake);
        self
    }

    /// Takes Home Assistant's switch commands while its discovery is on.
    pub fn with_home_assistant(mut self, home_assistant: HomeAssistant) -> Self {
        self.home_assistant = Some(home_assistant);
        self
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new();
        let mut ever_connected = false;
        let mut failures_in_a_row: u64 = 0;
        loop {
            let event = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                event = self.eventloop.poll() => event,
            };
            // The role can change outside this task too (a claim that aged).
            self.sync_role();
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    backoff.reset();
                    failures_in_a_row = 0;
                    self.on_connected(ever_connected);
                    ever_connected = true;
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let actions =
                        self.handler
                            .handle(&publish.topic, publish.payload, publish.retain);
                    let mut stopping = false;
                    for action in actions {
                        if let Action::SubmitChangeSet { payload } = action {
                            let intake = self.change_set_intake.clone();
                            stopping |= !queue_change_set(intake, payload, &mut shutdown).await;
                        } else {
                            self.execute(action);
                        }
                    }
                    if stopping {
                        break;
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => self.on_subscribed(&ack),
                Ok(Event::Outgoing(Outgoing::Publish(_))) => {
                    self.mqtt
                        .shared
                        .counters
                        .published
                        .fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(error) => {
                    failures_in_a_row += 1;
                    self.on_error(&error, failures_in_a_row);
                    let delay = backoff.next_delay();
                    tokio::select! {
                        biased;
                        _ = shutdown.changed() => break,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        self.goodbye().await;
    }

    fn on_connected(&self, reconnect: bool) {
        let shared = &self.mqtt.shared;
        shared.connected.store(true, Ordering::Relaxed);
        *shared.last_error.lock() = None;
        if reconnect {
            shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let client = self.mqtt.client();
        let filters = self
            .mqtt
            .topics()
            .subscriptions()
            .map(|filter| rumqttc::SubscribeFilter::new(filter, QoS::AtLeastOnce));
        if let Err(error) = client.try_subscribe_many(filters) {
            tracing::error!(%error, "could not queue the subscriptions");
        }
        self.handler.on_connected();
        self.mqtt.publish_presence(HealthStatus::Healthy);
        shared.generation.send_modify(|generation| *generation += 1);
        tracing::info!(
            broker = self.mqtt.url(),
            reconnect,
            "connected to the MQTT broker"
        );
        self.events.emit(CoreEvent::Connection {
            connected: true,
            reason: None,
        });
    }

    /// The broker's answer to the subscriptions (one SUBSCRIBE with the four filters, so its
    /// codes are theirs in order): each outcome logged, refusals kept for `/api/system` and
    /// the checks (CONTRACT §9).
    fn on_subscribed(&self, ack: &rumqttc::SubAck) {
        let filters = self.mqtt.topics().subscriptions();
        let mut refused = Vec::new();
        for (filter, code) in filters.iter().zip(&ack.return_codes) {
            match code {
                rumqttc::SubscribeReasonCode::Success(qos) => {
                    tracing::info!(filter, qos = *qos as u8, "subscribed");
                }
                rumqttc::SubscribeReasonCode::Failure => {
                    tracing::error!(
                        filter,
                        "the MQTT broker refused the subscription: nothing on these topics will arrive (check the broker's rights for this login)"
                    );
                    refused.push(filter.clone());
                }
            }
        }
        let changed = {
            let mut kept = self.mqtt.shared.subscriptions_refused.lock();
            let changed = *kept != refused;
            *kept = refused;
            changed
        };
        if changed {
            self.events.emit(CoreEvent::FleetChanged);
        }
    }

    fn on_error(&self, error: &ConnectionError, failures_in_a_row: u64) {
        self.mqtt.fleet().mark_disconnected();
        let shared = &self.mqtt.shared;
        let was_connected = shared.connected.swap(false, Ordering::Relaxed);
        shared
            .counters
            .connection_failures
            .fetch_add(1, Ordering::Relaxed);
        let reason = describe(error);
        *shared.last_error.lock() = Some(reason.clone());
        if was_connected {
            tracing::warn!(broker = self.mqtt.url(), %reason, "lost the MQTT broker; reconnecting");
            self.events.emit(CoreEvent::Connection {
                connected: false,
                reason: Some(reason),
            });
        } else if failures_in_a_row == 1 || failures_in_a_row.is_power_of_two() {
            tracing::warn!(
                broker = self.mqtt.url(),
                %reason,
                attempts = failures_in_a_row,
                "cannot reach the MQTT broker; retrying"
            );
            if failures_in_a_row == 1 {
                self.events.emit(CoreEvent::Connection {
                    connected: false,
                    reason: Some(reason),
                });
            }
        }
    }

    fn execute(&mut self, action: Action) {
        match action {
            Action::SubmitSet { service, request } => self.submit_set(service, request),
            Action::HaSwitch { service, on } => {
                let Some(ha) = self.home_assistant.clone().filter(HomeAssistant::enabled) else {
                    tracing::debug!(service, "a Home Assistant command while discovery is off: ignored");
                    return;
                };
                let config = self.config.clone();
                tokio::spawn(async move {
                    match ha.switch(&config, &service, on).await {
                        Ok(()) => tracing::info!(service, on, "Home Assistant switched the service"),
                        Err(error) => {
                            tracing::warn!(service, on, %error, "Home Assistant's switch command was refused")
                        }
                    }
                });
            }
            Action::RefuseChangeSet {
                request_id,
                error,
                status,
            } => {
                let body = serde_json::json!({
                    "error": error,
                    "details": [],
                    "status": status,
                    "instance_id": self.mqtt.fleet().instance_id(),
                });
                let topic = self.mqtt.topics().changes_result(&request_id);
                let payload = serde_json::to_vec(&body).unwrap_or_default();
                if let Err(error) = self.mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
                    tracing::warn!(request_id, %error, "could not answer a follower's change set");
                }
            }
            Action::SubmitChangeSet { .. } => {
                // Queued by the run loop (it may wait for room: CONTRACT §10).
            }
            Action::RefuseSet { service, refusal } => {
                publish_refusal(&self.mqtt, &service, &refusal)
            }
            Action::CreateFromAnnouncement(announcement) => {
                let service = announcement.service_name.clone();
                let change = Change::Put {
                    service: service.clone(),
                    document: document_from_announcement(&announcement),
                    precondition: Precondition::Absent,
                };
                if let Ok(answer) = self.config.try_submit(change, ChangeSource::Discovery) {
                    tokio::spawn(async move {
                        match answer.await {
                            Ok(Ok(_)) => tracing::info!(
                                service,
                                "created a config for a newly discovered service"
                            ),
                            Ok(Err(ConfigError::Conflict { .. })) => {}
                            Ok(Err(error)) => {
                                tracing::warn!(service, %error, "could not create a config from the announcement")
                            }
                            Err(_) => {}
                        }
                    });
                }
            }
            Action::Mirror { service, document } => self.mirror(service, document),
            Action::MirrorDeletion { service, seen } => self.mirror_deletion(service, seen),
            Action::PublishPresence => self.mqtt.publish_presence(HealthStatus::Healthy),
            Action::SteppedDown => self.role_changed(
                "another manager became the authority; this one steps down and follows it",
            ),
            Action::Resumed => self.role_changed(
                "the authority claim this manager stepped down for is no longer valid; it is the authority again",
            ),
            Action::RestoreConfig { service } => self.mqtt.owned().restore(&service),
            Action::RestoreSchema { service } => {
                let enforced = self.config.settings_schema(&service);
                super::schema_publisher::publish_schema(&self.mqtt, &service, enforced.as_ref());
            }
        }
    }

    /// Applies a `/set` request: its `base` becomes the precondition (a base that is not the
    /// current document's `last_updated` is refused at once as a conflict), its actor is
    /// recorded (else `mqtt`); any refusal goes to `/error`.
    fn submit_set(&self, service: String, request: SetRequest) {
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
    fn mirror_deletion(&self, service: String, seen: u64) {
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
    fn mirror(&self, service: String, document: serde_json::Value) {
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

    /// This manager's role changed while handling a message: it says so on the topic of its
    /// new role, and its Will moves there for the next connection.
    fn role_changed(&mut self, why: &str) {
        let fleet = self.mqtt.fleet().clone();
        tracing::warn!(
            role = fleet.role().as_str(),
            follows = fleet.state().authority.map(|a| a.instance_id),
            "{why}"
        );
        self.sync_role();
        self.mqtt.publish_presence(HealthStatus::Healthy);
        self.events.emit(CoreEvent::FleetChanged);
    }

    /// Follows a change of role, wherever it happened (here, or a claim that aged): the Last
    /// Will of the next CONNECT moves to the new role's presence topic, and a manager that
    /// became the authority clears the configs others retained while it followed for services
    /// it does not hold (the publisher publishes every stored one again: CONTRACT §6).
    fn sync_role(&mut self) {
        let fleet = self.mqtt.fleet().clone();
        let role = fleet.role();
        if role == self.will_role {
            return;
        }
        self.will_role = role;
        let topics = self.mqtt.topics().clone();
        self.eventloop.mqtt_options.set_last_will(LastWill::new(
            fleet.presence_topic(&topics),
            fleet.presence_payload(HealthStatus::Unhealthy),
            QoS::AtLeastOnce,
            true,
        ));
        if role == Role::Authority {
            let stored = self.config.snapshot();
            for service in self.handler.config_topics_seen() {
                if !stored.documents.contains_key(&service) {
                    self.mqtt.owned().restore(&service);
                }
            }
        }
    }

    /// Publishes the offline health and disconnects cleanly.
    async fn goodbye(mut self) {
        let shared = &self.mqtt.shared;
        if !shared.connected.swap(false, Ordering::Relaxed) {
            return;
        }
        let client = self.mqtt.client().clone();
        self.mqtt.publish_presence(HealthStatus::Unhealthy);
        if let Err(error) = client.try_disconnect() {
            tracing::debug!(%error, "the DISCONNECT was not queued; the connection just closes");
        }
        // After the DISCONNECT is sent, reading goes on until the broker closes the connection:
        // a socket closed with unread data in it (a busy broker keeps sending) is reset, and a
        // reset can lose the goodbye that was sent just before it.
        let mut disconnect_sent = false;
        let drained = tokio::time::timeout(GOODBYE_TIMEOUT, async {
            loop {
                match self.eventloop.poll().await {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => disconnect_sent = true,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        })
        .await;
        if drained.is_err() && !disconnect_sent {
            tracing::warn!("the MQTT broker did not take the goodbye in time");
        } else {
            tracing::info!("disconnected from the MQTT broker");
        }
    }
}

/// Hands a change set to its task; waits (reading nothing more from the broker) while the
/// queue is full. False when shutdown came first.
async fn queue_change_set(
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

fn refuse_set(mqtt: &MqttHandle, service: &str, error: &ConfigError, request_id: Option<&str>) {
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
fn publish_result(mqtt: &MqttHandle, service: &str, request_id: &str, committed: &Committed) {
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

fn publish_refusal(mqtt: &MqttHandle, service: &str, refusal: &SetRefusal) {
    let topic = mqtt.topics().config_error(service);
    let payload = serde_json::to_vec(refusal).unwrap_or_default();
    if let Err(error) = mqtt.publish(&topic, payload, QoS::AtLeastOnce, false) {
        tracing::warn!(service, %error, "could not publish a /set refusal");
    }
}

fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(io) => format!("{io}"),
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?})")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_and_resets() {
        let mut backoff = Backoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(160) && delays[0] <= Duration::from_millis(240));
        assert!(delays[1] >= Duration::from_millis(320));
        for delay in &delays[5..] {
            assert!(*delay >= BACKOFF_MAX.mul_f64(0.8) && *delay <= BACKOFF_MAX.mul_f64(1.2));
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(240));
    }
}
