//! Home Assistant MQTT discovery (CONTRACT §8): with `ha_discovery` on, the authority (never a
//! follower) publishes, retained, a Home Assistant device per configured service and one for
//! itself ([`entities`]), keeps their states current, and takes the `enabled` switch's
//! `ON`/`OFF` through the normal validated change path (history source and actor kind `ha`).
//! A deleted service's topics are cleared (empty retained payloads); turning the setting off —
//! at start, or in the desktop app's Settings while running — clears everything it published.
//! What was published is listed in `ha-discovery.json` beside the config, so a manager started
//! with the setting off still knows what to clear.

pub mod entities;

use crate::Core;
use crate::config::{
    Actor, ActorKind, ChangeSource, ConfigError, ConfigService, Origin, Precondition,
};
use crate::fleet::Role;
use crate::fsutil::write_atomic;
use crate::mqtt::QoS;
use entities::{Desired, Prefixes};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the states are looked at.
const TICK: Duration = Duration::from_millis(500);
/// The file listing the topics published for Home Assistant.
pub const PUBLISHED_FILE_NAME: &str = "ha-discovery.json";

/// The Home Assistant switch and prefix; cheap to clone.
#[derive(Clone)]
pub struct HomeAssistant {
    enabled: Arc<watch::Sender<bool>>,
    discovery_prefix: String,
    file: PathBuf,
}

impl HomeAssistant {
    /// On or off as `enabled` says, publishing under `discovery_prefix`; the published topics
    /// are listed in `dir`.
    pub fn new(enabled: bool, discovery_prefix: &str, dir: &Path) -> Self {
        Self {
            enabled: Arc::new(watch::channel(enabled).0),
            discovery_prefix: discovery_prefix.to_owned(),
            file: dir.join(PUBLISHED_FILE_NAME),
        }
    }

    /// True while discovery is published.
    pub fn enabled(&self) -> bool {
        *self.enabled.borrow()
    }

    /// Turns discovery on or off now (off clears everything published).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.send_replace(on);
    }

    /// Home Assistant's discovery prefix.
    pub fn discovery_prefix(&self) -> &str {
        &self.discovery_prefix
    }

    /// Home Assistant switched a service on or off: its `enabled` stored through the normal
    /// path (validated, history source `ha`), based on the revision read (tried again once if
    /// another change came in between).
    pub async fn switch(
        &self,
        config: &ConfigService,
        service: &str,
        on: bool,
    ) -> Result<(), ConfigError> {
        for _ in 0..2 {
            let stored = config.get(service).ok_or_else(|| ConfigError::NotFound {
                service: service.to_owned(),
            })?;
            if stored.document.get("enabled") == Some(&Value::Bool(on)) {
                return Ok(());
            }
            let mut document = Value::clone(&stored.document);
            document["enabled"] = Value::Bool(on);
            let origin = Origin::new(ChangeSource::Ha, Actor::of_kind(ActorKind::Ha));
            match config
                .put(
                    service,
                    document,
                    origin,
                    Precondition::Revision(stored.revision),
                )
                .await
            {
                Err(ConfigError::Conflict { .. }) => continue,
                other => return other.map(|_| ()),
            }
        }
        Err(ConfigError::Busy)
    }
}

/// What the publisher sent, topic by topic (`None`: known published by an earlier run, its
/// payload unknown).
type Published = BTreeMap<String, Option<Vec<u8>>>;

/// Publishes Home Assistant's topics while on and the authority; clears them when turned off;
/// until `shutdown`.
pub async fn run_publisher(core: Core, mut shutdown: watch::Receiver<bool>) {
    let ha = core.ha.clone();
    let prefixes = Prefixes {
        discovery: ha.discovery_prefix.clone(),
        alicia: core.mqtt.topics().prefix().to_owned(),
    };
    let mut published = load_published(&ha.file).await;
    let mut connections = core.mqtt.connections();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut switched = ha.enabled.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = switched.changed() => {}
            _ = connections.changed() => {
                // A broker that restarted may have lost the retained topics: all again.
                for payload in published.values_mut() {
                    *payload = None;
                }
            }
            _ = shutdown.changed() => return,
        }
        if !core.mqtt.is_connected() || core.fleet.role() != Role::Authority {
            // A follower publishes nothing; the authority owns these topics.
            continue;
        }
        let desired = if ha.enabled() {
            let reader = core.clone();
            let prefixes = prefixes.clone();
            tokio::task::spawn_blocking(move || entities::desired(&reader, &prefixes))
                .await
                .unwrap_or_default()
        } else {
            Desired::new()
        };
        let before: Vec<String> = published.keys().cloned().collect();
        publish_differences(&core, &desired, &mut published);
        if published.keys().ne(before.iter()) {
            save_published(&ha.file, &published).await;
        }
    }
}

/// Publishes what changed and clears what is no longer wanted; a publish the queue refused is
/// tried again at the next tick.
fn publish_differences(core: &Core, desired: &Desired, published: &mut Published) {
    for (topic, payload) in desired {
        if published.get(topic).and_then(Option::as_ref) == Some(payload) {
            continue;
        }
        if core
            .mqtt
            .publish(topic, payload.clone(), QoS::AtLeastOnce, true)
            .is_ok()
        {
            published.insert(topic.clone(), Some(payload.clone()));
        }
    }
    let gone: Vec<String> = published
        .keys()
        .filter(|topic| !desired.contains_key(*topic))
        .cloned()
        .collect();
    for topic in gone {
        if core
            .mqtt
            .publish(&topic, Vec::new(), QoS::AtLeastOnce, true)
            .is_ok()
        {
            published.remove(&topic);
        }
    }
}

async fn load_published(file: &Path) -> Published {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let topics: Vec<String> = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        topics.into_iter().map(|topic| (topic, None)).collect()
    })
    .await
    .unwrap_or_default()
}

async fn save_published(file: &Path, published: &Published) {
    let topics: Vec<&String> = published.keys().collect();
    let bytes = serde_json::to_vec_pretty(&topics).unwrap_or_default();
    let file = file.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        if bytes.len() <= 2 {
            match std::fs::remove_file(&file) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
                _ => Ok(()),
            }
        } else {
            write_atomic(&file, &bytes)
        }
    })
    .await
    .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
    if let Err(error) = written {
        tracing::warn!(%error, "the list of Home Assistant topics was not written");
    }
}
