//! Keeps the broker's retained `alicia/config/<service>` in step with the stored documents:
//! after every committed change, and all of them again after every (re)connection. Driven by
//! `watch` channels, so no change is ever lost to a lagging event stream: the latest state is
//! what gets published.

use super::handle::MqttHandle;
use super::payloads::HealthStatus;
use crate::core::config::{ConfigService, Snapshot};
use crate::core::fleet::Role;
use rumqttc::QoS;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the manager refreshes its own retained health (its heartbeat).
pub const PRESENCE_PERIOD: Duration = Duration::from_secs(30);

/// Publishes configs until `shutdown`, while this manager is the authority (a follower
/// never publishes `alicia/config/<service>`).
pub async fn run_config_publisher(
    config: ConfigService,
    mqtt: MqttHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut snapshots = config.watch();
    let mut connections = mqtt.connections();
    let mut roles = mqtt.fleet().watch();
    let mut published: HashMap<String, u64> = HashMap::new();
    let mut generation = 0;
    loop {
        let current_generation = *connections.borrow_and_update();
        if current_generation != generation {
            generation = current_generation;
            published.clear();
        }
        let authority = roles.borrow_and_update().role == Role::Authority;
        if mqtt.is_connected() && authority {
            let snapshot = Arc::clone(&snapshots.borrow_and_update());
            publish_differences(&mqtt, &snapshot, &mut published).await;
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = connections.changed() => {}
            _ = snapshots.changed() => {}
            _ = roles.changed() => {}
        }
    }
}

async fn publish_differences(
    mqtt: &MqttHandle,
    snapshot: &Snapshot,
    published: &mut HashMap<String, u64>,
) {
    for (service, stored) in &snapshot.documents {
        if published.get(service) == Some(&stored.revision) {
            continue;
        }
        let payload = serde_json::to_vec(&*stored.document).unwrap_or_default();
        let topic = mqtt.topics().config(service);
        if mqtt
            .publish_queued(&topic, payload, QoS::AtLeastOnce, true)
            .await
            .is_ok()
        {
            published.insert(service.clone(), stored.revision);
        }
    }
    let deleted: Vec<String> = published
        .keys()
        .filter(|service| !snapshot.documents.contains_key(*service))
        .cloned()
        .collect();
    for service in deleted {
        let topic = mqtt.topics().config(&service);
        if mqtt
            .publish_queued(&topic, Vec::new(), QoS::AtLeastOnce, true)
            .await
            .is_ok()
        {
            published.remove(&service);
        }
    }
}

/// Refreshes the manager's retained health every [`PRESENCE_PERIOD`] while connected.
pub async fn run_presence(mqtt: MqttHandle, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(PRESENCE_PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = ticks.tick() => {
                if mqtt.is_connected() {
                    mqtt.publish_presence(HealthStatus::Healthy);
                }
            }
        }
    }
}
