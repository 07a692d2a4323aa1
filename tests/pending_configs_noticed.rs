//! A config nobody confirms goes noticed (CONTRACT §9), tried against the real binary on a real
//! broker: while a service's current revision is `pending`, `/api/system/services` says since
//! when; a revision pending for over 120 s gets a warning check, a fresh one does not, and an
//! ack of the current revision ends both.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use support::headless::Headless;
use support::{TestBroker, TestClient, wait_for};

/// A folder holding two configs stored an hour ago.
fn folder_from_an_hour_ago() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let an_hour_ago = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut configs = serde_json::Map::new();
    for service in ["llm-old", "llm-fresh"] {
        let mut document = support::llm_document(service, "llama3");
        document["last_updated"] = json!(an_hour_ago);
        configs.insert(service.to_owned(), document);
    }
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec_pretty(&configs).unwrap(),
    )
    .unwrap();
    dir
}

fn entry<'a>(services: &'a Value, name: &str) -> &'a Value {
    services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_name"] == name)
        .unwrap_or(&Value::Null)
}

fn pending_check(checks: &Value, service: &str) -> Option<Value> {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "pending_too_long" && c["service"] == service)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_nobody_confirms_says_since_when_and_is_flagged_after_120_s() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_in(
        folder_from_an_hour_ago(),
        Some(broker.port),
        &[],
        &http,
        |_| {},
    )
    .await;
    let stored = manager.get(&http, "/api/config").await;
    let old_revision = stored["llm-old"]["last_updated"]
        .as_str()
        .unwrap()
        .to_owned();

    // Both services ack an earlier revision: pending.
    let services = TestClient::connect(broker.port).await;
    for service in ["llm-old", "llm-fresh"] {
        services
            .publish_json(
                &format!("alicia/config/{service}/ack"),
                &json!({"last_updated": "2020-01-01T00:00:00.000Z", "applied": true}),
                true,
            )
            .await;
    }
    // llm-fresh is changed now: pending since now.
    let mut fresh = stored["llm-fresh"].clone();
    fresh["config"]["model"] = json!("qwen");
    let answer = http
        .put(format!("{}/api/config/llm-fresh", manager.base))
        .json(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let fresh_revision = answer.json::<Value>().await.unwrap()["last_updated"]
        .as_str()
        .unwrap()
        .to_owned();

    wait_for("both are pending", async || {
        let services = manager.get(&http, "/api/system/services").await;
        ["llm-old", "llm-fresh"]
            .iter()
            .all(|name| entry(&services, name)["config_state"] == "pending")
    })
    .await;
    let listed = manager.get(&http, "/api/system/services").await;
    assert_eq!(entry(&listed, "llm-old")["pending_since"], old_revision);
    assert_eq!(entry(&listed, "llm-fresh")["pending_since"], fresh_revision);

    let checks = manager.get(&http, "/api/system/checks").await;
    let flagged = pending_check(&checks, "llm-old").unwrap_or_else(|| panic!("{checks}"));
    assert_eq!(flagged["severity"], "warning");
    assert!(
        flagged["message"].as_str().unwrap().contains("llm-old"),
        "{flagged}"
    );
    assert!(
        pending_check(&checks, "llm-fresh").is_none(),
        "pending for seconds is no problem yet: {checks}"
    );

    // The service confirms: no longer pending, no check.
    services
        .publish_json(
            "alicia/config/llm-old/ack",
            &json!({"last_updated": old_revision, "applied": true}),
            true,
        )
        .await;
    wait_for("llm-old is applied", async || {
        entry(&manager.get(&http, "/api/system/services").await, "llm-old")["config_state"]
            == "applied"
    })
    .await;
    let listed = manager.get(&http, "/api/system/services").await;
    assert!(entry(&listed, "llm-old").get("pending_since").is_none());
    let checks = manager.get(&http, "/api/system/checks").await;
    assert!(pending_check(&checks, "llm-old").is_none(), "{checks}");
}
