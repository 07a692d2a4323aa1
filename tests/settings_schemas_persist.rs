//! Settings schemas that outlive restarts (CONTRACT §9), tried against the real binary on a
//! real broker: a schema announced once is enforced, published retained on
//! `alicia/config/<service>/schema` (and put back when someone else writes there), and still
//! enforced after a restart with no new announcement; one the stored settings fail waits as
//! pending with a check naming the field until an admin accepts it; a `writeOnly` settings
//! field is masked in every answer and kept when sent back masked.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use support::headless::Headless;
use support::sio::SioClient;
use support::{TestBroker, TestClient, wait_for};

const SCHEMA_TOPIC: &str = "alicia/config/llm-main/schema";
const MASK: &str = alicia_config_manager::core::config::MASK;

fn settings_schema(beam_size_maximum: u64) -> Value {
    json!({
        "type": "object",
        "properties": {
            "beam_size": {"type": "integer", "maximum": beam_size_maximum},
            "password": {"type": "string", "writeOnly": true}
        }
    })
}

fn announcement(schema: &Value) -> Value {
    json!({"service_name": "llm-main", "service_type": "llm", "version": "2.0.0",
        "settings_schema": schema})
}

async fn put(http: &reqwest::Client, manager: &Headless, document: &Value) -> (StatusCode, Value) {
    let answer = http
        .put(format!("{}/api/config/llm-main", manager.base))
        .json(document)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// The retained schema a fresh subscriber gets (`None`: none).
async fn retained_schema(port: u16) -> Option<Value> {
    let mut reader = TestClient::connect(port).await;
    reader.subscribe(SCHEMA_TOPIC).await;
    reader
        .drain_for(Duration::from_millis(700))
        .await
        .into_iter()
        .rev()
        .find(|p| p.retain)
        .and_then(|p| serde_json::from_slice(&p.payload).ok())
}

fn with_settings(document: &Value, settings: Value) -> Value {
    let mut document = document.clone();
    document["config"]["settings"] = settings;
    document
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_announced_once_is_stored_published_and_enforced_after_a_restart() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &["--role", "authority"], &http).await;
    let base = support::llm_document("llm-main", "llama3");
    let (status, _) = put(
        &http,
        &manager,
        &with_settings(&base, json!({"beam_size": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let service = TestClient::connect(broker.port).await;
    service
        .publish_json(
            "alicia/system/discovery/llm-main",
            &announcement(&settings_schema(10)),
            false,
        )
        .await;
    wait_for("the schema is enforced", async || {
        let schemas = manager.get(&http, "/api/config/llm-main/schema").await;
        schemas["enforced"] == settings_schema(10)
    })
    .await;
    wait_for("it is published, retained", async || {
        retained_schema(broker.port).await == Some(settings_schema(10))
    })
    .await;

    // A secret of the settings schema: masked in every answer, kept when sent back masked.
    let secret = with_settings(&base, json!({"beam_size": 5, "password": "hunter2"}));
    let (status, answer) = put(&http, &manager, &secret).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["config"]["settings"]["password"], MASK);
    let shown = manager.get(&http, "/api/config/llm-main").await;
    assert_eq!(shown["config"]["settings"]["password"], MASK);
    let history = manager.get(&http, "/api/config/llm-main/history").await;
    assert_eq!(
        history[0]["document"]["config"]["settings"]["password"],
        MASK
    );
    let mut live = SioClient::spawn(&manager.base, &[]);
    let update = live.expect("config:update", |_| true).await;
    assert_eq!(
        update["data"]["llm-main"]["config"]["settings"]["password"],
        MASK
    );
    let logged = manager
        .get(&http, "/api/system/messages?topic=alicia/config/llm-main")
        .await;
    assert!(!logged.to_string().contains("hunter2"), "{logged}");
    let (status, _) = put(
        &http,
        &manager,
        &with_settings(&shown, json!({"beam_size": 6, "password": MASK})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        manager.stored_configs()["llm-main"]["config"]["settings"]["password"],
        "hunter2",
        "the masked value kept the stored secret"
    );

    // Someone else writes the schema topic: the authority puts its own back.
    service
        .publish_json(SCHEMA_TOPIC, &json!({"type": "object"}), true)
        .await;
    wait_for("the enforced schema is put back", async || {
        retained_schema(broker.port).await == Some(settings_schema(10))
    })
    .await;

    // Restarted, with no new announcement: still enforced.
    let dir = manager.kill();
    let manager = Headless::start_in(
        dir,
        Some(broker.port),
        &["--role", "authority"],
        &http,
        |_| {},
    )
    .await;
    let (status, refusal) = put(
        &http,
        &manager,
        &with_settings(&shown, json!({"beam_size": 50, "password": MASK})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    assert_eq!(refusal["details"][0]["path"], "/config/settings/beam_size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_the_settings_fail_waits_until_an_admin_accepts_it() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &["--role", "authority"], &http).await;
    let base = support::llm_document("llm-main", "llama3");
    put(
        &http,
        &manager,
        &with_settings(&base, json!({"beam_size": 8})),
    )
    .await;
    let service = TestClient::connect(broker.port).await;
    service
        .publish_json(
            "alicia/system/discovery/llm-main",
            &announcement(&settings_schema(10)),
            false,
        )
        .await;
    wait_for("the first schema is enforced", async || {
        manager.get(&http, "/api/config/llm-main/schema").await["enforced"] == settings_schema(10)
    })
    .await;

    // A stricter one the stored settings fail: pending, named by a check, not enforced.
    service
        .publish_json(
            "alicia/system/discovery/llm-main",
            &announcement(&settings_schema(4)),
            false,
        )
        .await;
    wait_for("the stricter schema waits", async || {
        manager.get(&http, "/api/config/llm-main/schema").await["pending"] == settings_schema(4)
    })
    .await;
    let schemas = manager.get(&http, "/api/config/llm-main/schema").await;
    assert_eq!(schemas["enforced"], settings_schema(10));
    assert_eq!(schemas["failures"][0]["path"], "/config/settings/beam_size");
    let checks = manager.get(&http, "/api/system/checks").await;
    let pending = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "settings_schema_pending")
        .unwrap_or_else(|| panic!("{checks}"));
    assert_eq!(pending["service"], "llm-main");
    assert_eq!(pending["path"], "/config/settings/beam_size");
    assert_eq!(
        retained_schema(broker.port).await,
        Some(settings_schema(10)),
        "followers keep the enforced one"
    );
    let stored = manager.get(&http, "/api/config/llm-main").await;
    let (status, _) = put(
        &http,
        &manager,
        &with_settings(&stored, json!({"beam_size": 9})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the enforced schema still rules");

    // Fixed, then accepted: enforced and published; the check is gone.
    let stored = manager.get(&http, "/api/config/llm-main").await;
    let (status, _) = put(
        &http,
        &manager,
        &with_settings(&stored, json!({"beam_size": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let accept = format!("{}/api/config/llm-main/schema/accept", manager.base);
    let answer = http.post(&accept).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let accepted: Value = answer.json().await.unwrap();
    assert_eq!(accepted["enforced"], settings_schema(4));
    assert!(accepted["pending"].is_null());
    assert_eq!(http.post(&accept).send().await.unwrap().status(), 404);
    let checks = manager.get(&http, "/api/system/checks").await;
    assert!(
        !checks.to_string().contains("settings_schema_pending"),
        "{checks}"
    );
    wait_for("the accepted schema is published", async || {
        retained_schema(broker.port).await == Some(settings_schema(4))
    })
    .await;
    let stored = manager.get(&http, "/api/config/llm-main").await;
    let (status, _) = put(
        &http,
        &manager,
        &with_settings(&stored, json!({"beam_size": 9})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "now the new one rules");
}
