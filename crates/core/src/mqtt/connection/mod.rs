//! The one task that owns the rumqttc event loop: it connects (with a capped exponential
//! backoff while the broker is away), subscribes and announces itself on every ConnAck,
//! hands every message to the [`MessageHandler`], and says goodbye on shutdown.
//!
//! It never awaits a publish (rumqttc #1025): replies use `try_publish`, and slow work (config
//! changes) runs in spawned tasks.

mod backoff;
mod bus_edits;

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
pub use backoff::Backoff;
use bus_edits::{publish_refusal, queue_change_set};
use bytes::Bytes;
use rumqttc::{ConnectionError, Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// Follower change sets that may wait for the one being decided.
const CHANGE_SET_QUEUE: usize = 1;
/// How long the goodbye (offline health, DISCONNECT) may take.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a cleared config must stay cleared before a follower deletes its copy: past the
/// authority's 5 s repair of a foreign write (CONTRACT §6, §10).
const DELETION_REPAIR_WINDOW: Duration = Duration::from_secs(6);

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

fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(io) => format!("{io}"),
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?})")
        }
        other => other.to_string(),
    }
}
