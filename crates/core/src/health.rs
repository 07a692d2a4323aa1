//! What the manager knows about each running service: its health (with TTL staleness), its
//! discovery announcement, and its acknowledgement of the current config revision.

use crate::clock::{format_rfc3339, parse_rfc3339};
use crate::config::{Snapshot, last_updated_of};
use crate::events::CoreEvent;
use crate::json_footprint::json_footprint;
use crate::mqtt::payloads::{Announcement, ConfigAck, HealthReport, HealthStatus};
use crate::mqtt::topics::MANAGER_SERVICE_NAME;
pub use alicia_model::status::{ConfigState, ServiceSummary};
use parking_lot::RwLock;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Default health TTL (`ALICIA_HEALTH_TTL_SECS`).
pub const DEFAULT_HEALTH_TTL: Duration = Duration::from_secs(60);
/// The `details` of a health report kept, at most (memory, roughly); larger ones are replaced
/// by a note.
pub const DETAILS_KEPT: usize = 4 * 1024;
/// Memory the announcements kept may take together, roughly (CONTRACT §6); an announcement
/// that would pass it is refused.
pub const ANNOUNCEMENTS_BUDGET: usize = 64 * 1024 * 1024;

/// Runtime facts about one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRuntime {
    /// The last status it reported (`None`: never, or cleared).
    pub reported: Option<HealthStatus>,
    /// When it was last heard from (RFC 3339).
    pub last_seen: Option<String>,
    /// The `details` of its last report.
    pub details: Option<Map<String, Value>>,
    /// A manager's instance id, from its health report.
    pub instance_id: Option<String>,
    /// A manager's role, from its health report.
    pub role: Option<String>,
    /// Its last discovery announcement.
    pub announcement: Option<Announcement>,
    /// Its last config acknowledgement.
    pub ack: Option<ConfigAck>,
    /// A manager's presence: how far its last live report's `timestamp` was from its arrival
    /// (seconds, positive when ahead of this manager's clock).
    pub clock_skew_secs: Option<i64>,
    seen_at: Option<Instant>,
    stale_reported: bool,
    announcement_bytes: usize,
}

/// The registry; cheap to clone.
#[derive(Debug, Clone)]
pub struct HealthRegistry {
    services: Arc<RwLock<HashMap<String, ServiceRuntime>>>,
    /// The memory the kept announcements take together (changed under the write lock).
    announced_bytes: Arc<AtomicUsize>,
    ttl: Duration,
}

impl HealthRegistry {
    /// A registry that calls a service stale after `ttl` without news.
    pub fn new(ttl: Duration) -> Self {
        Self {
            services: Arc::default(),
            announced_bytes: Arc::default(),
            ttl,
        }
    }

    /// The health TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Applies `alicia/system/health/<service>`; `None` clears it. A retained report replayed
    /// by the broker counts from its own `timestamp` (so a long-dead service shows stale at
    /// once); a live one counts from its arrival.
    pub fn apply_report(
        &self,
        service: &str,
        report: Option<HealthReport>,
        retained: bool,
        now: OffsetDateTime,
    ) -> CoreEvent {
        let mut services = self.write();
        let runtime = services.entry(service.to_owned()).or_default();
        match report {
            Some(report) => {
                let reported_at = report
                    .timestamp
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .filter(|at| retained && *at <= now)
                    .unwrap_or(now);
                let age = (now - reported_at).try_into().unwrap_or(Duration::ZERO);
                runtime.seen_at = Instant::now().checked_sub(age);
                runtime.last_seen = Some(format_rfc3339(reported_at));
                if !retained && report.instance_id.is_some() {
                    runtime.clock_skew_secs = report
                        .timestamp
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .map(|at| (at - now).whole_seconds());
                }
                runtime.reported = Some(report.status);
                runtime.details = report.details.map(|details| {
                    if json_footprint(&Value::Object(details.clone())) <= DETAILS_KEPT {
                        details
                    } else {
                        let mut note = Map::new();
                        note.insert(
                            "note".to_owned(),
                            Value::String("details over 4 KiB are not kept".to_owned()),
                        );
                        note
                    }
                });
                runtime.instance_id = report.instance_id;
                runtime.role = report.role;
                runtime.stale_reported = false;
            }
            None => {
                runtime.reported = None;
                runtime.details = None;
                runtime.seen_at = None;
            }
        }
        let stale = self.is_stale(runtime);
        runtime.stale_reported = stale;
        CoreEvent::HealthChanged {
            service: service.to_owned(),
            status: shown_status(runtime, stale),
            stale,
            timestamp: format_rfc3339(now),
        }
    }

    /// A manager's presence was refused for a timestamp `skew_secs` ahead: noted for the
    /// clock check, nothing else changes.
    pub fn note_clock_skew(&self, service: &str, skew_secs: i64) {
        self.write()
            .entry(service.to_owned())
            .or_default()
            .clock_skew_secs = Some(skew_secs);
    }

    /// Records a discovery announcement; false (nothing kept) when the announcements kept
    /// would pass [`ANNOUNCEMENTS_BUDGET`] together.
    pub fn apply_announcement(&self, announcement: Announcement) -> bool {
        let size = announcement_footprint(&announcement);
        let mut services = self.write();
        let previous = services
            .get(&announcement.service_name)
            .map_or(0, |runtime| runtime.announcement_bytes);
        let total = self.announced_bytes.load(Ordering::Relaxed) - previous + size;
        if size > previous && total > ANNOUNCEMENTS_BUDGET {
            return false;
        }
        self.announced_bytes.store(total, Ordering::Relaxed);
        let runtime = services
            .entry(announcement.service_name.clone())
            .or_default();
        runtime.announcement = Some(announcement);
        runtime.announcement_bytes = size;
        true
    }

    /// True when the registry has heard of `service`.
    pub fn knows(&self, service: &str) -> bool {
        self.read().contains_key(service)
    }

    /// How many services the bus has introduced (the authority's own presence aside).
    pub fn bus_service_count(&self) -> usize {
        self.read()
            .keys()
            .filter(|name| name.as_str() != MANAGER_SERVICE_NAME)
            .count()
    }

    /// Forgets a service's announcement (its retained discovery was cleared).
    pub fn clear_announcement(&self, service: &str) {
        if let Some(runtime) = self.write().get_mut(service) {
            runtime.announcement = None;
            self.announced_bytes
                .fetch_sub(runtime.announcement_bytes, Ordering::Relaxed);
            runtime.announcement_bytes = 0;
        }
    }

    /// Records a config acknowledgement.
    pub fn apply_ack(&self, service: &str, ack: ConfigAck) {
        self.write().entry(service.to_owned()).or_default().ack = Some(ack);
    }

    /// Finds services that went stale since the last sweep; one event each.
    pub fn sweep(&self, now: OffsetDateTime) -> Vec<CoreEvent> {
        let mut events = Vec::new();
        let mut services = self.write();
        let mut names: Vec<&String> = services.keys().collect();
        names.sort();
        let names: Vec<String> = names.into_iter().cloned().collect();
        for name in names {
            let Some(runtime) = services.get_mut(&name) else {
                continue;
            };
            if runtime.seen_at.is_none() || runtime.stale_reported {
                continue;
            }
            if self.is_stale(runtime) {
                runtime.stale_reported = true;
                events.push(CoreEvent::HealthChanged {
                    service: name,
                    status: HealthStatus::Unknown,
                    stale: true,
                    timestamp: format_rfc3339(now),
                });
            }
        }
        events
    }

    /// One service's runtime facts.
    pub fn get(&self, service: &str) -> Option<ServiceRuntime> {
        self.read().get(service).cloned()
    }

    /// True when the service was not heard from within the TTL (or never).
    pub fn stale(&self, service: &str) -> bool {
        self.read().get(service).is_none_or(|r| self.is_stale(r))
    }

    /// One row per service seen or configured, sorted by name.
    pub fn summaries(&self, configs: &Snapshot) -> Vec<ServiceSummary> {
        let services = self.read();
        let names: BTreeSet<&String> = services.keys().chain(configs.documents.keys()).collect();
        names
            .into_iter()
            .map(|name| {
                let runtime = services.get(name);
                let stale = runtime.is_none_or(|r| self.is_stale(r));
                let current = configs.documents.get(name).map(|s| &*s.document);
                let ack = runtime.and_then(|r| r.ack.as_ref());
                let config_state = config_state(ack, current);
                ServiceSummary {
                    service_name: name.clone(),
                    status: runtime.map_or(HealthStatus::Unknown, |r| shown_status(r, stale)),
                    last_seen: runtime.and_then(|r| r.last_seen.clone()),
                    stale,
                    config_state,
                    config_error: (config_state == ConfigState::Refused)
                        .then(|| ack.and_then(|a| a.error.clone()))
                        .flatten(),
                    pending_since: (config_state == ConfigState::Pending)
                        .then(|| current.and_then(last_updated_of).map(str::to_owned))
                        .flatten(),
                    clock_skew_secs: runtime.and_then(|r| r.clock_skew_secs),
                }
            })
            .collect()
    }

    fn is_stale(&self, runtime: &ServiceRuntime) -> bool {
        runtime.seen_at.is_none_or(|at| at.elapsed() > self.ttl)
    }

    fn read(&self) -> parking_lot::RwLockReadGuard<'_, HashMap<String, ServiceRuntime>> {
        self.services.read()
    }

    fn write(&self) -> parking_lot::RwLockWriteGuard<'_, HashMap<String, ServiceRuntime>> {
        self.services.write()
    }
}

/// The memory an announcement takes, roughly.
fn announcement_footprint(announcement: &Announcement) -> usize {
    let schema = announcement
        .settings_schema
        .as_ref()
        .map_or(0, json_footprint);
    let endpoints = announcement.endpoints.as_ref().map_or(0, |e| e.len() * 256);
    256 + schema + endpoints
}

fn shown_status(runtime: &ServiceRuntime, stale: bool) -> HealthStatus {
    if stale {
        HealthStatus::Unknown
    } else {
        runtime.reported.unwrap_or_default()
    }
}

/// Compares a service's last ack with its current document.
pub fn config_state(ack: Option<&ConfigAck>, current: Option<&Value>) -> ConfigState {
    let (Some(ack), Some(current)) = (ack, current) else {
        return ConfigState::Unknown;
    };
    if last_updated_of(current) != Some(ack.last_updated.as_str()) {
        ConfigState::Pending
    } else if ack.applied {
        ConfigState::Applied
    } else {
        ConfigState::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StoredDocument;
    use serde_json::json;

    fn report(status: HealthStatus, timestamp: Option<&str>) -> HealthReport {
        HealthReport {
            status,
            timestamp: timestamp.map(str::to_owned),
            details: None,
            instance_id: None,
            role: None,
        }
    }

    fn snapshot_with(name: &str, last_updated: &str) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.documents.insert(
            name.to_owned(),
            StoredDocument {
                document: Arc::new(json!({"last_updated": last_updated})),
                revision: 1,
            },
        );
        snapshot
    }

    #[test]
    fn a_live_report_is_fresh_and_shown() {
        let registry = HealthRegistry::new(Duration::from_secs(60));
        let event = registry.apply_report(
            "stt",
            Some(report(HealthStatus::Healthy, None)),
            false,
            OffsetDateTime::now_utc(),
        );
        let CoreEvent::HealthChanged { status, stale, .. } = event else {
            panic!()
        };
        assert_eq!((status, stale), (HealthStatus::Healthy, false));
        let rows = registry.summaries(&Snapshot::default());
        assert_eq!(rows[0].status, HealthStatus::Healthy);
        assert!(rows[0].last_seen.is_some());
    }

    #[test]
    fn an_old_retained_report_is_stale_at_once() {
        let registry = HealthRegistry::new(Duration::from_secs(60));
        let event = registry.apply_report(
            "stt",
            Some(report(HealthStatus::Healthy, Some("2020-01-01T00:00:00Z"))),
            true,
            OffsetDateTime::now_utc(),
        );
        assert!(matches!(
            event,
            CoreEvent::HealthChanged {
                stale: true,
                status: HealthStatus::Unknown,
                ..
            }
        ));
    }

    #[test]
    fn services_go_stale_after_the_ttl_once() {
        let registry = HealthRegistry::new(Duration::from_millis(30));
        registry.apply_report(
            "tts",
            Some(report(HealthStatus::Unhealthy, None)),
            false,
            OffsetDateTime::now_utc(),
        );
        assert!(registry.sweep(OffsetDateTime::now_utc()).is_empty());
        std::thread::sleep(Duration::from_millis(60));
        let events = registry.sweep(OffsetDateTime::now_utc());
        assert_eq!(events.len(), 1);
        assert!(registry.sweep(OffsetDateTime::now_utc()).is_empty());
        assert!(registry.stale("tts"));
    }

    #[test]
    fn configured_services_without_news_are_listed_unknown() {
        let registry = HealthRegistry::new(Duration::from_secs(60));
        let rows = registry.summaries(&snapshot_with("llm", "t1"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, HealthStatus::Unknown);
        assert!(rows[0].stale);
        assert_eq!(rows[0].config_state, ConfigState::Unknown);
    }

    #[test]
    fn acks_give_applied_pending_and_refused() {
        let registry = HealthRegistry::new(Duration::from_secs(60));
        let ack = |last_updated: &str, applied: bool, error: Option<&str>| ConfigAck {
            last_updated: last_updated.into(),
            applied,
            error: error.map(str::to_owned),
        };
        registry.apply_ack("llm", ack("t1", true, None));
        assert_eq!(
            registry.summaries(&snapshot_with("llm", "t1"))[0].config_state,
            ConfigState::Applied
        );
        assert_eq!(
            registry.summaries(&snapshot_with("llm", "t2"))[0].config_state,
            ConfigState::Pending
        );
        registry.apply_ack("llm", ack("t2", false, Some("unknown voice")));
        let row = &registry.summaries(&snapshot_with("llm", "t2"))[0];
        assert_eq!(row.config_state, ConfigState::Refused);
        assert_eq!(row.config_error.as_deref(), Some("unknown voice"));
    }
}
