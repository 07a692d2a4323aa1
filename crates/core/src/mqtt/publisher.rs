//! Keeps the broker's retained `alicia/config/<service>` in step with the stored documents:
//! after every committed change, all of them again after every (re)connection, and any one
//! someone else wrote (CONTRACT §6: the handler asks, through [`super::owned`]). Driven by
//! `watch` channels, so no change is ever lost to a lagging event stream: the latest state is
//! what gets published.

use super::handle::MqttHandle;
use super::payloads::HealthStatus;
use crate::config::{ConfigService, Snapshot};
use crate::fleet::Role;
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
    let mut was_authority = false;
    let owned = Arc::clone(mqtt.owned());
    loop {
        let current_generation = *connections.borrow_and_update();
        let authority = roles.borrow_and_update().role == Role::Authority;
        // After a reconnection, or on becoming the authority (others may have written the
        // config topics meanwhile), every stored document is published again.
        if current_generation != generation || (authority && !was_authority) {
            generation = current_generation;
            published.clear();
        }
        was_authority = authority;
        let restores = owned.take_restores();
        if mqtt.is_connected() && authority {
            let snapshot = Arc::clone(&snapshots.borrow_and_update());
            for service in restores {
                if published.remove(&service).is_none()
                    && !snapshot.documents.contains_key(&service)
                {
                    // A config for a service this manager does not hold: clear it.
                    publish_config(&mqtt, &service, Vec::new()).await;
                }
            }
            publish_differences(&mqtt, &snapshot, &mut published).await;
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = connections.changed() => {}
            _ = snapshots.changed() => {}
            _ = roles.changed() => {}
            () = owned.restore_asked() => {}
        }
    }
}

/// Publishes `payload` retained on `service`'s config topic, noting it as in flight first (so
/// its echo is known); true when it was queued.
async fn publish_config(mqtt: &MqttHandle, service: &str, payload: Vec<u8>) -> bool {
    mqtt.owned().publishing(service, &payload);
    let topic = mqtt.topics().config(service);
    mqtt.publish_queued(&topic, payload, QoS::AtLeastOnce, true)
        .await
        .is_ok()
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
        if publish_config(mqtt, service, payload).await {
            published.insert(service.clone(), stored.revision);
        }
    }
    let deleted: Vec<String> = published
        .keys()
        .filter(|service| !snapshot.documents.contains_key(*service))
        .cloned()
        .collect();
    for service in deleted {
        if publish_config(mqtt, &service, Vec::new()).await {
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
