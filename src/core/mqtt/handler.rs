//! What the manager does with each incoming message: record it in the message log, update the
//! registries, emit events, and name the follow-up work (config changes, replies) that the
//! connection task carries out. Runs synchronously on the connection task: no I/O here.

use super::inbound::{Inbound, Parsed, parse};
use super::payloads::{Announcement, SetRefusal};
use super::topics::{TopicKind, Topics};
use crate::core::clock::format_rfc3339;
use crate::core::config::ConfigService;
use crate::core::devices::{DeviceChange, DeviceRegistry};
use crate::core::events::{CoreEvent, EventBus};
use crate::core::health::HealthRegistry;
use crate::core::messages::{MessageLog, MessageRecord, payload_head};
use bytes::Bytes;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Invalid messages logged per window before the log goes quiet.
const INVALID_LOG_BURST: u32 = 5;
/// The window of [`INVALID_LOG_BURST`].
const INVALID_LOG_WINDOW: Duration = Duration::from_secs(10);

/// MQTT traffic counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages received.
    pub received: AtomicU64,
    /// Messages that did not parse or had the wrong shape.
    pub invalid: AtomicU64,
    /// Messages published.
    pub published: AtomicU64,
    /// Successful reconnections after the first connection.
    pub reconnects: AtomicU64,
    /// Failed connection attempts and dropped connections.
    pub connection_failures: AtomicU64,
}

/// Work that a message asks for, beyond updating the registries.
#[derive(Debug, Clone)]
pub enum Action {
    /// Apply a `/set` request (refusals go to `/error`).
    SubmitSet {
        /// The service.
        service: String,
        /// The requested document.
        document: Value,
    },
    /// Refuse a `/set` request that could not even be read.
    RefuseSet {
        /// The service.
        service: String,
        /// Why.
        refusal: SetRefusal,
    },
    /// Build a first config for a newly announced service.
    CreateFromAnnouncement(Box<Announcement>),
    /// Clear a retained config the broker still holds for a service that no longer exists.
    ClearRetainedConfig {
        /// The service.
        service: String,
    },
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
    clock: Mutex<ClockText>,
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
            clock: Mutex::default(),
        }
    }

    /// Handles one message; returns the follow-up work.
    pub fn handle(&self, topic: &str, payload: Bytes, retained: bool) -> Vec<Action> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let now = OffsetDateTime::now_utc();
        let stamp = self
            .clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .at(now);
        let Parsed {
            meaning,
            data,
            is_json,
        } = parse(&self.topics, topic, &payload);
        let shown_payload = if is_json && self.masks(topic) {
            payload_head(&Bytes::from(
                serde_json::to_string(&*data).unwrap_or_default(),
            ))
        } else {
            payload_head(&payload)
        };
        let record = Arc::new(MessageRecord {
            topic: topic.to_owned(),
            timestamp: stamp.clone(),
            valid: meaning.is_ok(),
            data,
            payload: shown_payload,
            error: meaning.as_ref().err().cloned(),
            retained,
            size: payload.len(),
        });
        self.messages.push(Arc::clone(&record));
        self.events.emit(CoreEvent::Message(record));
        match meaning {
            Ok(inbound) => self.apply(inbound, retained, now, stamp),
            Err(error) => self.invalid(topic, payload.len(), error),
        }
    }

    fn masks(&self, topic: &str) -> bool {
        matches!(
            self.topics.classify(topic),
            Some(TopicKind::Config(_) | TopicKind::ConfigSet(_))
        )
    }

    fn invalid(&self, topic: &str, size: usize, error: String) -> Vec<Action> {
        self.counters.invalid.fetch_add(1, Ordering::Relaxed);
        let suppressed = self
            .invalid_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(Instant::now());
        if let Some(suppressed) = suppressed {
            tracing::warn!(topic, size, %error, suppressed_since_last = suppressed, "invalid MQTT message ignored");
        }
        match self.topics.classify(topic) {
            Some(TopicKind::ConfigSet(service))
                if super::topics::is_valid_service_name(service) =>
            {
                vec![Action::RefuseSet {
                    service: service.to_owned(),
                    refusal: SetRefusal {
                        error: format!("the request could not be read: {error}"),
                        details: Vec::new(),
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
        match inbound {
            Inbound::Health { service, report } => {
                self.events
                    .emit(self.health.apply_report(&service, report, retained, now));
            }
            Inbound::Discovery {
                service,
                announcement: Some((announcement, schema)),
            } => {
                self.config.set_settings_schema(&service, schema);
                self.health.apply_announcement(announcement.clone());
                self.events.emit(CoreEvent::ServiceUpdated {
                    service: service.clone(),
                });
                if self.config.get(&service).is_none() {
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
            Inbound::Config {
                service,
                document: Some(_),
            } if retained && self.config.get(&service).is_none() => {
                return vec![Action::ClearRetainedConfig { service }];
            }
            Inbound::ConfigSet { service, document } => {
                return vec![Action::SubmitSet { service, document }];
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
                let ours = self.devices.take_command(&result.request_id).is_some();
                tracing::debug!(
                    device = id,
                    request_id = result.request_id,
                    ok = result.ok,
                    ours,
                    "command result"
                );
                self.events.emit(CoreEvent::CommandFinished {
                    device_id: id,
                    result,
                });
            }
            Inbound::Config { .. }
            | Inbound::ConfigError { .. }
            | Inbound::DeviceCommand { .. }
            | Inbound::DiscoveryRequest => {}
        }
        Vec::new()
    }

    fn emit_device(&self, change: Option<DeviceChange>) {
        match change {
            Some(DeviceChange::Updated(device)) => {
                self.events.emit(CoreEvent::DeviceUpdated(device))
            }
            Some(DeviceChange::Removed(id)) => self.events.emit(CoreEvent::DeviceRemoved { id }),
            None => {}
        }
    }
}

/// Lets a burst of log lines through per window, then counts what it holds back.
#[derive(Debug, Default)]
struct LogLimiter {
    window_start: Option<Instant>,
    admitted: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// `Some(suppressed so far)` when this line may be logged.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        let window_over = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= INVALID_LOG_WINDOW);
        if window_over {
            self.window_start = Some(now);
            self.admitted = 0;
        }
        if self.admitted < INVALID_LOG_BURST {
            self.admitted += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_lets_a_burst_through_then_counts() {
        let mut limiter = LogLimiter::default();
        let start = Instant::now();
        for _ in 0..INVALID_LOG_BURST {
            assert_eq!(limiter.admit(start), Some(0));
        }
        assert_eq!(limiter.admit(start), None);
        assert_eq!(limiter.admit(start), None);
        assert_eq!(limiter.admit(start + INVALID_LOG_WINDOW), Some(2));
    }
}
