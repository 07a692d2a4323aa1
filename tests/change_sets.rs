//! Change sets (CONTRACT §7), against the real core, its REST server on a loopback port and a
//! real broker: a set is stored as one commit with a shared `change_id`, or refused as a whole
//! (an invalid member, a service twice, an empty or oversized set, a new error of the checks
//! across services, a new warning unless allowed); it rolls back as one (409 naming members
//! changed since, unless forced; a member it created is deleted); a watched set whose member
//! fails is undone as one; a follower sends a set to the authority as one MQTT request.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::{Value, json};
use support::{TestBroker, TestClient, documents, free_port, start_core, wait_until};

struct Rest {
    core: Core,
    runtime: CoreRuntime,
    broker: TestBroker,
    http: reqwest::Client,
    base: String,
    dir: tempfile::TempDir,
}

/// A core with its REST server; `stt-a` and `llm-a` stored.
async fn rest() -> Rest {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.port = api_port;
        s.api.rate_limit_max = 0;
    })
    .await;
    tokio::spawn(alicia_config_manager::api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone()).unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    support::wait_for_rest(&http, &base).await;
    for (service, ip) in [("llm-a", "10.0.0.1"), ("llm-b", "10.0.0.2")] {
        core.config
            .put(
                service,
                llm(service, ip, "first"),
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
            .unwrap();
    }
    Rest {
        core,
        runtime,
        broker,
        http,
        base,
        dir,
    }
}

/// An LLM service's document on its own address.
fn llm(service: &str, ip: &str, model: &str) -> Value {
    documents::llm(service).ip(ip).model(model).build()
}

impl Rest {
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        (
            answer.status().as_u16(),
            answer.json().await.unwrap_or(Value::Null),
        )
    }

    async fn history(&self, service: &str) -> Vec<Value> {
        support::get_json(
            &self.http,
            &format!("{}/api/config/{service}/history", self.base),
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    fn model(&self, service: &str) -> Option<String> {
        self.core
            .config
            .get(service)
            .and_then(|s| s.document["config"]["model"].as_str().map(str::to_owned))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_is_stored_in_one_commit_with_a_shared_change_id() {
    let rest = rest().await;
    let lines_before = history_lines(&rest);
    let (status, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"documents": [
                llm("llm-a", "10.0.0.1", "second"),
                llm("llm-b", "10.0.0.2", "second"),
                llm("llm-new", "10.0.0.3", "first"),
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let change_id = answer["change_id"].as_str().unwrap().to_owned();
    let revisions = answer["revisions"].as_object().unwrap();
    assert_eq!(revisions.len(), 3, "{answer}");
    for service in ["llm-a", "llm-b", "llm-new"] {
        let newest = &rest.history(service).await[0];
        assert_eq!(newest["change_id"], json!(change_id), "{service}: {newest}");
        assert_eq!(newest["revision"], revisions[service], "{service}");
        assert_eq!(
            rest.core.config.get(service).unwrap().revision,
            revisions[service].as_u64().unwrap()
        );
    }
    // One commit: the three entries are appended together, in order, and config.json holds
    // every member.
    let lines = history_lines(&rest);
    assert_eq!(lines.len(), lines_before.len() + 3);
    assert!(
        lines[lines_before.len()..]
            .iter()
            .all(|l| l["change_id"] == json!(change_id))
    );
    let stored: Value =
        serde_json::from_slice(&std::fs::read(rest.dir.path().join("config.json")).unwrap())
            .unwrap();
    for service in ["llm-a", "llm-b", "llm-new"] {
        assert_eq!(
            stored[service]["config"]["model"],
            if service == "llm-new" {
                "first"
            } else {
                "second"
            }
        );
    }
    rest.runtime.shutdown(&rest.core).await;
}

fn history_lines(rest: &Rest) -> Vec<Value> {
    std::fs::read_to_string(rest.dir.path().join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_set_is_refused_as_a_whole() {
    let rest = rest().await;
    let before = rest.core.config.snapshot();
    let mut invalid = llm("llm-b", "10.0.0.2", "second");
    invalid["version"] = json!(7);
    let cases = [
        // An invalid member: every member refused, its details under its index.
        (
            json!({"documents": [llm("llm-a", "10.0.0.1", "second"), invalid]}),
            400,
            "/documents/1",
        ),
        // A service twice.
        (
            json!({"documents": [llm("llm-a", "10.0.0.1", "x"), llm("llm-a", "10.0.0.1", "y")]}),
            400,
            "/documents/1/service_name",
        ),
        (json!({"documents": []}), 400, "/documents"),
        (json!({"document": []}), 400, "/documents"),
        (
            json!({"documents": [llm("llm-a", "10.0.0.1", "x")], "watch": 601}),
            400,
            "/watch",
        ),
        // A new error of the checks: the new service listens where llm-a does.
        (
            json!({"documents": [llm("llm-a", "10.0.0.1", "second"), llm("llm-clash", "10.0.0.1", "x")]}),
            400,
            "/documents/",
        ),
        // The reserved name.
        (
            json!({"documents": [llm("changes", "10.0.0.9", "x")]}),
            400,
            "/documents/0",
        ),
    ];
    for (body, status, path) in cases {
        let (got, answer) = rest.post("/api/config/changes", &body).await;
        assert_eq!(got, status, "{body}: {answer}");
        let details = answer["details"].as_array().unwrap();
        assert!(
            details
                .iter()
                .any(|d| d["path"].as_str().unwrap().starts_with(path)),
            "{path} in {answer}"
        );
    }
    let many: Vec<Value> = (0..101)
        .map(|i| llm(&format!("llm-{i}"), &format!("10.1.0.{}", i % 250), "x"))
        .collect();
    let (got, answer) = rest
        .post("/api/config/changes", &json!({ "documents": many }))
        .await;
    assert_eq!(got, 400, "{answer}");
    let pad = "x".repeat(1024 * 1024 - 4096);
    let heavy: Vec<Value> = (0..9)
        .map(|i| {
            documents::llm(&format!("heavy-{i}"))
                .ip(&format!("10.2.0.{i}"))
                .settings(json!({ "pad": pad }))
                .build()
        })
        .collect();
    let (got, answer) = rest
        .post("/api/config/changes", &json!({ "documents": heavy }))
        .await;
    assert_eq!(got, 413, "{answer}");
    assert_eq!(
        *rest.core.config.snapshot(),
        *before,
        "nothing of a refused set is stored"
    );
    rest.runtime.shutdown(&rest.core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_warnings_refuse_a_set_unless_allowed() {
    let rest = rest().await;
    // A voice router whose targets speak another language than it: a new warning.
    let stt = json!({
        "service_name": "stt-de", "service_type": "stt", "version": "1.0.0", "enabled": true,
        "config": {"language": "de", "endpoints": [{"type": "stt", "ip": "10.0.0.5", "port": 9000}]}
    });
    let (status, answer) = rest
        .post(
            "/api/config/changes",
            &json!({ "documents": [stt.clone()] }),
        )
        .await;
    assert_eq!(
        status, 200,
        "a set creating a service that never reported: {answer}"
    );
    let mut router = json!({
        "service_name": "router", "service_type": "voice_router", "version": "1.0.0",
        "enabled": true,
        "config": {"language": "en", "settings": {
            "stt_service": "stt-de", "tts_service": "tts-en", "llm_service": "llm-a"},
            "endpoints": [{"type": "router", "ip": "10.0.0.6", "port": 9100}]}
    });
    let tts = json!({
        "service_name": "tts-en", "service_type": "tts", "version": "1.0.0", "enabled": true,
        "config": {"language": "en", "endpoints": [{"type": "tts", "ip": "10.0.0.7", "port": 9200}]}
    });
    let body = json!({"documents": [router.clone(), tts.clone()]});
    let (status, answer) = rest.post("/api/config/changes", &body).await;
    assert_eq!(status, 400, "{answer}");
    let text = answer.to_string();
    assert!(text.contains("language_mismatch"), "{text}");
    assert!(text.contains("allow_warnings"), "{text}");
    assert!(rest.core.config.get("router").is_none());
    let mut allowed = body.clone();
    allowed["allow_warnings"] = json!(true);
    let (status, answer) = rest.post("/api/config/changes", &allowed).await;
    assert_eq!(status, 200, "{answer}");
    // The household's language changed along the whole chain in one set: no new finding,
    // where the router alone would bring one (its TTS would speak another language).
    router["config"]["language"] = json!("de");
    let (status, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"documents": [router.clone()]}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let mut tts_de = tts;
    tts_de["config"]["language"] = json!("de");
    let (status, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"documents": [router, tts_de]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    rest.runtime.shutdown(&rest.core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_rolls_back_as_one() {
    let rest = rest().await;
    let (_, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"documents": [
                llm("llm-a", "10.0.0.1", "second"),
                llm("llm-created", "10.0.0.4", "first"),
            ]}),
        )
        .await;
    let change_id = answer["change_id"].as_str().unwrap().to_owned();
    let rollback = format!("/api/config/changes/{change_id}/rollback");
    let (status, undone) = rest.post(&rollback, &json!({})).await;
    assert_eq!(status, 200, "{undone}");
    assert_ne!(undone["change_id"], json!(change_id));
    assert_eq!(rest.model("llm-a").as_deref(), Some("first"));
    assert!(
        rest.core.config.get("llm-created").is_none(),
        "the member the set created is deleted"
    );
    let newest = &rest.history("llm-a").await[0];
    assert_eq!(newest["source"], "rollback");
    assert_eq!(newest["change_id"], undone["change_id"]);
    let (status, _) = rest
        .post("/api/config/changes/no-such-set/rollback", &json!({}))
        .await;
    assert_eq!(status, 404);

    // A member changed since: 409 naming it, unless forced.
    let (_, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"documents": [
                llm("llm-a", "10.0.0.1", "third"),
                llm("llm-b", "10.0.0.2", "third"),
            ]}),
        )
        .await;
    let change_id = answer["change_id"].as_str().unwrap().to_owned();
    rest.core
        .config
        .put(
            "llm-b",
            llm("llm-b", "10.0.0.2", "meanwhile"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let rollback = format!("/api/config/changes/{change_id}/rollback");
    let (status, refused) = rest.post(&rollback, &json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("llm-b"), "{refused}");
    assert_eq!(
        rest.model("llm-a").as_deref(),
        Some("third"),
        "nothing undone"
    );
    let (status, _) = rest.post(&rollback, &json!({"force": "yes"})).await;
    assert_eq!(status, 400);
    let (status, forced) = rest.post(&rollback, &json!({"force": true})).await;
    assert_eq!(status, 200, "{forced}");
    assert_eq!(rest.model("llm-a").as_deref(), Some("first"));
    assert_eq!(rest.model("llm-b").as_deref(), Some("first"));
    rest.runtime.shutdown(&rest.core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reserved_name_answers_as_a_service_route_would() {
    let rest = rest().await;
    let get = rest
        .http
        .get(format!("{}/api/config/changes", rest.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 404);
    let put = rest
        .http
        .put(format!("{}/api/config/changes", rest.base))
        .json(&llm("changes", "10.0.0.9", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 400);
    let history = rest
        .http
        .get(format!("{}/api/config/llm-a/history", rest.base))
        .send()
        .await
        .unwrap();
    assert_eq!(history.status().as_u16(), 200);
    rest.runtime.shutdown(&rest.core).await;
}

/// A watched set whose member turns unhealthy is undone as one: every member rolled back with
/// the reason, as one new set; `config:rolledback` for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_set_is_undone_as_one_when_a_member_fails() {
    let rest = rest().await;
    let mut services = Vec::new();
    for service in ["llm-a", "llm-b"] {
        let mut client = TestClient::connect(rest.broker.port).await;
        client.subscribe(&format!("alicia/config/{service}")).await;
        client
            .publish_json(
                &format!("alicia/system/health/{service}"),
                &json!({"status": "healthy"}),
                false,
            )
            .await;
        services.push((service, client));
    }
    let probe = rest.core.clone();
    wait_until("both services reported", move || {
        ["llm-a", "llm-b"]
            .iter()
            .all(|s| probe.health.get(s).is_some_and(|r| r.last_seen.is_some()))
    })
    .await;
    let (status, answer) = rest
        .post(
            "/api/config/changes",
            &json!({"watch": 30, "documents": [
                llm("llm-a", "10.0.0.1", "second"),
                llm("llm-b", "10.0.0.2", "second"),
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let change_id = answer["change_id"].as_str().unwrap().to_owned();
    assert!(rest.core.safe_apply.watching("llm-a") && rest.core.safe_apply.watching("llm-b"));
    // llm-b turns unhealthy after the change.
    services[1]
        .1
        .publish_json(
            "alicia/system/health/llm-b",
            &json!({"status": "unhealthy"}),
            false,
        )
        .await;
    let probe = rest.core.clone();
    wait_until("both members rolled back", move || {
        ["llm-a", "llm-b"].iter().all(|s| {
            probe.config.history(s).first().is_some_and(|e| {
                e.source == ChangeSource::Rollback && e.reason.as_deref() == Some("unhealthy")
            })
        })
    })
    .await;
    assert_eq!(rest.model("llm-a").as_deref(), Some("first"));
    assert_eq!(rest.model("llm-b").as_deref(), Some("first"));
    let a = rest.core.config.history("llm-a")[0].change_id.clone();
    let b = rest.core.config.history("llm-b")[0].change_id.clone();
    assert!(a.is_some() && a == b, "one new set: {a:?} {b:?}");
    assert_ne!(a.as_deref(), Some(change_id.as_str()));
    assert!(!rest.core.safe_apply.watching("llm-a"));
    rest.runtime.shutdown(&rest.core).await;
}

/// A follower sends a set to the authority as one request on `system/changes/set` (never as
/// `/set` edits), and answers with the authority's answer once mirrored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sends_a_set_as_one_request() {
    let rest = rest().await;
    let mut spy = TestClient::connect(rest.broker.port).await;
    spy.subscribe("alicia/config/+/set").await;
    spy.subscribe("alicia/system/changes/#").await;
    let dir = tempfile::tempdir().unwrap();
    let follower_api = free_port();
    let (follower, follower_runtime) = start_core(dir.path(), rest.broker.port, |s| {
        s.role = alicia_config_manager::core::fleet::RoleSetting::Follower;
        s.api.port = follower_api;
        s.api.rate_limit_max = 0;
    })
    .await;
    tokio::spawn(alicia_config_manager::api::server::supervise(
        follower.clone(),
    ));
    follower.api.turn_on(follower.settings.api.clone()).unwrap();
    let follower_base = format!("http://127.0.0.1:{follower_api}");
    support::wait_for_rest(&rest.http, &follower_base).await;
    let probe = follower.clone();
    wait_until("the follower mirrors the authority", move || {
        probe.fleet.state().has_live_authority() && probe.config.get("llm-b").is_some()
    })
    .await;
    let answer = rest
        .http
        .post(format!("{follower_base}/api/config/changes"))
        .json(&json!({"documents": [
            llm("llm-a", "10.0.0.1", "from-follower"),
            llm("llm-b", "10.0.0.2", "from-follower"),
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let answer: Value = answer.json().await.unwrap();
    let change_id = answer["change_id"].as_str().unwrap();
    for service in ["llm-a", "llm-b"] {
        let entry = &rest.core.config.history(service)[0];
        assert_eq!(entry.change_id.as_deref(), Some(change_id));
        assert_eq!(entry.source, ChangeSource::Mqtt);
        assert_eq!(
            follower.config.get(service).unwrap().document["config"]["model"],
            "from-follower",
            "mirrored before the answer"
        );
    }
    // On the bus: one request, one answer, no /set.
    let mut requests = 0;
    let mut answers = 0;
    for message in spy.drain_for(std::time::Duration::from_millis(500)).await {
        let topic = message.topic.as_str();
        assert!(!topic.starts_with("alicia/config/"), "{topic}");
        if topic == "alicia/system/changes/set" {
            requests += 1;
            let body: Value = serde_json::from_slice(&message.payload).unwrap();
            assert!(
                body["request_id"].is_string() && body["actor"].is_object(),
                "{body}"
            );
        } else if topic.starts_with("alicia/system/changes/result/") {
            answers += 1;
        }
    }
    assert_eq!((requests, answers), (1, 1));
    // A refused set comes back refused, as the authority answered.
    let mut invalid = llm("llm-a", "10.0.0.1", "x");
    invalid["version"] = json!(7);
    let refused = rest
        .http
        .post(format!("{follower_base}/api/config/changes"))
        .json(&json!({ "documents": [invalid] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert!(
        refused.to_string().contains("/documents/0/version"),
        "{refused}"
    );
    follower_runtime.shutdown(&follower).await;
    rest.runtime.shutdown(&rest.core).await;
}
