//! What the manager does with each incoming message: record it in the message log, update the
//! registries, emit events, and name the follow-up work (config changes, replies) that the
//! connection task carries out. Runs synchronously on the connection task: no I/O here.

pub use super::counters::Counters;

mod action;
mod apply;
mod refusals;
mod sightings;

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
pub use action::Action;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
pub use sightings::ConfigSightings;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use time::OffsetDateTime;

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
