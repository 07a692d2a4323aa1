//! What the manager does with each incoming message: record it in the message log, update the
//! registries, emit events, and name the follow-up work (config changes, replies) that the
//! connection task carries out. Runs synchronously on the connection task: no I/O here.

use super::inbound::{Inbound, Parsed, parse, presence_clock_skew};
use super::log_limiter::LogLimiter;
use super::log_view::{HIDDEN_CHANGE_SET_TEXT, LogView};
use super::owned::OwnedConfigs;
use super::payloads::{
    Announcement, HealthReport, HealthStatus, SetRefusal, SetRequest, request_id_of,
};
use super::topics::{MANAGER_SERVICE_NAME, TopicKind, Topics};
use crate::clock::format_rfc3339;
use crate::commands::CommandLog;
use crate::config::ConfigService;
use crate::devices::{DeviceChange, DeviceRegistry};
use crate::events::{CoreEvent, EventBus};
use crate::fleet::remote::RemoteEdits;
use crate::fleet::state::Reaction;
use crate::fleet::{Fleet, Role};
use crate::health::HealthRegistry;
use crate::limits::{
    DEFAULT_MAX_SERVICES, RING_DATA_LIMIT, check_json_density, human_size, payload_limit,
};
use crate::messages::{KeptPayload, MessageLog, MessageRecord};
use crate::safe_apply::SafeApply;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use time::OffsetDateTime;

/// MQTT traffic counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// MQTT messages received since start, on every subscribed topic.
    pub received: AtomicU64,
    /// Messages that did not parse or had the wrong shape.
    pub invalid: AtomicU64,
    /// MQTT messages this manager published since start.
    pub published: AtomicU64,
    /// Successful reconnections after the first connection.
    pub reconnects: AtomicU64,
    /// Failed connection attempts and dropped connections.
    pub connection_failures: AtomicU64,
    /// Messages about a new device refused because the registry was full (CONTRACT §6).
    pub devices_refused: AtomicU64,
    /// Messages about a new service refused because the most services were known.
    pub services_refused: AtomicU64,
}

/// Work that a message asks for, beyond updating the registries.
#[derive(Debug, Clone)]
pub enum Action {
    /// Apply a `/set` request (refusals go to `/error`).
    SubmitSet {
        /// The service it is about, by name.
        service: String,
        /// The request (document, base, actor).
        request: SetRequest,
    },
    /// Home Assistant switched a service on or off (CONTRACT §8).
    HaSwitch {
        /// The service it is about, by name.
        service: String,
        /// On or off.
        on: bool,
    },
    /// Answer a follower's change set (CONTRACT §7) on its result topic: the payload as it
    /// arrived, read off the connection task (CONTRACT §10).
    SubmitChangeSet {
        /// The message's payload.
        payload: Bytes,
    },
    /// Refuse a follower's change set that could not be read (over its limit, too dense,
    /// malformed) on its result topic.
    RefuseChangeSet {
        /// Its `request_id`.
        request_id: String,
        /// Why.
        error: String,
        /// The status a REST client would have been given.
        status: u16,
    },
    /// Refuse a `/set` request that could not even be read.
    RefuseSet {
        /// The service it is about, by name.
        service: String,
        /// Why.
        refusal: SetRefusal,
    },
    /// Build a first config for a newly announced service.
    CreateFromAnnouncement(Box<Announcement>),
    /// Someone else wrote this service's schema topic (CONTRACT §6, §9): publish the
    /// enforced settings schema again, or clear the topic when there is none.
    RestoreSchema {
        /// The service it is about, by name.
        service: String,
    },
    /// Someone else wrote this service's config topic (CONTRACT §6): publish the stored
    /// document again, or an empty retained payload when there is none.
    RestoreConfig {
        /// The service it is about, by name.
        service: String,
    },
    /// A follower copies the authority's document.
    Mirror {
        /// The service it is about, by name.
        service: String,
        /// The authority's document.
        document: Value,
    },
    /// A follower saw the service's config cleared (or missing after a sync): the deletion
    /// is applied only if it is still current after the repair window, while the authority
    /// is live (CONTRACT §10).
    MirrorDeletion {
        /// The service it is about, by name.
        service: String,
        /// How many configs of the service this follower had seen then.
        seen: u64,
    },
    /// Publish this manager's presence again (its topic was overwritten, or its role
    /// changed).
    PublishPresence,
    /// This manager just stepped down from authority to follower.
    SteppedDown,
    /// This manager had stepped down for a claim that turned invalid: it is the authority
    /// again.
    Resumed,
}

/// What the handler needs to play its role on a fleet.
#[derive(Clone)]
pub struct FleetLink {
    /// This manager's role.
    pub fleet: Fleet,
    /// Where a follower's waiting edits hear the authority's answers.
    pub remote: RemoteEdits,
}

/// Handles incoming messages; owned by the connection task.
pub struct MessageHandler {
    topics: Topics,
    config: ConfigService,
    devices: DeviceRegistry,
    health: HealthRegistry,
    messages: MessageLog,
    events: EventBus,
    counters: Arc<Counters>,
    invalid_log: Mutex<LogLimiter>,
    refusal_log: Mutex<LogLimiter>,
    clock: Mutex<ClockText>,
    fleet: Option<FleetLink>,
    owned: Option<Arc<OwnedConfigs>>,
    mirrored_since_connect: Mutex<HashSet<String>>,
    sightings: Arc<ConfigSightings>,
    pruned_once: AtomicBool,
    max_services: usize,
    commands: Option<CommandLog>,
    safe_apply: Option<SafeApply>,
}

/// The current millisecond as RFC 3339 text, formatted once per millisecond: at high message
/// rates most messages share it.
#[derive(Debug, Default)]
struct ClockText {
    millis: i128,
    text: String,
}

impl ClockText {
    fn at(&mut self, now: OffsetDateTime) -> String {
        let millis = now.unix_timestamp_nanos() / 1_000_000;
        if millis != self.millis || self.text.is_empty() {
            self.millis = millis;
            self.text = format_rfc3339(now);
        }
        self.text.clone()
    }
}

impl MessageHandler {
    /// A handler over the core's parts.
    pub fn new(
        topics: Topics,
        config: ConfigService,
        devices: DeviceRegistry,
        health: HealthRegistry,
        messages: MessageLog,
        events: EventBus,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            topics,
            config,
            devices,
            health,
            messages,
            events,
            counters,
            invalid_log: Mutex::new(LogLimiter::default()),
            refusal_log: Mutex::new(LogLimiter::default()),
            clock: Mutex::default(),
            fleet: None,
            owned: None,
            mirrored_since_connect: Mutex::default(),
            sightings: Arc::default(),
            pruned_once: AtomicBool::new(false),
            max_services: DEFAULT_MAX_SERVICES,
            commands: None,
            safe_apply: None,
        }
    }

    /// Tells watched changes about every health report (CONTRACT §10).
    pub fn with_safe_apply(mut self, safe_apply: SafeApply) -> Self {
        self.safe_apply = Some(safe_apply);
        self
    }

    /// Finishes the commands this manager sent when their devices answer.
    pub fn with_commands(mut self, commands: CommandLog) -> Self {
        self.commands = Some(commands);
        self
    }

    /// Admits at most `max_services` services from the bus (`ALICIA_MAX_SERVICES`); services
    /// with a stored config are always admitted.
    pub fn with_max_services(mut self, max_services: usize) -> Self {
        self.max_services = max_services;
        self
    }

    /// Plays `link`'s role (without one the handler acts as a lone authority).
    pub fn with_fleet(mut self, link: FleetLink) -> Self {
        self.fleet = Some(link);
        self
    }

    /// Recognises this manager's own config publications (their echoes are not foreign).
    pub fn with_owned(mut self, owned: Arc<OwnedConfigs>) -> Self {
        self.owned = Some(owned);
        self
    }

    /// How many configs of each service this follower has seen (for deletions that must
    /// outlast the repair window).
    pub fn sightings(&self) -> Arc<ConfigSightings> {
        Arc::clone(&self.sightings)
    }

    /// The services whose config topic carried something since the last connection while this
    /// manager followed (mirrored or refused).
    pub fn config_topics_seen(&self) -> Vec<String> {
        self.mirrored_since_connect.lock().iter().cloned().collect()
    }

    /// A new connection: the fleet's retained state is read again from scratch.
    pub fn on_connected(&self) {
        self.mirrored_since_connect.lock().clear();
    }

    /// What the message log keeps of a message, by the rules of [`LogView`].
    fn log_view(&self) -> LogView<'_> {
        LogView::new(&self.topics, &self.config)
    }

    fn is_follower(&self) -> bool {
        self.fleet
            .as_ref()
            .is_some_and(|link| link.fleet.role() == Role::Follower)
    }

    /// Handles one message; returns the follow-up work.
    pub fn handle(&self, topic: &str, payload: Bytes, retained: bool) -> Vec<Action> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(topic, bytes = payload.len(), retained, "MQTT message");
        let now = OffsetDateTime::now_utc();
        let stamp = self.clock.lock().at(now);
        let kind = self.topics.classify(topic);
        let limit = payload_limit(kind);
        if payload.len() > limit {
            let error = format!(
                "the payload of {} bytes is over this topic's limit of {}",
                payload.len(),
                human_size(limit)
            );
            return self.refused_unparsed(topic, &payload, retained, stamp, (413, error));
        }
        if let Err(error) = check_json_density(&payload) {
            return self.refused_unparsed(topic, &payload, retained, stamp, (400, error));
        }
        if matches!(kind, Some(TopicKind::ChangesSet)) && payload.len() > RING_DATA_LIMIT {
            return self.large_change_set(topic, payload, retained, stamp);
        }
        let Parsed {
            meaning,
            data,
            is_json,
        } = parse(&self.topics, topic, &payload);
        let kept = self.log_view().kept(topic, &payload, data, is_json);
        let record = Arc::new(MessageRecord::new(
            topic,
            stamp.clone(),
            kept,
            meaning.as_ref().err().cloned(),
            retained,
            payload.len(),
        ));
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        match meaning {
            Ok(Inbound::Config { service, document }) if !self.is_follower() => {
                self.guard_config(&service, document.as_deref(), &payload, retained)
            }
            Ok(Inbound::ChangeSetRequest { .. }) if self.is_follower() => Vec::new(),
            Ok(Inbound::ChangeSetRequest { .. }) => vec![Action::SubmitChangeSet { payload }],
            Ok(inbound) => self.apply(inbound, retained, now, stamp),
            Err(error) => self.invalid(topic, &payload, error),
        }
    }

    /// A change set larger than the ring keeps as data (CONTRACT §10): never parsed here —
    /// the message log shows that it came (its text may hold secrets, and masking it would
    /// mean parsing it), and the authority reads it off the connection task.
    fn large_change_set(
        &self,
        topic: &str,
        payload: Bytes,
        retained: bool,
        stamp: String,
    ) -> Vec<Action> {
        let record = Arc::new(MessageRecord::new(
            topic,
            stamp,
            KeptPayload::text(HIDDEN_CHANGE_SET_TEXT),
            None,
            retained,
            payload.len(),
        ));
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        if self.is_follower() {
            return Vec::new();
        }
        vec![Action::SubmitChangeSet { payload }]
    }

    /// A payload over its topic's limit (CONTRACT §6), or too dense to parse within its memory
    /// budget (§10): counted, logged, kept in the ring as a 4 KiB excerpt without parsed data,
    /// never parsed; a `/set` is refused on `/error`, a config on the authority's topic is
    /// published back.
    fn refused_unparsed(
        &self,
        topic: &str,
        payload: &Bytes,
        retained: bool,
        stamp: String,
        (status, error): (u16, String),
    ) -> Vec<Action> {
        let kept = self.log_view().kept_of_oversized(topic, payload);
        let record = Arc::new(MessageRecord::new(
            topic,
            stamp,
            kept,
            Some(error.clone()),
            retained,
            payload.len(),
        ));
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        self.invalid_as(topic, payload, error, status)
    }

    /// A config on a topic only the authority writes: its own echo, or the same document as
    /// stored, is fine; anything else is a foreign write, never stored, and the stored document
    /// (or nothing) is published again.
    fn guard_config(
        &self,
        service: &str,
        document: Option<&Value>,
        payload: &[u8],
        retained: bool,
    ) -> Vec<Action> {
        if self
            .owned
            .as_ref()
            .is_some_and(|owned| owned.is_own_echo(service, payload))
        {
            return Vec::new();
        }
        let stored = self.config.get(service);
        if stored.as_ref().map(|s| &*s.document) == document {
            return Vec::new();
        }
        if retained {
            tracing::info!(
                service,
                "the broker held another config for this service; publishing the stored one"
            );
        } else if let Some(suppressed) = self.invalid_log.lock().admit(Instant::now()) {
            tracing::warn!(
                service,
                suppressed_since_last = suppressed,
                "foreign write on the service's config topic (only this manager publishes there); publishing the stored document again"
            );
        }
        vec![Action::RestoreConfig {
            service: service.to_owned(),
        }]
    }

    /// Something other than the enforced settings schema on the authority's schema topic: it
    /// publishes its own again (or clears the topic).
    fn foreign_schema(&self, service: String) -> Vec<Action> {
        if let Some(suppressed) = self.invalid_log.lock().admit(Instant::now()) {
            tracing::warn!(
                service,
                suppressed_since_last = suppressed,
                "another settings schema on the service's schema topic (only this manager publishes there); publishing the enforced one again"
            );
        }
        vec![Action::RestoreSchema { service }]
    }

    fn invalid(&self, topic: &str, payload: &[u8], error: String) -> Vec<Action> {
        self.invalid_as(topic, payload, error, 400)
    }

    /// An invalid message; a follower's change set among them is answered with `status`
    /// (400, or 413 over its limit) when its `request_id` can be read.
    fn invalid_as(&self, topic: &str, payload: &[u8], error: String, status: u16) -> Vec<Action> {
        let size = payload.len();
        self.counters.invalid.fetch_add(1, Ordering::Relaxed);
        if let Some((manager, skew)) = presence_clock_skew(&self.topics, topic, payload) {
            self.health.note_clock_skew(&manager, skew);
        }
        let suppressed = self.invalid_log.lock().admit(Instant::now());
        if let Some(suppressed) = suppressed {
            tracing::warn!(topic, size, %error, suppressed_since_last = suppressed, "invalid MQTT message ignored");
        }
        if topic == self.topics.manager_health() && self.fleet.is_some() && !self.is_follower() {
            // The authority's own presence topic: whatever else lands there (a claim from the
            // future, something unreadable) is overwritten with its presence.
            return vec![Action::PublishPresence];
        }
        match self.topics.classify(topic) {
            Some(TopicKind::Config(service))
                if super::topics::is_valid_service_name(service) && !self.is_follower() =>
            {
                // Whatever it is, it is not what the authority published there.
                vec![Action::RestoreConfig {
                    service: service.to_owned(),
                }]
            }
            Some(TopicKind::ConfigSchema(service))
                if super::topics::is_valid_service_name(service) && !self.is_follower() =>
            {
                self.foreign_schema(service.to_owned())
            }
            Some(TopicKind::ChangesSet) if !self.is_follower() => request_id_of(payload)
                .map(|request_id| Action::RefuseChangeSet {
                    request_id,
                    error: format!("the change set could not be read: {error}"),
                    status,
                })
                .into_iter()
                .collect(),
            Some(TopicKind::ConfigSet(service))
                if super::topics::is_valid_service_name(service) =>
            {
                vec![Action::RefuseSet {
                    service: service.to_owned(),
                    refusal: SetRefusal {
                        error: format!("the request could not be read: {error}"),
                        details: Vec::new(),
                        current_last_updated: None,
                        request_id: request_id_of(payload),
                    },
                }]
            }
            _ => Vec::new(),
        }
    }

    fn apply(
        &self,
        inbound: Inbound,
        retained: bool,
        now: OffsetDateTime,
        stamp: String,
    ) -> Vec<Action> {
        if let Some(service) = introduced_service(&inbound)
            && !self.admits_service(service)
        {
            self.counters
                .services_refused
                .fetch_add(1, Ordering::Relaxed);
            self.refused(&format!(
                "a message about service {service:?} was refused: the bus already introduced the most services this manager keeps ({}, ALICIA_MAX_SERVICES)",
                self.max_services
            ));
            return Vec::new();
        }
        match inbound {
            Inbound::Health { service, report } => {
                let actions = self.manager_presence(&service, report.as_ref(), retained);
                if let (Some(safe_apply), Some(report)) = (&self.safe_apply, &report) {
                    safe_apply.observe_report(
                        &service,
                        report.status,
                        report.timestamp.as_deref(),
                        Instant::now(),
                    );
                }
                self.events
                    .emit(self.health.apply_report(&service, report, retained, now));
                return actions;
            }
            Inbound::Discovery {
                service,
                announcement: Some(announcement),
            } => {
                let schema = announcement.settings_schema.clone().map(Arc::new);
                if !self.health.apply_announcement(announcement.clone()) {
                    self.counters
                        .services_refused
                        .fetch_add(1, Ordering::Relaxed);
                    self.refused(&format!(
                        "the announcement of service {service:?} was refused: the announcements kept already take the most memory allowed"
                    ));
                    return Vec::new();
                }
                // The authority decides which schema is enforced and publishes it; followers
                // take it from the schema topic (CONTRACT §9) and show a different one
                // announced as pending (§10).
                if schema.is_some() {
                    if self.is_follower() {
                        self.config.saw_announced_schema(&service, schema);
                    } else {
                        self.config.announce_schema(&service, schema);
                    }
                }
                self.events.emit(CoreEvent::ServiceUpdated {
                    service: service.clone(),
                });
                if self.config.get(&service).is_none() && !self.is_follower() {
                    return vec![Action::CreateFromAnnouncement(Box::new(announcement))];
                }
            }
            Inbound::Discovery {
                service,
                announcement: None,
            } => {
                self.health.clear_announcement(&service);
                self.events.emit(CoreEvent::ServiceUpdated { service });
            }
            Inbound::Config { service, document } if self.is_follower() => {
                self.mirrored_since_connect.lock().insert(service.clone());
                let seen = self.sightings.saw(&service);
                return vec![match document {
                    Some(document) => Action::Mirror {
                        service,
                        document: Value::clone(&document),
                    },
                    None => Action::MirrorDeletion { service, seen },
                }];
            }
            Inbound::ConfigSet { .. } if self.is_follower() => {}
            Inbound::HaSwitch { .. } if self.is_follower() => {}
            Inbound::HaSwitch { service, on } => {
                return vec![Action::HaSwitch { service, on }];
            }
            Inbound::ChangeSetRequest { .. } => {}
            Inbound::ChangeSetResult { request_id, body } => {
                if let Some(link) = &self.fleet {
                    link.remote.set_answered(&request_id, &body);
                }
            }
            Inbound::ConfigSet { service, request } => {
                return vec![Action::SubmitSet { service, request }];
            }
            Inbound::ConfigError {
                service,
                refusal: Some(refusal),
            } => {
                if let Some(link) = &self.fleet {
                    link.remote.refused(&service, refusal);
                }
            }
            Inbound::ConfigResult { service, result } => {
                if let Some(link) = &self.fleet
                    && self.is_follower()
                {
                    link.remote.stored(&service, result);
                }
            }
            Inbound::ConfigSchema { service, schema } if self.is_follower() => {
                self.config.mirror_schema(&service, schema);
            }
            Inbound::ConfigSchema { service, schema } => {
                let enforced = self.config.settings_schema(&service);
                let same = match (&enforced, &schema) {
                    (Some(ours), Some(theirs)) => *ours.source == **theirs,
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    return self.foreign_schema(service);
                }
            }
            Inbound::ConfigAck { service, ack } => {
                self.health.apply_ack(&service, ack);
                self.events.emit(CoreEvent::ServiceUpdated { service });
            }
            Inbound::DeviceState { id, state } => {
                let change = self.devices.apply_state(&id, state, &stamp);
                self.emit_device(change);
            }
            Inbound::DeviceAvailability { id, online } => {
                let change = self.devices.apply_availability(&id, online, &stamp);
                self.emit_device(change);
            }
            Inbound::CommandResult { id, result } => {
                let finished = self.commands.as_ref().and_then(|commands| {
                    commands.answered(&result.request_id, &id, result.ok, result.error)
                });
                tracing::debug!(
                    device = id,
                    request_id = result.request_id,
                    ok = result.ok,
                    ours = finished.is_some(),
                    "command result"
                );
                if let Some(record) = finished {
                    self.events.emit(CoreEvent::CommandFinished(record));
                }
            }
            Inbound::Config { .. }
            | Inbound::HaState
            | Inbound::ConfigError { .. }
            | Inbound::DeviceCommand { .. }
            | Inbound::DiscoveryRequest => {}
        }
        Vec::new()
    }

    /// A manager's presence: the authority topic drives this manager's role; its own report
    /// read back live after connecting means the fleet's retained state has all arrived.
    fn manager_presence(
        &self,
        service: &str,
        report: Option<&HealthReport>,
        retained: bool,
    ) -> Vec<Action> {
        let Some(link) = &self.fleet else {
            return Vec::new();
        };
        let own = report
            .and_then(|r| r.instance_id.as_deref())
            .is_some_and(|id| id == link.fleet.instance_id());
        if own && self.on_own_topic(service, link) {
            let healthy = report.is_some_and(|r| r.status == HealthStatus::Healthy);
            return match (healthy, retained) {
                // The Will of this manager's previous run (killed) landed after its
                // presence: say again that it is alive.
                (false, _) => vec![Action::PublishPresence],
                (true, false) => self.synced(link),
                (true, true) => Vec::new(),
            };
        }
        if service != MANAGER_SERVICE_NAME {
            return Vec::new();
        }
        match link.fleet.observe_authority_topic(report) {
            Reaction::Nothing => Vec::new(),
            Reaction::Changed => {
                self.events.emit(CoreEvent::FleetChanged);
                Vec::new()
            }
            Reaction::Reassert => vec![Action::PublishPresence],
            Reaction::SteppedDown => vec![Action::SteppedDown],
            Reaction::Resumed => vec![Action::Resumed],
        }
    }

    fn on_own_topic(&self, service: &str, link: &FleetLink) -> bool {
        let topic = link.fleet.presence_topic(&self.topics);
        topic.strip_prefix(&self.topics.health("")) == Some(service)
    }

    /// Every retained message has arrived: a provisional authority becomes a firm one; a
    /// follower, once after start, forgets mirrored services the authority deleted while it
    /// was away. Only with a live authority announced: a broker that lost its retained store
    /// (restarted without persistence) holds no configs until the authority publishes them
    /// again, and pruning then would empty the mirror for nothing. Deletions missed during a
    /// later outage are caught at the next start.
    fn synced(&self, link: &FleetLink) -> Vec<Action> {
        let mut actions = Vec::new();
        if link.fleet.mark_synced() == Reaction::Reassert {
            actions.push(Action::PublishPresence);
        }
        let state = link.fleet.state();
        // A manager that was the authority never prunes: its store was the fleet's, and the
        // claim it stepped down for may be anyone's.
        if state.role == Role::Follower
            && !state.stepped_down
            && state.has_live_authority()
            && !self.pruned_once.swap(true, Ordering::Relaxed)
        {
            let seen = self.mirrored_since_connect.lock();
            actions.extend(
                self.config
                    .snapshot()
                    .documents
                    .keys()
                    .filter(|service| !seen.contains(*service))
                    .map(|service| Action::MirrorDeletion {
                        service: service.clone(),
                        seen: self.sightings.seen(service),
                    }),
            );
        }
        self.events.emit(CoreEvent::FleetChanged);
        actions
    }

    fn emit_device(&self, change: Option<DeviceChange>) {
        match change {
            Some(DeviceChange::Updated(device)) => {
                self.events.emit(CoreEvent::DeviceUpdated(device))
            }
            Some(DeviceChange::Removed(id)) => self.events.emit(CoreEvent::DeviceRemoved { id }),
            Some(DeviceChange::Refused(why)) => {
                self.counters
                    .devices_refused
                    .fetch_add(1, Ordering::Relaxed);
                self.refused(&why.to_string());
            }
            None => {}
        }
    }

    /// Whether a message about `service` may be kept: a service already known or stored
    /// always; a new one while the bus introduced fewer than the most services kept.
    fn admits_service(&self, service: &str) -> bool {
        service == MANAGER_SERVICE_NAME
            || self.health.knows(service)
            || self.config.get(service).is_some()
            || self.health.bus_service_count() < self.max_services
    }

    /// Logs a refusal by a full registry, at a limited rate.
    fn refused(&self, why: &str) {
        if let Some(suppressed) = self.refusal_log.lock().admit(Instant::now()) {
            tracing::warn!(suppressed_since_last = suppressed, "{why}");
        }
    }
}

/// The service a message would add to the health registry, if it is a kind that does.
fn introduced_service(inbound: &Inbound) -> Option<&str> {
    match inbound {
        Inbound::Health { service, .. }
        | Inbound::Discovery {
            service,
            announcement: Some(_),
        }
        | Inbound::ConfigAck { service, .. } => Some(service),
        _ => None,
    }
}

/// Counts, per service, the configs a follower saw on the authority's topic: a deletion seen
/// at count `n` is still current while the count stays `n`.
#[derive(Debug, Default)]
pub struct ConfigSightings {
    counts: Mutex<std::collections::HashMap<String, u64>>,
}

impl ConfigSightings {
    /// One more config of `service` seen; the new count.
    pub fn saw(&self, service: &str) -> u64 {
        let mut counts = self.counts.lock();
        let count = counts.entry(service.to_owned()).or_default();
        *count += 1;
        *count
    }

    /// How many configs of `service` have been seen.
    pub fn seen(&self, service: &str) -> u64 {
        self.counts.lock().get(service).copied().unwrap_or_default()
    }
}
