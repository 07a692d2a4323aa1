//! Memory is bounded by what is kept (CONTRACT §10), tried against the real binary on
//! Mosquitto with the README's `message_size_limit`: floods of 8 MiB change sets from the bus
//! — documents of long strings, and JSON too dense to read within the budget — are each
//! answered, never parsed as one tree, at most one at a time, and leave the process small;
//! device states keep flowing meanwhile.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::{TestBroker, TestClient, wait_for};

const MIB: u64 = 1024 * 1024;

/// Mosquitto as the README sets it up for large change sets.
fn broker() -> Option<TestBroker> {
    TestBroker::mosquitto_with(|port, _| {
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmessage_size_limit 8454144\n"
        )
    })
}

fn request_id(n: usize) -> String {
    format!("{n:032x}")
}

/// 100 documents of ~82 KiB each (long strings in their settings): ~8 MiB, refused for a
/// field the schema does not know (so that nothing is kept: what is measured is processing).
fn string_heavy_set(n: usize) -> Vec<u8> {
    let documents: Vec<Value> = (0..100)
        .map(|i| {
            let mut document = support::llm(&format!("svc-{i}"))
                .ip(&format!("10.1.{}.{}", i / 200, i % 200 + 1))
                .build();
            document["config"]["settings"] = json!({"prompt": "x".repeat(82_000)});
            document["not_a_field"] = json!(true);
            document
        })
        .collect();
    serde_json::to_vec(&json!({"request_id": request_id(n), "documents": documents})).unwrap()
}

/// ~8 MiB of a JSON array of zeros inside one document: too dense to read.
fn dense_set(n: usize) -> Vec<u8> {
    let zeros = format!("[{}0]", "0,".repeat(4_000_000));
    let document = serde_json::to_string(&support::llm("dense").build()).unwrap();
    let document = document.replacen('{', &format!("{{\"pad\":{zeros},"), 1);
    format!(
        r#"{{"request_id":"{}","documents":[{document}]}}"#,
        request_id(n)
    )
    .into_bytes()
}

async fn flood(
    manager: &Headless,
    broker: &TestBroker,
    label: &str,
    payloads: Vec<Vec<u8>>,
    first_id: usize,
) -> (u64, u64) {
    let http = reqwest::Client::new();
    let mut answers = TestClient::connect(broker.port).await;
    answers.subscribe("alicia/system/changes/result/+").await;
    let sender = TestClient::connect(broker.port).await;
    let before = manager.rss_bytes();
    let mut peak = before;
    let size = payloads[0].len();
    let count = payloads.len();
    let started = Instant::now();
    for payload in payloads {
        sender
            .publish("alicia/system/changes/set", payload, false)
            .await;
    }
    // Device states keep flowing while the sets are decided.
    let mut latest_latency = Duration::ZERO;
    let mut answered = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seq = 0u64;
    while answered.len() < count {
        assert!(
            Instant::now() < deadline,
            "{label}: {} of {count} sets answered",
            answered.len()
        );
        peak = peak.max(manager.rss_bytes());
        for packet in answers.drain_for(Duration::from_millis(50)).await {
            let body: Value = serde_json::from_slice(&packet.payload).unwrap();
            answered.insert(packet.topic.clone());
            assert!(
                body["error"].is_string() || body["change_id"].is_string(),
                "{label}: an answer: {body}"
            );
        }
        seq += 1;
        if seq.is_multiple_of(10) {
            let sent = Instant::now();
            sender
                .publish_json("alicia/device/pulse/state", &json!({"seq": seq}), false)
                .await;
            wait_for("a device state during the flood", async || {
                manager.get(&http, "/api/devices/pulse").await["state"]["seq"] == seq
            })
            .await;
            latest_latency = sent.elapsed();
        }
    }
    peak = peak.max(manager.rss_bytes());
    eprintln!(
        "{label}: {count} change sets of {:.1} MiB answered in {:?}; RSS {} MiB before, peak {} MiB (+{} MiB); a device state took {latest_latency:?}",
        size as f64 / MIB as f64,
        started.elapsed(),
        before / MIB,
        peak / MIB,
        (peak - before) / MIB
    );
    let _ = first_id;
    (before, peak)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_8_mib_change_sets_leave_the_process_small() {
    let Some(broker) = broker() else {
        return;
    };
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let heavy: Vec<Vec<u8>> = (0..4).map(string_heavy_set).collect();
    let size = heavy[0].len() as u64;
    assert!(size > 7 * MIB && size < 8 * MIB + 64 * 1024, "{size}");
    let (before, peak) = flood(&manager, &broker, "long strings", heavy, 0).await;
    assert!(
        peak - before < 6 * size,
        "long strings: +{} MiB for sets of {} MiB",
        (peak - before) / MIB,
        size / MIB
    );
    let dense: Vec<Vec<u8>> = (10..14).map(dense_set).collect();
    let (before, peak) = flood(&manager, &broker, "dense", dense, 10).await;
    assert!(
        peak - before < 6 * size,
        "dense: +{} MiB for sets of {} MiB",
        (peak - before) / MIB,
        size / MIB
    );
    assert!(peak < 512 * MIB);
}
