//! Devices and garbage on a real broker, on the embedded broker and on Mosquitto (CONTRACT §2,
//! §6): devices report their state and answer commands; malformed messages are counted and
//! change nothing, and a flood of them never starves the valid ones.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::CommandError;
use alicia_config_manager::core::events::CoreEvent;
use serde_json::json;
use std::time::Duration;
use support::{TestBroker, TestClient, start_core, wait_until};

on_both_brokers!(
    devices_report_state_and_answer_commands,
    garbage_is_counted_and_changes_nothing,
    a_garbage_flood_does_not_starve_valid_messages,
);

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
