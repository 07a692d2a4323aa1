//! Home Assistant MQTT discovery (CONTRACT §8) on a real Mosquitto: the test subscribes to
//! `homeassistant/#` as Home Assistant does, checks every discovery config against what Home
//! Assistant requires of its component, follows each `state_topic` and compares its value with
//! the REST answer as the fleet changes (a service reports, turns unhealthy, refuses its
//! config, is deleted), switches a service off through the switch's `command_topic` (stored
//! with source `ha`, the switch following), turns discovery off (everything cleared), and
//! checks that a follower publishes nothing.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{PATIENCE, TestBroker, TestClient, free_port, start_core};

/// What Home Assistant would hold: every retained topic under both prefixes.
struct Observer {
    client: TestClient,
    seen: BTreeMap<String, Vec<u8>>,
}

impl Observer {
    async fn start(port: u16) -> Self {
        let client = TestClient::connect(port).await;
        // Not one by one, each waiting for its SubAck: the retained messages of a filter
        // arriving while the next SubAck is awaited would be passed over.
        for filter in [
            "homeassistant/#",
            "alicia/ha/#",
            "alicia/system/health/config-manager",
        ] {
            client
                .client
                .subscribe(filter, rumqttc::QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        Self {
            client,
            seen: BTreeMap::new(),
        }
    }

    async fn until(&mut self, what: &str, condition: impl Fn(&BTreeMap<String, Vec<u8>>) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            for publish in self.client.drain_for(Duration::from_millis(100)).await {
                if publish.topic.ends_with("/set") {
                    // Commands to the switch, not what the manager holds.
                    continue;
                }
                if publish.payload.is_empty() {
                    self.seen.remove(&publish.topic);
                } else {
                    self.seen
                        .insert(publish.topic.clone(), publish.payload.to_vec());
                }
            }
            if condition(&self.seen) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}; seen {:?}",
                self.seen.keys().collect::<Vec<_>>()
            );
        }
    }

    fn config(&self, topic: &str) -> Value {
        serde_json::from_slice(&self.seen[topic]).unwrap()
    }

    fn state(&self, topic: &str) -> Option<String> {
        self.seen
            .get(topic)
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    fn configs(&self) -> Vec<&String> {
        self.seen
            .keys()
            .filter(|t| t.starts_with("homeassistant/"))
            .collect()
    }
}

fn config_topic(component: &str, service: &str, object: &str) -> String {
    format!("homeassistant/{component}/alicia_{service}/{object}/config")
}

struct Fleet {
    core: Core,
    runtime: CoreRuntime,
    http: reqwest::Client,
    base: String,
    _dir: tempfile::TempDir,
}

async fn authority(broker: &TestBroker) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.ha_discovery = true;
        s.api.port = api_port;
        s.api.rate_limit_max = 0;
        s.health_ttl_secs = 60;
    })
    .await;
    tokio::spawn(alicia_config_manager::api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone()).unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    support::wait_for_rest(&http, &base).await;
    core.config
        .put(
            "llm-a",
            support::llm("llm-a").ip("10.0.0.1").build(),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    Fleet {
        core,
        runtime,
        http,
        base,
        _dir: dir,
    }
}

/// Home Assistant's rules for each component's discovery config (its MQTT integration's
/// binary_sensor, sensor and switch pages), and this contract's device and availability.
fn check_config(topic: &str, config: &Value, alicia: &Value) {
    let component = topic.split('/').nth(1).unwrap();
    let node = topic.split('/').nth(2).unwrap();
    let object = topic.split('/').nth(3).unwrap();
    assert_eq!(config["unique_id"], format!("{node}_{object}"), "{topic}");
    let state_topic = config["state_topic"].as_str().unwrap();
    assert!(
        state_topic.starts_with("alicia/ha/"),
        "{topic}: {state_topic}"
    );
    assert!(!state_topic.contains(['+', '#']));
    let availability = config["availability"].as_array().unwrap();
    assert!(!availability.is_empty());
    for entry in availability {
        assert_eq!(entry["topic"], "alicia/system/health/config-manager");
        assert_eq!(entry["value_template"], "{{ value_json.status }}");
        // The manager's presence payload rendered by the template is payload_available.
        assert_eq!(alicia["status"], entry["payload_available"], "{topic}");
        assert_eq!(entry["payload_not_available"], "unhealthy");
    }
    let device = &config["device"];
    let identifiers = device["identifiers"].as_array().unwrap();
    assert_eq!(identifiers[0], node, "{topic}");
    assert!(device["name"].is_string());
    assert_eq!(device["manufacturer"], "Alicia");
    if node == "alicia__manager" {
        assert_eq!(component, "sensor");
        assert!(config.get("via_device").is_none());
    } else {
        assert_eq!(device["via_device"], "alicia__manager", "{topic}");
        assert!(device["model"].is_string() && device["sw_version"].is_string());
    }
    match component {
        "binary_sensor" => {
            assert_eq!(config["device_class"], "problem");
            assert_eq!(
                (&config["payload_on"], &config["payload_off"]),
                (&json!("ON"), &json!("OFF"))
            );
        }
        "sensor" if object == "config_state" => {
            assert_eq!(config["device_class"], "enum");
            assert_eq!(
                config["options"],
                json!(["applied", "pending", "refused", "unknown"])
            );
            // An enum sensor has neither a unit nor a state class.
            assert!(config.get("unit_of_measurement").is_none());
            assert!(config.get("state_class").is_none());
        }
        "sensor" => assert_eq!(config["state_class"], "measurement"),
        "switch" => {
            let command = config["command_topic"].as_str().unwrap();
            assert_eq!(command, format!("{state_topic}/set"));
            assert_eq!(config["payload_on"], "ON");
            assert_eq!(config["state_off"], "OFF");
        }
        other => panic!("unexpected component {other}"),
    }
}

impl Fleet {
    async fn service_row(&self, service: &str) -> Value {
        let rows =
            support::get_json(&self.http, &format!("{}/api/system/services", self.base)).await;
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["service_name"] == service)
            .cloned()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_assistant_sees_every_service_follows_it_and_switches_it() {
    let Some(broker) = TestBroker::mosquitto() else {
        return;
    };
    let fleet = authority(&broker).await;
    // Home Assistant connecting after the manager published: it reads the retained topics.
    let mut ha = Observer::start(broker.port).await;
    let mut wanted: Vec<String> = ["whisper-service", "llm-a"]
        .iter()
        .flat_map(|s| {
            [
                config_topic("binary_sensor", s, "problem"),
                config_topic("sensor", s, "config_state"),
                config_topic("switch", s, "enabled"),
            ]
        })
        .collect();
    wanted.extend(
        ["services", "devices_online", "check_errors"]
            .iter()
            .map(|o| format!("homeassistant/sensor/alicia__manager/{o}/config")),
    );
    ha.until("every discovery config is published", |seen| {
        wanted.iter().all(|t| seen.contains_key(t))
    })
    .await;
    let presence: Value =
        serde_json::from_slice(&ha.seen["alicia/system/health/config-manager"]).unwrap();
    for topic in ha.configs() {
        check_config(topic, &ha.config(topic), &presence);
    }
    assert_eq!(ha.configs().len(), wanted.len(), "{:?}", ha.configs());
    let manager_services =
        ha.config("homeassistant/sensor/alicia__manager/services/config")["state_topic"]
            .as_str()
            .unwrap()
            .to_owned();
    ha.until("the manager counts two services", |seen| {
        seen.get(&manager_services).map(|p| p.as_slice()) == Some(b"2")
    })
    .await;

    // The states follow the fleet, as REST shows it.
    let problem = "alicia/ha/whisper-service/problem";
    let state = "alicia/ha/whisper-service/config_state";
    let enabled = "alicia/ha/whisper-service/enabled";
    ha.until("a service never heard is a problem", |seen| {
        seen.get(problem).map(Vec::as_slice) == Some(b"ON")
    })
    .await;
    let service = TestClient::connect(broker.port).await;
    let stamp = fleet.core.config.get("whisper-service").unwrap().document["last_updated"].clone();
    service
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    service
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": stamp, "applied": true}),
            false,
        )
        .await;
    ha.until("healthy and applied: no problem", |seen| {
        seen.get(problem).map(Vec::as_slice) == Some(b"OFF")
            && seen.get(state).map(Vec::as_slice) == Some(b"applied")
    })
    .await;
    assert_eq!(
        fleet.service_row("whisper-service").await["config_state"],
        "applied"
    );
    service
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "unhealthy"}),
            false,
        )
        .await;
    ha.until("unhealthy: a problem", |seen| {
        seen.get(problem).map(Vec::as_slice) == Some(b"ON")
    })
    .await;
    assert_eq!(
        fleet.service_row("whisper-service").await["status"],
        "unhealthy"
    );
    service
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    service
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": stamp, "applied": false, "error": "no such model"}),
            false,
        )
        .await;
    ha.until("a refused config: refused and a problem", |seen| {
        seen.get(state).map(Vec::as_slice) == Some(b"refused")
            && seen.get(problem).map(Vec::as_slice) == Some(b"ON")
    })
    .await;
    assert_eq!(
        fleet.service_row("whisper-service").await["config_state"],
        "refused"
    );

    // Switched off from Home Assistant: stored through the normal path, source `ha`.
    assert_eq!(ha.state(enabled).as_deref(), Some("ON"));
    let command = ha.config(&config_topic("switch", "whisper-service", "enabled"))["command_topic"]
        .as_str()
        .unwrap()
        .to_owned();
    service.publish(&command, b"OFF".to_vec(), false).await;
    ha.until("the switch follows the stored document", |seen| {
        seen.get(enabled).map(Vec::as_slice) == Some(b"OFF")
    })
    .await;
    let stored = fleet.core.config.get("whisper-service").unwrap();
    assert_eq!(stored.document["enabled"], false);
    let history = support::get_json(
        &fleet.http,
        &format!("{}/api/config/whisper-service/history", fleet.base),
    )
    .await;
    assert_eq!(history[0]["source"], "ha");
    assert_eq!(history[0]["actor"]["kind"], "ha");
    // Garbage on the command topic changes nothing.
    service.publish(&command, b"maybe".to_vec(), false).await;

    // A deleted service's configs and states are cleared.
    let deleted = fleet
        .http
        .delete(format!("{}/api/config/llm-a", fleet.base))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    ha.until("llm-a is gone from Home Assistant", |seen| {
        !seen
            .keys()
            .any(|t| t.contains("alicia_llm-a") || t.starts_with("alicia/ha/llm-a/"))
    })
    .await;
    ha.until("the manager counts one service", |seen| {
        seen.get(&manager_services).map(|p| p.as_slice()) == Some(b"1")
    })
    .await;
    assert_eq!(
        fleet.core.config.get("whisper-service").unwrap().document["enabled"],
        false,
        "the garbage command was ignored"
    );

    // Turned off: everything cleared.
    fleet.core.ha.set_enabled(false);
    ha.until("everything is cleared", |seen| {
        !seen
            .keys()
            .any(|t| t.starts_with("homeassistant/") || t.starts_with("alicia/ha/"))
    })
    .await;
    fleet.runtime.shutdown(&fleet.core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_publishes_nothing_for_home_assistant() {
    let Some(broker) = TestBroker::mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (authority, authority_runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut ha = Observer::start(broker.port).await;
    let follower_dir = tempfile::tempdir().unwrap();
    let (follower, follower_runtime) = start_core(follower_dir.path(), broker.port, |s| {
        s.role = alicia_config_manager::core::fleet::RoleSetting::Follower;
        s.ha_discovery = true;
    })
    .await;
    let probe = follower.clone();
    support::wait_until("the follower follows", move || {
        probe.fleet.state().has_live_authority() && probe.config.get("whisper-service").is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ha.until("a quiet moment", |_| true).await;
    assert!(
        ha.configs().is_empty() && !ha.seen.keys().any(|t| t.starts_with("alicia/ha/")),
        "a follower published {:?}",
        ha.seen.keys().collect::<Vec<_>>()
    );
    // Its switch commands are not its to take either.
    let client = TestClient::connect(broker.port).await;
    client
        .publish(
            "alicia/ha/whisper-service/enabled/set",
            b"OFF".to_vec(),
            false,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(
        authority.config.get("whisper-service").unwrap().document["enabled"],
        false,
        "the authority has discovery off: the command is ignored"
    );
    follower_runtime.shutdown(&follower).await;
    authority_runtime.shutdown(&authority).await;
}
