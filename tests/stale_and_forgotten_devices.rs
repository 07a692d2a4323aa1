//! Devices go stale and can be forgotten (CONTRACT §9), tried against the real binary on a
//! real broker: a silent device shows `stale: true` over REST and socket.io until it is heard
//! again; `DELETE /api/devices/{id}` forgets one (and clears its retained topics) until it
//! reports again; one silent for `ALICIA_DEVICE_EXPIRE_DAYS` is forgotten by itself.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::headless::Headless;
use support::sio::SioClient;
use support::{TestBroker, TestClient, wait_for};

async fn status_of(http: &reqwest::Client, manager: &Headless, id: &str) -> u16 {
    http.get(format!("{}/api/devices/{id}", manager.base))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The retained, non-empty messages the broker holds under `filter`, read by a fresh client.
async fn retained_under(port: u16, filter: &str) -> Vec<String> {
    let mut reader = TestClient::connect(port).await;
    reader.subscribe(filter).await;
    reader
        .drain_for(Duration::from_millis(700))
        .await
        .into_iter()
        .filter(|p| p.retain && !p.payload.is_empty())
        .map(|p| p.topic)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_devices_go_stale_and_are_forgotten_by_hand_or_by_time() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        // Stale after 2 s of silence, forgotten after about 8 s.
        command
            .env("ALICIA_DEVICE_STALE_SECS", "2")
            .env("ALICIA_DEVICE_EXPIRE_DAYS", "0.0000926");
    })
    .await;
    let devices = TestClient::connect(broker.port).await;
    devices
        .publish_json("alicia/device/lamp-1/state", &json!({"on": true}), true)
        .await;
    devices
        .publish("alicia/device/lamp-1/availability", "online", true)
        .await;
    wait_for("the lamp appears", async || {
        status_of(&http, &manager, "lamp-1").await == 200
    })
    .await;
    let lamp = manager.get(&http, "/api/devices/lamp-1").await;
    assert_eq!(lamp["stale"], false);
    assert_eq!(lamp["online"], true);

    // Silent: stale, over REST and socket.io.
    let mut live = SioClient::spawn(&manager.base, &[]);
    let heard = live
        .expect("device:update", |l| {
            l["data"]["id"] == "lamp-1" && l["data"]["stale"] == true
        })
        .await;
    assert_eq!(heard["data"]["online"], true, "stale is not offline");
    assert_eq!(
        manager.get(&http, "/api/devices").await[0]["stale"],
        true,
        "the list says so too"
    );
    // Heard again (even saying nothing new): fresh.
    devices
        .publish("alicia/device/lamp-1/availability", "online", true)
        .await;
    live.expect("device:update", |l| {
        l["data"]["id"] == "lamp-1" && l["data"]["stale"] == false
    })
    .await;

    // Forgotten by hand: gone, its retained topics cleared, back when it reports again.
    devices
        .publish_json("alicia/device/plug-1/state", &json!({"on": false}), true)
        .await;
    wait_for("the plug appears", async || {
        status_of(&http, &manager, "plug-1").await == 200
    })
    .await;
    let forget = http
        .delete(format!("{}/api/devices/plug-1", manager.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forget.status(), 204);
    assert_eq!(status_of(&http, &manager, "plug-1").await, 404);
    let again = http
        .delete(format!("{}/api/devices/plug-1", manager.base))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let body: Value = again.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    live.expect("devices:update", |l| {
        l["data"]
            .as_array()
            .is_some_and(|list| list.iter().all(|d| d["id"] != "plug-1"))
    })
    .await;
    wait_for("the plug's retained state is cleared", async || {
        retained_under(broker.port, "alicia/device/plug-1/#")
            .await
            .is_empty()
    })
    .await;
    devices
        .publish_json("alicia/device/plug-1/state", &json!({"on": true}), true)
        .await;
    wait_for("the plug comes back when it reports", async || {
        status_of(&http, &manager, "plug-1").await == 200
    })
    .await;

    // Silent past the expiry: forgotten by itself, its retained topics cleared.
    wait_for("the silent lamp is forgotten", async || {
        status_of(&http, &manager, "lamp-1").await == 404
    })
    .await;
    wait_for("the lamp's retained topics are cleared", async || {
        retained_under(broker.port, "alicia/device/lamp-1/#")
            .await
            .is_empty()
    })
    .await;
    assert_eq!(
        status_of(&http, &manager, "unknown-device").await,
        404,
        "unknown ids stay unknown"
    );
}
