//! The UI's own copies of live state, fed by core events: devices, messages, services and the
//! message rate. Panels read these, never the core's locks, so drawing a frame costs the same
//! however busy the broker is; only the rows on screen are built.

use crate::core::Core;
use crate::core::checks::{Check, run_checks};
use crate::core::config::{ChangeSource, Snapshot};
use crate::core::devices::Device;
use crate::core::health::{ConfigState, ServiceSummary};
use crate::core::messages::MessageRecord;
use crate::core::mqtt::topics::matches_filter;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Least time between two re-sorts of the device table while devices keep changing.
const RESORT_EVERY: Duration = Duration::from_millis(250);
/// Minutes of message-rate history.
const RATE_HISTORY: usize = 600;

/// How the device table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSort {
    /// By id.
    Id,
    /// By name.
    Name,
    /// By room.
    Room,
    /// By type.
    Kind,
    /// Online first.
    Online,
    /// Most recently seen first.
    LastSeen,
}

/// The devices, as the table shows them.
#[derive(Debug)]
pub struct DevicesView {
    devices: HashMap<String, Arc<Device>>,
    /// How many of `devices` are online, kept as they change (not counted each frame).
    online: usize,
    rows: Arc<[String]>,
    /// Replaced devices, to be freed off the UI thread ([`DevicesView::take_retired`]).
    retired: Vec<Arc<Device>>,
    /// Text the rows must contain (id, name, room or type).
    pub filter: String,
    /// Sort column.
    pub sort: DeviceSort,
    /// Sort direction.
    pub ascending: bool,
    dirty: bool,
    sorted_at: Option<Instant>,
    applied_filter: String,
    applied_sort: (DeviceSort, bool),
}

impl Default for DevicesView {
    fn default() -> Self {
        Self {
            devices: HashMap::new(),
            online: 0,
            rows: Arc::from([]),
            retired: Vec::new(),
            filter: String::new(),
            sort: DeviceSort::Id,
            ascending: true,
            dirty: true,
            sorted_at: None,
            applied_filter: String::new(),
            applied_sort: (DeviceSort::Id, true),
        }
    }
}

impl DevicesView {
    /// Replaces everything with the core's registry.
    pub fn resync(&mut self, core: &Core) {
        self.devices = core
            .devices
            .list()
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        self.online = self.devices.values().filter(|d| d.online).count();
        self.dirty = true;
    }

    /// A device changed.
    pub fn update(&mut self, device: Arc<Device>) {
        let online = device.online;
        let previous = match self.devices.get_mut(&device.id) {
            Some(slot) => Some(std::mem::replace(slot, device)),
            None => {
                self.devices.insert(device.id.clone(), device);
                None
            }
        };
        self.online += usize::from(online);
        match previous {
            Some(previous) => {
                self.online -= usize::from(previous.online);
                self.retired.push(previous);
                if self.sort != DeviceSort::Id {
                    self.dirty = true;
                }
            }
            None => self.dirty = true,
        }
    }

    /// A device left.
    pub fn remove(&mut self, id: &str) {
        if let Some(device) = self.devices.remove(id) {
            self.online -= usize::from(device.online);
            self.dirty = true;
        }
    }

    /// The devices replaced since the last call, for the caller to free elsewhere: freeing
    /// them here (memory other threads wrote) costs the UI thread more than drawing.
    pub fn take_retired(&mut self) -> Vec<Arc<Device>> {
        std::mem::take(&mut self.retired)
    }

    /// One device.
    pub fn get(&self, id: &str) -> Option<&Arc<Device>> {
        self.devices.get(id)
    }

    /// (online, total).
    pub fn counts(&self) -> (usize, usize) {
        (self.online, self.devices.len())
    }

    /// The ids to show, in order (re-sorted at most a few times a second while devices change,
    /// at once when the filter or the sort changes).
    pub fn rows(&mut self) -> Arc<[String]> {
        let settings_changed =
            self.applied_filter != self.filter || self.applied_sort != (self.sort, self.ascending);
        let due = self.sorted_at.is_none_or(|at| at.elapsed() >= RESORT_EVERY);
        if settings_changed || (self.dirty && due) {
            self.rebuild();
        }
        Arc::clone(&self.rows)
    }

    fn rebuild(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&Arc<Device>> = self
            .devices
            .values()
            .filter(|d| needle.is_empty() || device_text(d).contains(&needle))
            .collect();
        let key = |d: &Arc<Device>| -> String {
            match self.sort {
                DeviceSort::Id => d.id.clone(),
                DeviceSort::Name => d.name.clone().unwrap_or_default().to_lowercase(),
                DeviceSort::Room => d.room.clone().unwrap_or_default(),
                DeviceSort::Kind => d.kind.clone().unwrap_or_default(),
                DeviceSort::Online => (if d.online { "0" } else { "1" }).to_owned(),
                DeviceSort::LastSeen => d.last_seen.clone().unwrap_or_default(),
            }
        };
        rows.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id)));
        let newest_first = self.sort == DeviceSort::LastSeen;
        if self.ascending == newest_first {
            rows.reverse();
        }
        self.rows = rows.into_iter().map(|d| d.id.clone()).collect();
        self.dirty = false;
        self.sorted_at = Some(Instant::now());
        self.applied_filter = self.filter.clone();
        self.applied_sort = (self.sort, self.ascending);
    }
}

fn device_text(device: &Device) -> String {
    format!(
        "{} {} {} {}",
        device.id,
        device.name.as_deref().unwrap_or_default(),
        device.room.as_deref().unwrap_or_default(),
        device.kind.as_deref().unwrap_or_default()
    )
    .to_lowercase()
}

/// The message monitor's ring and its filtered view.
#[derive(Debug)]
pub struct MessagesView {
    all: VecDeque<Arc<MessageRecord>>,
    shown: VecDeque<Arc<MessageRecord>>,
    /// Topic filter in MQTT wildcard syntax (empty: everything).
    pub filter: String,
    applied_filter: String,
    /// While paused, new messages are counted but not shown.
    pub paused: bool,
    /// Messages that arrived while paused.
    pub held_back: u64,
    capacity: usize,
    /// Messages that left the ring, to be freed off the UI thread.
    retired: Vec<Arc<MessageRecord>>,
}

impl MessagesView {
    /// A monitor keeping `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            all: VecDeque::new(),
            shown: VecDeque::new(),
            filter: String::new(),
            applied_filter: String::new(),
            paused: false,
            held_back: 0,
            capacity: capacity.max(1),
            retired: Vec::new(),
        }
    }

    /// Reloads from the core's message log.
    pub fn resync(&mut self, core: &Core) {
        let mut recent = core.messages.recent(self.capacity, None);
        recent.reverse();
        self.all = recent.into();
        self.rebuild();
    }

    /// A message arrived.
    pub fn push(&mut self, record: Arc<MessageRecord>) {
        if self.paused {
            self.held_back += 1;
            return;
        }
        if self.all.len() == self.capacity {
            self.retired.extend(self.all.pop_front());
        }
        if self.matches(&record) {
            if self.shown.len() == self.capacity {
                self.retired.extend(self.shown.pop_front());
            }
            self.shown.push_back(Arc::clone(&record));
        }
        self.all.push_back(record);
    }

    /// The messages that left the ring since the last call, for the caller to free elsewhere.
    pub fn take_retired(&mut self) -> Vec<Arc<MessageRecord>> {
        std::mem::take(&mut self.retired)
    }

    /// Newest first: the `index`-th message shown.
    pub fn newest(&mut self, index: usize) -> Option<&Arc<MessageRecord>> {
        self.refilter();
        let len = self.shown.len();
        (index < len).then(|| &self.shown[len - 1 - index])
    }

    /// Messages shown.
    pub fn len(&mut self) -> usize {
        self.refilter();
        self.shown.len()
    }

    /// True when nothing is shown.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Messages held in all.
    pub fn total(&self) -> usize {
        self.all.len()
    }

    /// True when the filter is a valid MQTT filter (or empty).
    pub fn filter_is_valid(&self) -> bool {
        let filter = self.filter.trim();
        let levels: Vec<&str> = filter.split('/').collect();
        filter.is_empty()
            || levels.iter().enumerate().all(|(i, level)| match *level {
                "#" => i == levels.len() - 1,
                "+" => true,
                other => !other.contains(['+', '#']),
            })
    }

    fn matches(&self, record: &MessageRecord) -> bool {
        let filter = self.applied_filter.trim();
        filter.is_empty() || matches_filter(filter, &record.topic)
    }

    fn refilter(&mut self) {
        if self.applied_filter != self.filter && self.filter_is_valid() {
            self.applied_filter = self.filter.clone();
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        self.shown = self
            .all
            .iter()
            .filter(|r| self.matches(r))
            .cloned()
            .collect();
    }
}

/// One row of the services table: health from the registry, config from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    /// Health, staleness and config state.
    pub summary: ServiceSummary,
    /// `service_type`, when configured.
    pub service_type: Option<String>,
    /// `enabled`, when configured.
    pub enabled: Option<bool>,
    /// `version`: configured, or announced.
    pub version: Option<String>,
    /// `last_updated`, when configured.
    pub last_updated: Option<String>,
    /// Who made the last change.
    pub source: Option<ChangeSource>,
    /// True when the manager holds a config for it.
    pub configured: bool,
}

impl ServiceRow {
    /// True when the service refused its current config.
    pub fn refused(&self) -> bool {
        self.summary.config_state == ConfigState::Refused
    }
}

/// The services table and the checks across services, from one reading of the configs and
/// the health registry.
pub fn services_and_checks(core: &Core) -> (Vec<ServiceRow>, Vec<Check>) {
    let snapshot = core.config.snapshot();
    let summaries = core.health.summaries(&snapshot);
    let checks = run_checks(&snapshot, &summaries);
    (service_rows(core, &snapshot, summaries), checks)
}

/// Builds the services table from one reading of the configs and health (tens of rows:
/// cheap, done on change).
fn service_rows(
    core: &Core,
    snapshot: &Snapshot,
    summaries: Vec<ServiceSummary>,
) -> Vec<ServiceRow> {
    summaries
        .into_iter()
        .map(|summary| {
            let stored = snapshot.documents.get(&summary.service_name);
            let document = stored.map(|s| &*s.document);
            let text = |key: &str| {
                document
                    .and_then(|d| d.get(key))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let runtime = core.health.get(&summary.service_name);
            let manager = runtime
                .as_ref()
                .and_then(|r| r.role.clone())
                .map(|_| "manager".to_owned());
            let announced = runtime.and_then(|r| r.announcement).map(|a| a.version);
            ServiceRow {
                service_type: text("service_type").or(manager),
                enabled: document
                    .and_then(|d| d.get("enabled"))
                    .and_then(|v| v.as_bool()),
                version: text("version").or(announced),
                last_updated: text("last_updated"),
                source: core
                    .config
                    .history(&summary.service_name)
                    .first()
                    .map(|e| e.source),
                configured: stored.is_some(),
                summary,
            }
        })
        .collect()
}

/// Messages per second over the last minutes, sampled from the core's counters.
#[derive(Debug, Default)]
pub struct RateHistory {
    samples: VecDeque<(f64, f64)>,
    last: Option<(Instant, u64)>,
    started: Option<Instant>,
}

impl RateHistory {
    /// Samples the counter when a second has passed; returns true when it did.
    pub fn sample(&mut self, received: u64) -> bool {
        let now = Instant::now();
        let started = *self.started.get_or_insert(now);
        match self.last {
            Some((at, count)) if now.duration_since(at) >= Duration::from_secs(1) => {
                let rate =
                    received.saturating_sub(count) as f64 / now.duration_since(at).as_secs_f64();
                if self.samples.len() == RATE_HISTORY {
                    self.samples.pop_front();
                }
                self.samples
                    .push_back((now.duration_since(started).as_secs_f64(), rate));
                self.last = Some((now, received));
                true
            }
            Some(_) => false,
            None => {
                self.last = Some((now, received));
                false
            }
        }
    }

    /// The latest rate.
    pub fn current(&self) -> f64 {
        self.samples.back().map_or(0.0, |(_, rate)| *rate)
    }

    /// True while the chart's window still holds a non-zero rate (so it scrolls each second).
    pub fn shows_traffic(&self) -> bool {
        self.samples.iter().any(|(_, rate)| *rate > 0.0)
    }

    /// (seconds before the latest sample, msgs/s) points: the newest is at x = 0, so the
    /// chart's axis stays put while the line scrolls left.
    pub fn points(&self) -> Vec<[f64; 2]> {
        let latest = self.samples.back().map_or(0.0, |(t, _)| *t);
        self.samples.iter().map(|(t, r)| [t - latest, *r]).collect()
    }

    /// The seconds of history the chart spans.
    pub fn span_secs() -> f64 {
        RATE_HISTORY as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::messages::test_record as message;
    use serde_json::Value;

    fn device(id: &str, room: &str, online: bool) -> Arc<Device> {
        Arc::new(Device {
            id: id.to_owned(),
            name: Some(format!("{id} name")),
            kind: Some("light".to_owned()),
            room: Some(room.to_owned()),
            online,
            last_seen: None,
            state: Arc::new(Value::Null),
            availability: Some(online),
        })
    }

    #[test]
    fn online_counts_follow_updates_and_removals() {
        let mut view = DevicesView::default();
        view.update(device("a", "hall", true));
        view.update(device("b", "hall", false));
        assert_eq!(view.counts(), (1, 2));
        view.update(device("b", "hall", true));
        view.update(device("a", "hall", true));
        assert_eq!(view.counts(), (2, 2));
        view.update(device("a", "hall", false));
        assert_eq!(view.counts(), (1, 2));
        assert_eq!(
            view.take_retired().len(),
            3,
            "every replaced device is handed over"
        );
        view.remove("b");
        view.remove("b");
        assert_eq!(view.counts(), (0, 1));
    }

    #[test]
    fn rows_are_filtered_and_sorted_at_once_when_asked() {
        let mut view = DevicesView::default();
        for (id, room) in [("c", "attic"), ("a", "kitchen"), ("b", "attic")] {
            view.update(device(id, room, true));
        }
        assert_eq!(&*view.rows(), ["a", "b", "c"]);
        view.filter = "ATTIC".to_owned();
        assert_eq!(&*view.rows(), ["b", "c"]);
        view.ascending = false;
        assert_eq!(&*view.rows(), ["c", "b"]);
    }

    #[test]
    fn the_monitor_filters_with_wildcards_and_holds_back_while_paused() {
        let mut view = MessagesView::new(3);
        for topic in [
            "alicia/device/a/state",
            "alicia/system/health/x",
            "alicia/device/b/state",
        ] {
            view.push(message(topic));
        }
        view.filter = "alicia/device/+/state".to_owned();
        assert_eq!(view.len(), 2);
        assert_eq!(view.newest(0).unwrap().topic, "alicia/device/b/state");
        view.push(message("alicia/device/c/state"));
        assert_eq!(
            (view.len(), view.total()),
            (3, 3),
            "the oldest left the ring"
        );
        let retired = view.take_retired();
        assert_eq!(
            retired[0].topic, "alicia/device/a/state",
            "handed over to be freed"
        );
        assert!(view.take_retired().is_empty());
        view.paused = true;
        view.push(message("alicia/device/d/state"));
        assert_eq!((view.len(), view.held_back), (3, 1));
        view.filter = "alicia/#/x".to_owned();
        assert!(!view.filter_is_valid());
        assert_eq!(view.len(), 3, "an invalid filter keeps the last valid one");
    }
}
