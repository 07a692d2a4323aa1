//! The API against its own OpenAPI document: schemathesis (PyPI) generates requests from
//! `/api/openapi.json` of the running binary — valid ones, edge cases and garbage, with and
//! without the token — and checks that no answer is a 5xx, that every status code, content
//! type, header and body is the one the document describes, and that no route but the open
//! one answers without the token.
//!
//! Not checked: schemathesis's `positive_data_acceptance` / `negative_data_rejection`. Some
//! rules cannot be written in OpenAPI (the body's `service_name` must be the path's service; a
//! publish must stay under the topic prefix; an `If-Match` must name a revision, and
//! preconditions are judged before the body as RFC 9110 says), so schema-valid requests are
//! rightly refused with 400 / 412.
//!
//! schemathesis comes from `ALICIA_SCHEMATHESIS` (scripts/test installs it into a venv) or
//! `PATH`; without it the test is skipped, unless `ALICIA_REQUIRE_SCHEMATHESIS=1` (CI).
//! Examples per operation: `ALICIA_SCHEMATHESIS_EXAMPLES` (default 50).

mod support;

use serde_json::json;
use std::process::{Child, Command};
use support::TestClient;

const TOKEN: &str = "spec-test-token";

/// The checks that say "the answer matches the document" and "no 5xx".
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,ignored_auth";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn schemathesis() -> Option<String> {
    let candidate = std::env::var("ALICIA_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let found = Command::new(&candidate)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(candidate);
    }
    assert!(
        std::env::var("ALICIA_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
        "schemathesis is required (ALICIA_REQUIRE_SCHEMATHESIS=1) but `{candidate}` does not run: \
         scripts/test installs it"
    );
    eprintln!("SKIPPED: schemathesis is not installed (scripts/test installs it)");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_openapi_document() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let api_port = support::free_port();
    let mqtt_port = support::free_port();
    let _app = Killed(
        support::headless_command(&dir.path().join("config"), api_port, None)
            .env("MQTT_PORT", mqtt_port.to_string())
            .env("ALICIA_API_TOKEN", TOKEN)
            .spawn()
            .expect("the app starts"),
    );
    let base = format!("http://127.0.0.1:{api_port}");
    let http = reqwest::Client::new();
    support::wait_for_rest(&http, &base).await;

    // Something for the routes to find: a device and a second service.
    let device = TestClient::connect(mqtt_port).await;
    device
        .publish_json(
            "alicia/device/lamp-1/state",
            &json!({"name": "Lamp", "type": "light", "room": "hall", "on": true}),
            true,
        )
        .await;
    let answer = http
        .put(format!("{base}/api/config/ollama"))
        .bearer_auth(TOKEN)
        .json(
            &support::llm("ollama")
                .model("llama3")
                .api_key("sk-spec")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "seeding: {}", answer.status());

    let examples = std::env::var("ALICIA_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "50".into());
    let work = tempfile::tempdir().unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .args(["run", &format!("{base}/api/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
            .args(["--checks", CHECKS])
            .args(["--max-examples", &examples])
            .args(["--seed", "20261126"])
            .args(["--workers", "2"])
            .args(["--wait-for-schema", "20"])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "schemathesis found answers that break the document:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary = report
        .lines()
        .find(|l| l.contains("generated,"))
        .unwrap_or_default();
    assert!(
        summary.contains("passed"),
        "schemathesis ran no test cases:\n{report}"
    );
    eprintln!("schemathesis: {}", summary.trim());
}
