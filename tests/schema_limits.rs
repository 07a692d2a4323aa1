//! Settings schemas by trust and within bounds (CONTRACT §10), against the real binary: a
//! 400-pattern announcement is refused without stalling ingest or growing the process; a
//! pattern that compiles too large is refused naming the limit; enforced schemas together
//! hold at most 512 patterns; and once a schema is enforced, a different one announced by
//! anyone — even one the settings pass — waits for an admin.

mod support;

use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::{TestBroker, TestClient, wait_for};

const MIB: u64 = 1024 * 1024;

fn schema_with_patterns(n: usize, pattern: &str) -> Value {
    let properties: Map<String, Value> = (0..n)
        .map(|i| {
            (
                format!("p{i}"),
                json!({"type": "string", "pattern": pattern}),
            )
        })
        .collect();
    json!({"type": "object", "properties": properties})
}

fn announcement(service: &str, schema: &Value) -> Value {
    json!({"service_name": service, "service_type": "tts", "version": "1.0.0",
           "settings_schema": schema})
}

/// How long a device state takes from the bus to the REST answer.
async fn ingest_latency(
    bus: &TestClient,
    http: &reqwest::Client,
    manager: &Headless,
    seq: u64,
) -> Duration {
    let sent = Instant::now();
    bus.publish_json("alicia/device/latency/state", &json!({"seq": seq}), false)
        .await;
    wait_for("the device state arrives", async || {
        manager.get(http, "/api/devices/latency").await["state"]["seq"] == seq
    })
    .await;
    sent.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_pattern_announcement_is_refused_without_stalling_ingest() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let bus = TestClient::connect(broker.port).await;
    let quiet = ingest_latency(&bus, &http, &manager, 1).await;
    let before = manager.rss_bytes();
    let heavy = schema_with_patterns(400, "^(a|b|c|d|e|f|g|h|i|j)[a-z0-9]{1,200}$");
    let payload = announcement("heavy", &heavy);
    eprintln!(
        "the announcement: {} bytes",
        serde_json::to_vec(&payload).unwrap().len()
    );
    for i in 0..20 {
        bus.publish_json(
            &format!("alicia/system/discovery/heavy{i}"),
            &{
                let mut p = payload.clone();
                p["service_name"] = json!(format!("heavy{i}"));
                p
            },
            false,
        )
        .await;
    }
    let during = ingest_latency(&bus, &http, &manager, 2).await;
    let after = manager.rss_bytes();
    eprintln!(
        "ingest latency {quiet:?} quiet, {during:?} behind 20 announcements of 400 patterns; RSS {} → {} MiB",
        before / MIB,
        after / MIB
    );
    assert!(during < Duration::from_secs(2), "ingest stalled {during:?}");
    assert!(
        after < before + 32 * MIB,
        "RSS {} → {} MiB",
        before / MIB,
        after / MIB
    );
    let messages = manager
        .get(
            &http,
            "/api/system/messages?topic=alicia/system/discovery/heavy0",
        )
        .await;
    let error = messages[0]["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        messages[0]["valid"] == false && error.contains("limit of 64"),
        "{messages}"
    );
    let schema = http
        .get(format!("{}/api/config/heavy0/schema", manager.base))
        .send()
        .await
        .unwrap();
    assert_eq!(schema.status(), 404, "nothing of it was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforced_schemas_hold_at_most_512_patterns_and_a_huge_pattern_is_refused() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let bus = TestClient::connect(broker.port).await;
    // A pattern whose program is far over 64 KiB: refused, never enforced.
    let huge = schema_with_patterns(1, "^[a-z]{1,2000}[0-9]{1,2000}$");
    bus.publish_json(
        "alicia/system/discovery/huge",
        &announcement("huge", &huge),
        false,
    )
    .await;
    // Nine services of 64 patterns each: eight are enforced (512), the ninth waits.
    let sixty_four = schema_with_patterns(64, "^[a-z]+$");
    for name in ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"] {
        bus.publish_json(
            &format!("alicia/system/discovery/{name}"),
            &announcement(name, &sixty_four),
            false,
        )
        .await;
    }
    wait_for("the ninth schema waits", async || {
        manager.get(&http, "/api/config/s9/schema").await["pending"].is_object()
    })
    .await;
    for name in ["s1", "s8"] {
        let schemas = manager
            .get(&http, &format!("/api/config/{name}/schema"))
            .await;
        assert!(schemas["enforced"].is_object(), "{name}: {schemas}");
    }
    let checks = manager.get(&http, "/api/system/checks").await;
    let pending = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "settings_schema_pending" && c["service"] == "s9")
        .unwrap_or_else(|| panic!("{checks}"));
    assert!(
        pending["message"].as_str().unwrap().contains("512"),
        "{pending}"
    );
    let huge_schema = http
        .get(format!("{}/api/config/huge/schema", manager.base))
        .send()
        .await
        .unwrap();
    let text = huge_schema.text().await.unwrap();
    assert!(
        !text.contains("\"enforced\":{"),
        "the huge pattern is never enforced: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_a_schema_is_enforced_a_different_one_waits_for_an_admin() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let bus = TestClient::connect(broker.port).await;
    let strict = json!({"type": "object", "properties": {"speed": {"type": "number", "maximum": 2}},
                        "additionalProperties": false});
    bus.publish_json(
        "alicia/system/discovery/piper",
        &announcement("piper", &strict),
        false,
    )
    .await;
    wait_for("the first schema is enforced", async || {
        manager.get(&http, "/api/config/piper/schema").await["enforced"] == strict
    })
    .await;
    // Anyone announces a looser one, which the (empty) settings pass: it waits.
    let loose = json!({"type": "object"});
    bus.publish_json(
        "alicia/system/discovery/piper",
        &announcement("piper", &loose),
        false,
    )
    .await;
    wait_for("the looser schema waits", async || {
        manager.get(&http, "/api/config/piper/schema").await["pending"] == loose
    })
    .await;
    let schemas = manager.get(&http, "/api/config/piper/schema").await;
    assert_eq!(schemas["enforced"], strict, "the first one still rules");
    let checks = manager.get(&http, "/api/system/checks").await;
    let found: Vec<&Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "settings_schema_pending" && c["service"] == "piper")
        .collect();
    assert_eq!(found.len(), 1, "one warning: {checks}");
    assert_eq!(found[0]["severity"], "warning");
    // The same schema with its keys in another order is no change.
    let reordered: Value = serde_json::from_str(
        r#"{"additionalProperties": false, "properties": {"speed": {"maximum": 2, "type": "number"}}, "type": "object"}"#,
    )
    .unwrap();
    bus.publish_json(
        "alicia/system/discovery/piper",
        &announcement("piper", &reordered),
        false,
    )
    .await;
    wait_for(
        "the pending one is cleared by the enforced one again",
        async || manager.get(&http, "/api/config/piper/schema").await["pending"].is_null(),
    )
    .await;
}
