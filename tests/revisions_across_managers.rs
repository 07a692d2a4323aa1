//! Revisions across managers and who changed what (CONTRACT §9), tried against the real
//! binaries on a real broker: two followers' envelopes from the same base — one stored, the
//! other refused as a conflict naming the current `last_updated`; a bare document still
//! works; a real follower sends the envelope and the authority records its instance and
//! client; REST actors name the grant (`local`, `token`) and the client's address.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use support::headless::Headless;
use support::{TestBroker, TestClient, wait_for};

const SET: &str = "alicia/config/llm-main/set";
const ERROR: &str = "alicia/config/llm-main/error";

async fn put(http: &reqwest::Client, base: &str, document: &Value, token: Option<&str>) -> Value {
    let mut request = http
        .put(format!("{base}/api/config/llm-main"))
        .json(document);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.json().await.unwrap()
}

async fn history(http: &reqwest::Client, manager: &Headless, token: Option<&str>) -> Vec<Value> {
    let mut request = http.get(format!("{}/api/config/llm-main/history", manager.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    answer.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_from_the_same_base_one_stored_the_other_told_of_the_conflict() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let authority = Headless::start(Some(broker.port), &["--role", "authority"], &http).await;
    let stored = put(
        &http,
        &authority.base,
        &support::llm_document("llm-main", "llama3"),
        None,
    )
    .await;
    let base = stored["last_updated"].as_str().unwrap().to_owned();

    let mut watcher = TestClient::connect(broker.port).await;
    watcher.subscribe(ERROR).await;
    let first = TestClient::connect(broker.port).await;
    let second = TestClient::connect(broker.port).await;
    let mut mine = stored.clone();
    mine["config"]["model"] = json!("from-first");
    let mut theirs = stored.clone();
    theirs["config"]["model"] = json!("from-second");
    let envelope = |document: &Value, instance: &str| json!({"document": document, "base": base, "actor": {"kind": "gui", "name": format!("admin@{instance}"), "instance_id": instance}});
    first
        .publish_json(SET, &envelope(&mine, "follower-1"), false)
        .await;
    wait_for("the first follower's change is stored", async || {
        authority.get(&http, "/api/config/llm-main").await["config"]["model"] == "from-first"
    })
    .await;
    second
        .publish_json(SET, &envelope(&theirs, "follower-2"), false)
        .await;
    let refusal = watcher.expect_json(ERROR, |_| true).await;
    let current = authority.get(&http, "/api/config/llm-main").await;
    assert_eq!(refusal["error"], "conflict", "{refusal}");
    assert_eq!(refusal["current_last_updated"], current["last_updated"]);
    assert_eq!(
        current["config"]["model"], "from-first",
        "nothing overwritten"
    );

    let entries = history(&http, &authority, None).await;
    assert_eq!(entries.len(), 2, "the conflict stored nothing");
    assert_eq!(entries[0]["source"], "mqtt");
    assert_eq!(
        entries[0]["actor"],
        json!({"kind": "gui", "name": "admin@follower-1", "instance_id": "follower-1", "claimed": true})
    );
    assert_eq!(entries[1]["actor"]["kind"], "rest");
    assert_eq!(entries[1]["actor"]["name"], "local");
    assert_eq!(entries[1]["actor"]["address"], "127.0.0.1");

    // A base for a service that has none (null) is a conflict too, naming the current one.
    second
        .publish_json(SET, &json!({"document": theirs, "base": null}), false)
        .await;
    let refusal = watcher.expect_json(ERROR, |_| true).await;
    assert_eq!(refusal["error"], "conflict");
    assert_eq!(refusal["current_last_updated"], current["last_updated"]);
    // A bare document keeps working (last writer wins), by `mqtt`.
    second.publish_json(SET, &theirs, false).await;
    wait_for("the bare document is stored", async || {
        authority.get(&http, "/api/config/llm-main").await["config"]["model"] == "from-second"
    })
    .await;
    let entries = history(&http, &authority, None).await;
    assert_eq!(entries[0]["actor"], json!({"kind": "mqtt"}));
    // An envelope that is not one is refused, saying which field.
    second
        .publish_json(SET, &json!({"document": theirs, "base": 42}), false)
        .await;
    let refusal = watcher.expect_json(ERROR, |_| true).await;
    assert!(
        refusal["error"].as_str().unwrap().contains("/base"),
        "{refusal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_follower_sends_the_envelope_and_the_authority_records_who() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let token = "an-admin-token-long-enough-0123456789";
    let authority = Headless::start_with(Some(broker.port), &["--role", "authority"], &http, |c| {
        c.env("ALICIA_API_TOKEN", token);
    })
    .await;
    let stored = put(
        &http,
        &authority.base,
        &support::llm_document("llm-main", "llama3"),
        Some(token),
    )
    .await;
    let follower = Headless::start(Some(broker.port), &["--role", "follower"], &http).await;
    let follower_id = follower.get(&http, "/api/system").await["instance_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for("the follower mirrors the config", async || {
        follower.get(&http, "/api/config/llm-main").await["last_updated"] == stored["last_updated"]
    })
    .await;

    let mut listener = TestClient::connect(broker.port).await;
    listener.subscribe(SET).await;
    let mut edit = stored.clone();
    edit["config"]["model"] = json!("qwen");
    let answered = put(&http, &follower.base, &edit, None).await;
    assert_eq!(answered["config"]["model"], "qwen");
    let sent = listener.expect_json(SET, |_| true).await;
    assert_eq!(sent["base"], stored["last_updated"], "{sent}");
    assert_eq!(sent["document"]["config"]["model"], "qwen");

    let entries = history(&http, &authority, Some(token)).await;
    assert_eq!(
        entries[0]["actor"],
        json!({"kind": "rest", "name": "local", "address": "127.0.0.1", "instance_id": follower_id, "claimed": true})
    );
    assert_eq!(entries[1]["actor"]["name"], "token", "{}", entries[1]);
}
