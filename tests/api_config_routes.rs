//! The config routes of CONTRACT §3 on the real app over a real core and broker, called in
//! process: create, read, update and delete with ETags, masking and validation; bodies that
//! are malformed, too large or not JSON; history and rollback.

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::config::MASK;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::api::{Call, app};

use support::documents::ollama;

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
