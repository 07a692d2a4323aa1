//! Upgrading to v2 (CONTRACT §1 and §9), tried against the real binary with a `config.json` that
//! v1 stored: documents v2 refuses (an empty `provider`, the name `changes`, over 1 MiB) are
//! loaded and served as they are, each reported by a check, and refused only when changed;
//! new documents follow v2's rules (Joi's non-empty strings, `changes` reserved).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::headless::Headless;

fn v1_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut empty_provider = support::llm_document("llm-main", "llama3");
    empty_provider["config"]["provider"] = json!("");
    let changes = support::llm_document("changes", "llama3");
    let mut big = support::llm_document("llm-big", "llama3");
    big["config"]["settings"] = json!({"notes": "x".repeat(1024 * 1024 + 10)});
    let configs = json!({"llm-main": empty_provider, "changes": changes, "llm-big": big});
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec_pretty(&configs).unwrap(),
    )
    .unwrap();
    dir
}

async fn put(
    http: &reqwest::Client,
    manager: &Headless,
    service: &str,
    document: &Value,
) -> (StatusCode, Value) {
    let answer = http
        .put(format!("{}/api/config/{service}", manager.base))
        .json(document)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_v1_stored_is_served_reported_and_refused_only_when_changed() {
    let http = reqwest::Client::new();
    let manager = Headless::start_in(v1_folder(), None, &[], &http, |_| {}).await;

    let stored = manager.get(&http, "/api/config").await;
    assert_eq!(stored["llm-main"]["config"]["provider"], "");
    assert!(stored.get("changes").is_some() && stored.get("llm-big").is_some());
    assert_eq!(
        manager.stored_configs().as_object().unwrap().len(),
        3,
        "nothing stored is dropped"
    );

    let checks = manager.get(&http, "/api/system/checks").await;
    let reported =
        |service: &str, path: &str| {
            checks.as_array().unwrap().iter().any(|c| {
                c["kind"] == "stored_invalid" && c["service"] == service && c["path"] == path
            })
        };
    assert!(reported("llm-main", "/config/provider"), "{checks}");
    assert!(reported("changes", "/service_name"), "{checks}");
    assert!(reported("llm-big", ""), "{checks}");

    // Changed as it is: refused, at its field.
    let mut same = stored["llm-main"].clone();
    same["config"]["model"] = json!("qwen");
    let (status, body) = put(&http, &manager, "llm-main", &same).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("/config/provider"), "{body}");
    // Fixed: stored, and the check is gone.
    same["config"]["provider"] = json!("ollama");
    let (status, body) = put(&http, &manager, "llm-main", &same).await;
    assert!(status.is_success(), "{body}");
    let checks = manager.get(&http, "/api/system/checks").await;
    assert!(
        !checks
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "stored_invalid" && c["service"] == "llm-main"),
        "{checks}"
    );

    // v2's rules for new documents.
    let (status, body) = put(
        &http,
        &manager,
        "changes",
        &support::llm_document("changes", "qwen"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("reserved"), "{body}");
    for (pointer, value) in [
        ("/config/model", json!("")),
        ("/config/voice", json!("")),
        ("/config/language", json!("")),
        ("/config/endpoints/0/type", json!("")),
        ("/config/endpoints/0/model", json!("")),
    ] {
        let mut document = support::llm_document("llm-new", "m");
        *document
            .pointer_mut(pointer.rsplit_once('/').unwrap().0)
            .unwrap() = {
            let mut parent = document
                .pointer(pointer.rsplit_once('/').unwrap().0)
                .unwrap()
                .clone();
            parent[pointer.rsplit_once('/').unwrap().1] = value;
            parent
        };
        let (status, body) = put(&http, &manager, "llm-new", &document).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pointer}: {body}");
        assert!(
            body["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["path"] == pointer && d["message"] == "must not be empty"),
            "{pointer}: {body}"
        );
    }
    // An empty api_key stays valid (the seed's default).
    let mut keyless = support::llm_document("llm-new", "m");
    keyless["config"]["api_key"] = json!("");
    let (status, body) = put(&http, &manager, "llm-new", &keyless).await;
    assert!(status.is_success(), "{body}");
}
