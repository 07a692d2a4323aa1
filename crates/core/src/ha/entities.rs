//! What Home Assistant is to see (CONTRACT §8), as plain data: every discovery config and
//! every state, topic by topic, worked out from one reading of the store, the health registry,
//! the devices and the checks. The publisher sends what differs from what it sent before.
//!
//! Per configured service `<s>` (a device `alicia_<s>`, through the manager's device):
//! - `binary_sensor` `problem` (`device_class: problem`): `ON` when the service is in trouble
//!   by CONTRACT §10's one rule (enabled, and unhealthy, stale — never heard included — or
//!   refusing its config);
//! - `sensor` `config_state` (`device_class: enum`, `options`: applied, pending, refused,
//!   unknown);
//! - `switch` `enabled`: its state follows the stored document; `ON`/`OFF` on its
//!   `command_topic` change the document through the normal validated path.
//!
//! The manager is the device `alicia__manager` with sensors for configured services, devices
//! online and check errors. Every entity is available while the authority's presence says
//! `healthy`. States live under `<alicia prefix>/ha/`: `<s>/problem`, `<s>/config_state`,
//! `<s>/enabled` (command: `<s>/enabled/set`), and `_manager/<object>` (no service name
//! starts with `_`).

use crate::Core;
use crate::checks::Severity;
use crate::health::ConfigState;
use crate::trouble::is_enabled;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The manager's device identifier.
pub const MANAGER_DEVICE: &str = "alicia__manager";
/// The states' level under the alicia prefix.
pub const STATE_LEVEL: &str = "ha";
/// The manager's own level under `ha/` (not a valid service name).
pub const MANAGER_LEVEL: &str = "_manager";

/// Every topic and the retained payload it is to hold.
pub type Desired = BTreeMap<String, Vec<u8>>;

/// Where the publisher puts things: the two prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixes {
    /// Home Assistant's discovery prefix (`homeassistant`).
    pub discovery: String,
    /// The Alicia topic prefix (`alicia`).
    pub alicia: String,
}

impl Prefixes {
    /// `<discovery>/<component>/<node>/<object>/config`.
    pub fn config_topic(&self, component: &str, node: &str, object: &str) -> String {
        format!("{}/{component}/{node}/{object}/config", self.discovery)
    }

    /// `<alicia>/ha/<owner>/<object>`: a state topic.
    pub fn state_topic(&self, owner: &str, object: &str) -> String {
        format!("{}/{STATE_LEVEL}/{owner}/{object}", self.alicia)
    }

    /// `<alicia>/ha/<service>/enabled/set`: the switch's command topic.
    pub fn command_topic(&self, service: &str) -> String {
        format!("{}/set", self.state_topic(service, "enabled"))
    }

    /// The manager's presence topic, whose `status` is every entity's availability.
    fn availability(&self) -> Value {
        json!([{
            "topic": format!("{}/system/health/config-manager", self.alicia),
            "value_template": "{{ value_json.status }}",
            "payload_available": "healthy",
            "payload_not_available": "unhealthy",
        }])
    }
}

/// Everything Home Assistant is to see now.
pub fn desired(core: &Core, prefixes: &Prefixes) -> Desired {
    let snapshot = core.config.snapshot();
    let (rows, checks) = core.overview_and_checks();
    let mut out = Desired::new();
    let version = env!("CARGO_PKG_VERSION");
    let manager = json!({
        "identifiers": [MANAGER_DEVICE],
        "name": "Alicia Config Manager",
        "model": "config-manager",
        "manufacturer": "Alicia",
        "sw_version": version,
    });
    let origin = json!({"name": "Alicia Config Manager", "sw_version": version});
    let mut entity = |component: &str, node: &str, owner: &str, object: &str, mut config: Value| {
        config["unique_id"] = json!(format!("{node}_{object}"));
        config["state_topic"] = json!(prefixes.state_topic(owner, object));
        config["availability"] = prefixes.availability();
        config["origin"] = origin.clone();
        out.insert(
            prefixes.config_topic(component, node, object),
            serde_json::to_vec(&config).unwrap_or_default(),
        );
    };

    let (online, _) = core.devices.counts();
    let errors = checks
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .count();
    let manager_sensors = [
        (
            "services",
            "Services",
            "mdi:account-voice",
            snapshot.documents.len(),
        ),
        ("devices_online", "Devices online", "mdi:devices", online),
        (
            "check_errors",
            "Check errors",
            "mdi:alert-circle-outline",
            errors,
        ),
    ];
    for (object, name, icon, _) in &manager_sensors {
        entity(
            "sensor",
            MANAGER_DEVICE,
            MANAGER_LEVEL,
            object,
            json!({
                "name": name,
                "icon": icon,
                "state_class": "measurement",
                "device": manager,
            }),
        );
    }
    let mut states = Desired::new();
    for (object, _, _, value) in manager_sensors {
        states.insert(
            prefixes.state_topic(MANAGER_LEVEL, object),
            value.to_string().into_bytes(),
        );
    }

    for (service, stored) in &snapshot.documents {
        let node = format!("alicia_{service}");
        let document = &stored.document;
        let text = |field: &str| document.get(field).and_then(Value::as_str);
        let mut device = json!({
            "identifiers": [node],
            "name": service,
            "manufacturer": "Alicia",
            "via_device": MANAGER_DEVICE,
        });
        if let Some(model) = text("service_type") {
            device["model"] = json!(model);
        }
        if let Some(version) = text("version") {
            device["sw_version"] = json!(version);
        }
        entity(
            "binary_sensor",
            &node,
            service,
            "problem",
            json!({
                "name": "Problem",
                "device_class": "problem",
                "payload_on": "ON",
                "payload_off": "OFF",
                "device": device,
            }),
        );
        entity(
            "sensor",
            &node,
            service,
            "config_state",
            json!({
                "name": "Config state",
                "device_class": "enum",
                "options": ["applied", "pending", "refused", "unknown"],
                "icon": "mdi:file-cog-outline",
                "device": device,
            }),
        );
        let mut switch = json!({
            "name": "Enabled",
            "command_topic": prefixes.command_topic(service),
            "payload_on": "ON",
            "payload_off": "OFF",
            "state_on": "ON",
            "state_off": "OFF",
            "optimistic": false,
            "icon": "mdi:power",
            "device": device,
        });
        switch["qos"] = json!(1);
        entity("switch", &node, service, "enabled", switch);

        let row = rows.iter().find(|r| &r.service_name == service);
        let config_state = row.map_or(ConfigState::Unknown, |r| r.config_state);
        let enabled = is_enabled(Some(document));
        // CONTRACT §10's one rule; a service no row names has never been heard from.
        let problem = row.map_or(enabled, |r| r.in_trouble);
        states.insert(prefixes.state_topic(service, "problem"), on_off(problem));
        states.insert(
            prefixes.state_topic(service, "config_state"),
            config_state.as_str().as_bytes().to_vec(),
        );
        states.insert(prefixes.state_topic(service, "enabled"), on_off(enabled));
    }
    out.extend(states);
    out
}

fn on_off(on: bool) -> Vec<u8> {
    if on { b"ON".to_vec() } else { b"OFF".to_vec() }
}
