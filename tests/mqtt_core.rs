//! The core over a real broker: every topic of CONTRACT §2 driven by a real MQTT client owned
//! by the test, against the embedded broker and against Mosquitto.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::CommandError;
use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::events::CoreEvent;
use alicia_config_manager::core::health::ConfigState;
use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Relay, TestBroker, TestClient, start_core, wait_until};

/// Runs each scenario once on the embedded broker and once on Mosquitto.
macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::TestBroker::embedded()).await;
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(broker) = super::TestBroker::mosquitto() {
                        super::$scenario(broker).await;
                    }
                }
            )*
        }
    };
}

on_both_brokers!(
    health_reports_drive_status_and_staleness,
    discovery_creates_a_validated_config_and_publishes_it,
    set_requests_take_the_same_path_as_any_edit,
    acks_show_applied_pending_and_refused,
    devices_report_state_and_answer_commands,
    garbage_is_counted_and_changes_nothing,
    a_garbage_flood_does_not_starve_valid_messages,
    own_health_and_configs_are_retained,
    deleting_a_service_clears_its_retained_config,
    graceful_shutdown_publishes_offline_health,
    the_will_announces_a_killed_manager,
    broker_outage_backs_off_then_recovers_everything,
);

use support::documents::ollama as llm_document;

async fn health_reports_drive_status_and_staleness(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |s| s.health_ttl_secs = 1).await;
    let mut events = core.events.subscribe();
    let client = TestClient::connect(broker.port).await;
    client
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy", "details": {"gpu": "ok"}}),
            false,
        )
        .await;
    let row = |core: &alicia_config_manager::core::Core| {
        core.service_overview()
            .into_iter()
            .find(|r| r.service_name == "whisper-service")
            .unwrap()
    };
    let probe = core.clone();
    wait_until("whisper-service is healthy", move || {
        row(&probe).status == HealthStatus::Healthy
    })
    .await;
    assert!(!row(&core).stale);
    assert!(row(&core).last_seen.is_some());
    assert_eq!(
        core.health.get("whisper-service").unwrap().details.unwrap()["gpu"],
        "ok"
    );

    let probe = core.clone();
    wait_until("whisper-service goes stale after the TTL", move || {
        row(&probe).stale
    })
    .await;
    assert_eq!(row(&core).status, HealthStatus::Unknown);
    let stale_event = async {
        loop {
            if let Ok(CoreEvent::HealthChanged {
                service,
                stale: true,
                ..
            }) = events.recv().await
                && service == "whisper-service"
            {
                return;
            }
        }
    };
    tokio::time::timeout(support::PATIENCE, stale_event)
        .await
        .expect("a stale health event");
}

async fn discovery_creates_a_validated_config_and_publishes_it(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/#").await;
    let announcement = json!({
        "service_name": "piper-tts",
        "service_type": "tts",
        "version": "1.2.0",
        "endpoints": [{"type": "tts", "ip": "10.0.0.9", "port": 5002, "protocol": "http"}],
        "settings_schema": {
            "type": "object",
            "properties": {"speed": {"type": "number", "minimum": 0.5, "maximum": 2, "default": 1.0}},
            "additionalProperties": false
        }
    });
    client
        .publish_json("alicia/system/discovery/piper-tts", &announcement, false)
        .await;
    let published = client
        .expect_json("alicia/config/piper-tts", |_| true)
        .await;
    assert_eq!(published["enabled"], true);
    assert_eq!(published["version"], "1.2.0");
    assert_eq!(published["config"]["settings"], json!({"speed": 1.0}));
    assert_eq!(published["config"]["endpoints"][0]["port"], 5002);
    assert_eq!(
        core.config.history("piper-tts")[0].source,
        ChangeSource::Discovery
    );
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(on_disk["piper-tts"], published);

    let mut newer = announcement.clone();
    newer["version"] = json!("1.3.0");
    client
        .publish_json("alicia/system/discovery/piper-tts", &newer, false)
        .await;
    let probe = core.clone();
    wait_until("the new version is recorded", move || {
        probe
            .health
            .get("piper-tts")
            .and_then(|r| r.announcement)
            .is_some_and(|a| a.version == "1.3.0")
    })
    .await;
    assert_eq!(
        core.config.history("piper-tts").len(),
        1,
        "a known service's config is not rebuilt"
    );

    let mut too_fast = published.clone();
    too_fast["config"]["settings"]["speed"] = json!(9);
    client
        .publish_json("alicia/config/piper-tts/set", &too_fast, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/piper-tts/error", |_| true)
        .await;
    assert_eq!(refusal["details"][0]["path"], "/config/settings/speed");
    assert_eq!(core.config.history("piper-tts").len(), 1);

    let mut bad_type = announcement;
    bad_type["service_name"] = json!("broken");
    bad_type["service_type"] = json!("toaster");
    client
        .publish_json("alicia/system/discovery/broken", &bad_type, false)
        .await;
    let probe = core.clone();
    wait_until("the bad announcement is counted invalid", move || {
        probe.mqtt.stats().messages_invalid >= 1
    })
    .await;
    assert!(core.config.get("broken").is_none());
}

async fn set_requests_take_the_same_path_as_any_edit(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/#").await;

    let mut document = (*core.config.get("whisper-service").unwrap().document).clone();
    document["config"]["model"] = json!("whisper-large-v3");
    client
        .publish_json("alicia/config/whisper-service/set", &document, false)
        .await;
    let published = client
        .expect_json("alicia/config/whisper-service", |d| {
            d["config"]["model"] == "whisper-large-v3"
        })
        .await;
    let stored = core.config.get("whisper-service").unwrap();
    assert_eq!(*stored.document, published);
    assert_eq!(
        core.config.history("whisper-service")[0].source,
        ChangeSource::Mqtt
    );
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(
        on_disk["whisper-service"]["config"]["model"],
        "whisper-large-v3"
    );

    let mut invalid = document.clone();
    invalid["config"]["endpoints"][0]["port"] = json!(0);
    invalid["enabled"] = json!("sometimes");
    client
        .publish_json("alicia/config/whisper-service/set", &invalid, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    let paths: Vec<&str> = refusal["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["/config/endpoints/0/port", "/enabled"]);
    assert!(refusal["error"].as_str().unwrap().contains("invalid"));

    client
        .publish(
            "alicia/config/whisper-service/set",
            b"{not json".to_vec(),
            false,
        )
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{refusal}"
    );

    let mut renamed = document.clone();
    renamed["service_name"] = json!("someone-else");
    client
        .publish_json("alicia/config/whisper-service/set", &renamed, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    assert_eq!(refusal["details"][0]["path"], "/service_name");

    assert_eq!(
        core.config.get("whisper-service").unwrap().revision,
        stored.revision,
        "refusals change nothing"
    );
    let others = client.drain_for(Duration::from_millis(500)).await;
    assert!(
        others
            .iter()
            .all(|p| p.topic != "alicia/config/whisper-service"),
        "no re-publication loop on the manager's own messages"
    );
    assert_eq!(core.config.history("whisper-service").len(), 2);
}

async fn acks_show_applied_pending_and_refused(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let client = TestClient::connect(broker.port).await;
    let state = |core: &alicia_config_manager::core::Core| {
        core.service_overview()
            .into_iter()
            .find(|r| r.service_name == "whisper-service")
            .unwrap()
    };
    assert_eq!(state(&core).config_state, ConfigState::Unknown);
    let current = core.config.get("whisper-service").unwrap().document["last_updated"].clone();
    client
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": current, "applied": true}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("the revision shows applied", move || {
        state(&probe).config_state == ConfigState::Applied
    })
    .await;

    let document = (*core.config.get("whisper-service").unwrap().document).clone();
    let committed = core
        .config
        .put(
            "whisper-service",
            document,
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .unwrap();
    assert_eq!(state(&core).config_state, ConfigState::Pending);
    let newest = committed.document.unwrap()["last_updated"].clone();
    client
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": newest, "applied": false, "error": "model whisper-1 is not downloaded"}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("the revision shows refused", move || {
        state(&probe).config_state == ConfigState::Refused
    })
    .await;
    assert_eq!(
        state(&core).config_error.as_deref(),
        Some("model whisper-1 is not downloaded")
    );
}

async fn devices_report_state_and_answer_commands(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut events = core.events.subscribe();
    let mut device = TestClient::connect(broker.port).await;
    device.subscribe("alicia/device/+/command").await;
    device
        .publish_json(
            "alicia/device/lamp-1/state",
            &json!({"name": "Desk lamp", "type": "light", "room": "office", "on": false, "brightness": 40}),
            true,
        )
        .await;
    device
        .publish(
            "alicia/device/lamp-1/availability",
            b"online".to_vec(),
            true,
        )
        .await;
    let probe = core.clone();
    wait_until("the lamp is known and online", move || {
        probe.devices.get("lamp-1").is_some_and(|d| d.online)
    })
    .await;
    let lamp = core.devices.get("lamp-1").unwrap();
    assert_eq!(
        (
            lamp.name.as_deref(),
            lamp.kind.as_deref(),
            lamp.room.as_deref()
        ),
        (Some("Desk lamp"), Some("light"), Some("office"))
    );
    assert_eq!(lamp.state["brightness"], 40);
    assert!(lamp.last_seen.is_some());

    let request_id = core
        .send_command(
            "lamp-1",
            "turn_on",
            json!({"brightness": 80}).as_object().unwrap().clone(),
        )
        .unwrap();
    let command = device
        .expect_json("alicia/device/lamp-1/command", |_| true)
        .await;
    assert_eq!(command["request_id"], request_id.as_str());
    assert_eq!(command["command"], "turn_on");
    assert_eq!(command["params"]["brightness"], 80);
    device
        .publish_json(
            "alicia/device/lamp-1/command/result",
            &json!({"request_id": request_id, "ok": true}),
            false,
        )
        .await;
    let finished = async {
        loop {
            if let Ok(CoreEvent::CommandFinished(record)) = events.recv().await {
                return record;
            }
        }
    };
    let record = tokio::time::timeout(support::PATIENCE, finished)
        .await
        .unwrap();
    assert_eq!(
        (
            record.device_id.as_str(),
            record.request_id.as_str(),
            record.status
        ),
        (
            "lamp-1",
            request_id.as_str(),
            alicia_config_manager::core::commands::CommandStatus::Ok
        )
    );
    assert_eq!(
        core.send_command("ghost", "turn_on", Default::default()),
        Err(CommandError::UnknownDevice("ghost".into()))
    );

    device
        .publish(
            "alicia/device/lamp-1/availability",
            b"offline".to_vec(),
            true,
        )
        .await;
    let probe = core.clone();
    wait_until("the lamp is offline", move || {
        probe.devices.get("lamp-1").is_some_and(|d| !d.online)
    })
    .await;
    device
        .publish("alicia/device/lamp-1/state", Vec::new(), true)
        .await;
    device
        .publish("alicia/device/lamp-1/availability", Vec::new(), true)
        .await;
    let probe = core.clone();
    wait_until("clearing the retained topics removes the lamp", move || {
        probe.devices.get("lamp-1").is_none()
    })
    .await;
}

async fn garbage_is_counted_and_changes_nothing(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let client = TestClient::connect(broker.port).await;
    let before_revision = core.config.get("whisper-service").unwrap().revision;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let binary: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
    let megabyte = vec![b'{'; 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("alicia/system/health/whisper-service", binary.clone()),
        (
            "alicia/system/health/whisper-service",
            br#"{"status": 7}"#.to_vec(),
        ),
        ("alicia/device/lamp/state", megabyte),
        ("alicia/device/lamp/state", deep.clone().into_bytes()),
        ("alicia/device/lamp/availability", b"sort of".to_vec()),
        (
            "alicia/config/whisper-service/ack",
            br#"{"applied": "maybe"}"#.to_vec(),
        ),
        ("alicia/device/lamp/command/result", b"[]".to_vec()),
        ("alicia/system/discovery/whisper-service", deep.into_bytes()),
        ("alicia/device/bad id!/state", b"{}".to_vec()),
    ];
    let count = cases.len() as u64;
    for (topic, payload) in &cases {
        client.publish(topic, payload.clone(), false).await;
    }
    let probe = core.clone();
    wait_until("every bad message is counted", move || {
        probe.mqtt.stats().messages_invalid >= count
    })
    .await;
    assert!(core.devices.list().is_empty());
    assert!(
        core.health
            .get("whisper-service")
            .is_none_or(|r| r.reported.is_none() && r.ack.is_none())
    );
    assert_eq!(
        core.config.get("whisper-service").unwrap().revision,
        before_revision
    );
    let invalid = core
        .messages
        .recent(100, None)
        .into_iter()
        .filter(|m| !m.valid)
        .count();
    assert!(invalid >= cases.len());
    let record = core
        .messages
        .recent(100, Some("alicia/device/lamp/availability"))
        .remove(0);
    assert!(!record.valid);
    assert!(record.error.as_deref().unwrap().contains("online"));
    let big = core
        .messages
        .recent(100, Some("alicia/device/lamp/state"))
        .into_iter()
        .find(|m| m.size == 1024 * 1024)
        .unwrap();
    assert!(big.payload_text().len() <= 4096);

    client
        .publish_json("alicia/device/lamp/state", &json!({"on": true}), false)
        .await;
    let probe = core.clone();
    wait_until("a valid message after the garbage still works", move || {
        probe.devices.get("lamp").is_some()
    })
    .await;
    assert!(core.mqtt.is_connected());
}

/// A publisher floods garbage (QoS 0, as fast as it can) on every topic kind while another
/// publishes valid device states (QoS 1): every valid one is applied, promptly.
async fn a_garbage_flood_does_not_starve_valid_messages(broker: TestBroker) {
    const VALID: usize = 200;
    const FLOOD_LIMIT: u64 = 120_000;
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let flooder = TestClient::connect(broker.port).await;
    let valid = TestClient::connect(broker.port).await;
    let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flood = {
        let flooding = std::sync::Arc::clone(&flooding);
        tokio::spawn(async move {
            let topics = [
                "alicia/device/flood/state",
                "alicia/system/health/flood",
                "alicia/config/flood/set",
                "alicia/config/flood/ack",
                "alicia/system/discovery/flood",
                "alicia/device/flood/command/result",
            ];
            let mut sent = 0u64;
            // Bounded: a flooder that outruns the manager forever makes any FIFO broker queue
            // the valid messages behind an ever-growing backlog (rumqttd sometimes accepted a
            // million in 15 s), which proves nothing about the manager.
            let mut rng = fastrand::Rng::new();
            while flooding.load(std::sync::atomic::Ordering::Relaxed) && sent < FLOOD_LIMIT {
                let payload: Vec<u8> = (0..64).map(|_| rng.u8(..)).collect();
                let topic = topics[sent as usize % topics.len()];
                // try_publish: as fast as the client's queue takes them, never waiting.
                if flooder
                    .client
                    .try_publish(topic, rumqttc::QoS::AtMostOnce, false, payload)
                    .is_ok()
                {
                    sent += 1;
                } else {
                    tokio::task::yield_now().await;
                }
            }
            sent
        })
    };
    let probe = core.clone();
    wait_until("the flood reaches the core", move || {
        probe.mqtt.stats().messages_invalid > 1_000
    })
    .await;

    let started = tokio::time::Instant::now();
    for n in 0..VALID {
        valid
            .publish_json(
                &format!("alicia/device/valid-{n}/state"),
                &json!({"n": n}),
                false,
            )
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let probe = core.clone();
    wait_until(
        "every valid message is applied during the flood",
        move || (0..VALID).all(|n| probe.devices.get(&format!("valid-{n}")).is_some()),
    )
    .await;
    let took = started.elapsed();
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    let sent = flood.await.unwrap();
    let refused = core.mqtt.stats().messages_invalid;
    assert!(
        refused > 5_000,
        "the flood was real: {sent} sent, {refused} refused"
    );
    assert!(
        core.devices
            .list()
            .iter()
            .all(|d| d.id.starts_with("valid-")),
        "no garbage became a device"
    );
    eprintln!(
        "{} flood: {sent} garbage messages sent, {refused} refused; {VALID} valid ones all applied {took:?} after the first",
        broker.name
    );
}

async fn own_health_and_configs_are_retained(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    core.config
        .put(
            "ollama",
            llm_document("llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let mut late = TestClient::connect(broker.port).await;
    late.subscribe("alicia/system/health/config-manager").await;
    let health = late
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "healthy"
        })
        .await;
    assert_eq!(health["instance_id"], core.fleet.instance_id());
    assert_eq!(health["role"], "authority");
    assert!(health["timestamp"].is_string());
    late.subscribe("alicia/config/#").await;
    let ollama = late
        .expect("the retained ollama config", |p| {
            p.topic == "alicia/config/ollama" && p.retain
        })
        .await;
    let ollama: Value = serde_json::from_slice(&ollama.payload).unwrap();
    assert_eq!(
        ollama["config"]["api_key"], "sk-ollama-secret",
        "services need the real key"
    );
    assert_eq!(ollama["config"]["model"], "llama3");
}

async fn deleting_a_service_clears_its_retained_config(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/+").await;
    core.config
        .put(
            "ollama",
            llm_document("llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    client.expect_json("alicia/config/ollama", |_| true).await;
    core.config
        .delete("ollama", ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    client
        .expect("an empty retained payload", |p| {
            p.topic == "alicia/config/ollama" && p.payload.is_empty()
        })
        .await;
    let mut late = TestClient::connect(broker.port).await;
    late.subscribe("alicia/config/+").await;
    let retained = late.drain_for(Duration::from_millis(800)).await;
    assert!(
        retained.iter().all(|p| p.topic != "alicia/config/ollama"),
        "the broker no longer holds it"
    );
    assert!(
        retained
            .iter()
            .any(|p| p.topic == "alicia/config/whisper-service")
    );
}

async fn graceful_shutdown_publishes_offline_health(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client
        .subscribe("alicia/system/health/config-manager")
        .await;
    client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "healthy"
        })
        .await;
    let id = core.fleet.instance_id().to_owned();
    runtime.shutdown(&core).await;
    let goodbye = client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "unhealthy"
        })
        .await;
    assert_eq!(goodbye["instance_id"], id.as_str());
    assert!(!core.config.is_ready());
}

async fn the_will_announces_a_killed_manager(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let mut client = TestClient::connect(broker.port).await;
    client
        .subscribe("alicia/system/health/config-manager")
        .await;
    let mut child = std::process::Command::new(support::app_binary())
        .arg("--headless")
        .env("CONFIG_PATH", dir.path())
        .env("PORT", support::free_port().to_string())
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker.port.to_string())
        .env("LOG_LEVEL", "warn")
        .env("ALICIA_LOG_DIR", dir.path().join("logs"))
        .env_remove("MQTT_USERNAME")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let alive = client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "healthy"
        })
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let will = client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "unhealthy"
        })
        .await;
    assert_eq!(will["instance_id"], alive["instance_id"]);
}

async fn broker_outage_backs_off_then_recovers_everything(mut broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = if broker.is_mosquitto() {
        None
    } else {
        Some(Relay::start(broker.port).await)
    };
    let port = relay.as_ref().map_or(broker.port, |r| r.port);
    let (core, _runtime) = start_core(dir.path(), port, |_| {}).await;
    let mut watcher = TestClient::connect(broker.port).await;

    match relay.as_mut() {
        Some(relay) => relay.cut(),
        None => broker.stop(),
    }
    let probe = core.clone();
    wait_until("the core notices the outage", move || {
        !probe.mqtt.is_connected()
    })
    .await;
    let failures_at_start = core.mqtt.stats().connection_failures;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let failures = core.mqtt.stats().connection_failures - failures_at_start;
    assert!(
        (2..=10).contains(&failures),
        "{failures} attempts in 6 s: backoff, not a busy loop"
    );
    assert!(core.mqtt.last_error().is_some());

    core.config
        .put(
            "ollama",
            llm_document("made-during-the-outage"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .expect("edits are accepted and stored while the broker is away");

    match relay.as_mut() {
        Some(relay) => relay.restore().await,
        None => {
            broker.restart();
            watcher = TestClient::connect(broker.port).await;
        }
    }
    watcher.subscribe("alicia/config/+").await;
    let returned = tokio::time::Instant::now();
    let probe = core.clone();
    wait_until("the core reconnects", move || probe.mqtt.is_connected()).await;
    assert!(
        returned.elapsed() < Duration::from_secs(5),
        "reconnected {:?} after the broker returned",
        returned.elapsed()
    );
    assert_eq!(core.mqtt.stats().reconnects, 1);

    watcher
        .expect_json("alicia/config/ollama", |d| {
            d["config"]["model"] == "made-during-the-outage"
        })
        .await;
    watcher
        .expect_json("alicia/config/whisper-service", |_| true)
        .await;
    watcher
        .publish_json(
            "alicia/device/after-outage/state",
            &json!({"on": true}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("subscriptions are back", move || {
        probe.devices.get("after-outage").is_some()
    })
    .await;
}
