//! Sizes and counts (CONTRACT §6), tried against the real binary the way a hostile or careless
//! client would: floods of 8 MiB messages on every topic the manager reads leave its memory
//! under 512 MiB (a restart reading them back from the broker too); a `/set` over the limit is
//! answered on `/error`; a discovery flood creates at most `ALICIA_MAX_SERVICES` services and
//! the checks still answer within a second; the device registry holds at most
//! `ALICIA_MAX_DEVICES`.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::{PATIENCE, TestBroker, TestClient, free_port};

/// The most memory the contract allows the headless manager, whatever is published.
const RSS_LIMIT: u64 = 512 * 1024 * 1024;
/// Services that each flood topic gets.
const FLOOD_SERVICES: usize = 8;

/// About `size` bytes of JSON (at most 9 over): an array of numbers, the costliest shape to
/// keep parsed.
fn json_of_size(size: usize) -> Vec<u8> {
    let mut text = String::with_capacity(size + 16);
    text.push('[');
    while text.len() + 7 < size {
        text.push_str("123456,");
    }
    text.push_str("0]");
    text.into_bytes()
}

/// Every topic kind the manager reads, for service or device `i`.
fn flood_topics(i: usize) -> [String; 6] {
    [
        format!("alicia/device/flood-{i}/state"),
        format!("alicia/device/flood-{i}/availability"),
        format!("alicia/system/health/flood-{i}"),
        format!("alicia/system/discovery/flood-{i}"),
        format!("alicia/config/flood-{i}/set"),
        format!("alicia/config/flood-{i}/ack"),
    ]
}

async fn invalid_count(manager: &Headless, http: &reqwest::Client) -> u64 {
    manager.get(http, "/api/system").await["mqtt"]["messages_invalid"]
        .as_u64()
        .unwrap()
}

/// Waits until the manager counted `at_least` invalid messages.
async fn wait_for_invalid(manager: &Headless, http: &reqwest::Client, at_least: u64) {
    let deadline = Instant::now() + PATIENCE * 3;
    loop {
        let seen = invalid_count(manager, http).await;
        if seen >= at_least {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {seen} of {at_least} oversized messages were counted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Publishes the flood (retained) on `port`: 48 messages of `size` bytes.
async fn flood(port: u16, size: usize) -> u64 {
    let payload = json_of_size(size);
    let client = TestClient::connect(port).await;
    let mut sent = 0;
    for i in 0..FLOOD_SERVICES {
        for topic in flood_topics(i) {
            client.publish(&topic, payload.clone(), true).await;
            sent += 1;
        }
    }
    // Let the client hand everything to the broker before it is dropped.
    let mut check = TestClient::connect(port).await;
    check.subscribe("alicia/config/flood-7/ack").await;
    check
        .expect("the last flood message, retained", |p| {
            p.topic == "alicia/config/flood-7/ack" && p.payload.len() == payload.len()
        })
        .await;
    sent
}

/// Asserts what the manager shows after the flood: none of it parsed or kept.
async fn assert_nothing_kept(manager: &Headless, http: &reqwest::Client) {
    let rss = manager.rss_bytes();
    assert!(
        rss < RSS_LIMIT,
        "the manager's RSS is {} MiB after the flood",
        rss >> 20
    );
    let devices = manager.get(http, "/api/devices").await;
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .all(|d| !d["id"].as_str().unwrap_or_default().starts_with("flood-")),
        "no device was created from an oversized state: {devices}"
    );
    let services = manager.get(http, "/api/system/services").await;
    assert!(
        !services.to_string().contains("flood-"),
        "no service was introduced by an oversized message"
    );
    let messages = manager.get(http, "/api/system/messages?limit=500").await;
    let messages = messages.as_array().unwrap();
    let flood: Vec<&Value> = messages
        .iter()
        .filter(|m| {
            let topic = m["topic"].as_str().unwrap();
            topic.contains("flood-") && !topic.ends_with("/error") && topic != "alicia/config"
        })
        .collect();
    assert!(!flood.is_empty(), "the ring shows the refused messages");
    for message in flood {
        assert!(message["data"].is_null(), "no parsed data kept: {message}");
        assert!(
            message.to_string().len() < 16 * 1024,
            "only an excerpt is kept ({} bytes)",
            message.to_string().len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_8_mib_messages_leave_the_process_small_even_across_a_restart() {
    // Retained on an outside broker, the flood comes back at every start.
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let invalid_before = invalid_count(&manager, &http).await;
    let sent = flood(broker.port, 8 * 1024 * 1024).await;
    wait_for_invalid(&manager, &http, invalid_before + sent).await;
    assert_nothing_kept(&manager, &http).await;
    eprintln!(
        "RSS after {sent} messages of 8 MiB: {} MiB",
        manager.rss_bytes() >> 20
    );

    let dir = manager.kill();
    let restarted = Headless::start_in(dir, Some(broker.port), &[], &http, |_| {}).await;
    wait_for_invalid(&restarted, &http, sent).await;
    assert_nothing_kept(&restarted, &http).await;
    eprintln!(
        "RSS after a restart that read them back: {} MiB",
        restarted.rss_bytes() >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_refuses_8_mib_and_a_flood_under_its_limit_leaves_the_process_small() {
    let port = free_port();
    let http = reqwest::Client::new();
    let manager = Headless::start_with(None, &[], &http, |command| {
        command.env("MQTT_PORT", port.to_string());
    })
    .await;
    // The embedded broker lives in the manager's process: it refuses what no topic takes.
    let received_before = manager.get(&http, "/api/system").await["mqtt"]["messages_received"]
        .as_u64()
        .unwrap();
    let hostile = TestClient::connect(port).await;
    hostile
        .publish(
            "alicia/device/huge/state",
            json_of_size(8 * 1024 * 1024),
            true,
        )
        .await;
    let mut watcher = TestClient::connect(port).await;
    watcher.subscribe("alicia/device/huge/state").await;
    assert!(
        watcher.drain_for(Duration::from_secs(2)).await.is_empty(),
        "the broker kept nothing of the 8 MiB message"
    );
    drop(hostile);
    let system = manager.get(&http, "/api/system").await;
    assert!(system["mqtt"]["connected"].as_bool().unwrap());
    assert!(
        system["mqtt"]["messages_received"].as_u64().unwrap() < received_before + 5,
        "the manager never saw it: {system}"
    );

    // Just under the broker's limit, over every topic's: counted, never kept.
    let invalid_before = invalid_count(&manager, &http).await;
    let sent = flood(port, 2 * 1024 * 1024 - 1024).await;
    wait_for_invalid(&manager, &http, invalid_before + sent).await;
    assert_nothing_kept(&manager, &http).await;
    eprintln!(
        "RSS with the embedded broker after {sent} retained messages of 2 MiB: {} MiB",
        manager.rss_bytes() >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_over_the_limit_is_refused_on_error_naming_the_limit() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/ollama/error").await;
    let mut document = support::llm_document("ollama", "big");
    document["config"]["notes"] = json!("x".repeat(1024 * 1024));
    client
        .publish_json("alicia/config/ollama/set", &document, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/ollama/error", |_| true)
        .await;
    let error = refusal["error"].as_str().unwrap();
    assert!(error.contains("1 MiB"), "the limit is named: {error}");
    let stored = manager.get(&http, "/api/config").await;
    assert!(stored.get("ollama").is_none(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovery_flood_creates_at_most_max_services_and_the_checks_stay_fast() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let client = TestClient::connect(broker.port).await;
    // Every one of them on the same port: the port-clash check's worst case.
    for i in 0..1_200 {
        let service = format!("fake-{i:04}");
        let announcement = json!({
            "service_name": service, "service_type": "stt", "version": "1.0.0",
            "endpoints": [{"type": "http", "ip": "127.0.0.1", "port": 9000}],
        });
        client
            .publish_json(
                &format!("alicia/system/discovery/{service}"),
                &announcement,
                false,
            )
            .await;
    }
    let deadline = Instant::now() + PATIENCE * 6;
    let system = loop {
        let system = manager.get(&http, "/api/system").await;
        let stored = manager.get(&http, "/api/config").await;
        let count = stored
            .as_object()
            .unwrap()
            .keys()
            .filter(|name| name.starts_with("fake-"))
            .count();
        if system["limits"]["services_refused"].as_u64().unwrap() >= 200 && count == 1_000 {
            break system;
        }
        assert!(
            count <= 1_000,
            "discovery created {count} services, over the default 1,000"
        );
        assert!(
            Instant::now() < deadline,
            "waiting for 1,000 services and 200 refusals: {count} stored, {}",
            system["limits"]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(system["limits"]["services_refused"], 200);
    assert_eq!(system["limits"]["max_services"], 1_000);

    let started = Instant::now();
    let answer = http
        .get(format!("{}/api/system/checks", manager.base))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    let body = answer.bytes().await.unwrap();
    let checks: Vec<Value> = serde_json::from_slice(&body).unwrap();
    eprintln!(
        "checks at 1,000 services: {} findings, {} KiB, {took:?}",
        checks.len(),
        body.len() / 1024
    );
    assert!(took < Duration::from_secs(1), "the checks took {took:?}");
    assert!(
        body.len() < 4 * 1024 * 1024,
        "the findings stay linear in size ({} bytes)",
        body.len()
    );
    let clash = checks
        .iter()
        .find(|c| c["kind"] == "port_clash")
        .expect("the clash is reported");
    assert!(clash["message"].as_str().unwrap().contains("more services"));

    // Services an admin creates are not limited.
    let created = http
        .put(format!("{}/api/config/admin-made", manager.base))
        .json(&support::llm_document("admin-made", "m"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_registry_holds_at_most_max_devices() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        command.env("ALICIA_MAX_DEVICES", "100");
    })
    .await;
    let client = TestClient::connect(broker.port).await;
    for i in 0..150 {
        client
            .publish_json(
                &format!("alicia/device/lamp-{i:03}/state"),
                &json!({"on": true}),
                false,
            )
            .await;
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let system = manager.get(&http, "/api/system").await;
        if system["limits"]["devices_refused"].as_u64().unwrap() >= 50 {
            assert_eq!(system["limits"]["max_devices"], 100);
            break;
        }
        assert!(Instant::now() < deadline, "{}", system["limits"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let devices = manager.get(&http, "/api/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 100);
    // A device already known still updates.
    client
        .publish_json("alicia/device/lamp-000/state", &json!({"on": false}), false)
        .await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let device = manager.get(&http, "/api/devices/lamp-000").await;
        if device["state"]["on"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "{device}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
