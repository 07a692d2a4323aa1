//! The OpenAPI document lists every route the app serves and describes the answers it really
//! gives (called in process on the real app).

mod support;

use axum::http::Method;
use serde_json::json;
use std::collections::BTreeSet;
use support::api::{Call, app};
use support::{TestClient, wait_until};

use support::documents::ollama;

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
