//! Checks across services, on a real core and broker: each check fires on a fleet built to
//! break it and clears once the fleet is fixed, as `GET /api/system/checks` serves them.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::Core;
use alicia_config_manager::core::config::{ChangeSource, Precondition};
use axum::Router;
use serde_json::{Value, json};
use support::api::Call;
use support::{TestBroker, TestClient, start_core, wait_until};

fn service(name: &str, kind: &str, port: u16, language: &str) -> Value {
    json!({
        "service_name": name,
        "service_type": kind,
        "enabled": true,
        "version": "1.0.0",
        "config": {
            "language": language,
            "endpoints": [{"type": kind, "ip": "127.0.0.1", "port": port, "protocol": "http"}]
        }
    })
}

fn router_document(stt: &str, tts: &str, llm: &str) -> Value {
    let mut router = service("voice-router", "voice_router", 8700, "en");
    router["config"]["settings"] =
        json!({"stt_service": stt, "tts_service": tts, "llm_service": llm});
    router
}

async fn put(core: &Core, document: Value) {
    let name = document["service_name"].as_str().unwrap().to_owned();
    core.config
        .put(&name, document, ChangeSource::Rest, Precondition::None)
        .await
        .expect("the document is valid");
}

async fn check_ids(app: &Router) -> Vec<String> {
    let answer = Call::get("/api/system/checks").send(app).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn has(app: &Router, id: &str) -> bool {
    check_ids(app).await.iter().any(|c| c == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_fires_on_a_broken_fleet_and_clears_when_fixed() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.health_ttl_secs = 2;
        s.api.rate_limit_max = 0;
    })
    .await;
    let app = api::router(core.clone(), &core.settings.api);

    // A voice router whose targets do not exist.
    put(&core, router_document("whisper", "piper", "ollama")).await;
    let answer = Call::get("/api/system/checks").send(&app).await;
    let stt = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "router_target:voice-router:stt_service")
        .expect("the missing STT service is named")
        .clone();
    assert_eq!(stt["severity"], "error");
    assert_eq!(stt["kind"], "router_target");
    assert_eq!(stt["service"], "voice-router");
    assert_eq!(stt["path"], "/config/settings/stt_service");
    assert_eq!(stt["related"], json!(["whisper"]));
    for key in ["tts_service", "llm_service"] {
        assert!(has(&app, &format!("router_target:voice-router:{key}")).await);
    }

    // Fixed: the three services exist and are enabled.
    put(&core, service("whisper", "stt", 9000, "en-US")).await;
    put(&core, service("piper", "tts", 9001, "en")).await;
    put(&core, service("ollama", "llm", 11434, "en")).await;
    assert!(
        !check_ids(&app)
            .await
            .iter()
            .any(|c| c.starts_with("router_target:")),
        "{:?}",
        check_ids(&app).await
    );

    // A disabled target, then a target of the wrong type, then none named at all.
    let mut piper = service("piper", "tts", 9001, "en");
    piper["enabled"] = json!(false);
    put(&core, piper).await;
    assert!(has(&app, "router_target:voice-router:tts_service").await);
    put(&core, service("piper", "tts", 9001, "en")).await;
    assert!(!has(&app, "router_target:voice-router:tts_service").await);
    put(&core, router_document("whisper", "piper", "whisper")).await;
    let wrong_type = core
        .checks()
        .into_iter()
        .find(|c| c.id == "router_target:voice-router:llm_service")
        .expect("a target of the wrong type is named");
    assert!(
        wrong_type.message.contains("is a stt service"),
        "{}",
        wrong_type.message
    );
    let mut unnamed = router_document("whisper", "piper", "ollama");
    unnamed["config"]["settings"]
        .as_object_mut()
        .unwrap()
        .remove("llm_service");
    put(&core, unnamed).await;
    let missing = core
        .checks()
        .into_iter()
        .find(|c| c.id == "router_target:voice-router:llm_service")
        .expect("an unnamed target is a warning");
    assert_eq!(
        missing.severity,
        alicia_config_manager::core::checks::Severity::Warning
    );
    put(&core, router_document("whisper", "piper", "ollama")).await;
    assert!(!has(&app, "router_target:voice-router:llm_service").await);

    // Languages along the chain: `en-US` agrees with `en`; German does not.
    assert!(!has(&app, "language_mismatch:whisper:voice-router").await);
    put(&core, service("whisper", "stt", 9000, "de")).await;
    let mismatch = core
        .checks()
        .into_iter()
        .find(|c| c.id == "language_mismatch:whisper:voice-router")
        .expect("German STT under an English router");
    assert_eq!(mismatch.path, "/config/language");
    put(&core, service("whisper", "stt", 9000, "en")).await;
    assert!(!has(&app, "language_mismatch:whisper:voice-router").await);

    // Two services on one host and port (`localhost` is `127.0.0.1`).
    let mut clash = service("ollama", "llm", 9001, "en");
    clash["config"]["endpoints"][0]["ip"] = json!("http://localhost:9001");
    put(&core, clash).await;
    assert!(has(&app, "port_clash:ollama:0").await);
    assert!(has(&app, "port_clash:piper:0").await);
    put(&core, service("ollama", "llm", 11434, "en")).await;
    assert!(!has(&app, "port_clash:ollama:0").await);
    assert!(!has(&app, "port_clash:piper:0").await);

    // An enabled service that does not report: stale until it does, stale again after the TTL.
    assert!(has(&app, "stale:whisper").await);
    let client = TestClient::connect(broker.port).await;
    client
        .publish_json(
            "alicia/system/health/whisper",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    let c = core.clone();
    wait_until("whisper's report clears its stale check", move || {
        !c.checks().iter().any(|check| check.id == "stale:whisper")
    })
    .await;
    let c = core.clone();
    wait_until("whisper goes stale again after the TTL", move || {
        c.checks().iter().any(|check| check.id == "stale:whisper")
    })
    .await;

    // A service that refuses its config, then applies it.
    let current = core.config.get("whisper").unwrap();
    let last_updated = current.document["last_updated"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .publish_json(
            "alicia/config/whisper/ack",
            &json!({"last_updated": last_updated, "applied": false, "error": "model large-v9 not found"}),
            false,
        )
        .await;
    let c = core.clone();
    wait_until("the refusal shows as a check", move || {
        c.checks()
            .iter()
            .any(|check| check.id == "config_refused:whisper" && check.message.contains("large-v9"))
    })
    .await;
    client
        .publish_json(
            "alicia/config/whisper/ack",
            &json!({"last_updated": last_updated, "applied": true}),
            false,
        )
        .await;
    let c = core.clone();
    wait_until("the applied config clears the refusal", move || {
        !c.checks()
            .iter()
            .any(|check| check.id == "config_refused:whisper")
    })
    .await;

    // Errors come first.
    let answer = Call::get("/api/system/checks").send(&app).await;
    let severities: Vec<&str> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["severity"].as_str().unwrap())
        .collect();
    let mut sorted = severities.clone();
    sorted.sort_by_key(|s| *s != "error");
    assert_eq!(severities, sorted);
    runtime.shutdown(&core).await;
}

/// CONTRACT §6: managers' clocks must agree within 60 s; a presence whose timestamp and
/// arrival disagree by more is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_whose_clock_is_off_is_reported() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.rate_limit_max = 0;
    })
    .await;
    let app = api::router(core.clone(), &core.settings.api);
    let client = TestClient::connect(broker.port).await;
    let ahead = alicia_config_manager::core::clock::format_rfc3339(
        time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
    );
    let topic = "alicia/system/health/config-manager/skewed01";
    client
        .publish_json(
            topic,
            &json!({"status": "healthy", "timestamp": ahead, "instance_id": "skewed01", "role": "follower"}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("the skewed presence is seen", move || {
        probe.health.get("config-manager/skewed01").is_some()
    })
    .await;
    assert!(has(&app, "clock_skew:config-manager/skewed01").await);
    let on_time = alicia_config_manager::core::clock::now_rfc3339();
    client
        .publish_json(
            topic,
            &json!({"status": "healthy", "timestamp": on_time, "instance_id": "skewed01", "role": "follower"}),
            false,
        )
        .await;
    let app_probe = app.clone();
    let deadline = std::time::Instant::now() + support::PATIENCE;
    while has(&app_probe, "clock_skew:config-manager/skewed01").await {
        assert!(
            std::time::Instant::now() < deadline,
            "the check never cleared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    runtime.shutdown(&core).await;
}
