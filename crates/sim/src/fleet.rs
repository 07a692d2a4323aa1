//! A fleet drawn deterministically from a seed: its services (with how their health behaves)
//! and its devices (kind, room, name, and whether they hold their own MQTT connection).

use super::catalog::{DEVICE_KINDS, ROOMS, ServiceModel, models_of};
use alicia_core::config::ServiceType;
use std::collections::HashMap;

/// Devices that get their own connection (and so a real Last Will): the network speakers, up
/// to this many; the others speak through the fleet's shared connection, like a Zigbee bridge.
pub const OWN_CONNECTION_LIMIT: usize = 16;

/// How a simulated service's health behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthBehaviour {
    /// Always healthy.
    Steady,
    /// Alternates between healthy and unhealthy.
    Flapping,
    /// Reports a few times, then goes silent (and turns stale in the manager).
    GoesSilent,
}

/// One simulated service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimService {
    /// Its `service_name`.
    pub name: String,
    /// What it is.
    pub model: &'static ServiceModel,
    /// How its health reports behave over time.
    pub health: HealthBehaviour,
    /// Its place in the fleet (also its address: 10.0.0.(10 + index)).
    pub index: usize,
}

/// One simulated device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDevice {
    /// Its id, e.g. `light-kitchen-2`.
    pub id: String,
    /// `light`, `sensor`, `thermostat` or `speaker`.
    pub kind: &'static str,
    /// The room it is in.
    pub room: &'static str,
    /// A human name, e.g. `Kitchen light 2`.
    pub name: String,
    /// True when it holds its own MQTT connection with a Last Will.
    pub own_connection: bool,
}

/// A whole fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// Its services, every type in turn.
    pub services: Vec<SimService>,
    /// Its devices, of every kind, in named rooms.
    pub devices: Vec<SimDevice>,
}

impl Fleet {
    /// Draws a fleet of `services` services (cycling through every type) and `devices`
    /// devices from `seed`. The same seed always gives the same fleet.
    pub fn generate(seed: u64, services: usize, devices: usize) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        Self {
            services: generate_services(&mut rng, services),
            devices: generate_devices(&mut rng, devices),
        }
    }

    /// The services of one type.
    pub fn services_of(&self, service_type: ServiceType) -> impl Iterator<Item = &SimService> {
        self.services
            .iter()
            .filter(move |s| s.model.service_type == service_type)
    }
}

fn generate_services(rng: &mut fastrand::Rng, count: usize) -> Vec<SimService> {
    let mut used: HashMap<&'static str, usize> = HashMap::new();
    let mut services: Vec<SimService> = (0..count)
        .map(|index| {
            let service_type = ServiceType::ALL[index % ServiceType::ALL.len()];
            let models = models_of(service_type);
            let model =
                models[(index / ServiceType::ALL.len() + rng.usize(..models.len())) % models.len()];
            let seen = used.entry(model.name).or_default();
            *seen += 1;
            let name = if *seen == 1 {
                model.name.to_owned()
            } else {
                format!("{}-{seen}", model.name)
            };
            SimService {
                name,
                model,
                health: HealthBehaviour::Steady,
                index,
            }
        })
        .collect();
    if count >= 3 {
        services[count - 1].health = HealthBehaviour::GoesSilent;
        let flapping = (count / 4).max(1);
        for _ in 0..flapping {
            let pick = rng.usize(..count - 1);
            services[pick].health = HealthBehaviour::Flapping;
        }
    }
    services
}

fn generate_devices(rng: &mut fastrand::Rng, count: usize) -> Vec<SimDevice> {
    let total_weight: u32 = DEVICE_KINDS.iter().map(|(_, w)| w).sum();
    let mut per_place: HashMap<(&str, &str), usize> = HashMap::new();
    let mut own_connections = 0;
    (0..count)
        .map(|_| {
            let mut roll = rng.u32(..total_weight);
            let kind = DEVICE_KINDS
                .iter()
                .find(|(_, weight)| {
                    if roll < *weight {
                        true
                    } else {
                        roll -= weight;
                        false
                    }
                })
                .map_or("light", |(kind, _)| kind);
            let room = ROOMS[rng.usize(..ROOMS.len())];
            let n = per_place.entry((kind, room)).or_default();
            *n += 1;
            let own_connection = kind == "speaker" && own_connections < OWN_CONNECTION_LIMIT;
            own_connections += usize::from(own_connection);
            SimDevice {
                id: format!("{kind}-{room}-{n}"),
                kind,
                room,
                name: format!("{} {kind} {n}", title(room)),
                own_connection,
            }
        })
        .collect()
}

fn title(room: &str) -> String {
    let spaced = room.replace('-', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alicia_core::mqtt::topics::{is_valid_device_id, is_valid_service_name};
    use std::collections::HashSet;

    #[test]
    fn the_same_seed_gives_the_same_fleet() {
        assert_eq!(Fleet::generate(7, 8, 200), Fleet::generate(7, 8, 200));
        assert_ne!(Fleet::generate(7, 8, 200), Fleet::generate(8, 8, 200));
    }

    #[test]
    fn every_type_is_present_with_unique_valid_names() {
        let fleet = Fleet::generate(1, 12, 0);
        for service_type in ServiceType::ALL {
            assert!(
                fleet.services_of(service_type).count() >= 2,
                "{service_type}"
            );
        }
        let names: HashSet<&str> = fleet.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), 12);
        assert!(names.iter().all(|n| is_valid_service_name(n)));
        assert_eq!(fleet.services[11].health, HealthBehaviour::GoesSilent);
        assert!(
            fleet
                .services
                .iter()
                .any(|s| s.health == HealthBehaviour::Flapping)
        );
    }

    #[test]
    fn devices_have_unique_valid_ids_and_a_mix_of_kinds() {
        let fleet = Fleet::generate(3, 0, 10_000);
        let ids: HashSet<&str> = fleet.devices.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| is_valid_device_id(id)));
        for (kind, _) in DEVICE_KINDS {
            assert!(fleet.devices.iter().any(|d| d.kind == *kind), "{kind}");
        }
        let own = fleet.devices.iter().filter(|d| d.own_connection).count();
        assert_eq!(own, OWN_CONNECTION_LIMIT);
        assert!(
            fleet
                .devices
                .iter()
                .filter(|d| d.own_connection)
                .all(|d| d.kind == "speaker")
        );
        assert!(fleet.devices[0].name.chars().next().unwrap().is_uppercase());
    }
}
