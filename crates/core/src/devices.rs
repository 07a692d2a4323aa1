//! The device registry (CONTRACT §2, `alicia/device/<id>/…`): a live map fed by MQTT. The
//! commands sent to devices are the command log's (`core::commands`).
//!
//! Staleness (CONTRACT §9): a device not heard from (state or availability, whatever it said)
//! for the stale time is marked `stale`, and one not heard from for the expiry time is
//! forgotten by [`DeviceRegistry::sweep`]; [`DeviceRegistry::forget`] forgets one at once.
//! Time counts from when this manager heard the message: a retained state delivered when the
//! manager subscribes counts as heard then (MQTT says nothing of when it was published).
//!
//! Bounded (CONTRACT §6): at most `ALICIA_MAX_DEVICES` devices (new ids beyond are refused),
//! and the states it holds at most [`STATE_BUDGET`] of memory together (a state that would
//! pass it is refused; a home's devices use a few KiB each).

use crate::json_footprint::json_footprint;
use crate::limits::DEFAULT_MAX_DEVICES;
pub use alicia_model::devices::Device;
use parking_lot::RwLock;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a device may stay silent before it is stale (`ALICIA_DEVICE_STALE_SECS`).
pub const DEFAULT_DEVICE_STALE: Duration = Duration::from_secs(600);
/// Days a device may stay silent before it is forgotten (`ALICIA_DEVICE_EXPIRE_DAYS`).
pub const DEFAULT_DEVICE_EXPIRE_DAYS: f64 = 30.0;

/// Memory the devices' states may take together.
pub const STATE_BUDGET: usize = 128 * 1024 * 1024;

/// What a device message did to the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceChange {
    /// The device is new or changed.
    Updated(Arc<Device>),
    /// The device is gone (its retained topics were cleared).
    Removed(String),
    /// The message was refused: the registry is full.
    Refused(DeviceRefusal),
}

/// Why the registry refused a device message (CONTRACT §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeviceRefusal {
    /// A new device, and the registry holds its most.
    #[error("the registry holds its most devices ({0}); new ones are refused")]
    TooManyDevices(usize),
    /// The state would pass the memory the states may take together.
    #[error("the devices' states would take more than {} MiB together; this one is refused", .0 / (1024 * 1024))]
    StateBudget(usize),
}

/// The registry; cheap to clone.
#[derive(Debug, Clone)]
pub struct DeviceRegistry {
    devices: Arc<RwLock<Devices>>,
    max_devices: usize,
    state_budget: usize,
}

#[derive(Debug, Default)]
struct Devices {
    by_id: HashMap<String, Known>,
    /// The memory the states take together, roughly ([`json_footprint`]).
    state_bytes: usize,
}

/// A device and when it was last heard from (any message about it, even an unchanged one).
#[derive(Debug)]
struct Known {
    device: Arc<Device>,
    heard: Instant,
}

/// How long a device may stay silent (CONTRACT §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    /// Silent this long, it is `stale` (`ALICIA_DEVICE_STALE_SECS`).
    pub stale_after: Duration,
    /// Silent this long, it is forgotten (`ALICIA_DEVICE_EXPIRE_DAYS`).
    pub forget_after: Duration,
}

impl Default for DeviceRegistry {
    fn default() -> Self {
        Self::with_limits(DEFAULT_MAX_DEVICES, STATE_BUDGET)
    }
}

impl DeviceRegistry {
    /// A registry of at most `max_devices` devices whose states take at most `state_budget`
    /// bytes together.
    pub fn with_limits(max_devices: usize, state_budget: usize) -> Self {
        Self {
            devices: Arc::default(),
            max_devices,
            state_budget,
        }
    }

    /// Applies `alicia/device/<id>/state`: `Some(object)` is the new state, `None` clears it.
    pub fn apply_state(
        &self,
        id: &str,
        state: Option<Arc<Value>>,
        now: &str,
    ) -> Option<DeviceChange> {
        self.update(id, |device| match state {
            Some(state) => {
                lift(&state, "name", &mut device.name);
                lift(&state, "type", &mut device.kind);
                lift(&state, "room", &mut device.room);
                device.state = state;
                device.last_seen = Some(now.to_owned());
            }
            None => device.state = Arc::new(Value::Null),
        })
    }

    /// Applies `alicia/device/<id>/availability`: `Some(online)`, or `None` when cleared.
    pub fn apply_availability(
        &self,
        id: &str,
        online: Option<bool>,
        now: &str,
    ) -> Option<DeviceChange> {
        self.update(id, |device| {
            device.availability = online;
            if online == Some(true) {
                device.last_seen = Some(now.to_owned());
            }
        })
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Device)) -> Option<DeviceChange> {
        let now = Instant::now();
        let mut devices = self.devices.write();
        let existing = devices.by_id.get_mut(id);
        let old_state = existing
            .as_ref()
            .map_or(0, |k| state_footprint(&k.device.state));
        let mut device = existing
            .as_ref()
            .map_or_else(|| Device::new(id), |k| Device::clone(&k.device));
        change(&mut device);
        device.refresh_online();
        device.stale = false;
        if device.is_empty() {
            let removed = devices.by_id.remove(id);
            devices.state_bytes = devices.state_bytes.saturating_sub(old_state);
            return removed.map(|_| DeviceChange::Removed(id.to_owned()));
        }
        if let Some(known) = existing {
            known.heard = now;
            if *known.device == device {
                return None;
            }
        } else if devices.by_id.len() >= self.max_devices {
            return Some(DeviceChange::Refused(DeviceRefusal::TooManyDevices(
                self.max_devices,
            )));
        }
        let new_state = state_footprint(&device.state);
        let total = devices.state_bytes.saturating_sub(old_state) + new_state;
        if new_state > old_state && total > self.state_budget {
            return Some(DeviceChange::Refused(DeviceRefusal::StateBudget(
                self.state_budget,
            )));
        }
        devices.state_bytes = total;
        let device = Arc::new(device);
        devices.by_id.insert(
            id.to_owned(),
            Known {
                device: Arc::clone(&device),
                heard: now,
            },
        );
        Some(DeviceChange::Updated(device))
    }

    /// Forgets a device until it reports again; `None` when it is not known.
    pub fn forget(&self, id: &str) -> Option<Arc<Device>> {
        let mut devices = self.devices.write();
        let known = devices.by_id.remove(id)?;
        devices.state_bytes = devices
            .state_bytes
            .saturating_sub(state_footprint(&known.device.state));
        Some(known.device)
    }

    /// Marks the devices silent for `silence.stale_after` at `now` as stale and forgets those
    /// silent for `silence.forget_after`; says what changed.
    pub fn sweep(&self, now: Instant, silence: Silence) -> Vec<DeviceChange> {
        let silent_for = |known: &Known| now.saturating_duration_since(known.heard);
        let due: Vec<String> = self
            .devices
            .read()
            .by_id
            .iter()
            .filter(|(_, known)| {
                let silent = silent_for(known);
                silent >= silence.forget_after
                    || (silent >= silence.stale_after && !known.device.stale)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if due.is_empty() {
            return Vec::new();
        }
        let mut changes = Vec::new();
        let mut devices = self.devices.write();
        for id in due {
            let Some(known) = devices.by_id.get_mut(&id) else {
                continue;
            };
            let silent = silent_for(known);
            if silent >= silence.forget_after {
                let footprint = state_footprint(&known.device.state);
                devices.by_id.remove(&id);
                devices.state_bytes = devices.state_bytes.saturating_sub(footprint);
                changes.push(DeviceChange::Removed(id));
            } else if silent >= silence.stale_after && !known.device.stale {
                let mut device = Device::clone(&known.device);
                device.stale = true;
                known.device = Arc::new(device);
                changes.push(DeviceChange::Updated(Arc::clone(&known.device)));
            }
        }
        changes
    }

    /// One device.
    pub fn get(&self, id: &str) -> Option<Arc<Device>> {
        self.devices
            .read()
            .by_id
            .get(id)
            .map(|known| Arc::clone(&known.device))
    }

    /// Every device, sorted by id.
    pub fn list(&self) -> Vec<Arc<Device>> {
        let mut list: Vec<Arc<Device>> = self
            .devices
            .read()
            .by_id
            .values()
            .map(|known| Arc::clone(&known.device))
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// (online, total) device counts.
    pub fn counts(&self) -> (usize, usize) {
        let devices = self.devices.read();
        let online = devices.by_id.values().filter(|k| k.device.online).count();
        (online, devices.by_id.len())
    }

    /// The memory the devices' states take together, roughly.
    pub fn state_bytes(&self) -> usize {
        self.devices.read().state_bytes
    }
}

/// Lifts a string field of the state into the record, allocating only when it changed.
fn lift(state: &Value, key: &str, field: &mut Option<String>) {
    if let Some(text) = state.get(key).and_then(Value::as_str)
        && field.as_deref() != Some(text)
    {
        *field = Some(text.to_owned());
    }
}

/// The memory a device's state takes (none while it has none).
fn state_footprint(state: &Value) -> usize {
    if state.is_null() {
        0
    } else {
        json_footprint(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Arc<Value> {
        assert!(value.is_object());
        Arc::new(value)
    }

    #[test]
    fn state_lifts_name_type_and_room() {
        let registry = DeviceRegistry::default();
        let change = registry.apply_state(
            "lamp-1",
            Some(object(
                json!({"name": "Desk lamp", "type": "light", "room": "office", "on": true}),
            )),
            "2026-01-01T00:00:00.000Z",
        );
        let Some(DeviceChange::Updated(device)) = change else {
            panic!("{change:?}")
        };
        assert_eq!(device.name.as_deref(), Some("Desk lamp"));
        assert_eq!(device.kind.as_deref(), Some("light"));
        assert_eq!(device.room.as_deref(), Some("office"));
        assert!(device.online);
        assert_eq!(device.state["on"], true);
        let json = serde_json::to_value(&*device).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec![
                "id",
                "name",
                "type",
                "room",
                "online",
                "stale",
                "last_seen",
                "state"
            ]
        );
    }

    #[test]
    fn availability_rules_online() {
        let registry = DeviceRegistry::default();
        registry.apply_state("t", Some(object(json!({"temp": 20}))), "now");
        registry.apply_availability("t", Some(false), "now");
        assert!(!registry.get("t").unwrap().online);
        registry.apply_availability("t", None, "now");
        assert!(registry.get("t").unwrap().online);
        assert_eq!(registry.counts(), (1, 1));
    }

    #[test]
    fn clearing_everything_removes_the_device() {
        let registry = DeviceRegistry::default();
        registry.apply_state("t", Some(object(json!({"temp": 20}))), "now");
        registry.apply_availability("t", Some(true), "now");
        assert!(matches!(
            registry.apply_state("t", None, "now"),
            Some(DeviceChange::Updated(_))
        ));
        assert_eq!(
            registry.apply_availability("t", None, "now"),
            Some(DeviceChange::Removed("t".into()))
        );
        assert!(registry.list().is_empty());
    }

    #[test]
    fn an_identical_message_changes_nothing() {
        let registry = DeviceRegistry::default();
        assert!(registry.apply_availability("x", Some(false), "a").is_some());
        assert!(registry.apply_availability("x", Some(false), "a").is_none());
    }

    #[test]
    fn list_is_sorted_by_id() {
        let registry = DeviceRegistry::default();
        for id in ["b", "c", "a"] {
            registry.apply_availability(id, Some(true), "now");
        }
        let ids: Vec<String> = registry.list().iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, vec!["a", "b", "c"]);
    }

    #[test]
    fn new_devices_beyond_the_most_and_states_beyond_the_budget_are_refused() {
        let registry = DeviceRegistry::with_limits(2, 64 * 1024);
        registry.apply_availability("a", Some(true), "now");
        registry.apply_availability("b", Some(true), "now");
        assert_eq!(
            registry.apply_availability("c", Some(true), "now"),
            Some(DeviceChange::Refused(DeviceRefusal::TooManyDevices(2)))
        );
        assert!(
            registry
                .apply_availability("a", Some(false), "now")
                .is_some(),
            "known devices still change"
        );
        let big = object(json!({"numbers": vec![1; 10_000]}));
        assert!(matches!(
            registry.apply_state("a", Some(big), "now"),
            Some(DeviceChange::Refused(DeviceRefusal::StateBudget(_)))
        ));
        assert_eq!(registry.state_bytes(), 0);
        registry.apply_state("a", Some(object(json!({"on": true}))), "now");
        assert!(registry.state_bytes() > 0);
        registry.apply_state("a", None, "now");
        registry.apply_availability("a", None, "now");
        assert_eq!(
            registry.state_bytes(),
            0,
            "a device removed frees its share"
        );
    }

    #[test]
    fn silent_devices_turn_stale_then_are_forgotten_and_come_back_when_heard() {
        let registry = DeviceRegistry::default();
        let silence = Silence {
            stale_after: Duration::from_secs(600),
            forget_after: Duration::from_secs(3600),
        };
        registry.apply_state("lamp", Some(object(json!({"on": true}))), "now");
        let start = Instant::now();
        assert!(registry.sweep(start, silence).is_empty());
        let later = start + Duration::from_secs(601);
        let changes = registry.sweep(later, silence);
        let [DeviceChange::Updated(device)] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert!(device.stale && device.online);
        assert!(registry.sweep(later, silence).is_empty(), "once");
        let heard = registry.apply_availability("lamp", Some(true), "now");
        let Some(DeviceChange::Updated(device)) = heard else {
            panic!("{heard:?}")
        };
        assert!(!device.stale, "an unchanged message is still news");
        let much_later = Instant::now() + Duration::from_secs(3601);
        assert_eq!(
            registry.sweep(much_later, silence),
            vec![DeviceChange::Removed("lamp".into())]
        );
        assert!(registry.get("lamp").is_none());
        assert_eq!(registry.state_bytes(), 0);
    }

    #[test]
    fn a_forgotten_device_frees_its_place() {
        let registry = DeviceRegistry::with_limits(1, STATE_BUDGET);
        registry.apply_state("old", Some(object(json!({"on": true}))), "now");
        assert!(matches!(
            registry.apply_state("new", Some(object(json!({"on": true}))), "now"),
            Some(DeviceChange::Refused(_))
        ));
        assert_eq!(
            registry.apply_state("new", None, "now"),
            None,
            "clearing an unknown device is no refusal"
        );
        assert_eq!(registry.forget("old").unwrap().id, "old");
        assert!(registry.forget("old").is_none());
        assert_eq!(registry.state_bytes(), 0);
        assert!(matches!(
            registry.apply_state("new", Some(object(json!({"on": true}))), "now"),
            Some(DeviceChange::Updated(_))
        ));
    }
}
