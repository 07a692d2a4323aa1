//! The devices as the table shows them: the UI's own copy, fed by core events, filtered and
//! sorted (re-sorted at most a few times a second while devices keep changing).

use crate::models::natural::natural_cmp;
use alicia_model::devices::Device;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// Least time between two re-sorts of the device table while devices keep changing.
const RESORT_EVERY: Duration = Duration::from_millis(250);

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
    /// By status: offline first, then stale, then online.
    Online,
    /// Most recently seen first.
    LastSeen,
}

/// The devices, as the table shows them.
#[derive(Debug)]
pub struct DeviceList {
    devices: HashMap<String, Arc<Device>>,
    /// How many of `devices` are online, kept as they change (not counted each frame).
    online: usize,
    /// The ids of those offline, in order, kept as they change.
    offline: BTreeSet<String>,
    rows: Arc<[String]>,
    /// Replaced devices, to be freed off the UI thread ([`DeviceList::take_retired`]).
    retired: Vec<Arc<Device>>,
    /// Text the rows must contain (id, name, room, type or status word).
    pub filter: String,
    /// Only the devices offline.
    pub offline_only: bool,
    /// The column the rows are sorted by.
    pub sort: DeviceSort,
    /// Sort direction.
    pub ascending: bool,
    dirty: bool,
    sorted_at: Option<Instant>,
    applied_filter: (String, bool),
    applied_sort: (DeviceSort, bool),
}

impl Default for DeviceList {
    fn default() -> Self {
        Self {
            devices: HashMap::new(),
            online: 0,
            offline: BTreeSet::new(),
            rows: Arc::from([]),
            retired: Vec::new(),
            filter: String::new(),
            offline_only: false,
            sort: DeviceSort::Id,
            ascending: true,
            dirty: true,
            sorted_at: None,
            applied_filter: (String::new(), false),
            applied_sort: (DeviceSort::Id, true),
        }
    }
}

impl DeviceList {
    /// Replaces everything with the manager's registry as the backend sent it.
    pub fn replace(&mut self, devices: Vec<Arc<Device>>) {
        self.devices = devices.into_iter().map(|d| (d.id.clone(), d)).collect();
        self.online = self.devices.values().filter(|d| d.online).count();
        self.offline = self
            .devices
            .values()
            .filter(|d| !d.online)
            .map(|d| d.id.clone())
            .collect();
        self.dirty = true;
    }

    /// A device changed.
    pub fn update(&mut self, device: Arc<Device>) {
        let online = device.online;
        if online {
            self.offline.remove(&device.id);
        } else if !self.offline.contains(&device.id) {
            self.offline.insert(device.id.clone());
        }
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
            self.offline.remove(id);
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

    /// Every device's id and name, for finding one by name.
    pub fn names(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.devices
            .values()
            .map(|d| (d.id.as_str(), d.name.as_deref()))
    }

    /// The names (else ids) of the first `limit` devices offline, by id.
    pub fn offline_names(&self, limit: usize) -> Vec<String> {
        self.offline
            .iter()
            .take(limit)
            .map(|id| {
                self.devices
                    .get(id)
                    .and_then(|d| d.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect()
    }

    /// The ids to show, in order (re-sorted at most a few times a second while devices change,
    /// at once when the filter or the sort changes).
    pub fn rows(&mut self) -> Arc<[String]> {
        let settings_changed = self.applied_filter.0 != self.filter
            || self.applied_filter.1 != self.offline_only
            || self.applied_sort != (self.sort, self.ascending);
        let due = self.sorted_at.is_none_or(|at| at.elapsed() >= RESORT_EVERY);
        if settings_changed || (self.dirty && due) {
            self.rebuild();
        }
        Arc::clone(&self.rows)
    }

    fn rebuild(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<(String, &Arc<Device>)> = self
            .devices
            .values()
            .filter(|d| !self.offline_only || !d.online)
            .filter(|d| needle.is_empty() || device_text(d).contains(&needle))
            .map(|d| (sort_key(d, self.sort), d))
            .collect();
        rows.sort_by(|(a_key, a), (b_key, b)| {
            natural_cmp(a_key, b_key).then_with(|| natural_cmp(&a.id, &b.id))
        });
        let newest_first = self.sort == DeviceSort::LastSeen;
        if self.ascending == newest_first {
            rows.reverse();
        }
        self.rows = rows.into_iter().map(|(_, d)| d.id.clone()).collect();
        self.dirty = false;
        self.sorted_at = Some(crate::clock::instant());
        self.applied_filter = (self.filter.clone(), self.offline_only);
        self.applied_sort = (self.sort, self.ascending);
    }
}

/// What a device sorts by in `sort` (compared in natural order).
fn sort_key(device: &Device, sort: DeviceSort) -> String {
    match sort {
        DeviceSort::Id => device.id.clone(),
        DeviceSort::Name => device.name.clone().unwrap_or_default(),
        DeviceSort::Room => device.room.clone().unwrap_or_default(),
        DeviceSort::Kind => device.kind.clone().unwrap_or_default(),
        // Problems first.
        DeviceSort::Online => match (device.online, device.stale) {
            (false, _) => "0",
            (true, true) => "1",
            (true, false) => "2",
        }
        .to_owned(),
        DeviceSort::LastSeen => device.last_seen.clone().unwrap_or_default(),
    }
}

/// The status words a filter finds a device by.
fn status_words(device: &Device) -> &'static str {
    match (device.online, device.stale) {
        (false, true) => "offline stale",
        (false, false) => "offline",
        (true, true) => "online stale",
        (true, false) => "online",
    }
}

fn device_text(device: &Device) -> String {
    format!(
        "{} {} {} {} {}",
        device.id,
        device.name.as_deref().unwrap_or_default(),
        device.room.as_deref().unwrap_or_default(),
        device.kind.as_deref().unwrap_or_default(),
        status_words(device)
    )
    .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn device(id: &str, room: &str, online: bool) -> Arc<Device> {
        Arc::new(Device {
            id: id.to_owned(),
            name: Some(format!("{id} name")),
            kind: Some("light".to_owned()),
            room: Some(room.to_owned()),
            online,
            stale: false,
            last_seen: None,
            state: Arc::new(Value::Null),
            availability: Some(online),
        })
    }

    #[test]
    fn online_counts_follow_updates_and_removals() {
        let mut view = DeviceList::default();
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
    fn offline_devices_come_first_are_found_by_the_word_and_names_sort_naturally() {
        let mut view = DeviceList::default();
        for (id, online) in [("kitchen-10", true), ("kitchen-2", false), ("hall-1", true)] {
            view.update(device(id, "home", online));
        }
        assert_eq!(&*view.rows(), ["hall-1", "kitchen-2", "kitchen-10"]);
        view.sort = DeviceSort::Online;
        assert_eq!(
            view.rows()[0],
            "kitchen-2",
            "the first click on Status: offline first"
        );
        view.sort = DeviceSort::Id;
        view.filter = "offline".to_owned();
        assert_eq!(&*view.rows(), ["kitchen-2"]);
        view.filter.clear();
        view.offline_only = true;
        assert_eq!(&*view.rows(), ["kitchen-2"]);
    }

    #[test]
    fn rows_are_filtered_and_sorted_at_once_when_asked() {
        let mut view = DeviceList::default();
        for (id, room) in [("c", "attic"), ("a", "kitchen"), ("b", "attic")] {
            view.update(device(id, room, true));
        }
        assert_eq!(&*view.rows(), ["a", "b", "c"]);
        view.filter = "ATTIC".to_owned();
        assert_eq!(&*view.rows(), ["b", "c"]);
        view.ascending = false;
        assert_eq!(&*view.rows(), ["c", "b"]);
    }
}
