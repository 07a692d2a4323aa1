//! Keeps the broker's retained `alicia/config/<service>/schema` in step with the settings
//! schemas the authority enforces (CONTRACT §9), so followers validate and draw forms with
//! them: after every change, all of them again after every (re)connection or on becoming the
//! authority; a schema no longer enforced is cleared. Something else written there is put
//! right by the handler ([`publish_schema`] through `Action::RestoreSchema`).

use super::handle::MqttHandle;
use crate::config::{ConfigService, SettingsSchema};
use crate::fleet::Role;
use rumqttc::QoS;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

/// Publishes the enforced settings schemas until `shutdown`, while this manager is the
/// authority.
pub async fn run_schema_publisher(
    config: ConfigService,
    mqtt: MqttHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut schemas = config.watch_schemas();
    let mut connections = mqtt.connections();
    let mut roles = mqtt.fleet().watch();
    let mut published: HashMap<String, Arc<Value>> = HashMap::new();
    let mut generation = 0;
    let mut was_authority = false;
    loop {
        let current_generation = *connections.borrow_and_update();
        let authority = roles.borrow_and_update().role == Role::Authority;
        schemas.borrow_and_update();
        if current_generation != generation || (authority && !was_authority) {
            generation = current_generation;
            published.clear();
        }
        was_authority = authority;
        if mqtt.is_connected() && authority {
            publish_differences(&config, &mqtt, &mut published);
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = connections.changed() => {}
            _ = schemas.changed() => {}
            _ = roles.changed() => {}
        }
    }
}

fn publish_differences(
    config: &ConfigService,
    mqtt: &MqttHandle,
    published: &mut HashMap<String, Arc<Value>>,
) {
    let enforced: HashMap<String, SettingsSchema> = config
        .schemas()
        .into_iter()
        .filter_map(|(service, record)| record.enforced.map(|schema| (service, schema)))
        .collect();
    for (service, schema) in &enforced {
        if published.get(service) == Some(&schema.source) {
            continue;
        }
        if publish_schema(mqtt, service, Some(schema)) {
            published.insert(service.clone(), Arc::clone(&schema.source));
        }
    }
    let dropped: Vec<String> = published
        .keys()
        .filter(|service| !enforced.contains_key(*service))
        .cloned()
        .collect();
    for service in dropped {
        if publish_schema(mqtt, &service, None) {
            published.remove(&service);
        }
    }
}

/// Publishes `schema` retained on `service`'s schema topic (`None`: clears it); true when it
/// was queued.
pub fn publish_schema(mqtt: &MqttHandle, service: &str, schema: Option<&SettingsSchema>) -> bool {
    let payload = schema
        .map(|schema| serde_json::to_vec(&*schema.source).unwrap_or_default())
        .unwrap_or_default();
    let topic = mqtt.topics().config_schema(service);
    match mqtt.publish(&topic, payload, QoS::AtLeastOnce, true) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(service, %error, "could not publish the settings schema");
            false
        }
    }
}
