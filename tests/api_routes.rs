//! Every route and error code of CONTRACT §3, called in process (`oneshot`) on the real app
//! over a real core connected to a real (embedded) broker.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::config::MASK;
use alicia_config_manager::core::secret::Secret;
use alicia_config_manager::core::settings::Settings;
use alicia_config_manager::core::{Core, CoreRuntime};
use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::api::Call;
use support::{TestBroker, TestClient, start_core, wait_until};

struct App {
    app: Router,
    core: Core,
    broker: TestBroker,
    _runtime: CoreRuntime,
    dir: tempfile::TempDir,
}

async fn app(tweak: impl FnOnce(&mut Settings)) -> App {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.rate_limit_max = 0;
        tweak(s);
    })
    .await;
    let app = api::router(core.clone(), &core.settings.api);
    App {
        app,
        core,
        broker,
        _runtime: runtime,
        dir,
    }
}

/// A core whose broker is not there (for the 503 answers and `degraded`).
async fn app_without_broker() -> (Router, Core, CoreRuntime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings_for(dir.path(), support::free_port());
    settings.api.rate_limit_max = 0;
    let (core, runtime) = Core::start(settings).await.unwrap();
    (
        api::router(core.clone(), &core.settings.api),
        core,
        runtime,
        dir,
    )
}

use support::documents::ollama;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_has_the_seed_shape_and_says_degraded_without_a_broker() {
    let t = app(|_| {}).await;
    let answer = Call::get("/api/health").send(&t.app).await;
    assert_eq!(answer.status, StatusCode::OK);
    let keys: BTreeSet<&str> = answer
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["services", "status", "timestamp"]));
    assert_eq!(answer.body["status"], "healthy");
    assert_eq!(
        answer.body["services"],
        json!({"mqtt": true, "config": true, "device": true})
    );

    let (app, _core, _runtime, _dir) = app_without_broker().await;
    let answer = Call::get("/api/health").send(&app).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["status"], "degraded");
    assert_eq!(answer.body["services"]["mqtt"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_crud_with_etags_masking_and_validation() {
    let t = app(|_| {}).await;
    let all = Call::get("/api/config").send(&t.app).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["whisper-service"]["config"]["model"], "whisper-1");
    let schema = Call::get("/api/config/schema").send(&t.app).await;
    assert_eq!(
        schema.body,
        *alicia_config_manager::core::config::schema_document()
    );

    let created = Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("llama3"))
        .send(&t.app)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["config"]["api_key"], MASK,
        "never the real key"
    );
    assert!(created.body["last_updated"].is_string());
    let etag = created.header("etag").unwrap().to_owned();

    let fetched = Call::get("/api/config/ollama").send(&t.app).await;
    assert_eq!(fetched.header("etag"), Some(etag.as_str()));
    assert_eq!(fetched.body["config"]["api_key"], MASK);
    let all = Call::get("/api/config").send(&t.app).await;
    assert_eq!(all.body["ollama"]["config"]["api_key"], MASK);
    assert!(!all.text.contains("sk-ollama-secret"));

    let mut edited = fetched.body.clone();
    edited["config"]["model"] = json!("mistral");
    let replaced = Call::new(Method::PUT, "/api/config/ollama")
        .header("if-match", &etag)
        .json(&edited)
        .send(&t.app)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_ne!(replaced.header("etag"), Some(etag.as_str()));
    let stored = t.core.config.get("ollama").unwrap();
    assert_eq!(
        stored.document["config"]["api_key"], "sk-ollama-secret",
        "the masked key kept the stored one"
    );
    assert_eq!(stored.document["config"]["model"], "mistral");

    let stale = Call::new(Method::PUT, "/api/config/ollama")
        .header("if-match", &etag)
        .json(&edited)
        .send(&t.app)
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "a lost update is refused"
    );
    assert_eq!(stale.body["error"], "Precondition failed");
    let create_only = Call::new(Method::PUT, "/api/config/ollama")
        .header("if-none-match", "*")
        .json(&edited)
        .send(&t.app)
        .await;
    assert_eq!(create_only.status, StatusCode::PRECONDITION_FAILED);

    let mut invalid = ollama("x");
    invalid["config"]["endpoints"][0]["port"] = json!(70000);
    invalid["config"]["colour"] = json!("red");
    let refused = Call::new(Method::PUT, "/api/config/ollama")
        .json(&invalid)
        .send(&t.app)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["error"], "Validation failed");
    let paths: Vec<&str> = refused.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["/config/colour", "/config/endpoints/0/port"]);
    let renamed = Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("x").tap_name("other"))
        .send(&t.app)
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(renamed.body["details"][0]["path"], "/service_name");

    let missing = Call::get("/api/config/nothing-here").send(&t.app).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"], "Configuration not found");

    let stale_delete = Call::new(Method::DELETE, "/api/config/ollama")
        .header("if-match", &etag)
        .send(&t.app)
        .await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = Call::new(Method::DELETE, "/api/config/ollama")
        .send(&t.app)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let again = Call::new(Method::DELETE, "/api/config/ollama")
        .send(&t.app)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(t.dir.path().join("config.json")).unwrap()).unwrap();
    assert!(on_disk.get("ollama").is_none());
}

trait TapName {
    fn tap_name(self, name: &str) -> Value;
}

impl TapName for Value {
    fn tap_name(mut self, name: &str) -> Value {
        self["service_name"] = json!(name);
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_malformed_too_large_or_not_json_are_refused_clearly() {
    let t = app(|_| {}).await;
    let malformed = Call::new(Method::PUT, "/api/config/ollama")
        .raw(Some("application/json"), "{\"service_name\": ")
        .send(&t.app)
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["error"], "Malformed JSON");
    assert!(
        malformed.body["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{}",
        malformed.text
    );

    let huge = format!(
        "{{\"pad\": \"{}\"}}",
        "x".repeat(api::BODY_LIMIT_BYTES + 10)
    );
    let too_large = Call::new(Method::PUT, "/api/config/ollama")
        .raw(Some("application/json"), huge)
        .send(&t.app)
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.body["error"], "Payload too large");

    // A config document is held to 1 MiB of JSON (CONTRACT §6), well under the body limit.
    let before = Call::get("/api/config/ollama").send(&t.app).await;
    let mut over_a_mib = before.body.clone();
    over_a_mib["config"]["notes"] = json!("x".repeat(1024 * 1024 + 1));
    let refused = Call::new(Method::PUT, "/api/config/ollama")
        .json(&over_a_mib)
        .send(&t.app)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.text
    );
    assert!(
        refused.body["message"].as_str().unwrap().contains("1 MiB"),
        "the limit is named: {}",
        refused.text
    );
    let after = Call::get("/api/config/ollama").send(&t.app).await;
    assert_eq!(after.body, before.body, "the stored document is untouched");

    let not_json = Call::new(Method::PUT, "/api/config/ollama")
        .raw(Some("text/plain"), "hello")
        .send(&t.app)
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(t.core.config.get("ollama").is_none(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_rollback() {
    let t = app(|_| {}).await;
    let first = Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("llama3"))
        .send(&t.app)
        .await;
    let first_revision: u64 = first
        .header("etag")
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap();
    Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("mistral"))
        .send(&t.app)
        .await;
    let history = Call::get("/api/config/ollama/history").send(&t.app).await;
    assert_eq!(history.status, StatusCode::OK);
    let revisions = history.body.as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        revisions[0]["document"]["config"]["model"], "mistral",
        "newest first"
    );
    assert_eq!(revisions[1]["revision"], first_revision);
    assert!(
        revisions
            .iter()
            .all(|r| r["source"] == "rest" && r["document"]["config"]["api_key"] == MASK)
    );

    let rolled = Call::new(Method::POST, "/api/config/ollama/rollback")
        .json(&json!({"revision": first_revision}))
        .send(&t.app)
        .await;
    assert_eq!(rolled.status, StatusCode::OK, "{}", rolled.text);
    assert_eq!(rolled.body["config"]["model"], "llama3");
    let history = Call::get("/api/config/ollama/history").send(&t.app).await;
    assert_eq!(history.body[0]["source"], "rollback");

    let no_revision = Call::new(Method::POST, "/api/config/ollama/rollback")
        .json(&json!({}))
        .send(&t.app)
        .await;
    assert_eq!(no_revision.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_revision.body["details"][0]["path"], "/revision");
    let unknown = Call::new(Method::POST, "/api/config/ollama/rollback")
        .json(&json!({"revision": 99999}))
        .send(&t.app)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let never = Call::get("/api/config/never-was/history")
        .send(&t.app)
        .await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_and_commands() {
    let t = app(|_| {}).await;
    let mut device = TestClient::connect(t.broker.port).await;
    device.subscribe("alicia/device/+/command").await;
    for id in ["thermo-2", "lamp-1"] {
        device
            .publish_json(
                &format!("alicia/device/{id}/state"),
                &json!({"name": id, "type": "light", "room": "hall"}),
                true,
            )
            .await;
    }
    let probe = t.core.clone();
    wait_until("both devices are known", move || {
        probe.devices.list().len() == 2
    })
    .await;
    let list = Call::get("/api/devices").send(&t.app).await;
    let ids: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["lamp-1", "thermo-2"]);
    let keys: BTreeSet<&str> = list.body[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "last_seen",
            "name",
            "online",
            "room",
            "stale",
            "state",
            "type"
        ])
    );
    assert_eq!(
        Call::get("/api/devices/lamp-1").send(&t.app).await.body["room"],
        "hall"
    );
    assert_eq!(
        Call::get("/api/devices/ghost").send(&t.app).await.status,
        StatusCode::NOT_FOUND
    );

    let sent = Call::new(Method::POST, "/api/devices/lamp-1/command")
        .json(&json!({"command": "turn_on", "params": {"brightness": 60}}))
        .send(&t.app)
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let request_id = sent.body["request_id"].as_str().unwrap().to_owned();
    let command = device
        .expect_json("alicia/device/lamp-1/command", |_| true)
        .await;
    assert_eq!(command["request_id"], request_id.as_str());
    assert_eq!(command["params"]["brightness"], 60);

    let no_command = Call::new(Method::POST, "/api/devices/lamp-1/command")
        .json(&json!({"params": {}}))
        .send(&t.app)
        .await;
    assert_eq!(no_command.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_command.body["details"][0]["path"], "/command");
    let bad_params = Call::new(Method::POST, "/api/devices/lamp-1/command")
        .json(&json!({"command": "x", "params": [1]}))
        .send(&t.app)
        .await;
    assert_eq!(bad_params.status, StatusCode::BAD_REQUEST);
    let unknown = Call::new(Method::POST, "/api/devices/ghost/command")
        .json(&json!({"command": "x"}))
        .send(&t.app)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let (app, core, _runtime, _dir) = app_without_broker().await;
    core.devices
        .apply_state("lamp-1", Some(std::sync::Arc::new(json!({}))), "now");
    let down = Call::new(Method::POST, "/api/devices/lamp-1/command")
        .json(&json!({"command": "x"}))
        .send(&app)
        .await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.header("retry-after").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_services_messages_discovery_and_publish() {
    let t = app(|_| {}).await;
    let info = Call::get("/api/system").send(&t.app).await;
    assert_eq!(info.status, StatusCode::OK);
    let keys: BTreeSet<&str> = info
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "api",
            "instance_id",
            "limits",
            "mqtt",
            "role",
            "uptime_secs",
            "version"
        ])
    );
    let mqtt_keys: BTreeSet<&str> = info.body["mqtt"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        mqtt_keys,
        BTreeSet::from([
            "connected",
            "embedded",
            "messages_invalid",
            "messages_published",
            "messages_received",
            "reconnects",
            "subscriptions_refused",
            "url"
        ])
    );
    assert_eq!(info.body["mqtt"]["connected"], true);
    assert_eq!(info.body["mqtt"]["subscriptions_refused"], json!([]));
    assert_eq!(info.body["role"], "authority");
    assert_eq!(info.body["api"]["auth_required"], false);

    let mut client = TestClient::connect(t.broker.port).await;
    client.subscribe("alicia/#").await;
    client
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    client
        .publish("alicia/device/d1/availability", b"online".to_vec(), false)
        .await;
    client
        .publish("alicia/device/d1/availability", b"garbage".to_vec(), false)
        .await;
    let probe = t.core.clone();
    wait_until("the three messages are logged", move || {
        probe
            .messages
            .recent(10, Some("alicia/device/d1/availability"))
            .len()
            == 2
            && probe
                .messages
                .recent(10, Some("alicia/system/health/whisper-service"))
                .len()
                == 1
    })
    .await;

    let services = Call::get("/api/system/services").send(&t.app).await;
    let whisper = services
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_name"] == "whisper-service")
        .unwrap()
        .clone();
    assert_eq!(whisper["status"], "healthy");
    assert_eq!(whisper["config_state"], "unknown");
    assert_eq!(whisper["stale"], false);

    let messages = Call::get("/api/system/messages?limit=2&topic=alicia/device/%2B/availability")
        .send(&t.app)
        .await;
    let list = messages.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["valid"], false, "newest first");
    assert!(list[0]["error"].is_string());
    assert_eq!(list[0]["payload"], "garbage");
    assert_eq!(list[1]["valid"], true);
    let bad_filter = Call::get("/api/system/messages?topic=alicia/%23/x")
        .send(&t.app)
        .await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);

    let discovery = Call::new(Method::POST, "/api/system/discovery")
        .send(&t.app)
        .await;
    assert_eq!(discovery.status, StatusCode::ACCEPTED);
    client.expect_on("alicia/system/discovery/request").await;

    let published = Call::new(Method::POST, "/api/system/publish")
        .json(
            &json!({"topic": "alicia/device/d1/command", "payload": {"command": "ping"}, "qos": 1}),
        )
        .send(&t.app)
        .await;
    assert_eq!(published.status, StatusCode::ACCEPTED);
    let ping = client
        .expect_json("alicia/device/d1/command", |_| true)
        .await;
    assert_eq!(ping["command"], "ping");
    for (body, field) in [
        (json!({"topic": "elsewhere/x", "payload": "x"}), "/topic"),
        (json!({"topic": "alicia/#", "payload": "x"}), "/topic"),
        (
            json!({"topic": "alicia/x", "payload": "x", "qos": 3}),
            "/qos",
        ),
        (json!({"payload": "x"}), "/topic"),
    ] {
        let refused = Call::new(Method::POST, "/api/system/publish")
            .json(&body)
            .send(&t.app)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(refused.body["details"][0]["path"], field, "{body}");
    }

    let (app, _core, _runtime, _dir) = app_without_broker().await;
    assert_eq!(
        Call::new(Method::POST, "/api/system/discovery")
            .send(&app)
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let down = Call::new(Method::POST, "/api/system/publish")
        .json(&json!({"topic": "alicia/x", "payload": "x"}))
        .send(&app)
        .await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_methods_and_security_headers() {
    let t = app(|_| {}).await;
    let unknown = Call::get("/api/nothing/here").send(&t.app).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({"error": "Route not found"}));
    let outside = Call::get("/index.html").send(&t.app).await;
    assert_eq!(outside.body, json!({"error": "Route not found"}));
    let wrong_method = Call::new(Method::PATCH, "/api/config").send(&t.app).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"], "Method not allowed");
    for answer in [
        &unknown,
        &wrong_method,
        &Call::get("/api/health").send(&t.app).await,
    ] {
        for (name, value) in api::security::SECURITY_HEADERS {
            assert_eq!(answer.header(name), Some(value), "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_the_front_end_only() {
    let t = app(|s| s.api.frontend_url = "http://admin.lan:3002".into()).await;
    let preflight = |origin: &str| {
        Call::new(Method::OPTIONS, "/api/config/ollama")
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type,if-match")
    };
    let allowed = preflight("http://admin.lan:3002").send(&t.app).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://admin.lan:3002")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        allowed
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    let refused = preflight("http://evil.example").send(&t.app).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let simple = Call::get("/api/health")
        .header("origin", "http://admin.lan:3002")
        .send(&t.app)
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("http://admin.lan:3002")
    );
    assert!(
        simple
            .header("access-control-expose-headers")
            .unwrap()
            .contains("etag")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_per_client_with_retry_after() {
    let t = app(|s| {
        s.api.rate_limit_max = 3;
        s.api.rate_limit_window_ms = 60_000;
    })
    .await;
    let lan_client = [10, 0, 0, 8];
    for _ in 0..3 {
        assert_eq!(
            Call::get("/api/config")
                .peer(lan_client)
                .send(&t.app)
                .await
                .status,
            StatusCode::OK
        );
    }
    let limited = Call::get("/api/config").peer(lan_client).send(&t.app).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["error"], "Too many requests from this IP");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let other_client = Call::get("/api/config")
        .peer([10, 0, 0, 9])
        .send(&t.app)
        .await;
    assert_eq!(
        other_client.status,
        StatusCode::OK,
        "another client has its own budget"
    );
    // CONTRACT §10: with no token configured, a loopback peer is the admin's own, and
    // /metrics is never limited.
    for _ in 0..10 {
        assert_eq!(
            Call::get("/api/config").send(&t.app).await.status,
            StatusCode::OK
        );
        assert_eq!(
            Call::get("/metrics")
                .peer(lan_client)
                .send(&t.app)
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_a_valid_token_are_outside_the_rate_limit() {
    let t = app(|s| {
        s.api.rate_limit_max = 2;
        s.api.rate_limit_window_ms = 60_000;
        s.api.token = Some(Secret::new("admin-token"));
        s.api.read_token = Some(Secret::new("reader-token"));
    })
    .await;
    for token in ["admin-token", "reader-token"] {
        for _ in 0..10 {
            let answer = Call::get("/api/config")
                .header("authorization", &format!("Bearer {token}"))
                .send(&t.app)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{token}");
        }
    }
    // Without a valid token (loopback or not, a token is configured) the limit holds.
    let statuses: Vec<StatusCode> = statuses_with_a_wrong_token(&t.app, 4).await;
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

async fn statuses_with_a_wrong_token(app: &Router, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(
            Call::get("/api/config")
                .header("authorization", "Bearer wrong")
                .send(app)
                .await
                .status,
        );
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_changing_request_from_a_foreign_origin_is_refused() {
    let t = app(|s| s.api.frontend_url = "http://admin.lan:3002".to_owned()).await;
    let foreign = Call::new(Method::PUT, "/api/config/ollama")
        .header("origin", "http://evil.example")
        .json(&ollama("x"))
        .send(&t.app)
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.body["error"], "Forbidden");
    assert!(t.core.config.get("ollama").is_none(), "nothing was stored");
    for origin in ["http://admin.lan:3002", "http://localhost:3000"] {
        let allowed = Call::new(Method::PUT, "/api/config/ollama")
            .header("origin", origin)
            .json(&ollama("x"))
            .send(&t.app)
            .await;
        assert!(allowed.status.is_success(), "{origin}: {}", allowed.text);
    }
    let reading = Call::get("/api/config")
        .header("origin", "http://evil.example")
        .send(&t.app)
        .await;
    assert_eq!(reading.status, StatusCode::OK, "reading is CORS's business");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_every_route_but_health_needs_the_token() {
    let t = app(|s| {
        s.api.bind = "0.0.0.0".parse().unwrap();
        s.api.token = Some(Secret::new("correct-horse"));
    })
    .await;
    let open = Call::get("/api/health").send(&t.app).await;
    assert_eq!(open.status, StatusCode::OK);
    for (method, uri) in [
        (Method::GET, "/api/config"),
        (Method::GET, "/api/devices"),
        (Method::POST, "/api/system/discovery"),
        (Method::GET, "/api/openapi.json"),
        (Method::GET, "/api/nope"),
    ] {
        let none = Call::new(method.clone(), uri).send(&t.app).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        assert_eq!(none.body["error"], "Unauthorized");
        let wrong = Call::new(method.clone(), uri)
            .header("authorization", "Bearer correct-horsE")
            .send(&t.app)
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let right = Call::get("/api/system")
        .header("authorization", "Bearer correct-horse")
        .send(&t.app)
        .await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.body["api"]["auth_required"], true);
    assert!(
        !right.text.contains("correct-horse"),
        "the token is never answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_is_503_json_and_stores_nothing() {
    // CONTRACT §6: an I/O error other than a full disk answers 503 (a full disk, 507, is
    // tried on a real tmpfs in trust_disk.rs); unexpected faults stay 500 (below).
    for development in [false, true] {
        let t = app(|s| s.development = development).await;
        let config_file = t.dir.path().join("config.json");
        std::fs::remove_file(&config_file).unwrap();
        std::fs::create_dir(&config_file).unwrap();
        let failed = Call::new(Method::PUT, "/api/config/ollama")
            .json(&ollama("x"))
            .send(&t.app)
            .await;
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(failed.body["error"], "Service unavailable");
        let message = failed.body["message"].as_str().unwrap();
        assert!(message.contains("could not be stored"), "{message}");
        assert!(t.core.config.get("ollama").is_none());
    }
}

async fn boom() -> &'static str {
    panic!("kaboom in a handler")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    let settings = Settings::defaults_in(std::path::Path::new("/nonexistent")).api;
    let routes = Router::new()
        .route("/api/boom", axum::routing::get(boom))
        .route("/api/fine", axum::routing::get(|| async { "fine" }));
    for development in [false, true] {
        let app = api::wrap(
            api::guard_routes(routes.clone(), &settings),
            &settings,
            development,
        );
        let boom = Call::get("/api/boom").send(&app).await;
        assert_eq!(boom.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(boom.body["error"], "Internal server error");
        assert_eq!(boom.text.contains("kaboom"), development);
        assert_eq!(Call::get("/api/fine").send(&app).await.text, "fine");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_describes_real_answers() {
    let t = app(|_| {}).await;
    let document = Call::get("/api/openapi.json").send(&t.app).await.body;
    assert_eq!(document["openapi"], "3.1.0");
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "GET /api/health",
        "GET /api/config",
        "GET /api/config/schema",
        "GET /api/config/{service}",
        "PUT /api/config/{service}",
        "DELETE /api/config/{service}",
        "GET /api/config/{service}/history",
        "POST /api/config/{service}/rollback",
        "POST /api/config/changes",
        "POST /api/config/changes/{change_id}/rollback",
        "GET /api/config/{service}/schema",
        "POST /api/config/{service}/schema/accept",
        "GET /api/devices",
        "GET /api/devices/{id}",
        "DELETE /api/devices/{id}",
        "POST /api/devices/{id}/command",
        "GET /api/devices/{id}/commands/{request_id}",
        "GET /api/system",
        "GET /api/system/services",
        "GET /api/system/checks",
        "GET /api/system/messages",
        "POST /api/system/discovery",
        "POST /api/system/publish",
        "GET /api/openapi.json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);

    let client = TestClient::connect(t.broker.port).await;
    client
        .publish_json("alicia/device/lamp-1/state", &json!({"on": true}), true)
        .await;
    client
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    let probe = t.core.clone();
    wait_until("the device is known", move || {
        probe.devices.get("lamp-1").is_some()
    })
    .await;
    Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("llama3"))
        .send(&t.app)
        .await;

    let checks = [
        (Call::get("/api/health"), "/api/health", "get", "200"),
        (Call::get("/api/config"), "/api/config", "get", "200"),
        (
            Call::get("/api/config/ollama"),
            "/api/config/{service}",
            "get",
            "200",
        ),
        (
            Call::get("/api/config/missing"),
            "/api/config/{service}",
            "get",
            "404",
        ),
        (
            Call::get("/api/config/ollama/history"),
            "/api/config/{service}/history",
            "get",
            "200",
        ),
        (Call::get("/api/devices"), "/api/devices", "get", "200"),
        (
            Call::get("/api/devices/lamp-1"),
            "/api/devices/{id}",
            "get",
            "200",
        ),
        (Call::get("/api/system"), "/api/system", "get", "200"),
        (
            Call::get("/api/system/services"),
            "/api/system/services",
            "get",
            "200",
        ),
        (
            Call::get("/api/system/messages"),
            "/api/system/messages",
            "get",
            "200",
        ),
        (
            Call::new(Method::PUT, "/api/config/ollama").json(&json!({"config": 1})),
            "/api/config/{service}",
            "put",
            "400",
        ),
        (
            Call::new(Method::POST, "/api/devices/lamp-1/command").json(&json!({"command": "on"})),
            "/api/devices/{id}/command",
            "post",
            "202",
        ),
    ];
    for (call, path, method, status) in checks {
        let answer = call.send(&t.app).await;
        assert_eq!(
            answer.status.as_str(),
            status,
            "{method} {path}: {}",
            answer.text
        );
        let pointer = format!(
            "#/paths/{}/{method}/responses/{status}/content/application~1json/schema",
            path.replace('~', "~0")
                .replace('/', "~1")
                .replace('{', "%7B")
                .replace('}', "%7D")
        );
        let mut root = document.clone();
        root["$ref"] = json!(pointer);
        let validator = jsonschema::draft202012::options()
            .build(&root)
            .unwrap_or_else(|e| panic!("{pointer}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| format!("{} {e}", e.instance_path().as_str()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema: {errors:?}\n{}",
            answer.text
        );
    }
}

/// `GET /api/system/services` serves the same overview as the app's services table: the
/// contract's fields, and type, enabled, version, last change and by whom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_overview_serves_what_the_app_shows() {
    let t = app(|_| {}).await;
    let created = Call::new(Method::PUT, "/api/config/ollama")
        .json(&ollama("llama3"))
        .send(&t.app)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);

    let services = Call::get("/api/system/services").send(&t.app).await;
    assert_eq!(services.status, StatusCode::OK);
    let rows = services.body.as_array().unwrap();
    let row = |name: &str| rows.iter().find(|s| s["service_name"] == name).unwrap();
    let ollama = row("ollama");
    for field in ["status", "last_seen", "stale", "config_state"] {
        assert!(ollama.get(field).is_some(), "{field} is kept");
    }
    assert_eq!(ollama["service_type"], "llm");
    assert_eq!(ollama["enabled"], true);
    assert_eq!(ollama["version"], "0.4.0");
    assert_eq!(ollama["last_changed_by"], "rest");
    assert_eq!(ollama["configured"], true);
    assert_eq!(ollama["manager"], false);
    assert!(ollama["last_updated"].is_string());
    assert_eq!(row("whisper-service")["service_type"], "stt");
}

/// CONTRACT §6: the manager's own topics are not for `POST /api/system/publish`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_managers_own_topics_cannot_be_published_through_the_api() {
    let t = app(|_| {}).await;
    for topic in [
        "alicia/config/whisper-service",
        "alicia/config/whisper-service/error",
        "alicia/config/whisper-service/schema",
        "alicia/system/health/config-manager",
        "alicia/system/health/config-manager/f0110we7",
        "alicia/system/changes/result/r-1",
    ] {
        let refused = Call::new(Method::POST, "/api/system/publish")
            .json(&json!({"topic": topic, "payload": {"service_name": "whisper-service"}, "retain": true}))
            .send(&t.app)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{topic}");
        assert!(refused.body["error"].is_string(), "{topic}");
    }
    let set = Call::new(Method::POST, "/api/system/publish")
        .json(&json!({"topic": "alicia/config/whisper-service/set", "payload": "{}"}))
        .send(&t.app)
        .await;
    assert_eq!(
        set.status,
        StatusCode::ACCEPTED,
        "a /set request is anyone's"
    );
}
