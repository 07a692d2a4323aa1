//! Services on a real broker, driven by a real MQTT client owned by the test, on the embedded
//! broker and on Mosquitto (CONTRACT §2): health reports and staleness, discovery that creates
//! a validated config, `/set` taking the path of any edit, acks, the manager's own retained
//! health and configs, and a deletion that clears the retained config.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::events::CoreEvent;
use alicia_config_manager::core::health::ConfigState;
use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use serde_json::{Value, json};
use std::time::Duration;
use support::{TestBroker, TestClient, start_core, wait_until};

on_both_brokers!(
    health_reports_drive_status_and_staleness,
    discovery_creates_a_validated_config_and_publishes_it,
    set_requests_take_the_same_path_as_any_edit,
    acks_show_applied_pending_and_refused,
    own_health_and_configs_are_retained,
    deleting_a_service_clears_its_retained_config,
);

use support::documents::ollama as llm_document;

async fn health_reports_drive_status_and_staleness(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |s| s.health_ttl_secs = 1).await;
    let mut events = core.events.subscribe();
    let client = TestClient::connect(broker.port).await;
    client
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy", "details": {"gpu": "ok"}}),
            false,
        )
        .await;
    let row = |core: &alicia_config_manager::core::Core| {
        core.service_overview()
            .into_iter()
            .find(|r| r.service_name == "whisper-service")
            .unwrap()
    };
    let probe = core.clone();
    wait_until("whisper-service is healthy", move || {
        row(&probe).status == HealthStatus::Healthy
    })
    .await;
    assert!(!row(&core).stale);
    assert!(row(&core).last_seen.is_some());
    assert_eq!(
        core.health.get("whisper-service").unwrap().details.unwrap()["gpu"],
        "ok"
    );

    let probe = core.clone();
    wait_until("whisper-service goes stale after the TTL", move || {
        row(&probe).stale
    })
    .await;
    assert_eq!(row(&core).status, HealthStatus::Unknown);
    let stale_event = async {
        loop {
            if let Ok(CoreEvent::HealthChanged {
                service,
                stale: true,
                ..
            }) = events.recv().await
                && service == "whisper-service"
            {
                return;
            }
        }
    };
    tokio::time::timeout(support::PATIENCE, stale_event)
        .await
        .expect("a stale health event");
}

async fn discovery_creates_a_validated_config_and_publishes_it(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/#").await;
    let announcement = json!({
        "service_name": "piper-tts",
        "service_type": "tts",
        "version": "1.2.0",
        "endpoints": [{"type": "tts", "ip": "10.0.0.9", "port": 5002, "protocol": "http"}],
        "settings_schema": {
            "type": "object",
            "properties": {"speed": {"type": "number", "minimum": 0.5, "maximum": 2, "default": 1.0}},
            "additionalProperties": false
        }
    });
    client
        .publish_json("alicia/system/discovery/piper-tts", &announcement, false)
        .await;
    let published = client
        .expect_json("alicia/config/piper-tts", |_| true)
        .await;
    assert_eq!(published["enabled"], true);
    assert_eq!(published["version"], "1.2.0");
    assert_eq!(published["config"]["settings"], json!({"speed": 1.0}));
    assert_eq!(published["config"]["endpoints"][0]["port"], 5002);
    assert_eq!(
        core.config.history("piper-tts")[0].source,
        ChangeSource::Discovery
    );
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(on_disk["piper-tts"], published);

    let mut newer = announcement.clone();
    newer["version"] = json!("1.3.0");
    client
        .publish_json("alicia/system/discovery/piper-tts", &newer, false)
        .await;
    let probe = core.clone();
    wait_until("the new version is recorded", move || {
        probe
            .health
            .get("piper-tts")
            .and_then(|r| r.announcement)
            .is_some_and(|a| a.version == "1.3.0")
    })
    .await;
    assert_eq!(
        core.config.history("piper-tts").len(),
        1,
        "a known service's config is not rebuilt"
    );

    let mut too_fast = published.clone();
    too_fast["config"]["settings"]["speed"] = json!(9);
    client
        .publish_json("alicia/config/piper-tts/set", &too_fast, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/piper-tts/error", |_| true)
        .await;
    assert_eq!(refusal["details"][0]["path"], "/config/settings/speed");
    assert_eq!(core.config.history("piper-tts").len(), 1);

    let mut bad_type = announcement;
    bad_type["service_name"] = json!("broken");
    bad_type["service_type"] = json!("toaster");
    client
        .publish_json("alicia/system/discovery/broken", &bad_type, false)
        .await;
    let probe = core.clone();
    wait_until("the bad announcement is counted invalid", move || {
        probe.mqtt.stats().messages_invalid >= 1
    })
    .await;
    assert!(core.config.get("broken").is_none());
}

async fn set_requests_take_the_same_path_as_any_edit(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/#").await;

    let mut document = (*core.config.get("whisper-service").unwrap().document).clone();
    document["config"]["model"] = json!("whisper-large-v3");
    client
        .publish_json("alicia/config/whisper-service/set", &document, false)
        .await;
    let published = client
        .expect_json("alicia/config/whisper-service", |d| {
            d["config"]["model"] == "whisper-large-v3"
        })
        .await;
    let stored = core.config.get("whisper-service").unwrap();
    assert_eq!(*stored.document, published);
    assert_eq!(
        core.config.history("whisper-service")[0].source,
        ChangeSource::Mqtt
    );
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(
        on_disk["whisper-service"]["config"]["model"],
        "whisper-large-v3"
    );

    let mut invalid = document.clone();
    invalid["config"]["endpoints"][0]["port"] = json!(0);
    invalid["enabled"] = json!("sometimes");
    client
        .publish_json("alicia/config/whisper-service/set", &invalid, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    let paths: Vec<&str> = refusal["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["/config/endpoints/0/port", "/enabled"]);
    assert!(refusal["error"].as_str().unwrap().contains("invalid"));

    client
        .publish(
            "alicia/config/whisper-service/set",
            b"{not json".to_vec(),
            false,
        )
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{refusal}"
    );

    let mut renamed = document.clone();
    renamed["service_name"] = json!("someone-else");
    client
        .publish_json("alicia/config/whisper-service/set", &renamed, false)
        .await;
    let refusal = client
        .expect_json("alicia/config/whisper-service/error", |_| true)
        .await;
    assert_eq!(refusal["details"][0]["path"], "/service_name");

    assert_eq!(
        core.config.get("whisper-service").unwrap().revision,
        stored.revision,
        "refusals change nothing"
    );
    let others = client.drain_for(Duration::from_millis(500)).await;
    assert!(
        others
            .iter()
            .all(|p| p.topic != "alicia/config/whisper-service"),
        "no re-publication loop on the manager's own messages"
    );
    assert_eq!(core.config.history("whisper-service").len(), 2);
}

async fn acks_show_applied_pending_and_refused(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let client = TestClient::connect(broker.port).await;
    let state = |core: &alicia_config_manager::core::Core| {
        core.service_overview()
            .into_iter()
            .find(|r| r.service_name == "whisper-service")
            .unwrap()
    };
    assert_eq!(state(&core).config_state, ConfigState::Unknown);
    let current = core.config.get("whisper-service").unwrap().document["last_updated"].clone();
    client
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": current, "applied": true}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("the revision shows applied", move || {
        state(&probe).config_state == ConfigState::Applied
    })
    .await;

    let document = (*core.config.get("whisper-service").unwrap().document).clone();
    let committed = core
        .config
        .put(
            "whisper-service",
            document,
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .unwrap();
    assert_eq!(state(&core).config_state, ConfigState::Pending);
    let newest = committed.document.unwrap()["last_updated"].clone();
    client
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": newest, "applied": false, "error": "model whisper-1 is not downloaded"}),
            false,
        )
        .await;
    let probe = core.clone();
    wait_until("the revision shows refused", move || {
        state(&probe).config_state == ConfigState::Refused
    })
    .await;
    assert_eq!(
        state(&core).config_error.as_deref(),
        Some("model whisper-1 is not downloaded")
    );
}

async fn own_health_and_configs_are_retained(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    core.config
        .put(
            "ollama",
            llm_document("llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let mut late = TestClient::connect(broker.port).await;
    late.subscribe("alicia/system/health/config-manager").await;
    let health = late
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "healthy"
        })
        .await;
    assert_eq!(health["instance_id"], core.fleet.instance_id());
    assert_eq!(health["role"], "authority");
    assert!(health["timestamp"].is_string());
    late.subscribe("alicia/config/#").await;
    let ollama = late
        .expect("the retained ollama config", |p| {
            p.topic == "alicia/config/ollama" && p.retain
        })
        .await;
    let ollama: Value = serde_json::from_slice(&ollama.payload).unwrap();
    assert_eq!(
        ollama["config"]["api_key"], "sk-ollama-secret",
        "services need the real key"
    );
    assert_eq!(ollama["config"]["model"], "llama3");
}

async fn deleting_a_service_clears_its_retained_config(broker: TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/+").await;
    core.config
        .put(
            "ollama",
            llm_document("llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    client.expect_json("alicia/config/ollama", |_| true).await;
    core.config
        .delete("ollama", ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    client
        .expect("an empty retained payload", |p| {
            p.topic == "alicia/config/ollama" && p.payload.is_empty()
        })
        .await;
    let mut late = TestClient::connect(broker.port).await;
    late.subscribe("alicia/config/+").await;
    let retained = late.drain_for(Duration::from_millis(800)).await;
    assert!(
        retained.iter().all(|p| p.topic != "alicia/config/ollama"),
        "the broker no longer holds it"
    );
    assert!(
        retained
            .iter()
            .any(|p| p.topic == "alicia/config/whisper-service")
    );
}
