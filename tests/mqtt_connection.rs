//! The manager's connection on a real broker, on the embedded broker and on Mosquitto
//! (CONTRACT §2, §6): offline health published at a graceful shutdown, the will announcing a
//! killed manager, and a broker outage survived with backoff and everything recovered.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use serde_json::json;
use std::time::Duration;
use support::{Relay, TestBroker, TestClient, start_core, wait_until};

on_both_brokers!(
    graceful_shutdown_publishes_offline_health,
    the_will_announces_a_killed_manager,
    broker_outage_backs_off_then_recovers_everything,
);

use support::documents::ollama as llm_document;

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
