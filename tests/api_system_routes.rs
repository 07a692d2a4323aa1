//! The system, device and message routes of CONTRACT §3 on the real app over a real core and
//! broker, called in process: health in the seed's shape, devices and commands, services,
//! messages, discovery and publishing (never on the manager's own topics).

mod support;

use axum::http::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;
use support::api::{Call, app, app_without_broker};
use support::{TestClient, wait_until};

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
