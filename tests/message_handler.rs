//! The message handler without a broker: each topic of CONTRACT §2 changes exactly what it
//! should, asks for the right follow-up work, and bad input changes nothing.

mod support;

use alicia_config_manager::core::commands::CommandStatus;
use alicia_config_manager::core::config::MASK;
use alicia_config_manager::core::events::CoreEvent;
use alicia_config_manager::core::mqtt::handler::Action;
use alicia_config_manager::core::mqtt::owned::OwnedConfigs;
use alicia_config_manager::core::mqtt::payloads::{HealthStatus, SetBase};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::handler::HandlerFixture;

/// The handler and the parts it changes (a lone authority's).
fn fixture() -> HandlerFixture {
    HandlerFixture::new(Duration::from_secs(60), 100, 10)
}

#[test]
fn health_updates_the_registry_and_emits_a_health_event() {
    let mut f = fixture();
    let actions = f.handle(
        "alicia/system/health/stt",
        br#"{"status":"unhealthy"}"#,
        false,
    );
    assert!(actions.is_empty());
    assert_eq!(
        f.health.get("stt").unwrap().reported,
        Some(HealthStatus::Unhealthy)
    );
    let events = f.events();
    assert!(matches!(events[0], CoreEvent::Message(_)));
    assert!(
        matches!(&events[1], CoreEvent::HealthChanged { service, status: HealthStatus::Unhealthy, stale: false, .. } if service == "stt")
    );
    f.handle("alicia/system/health/stt", b"", true);
    assert_eq!(f.health.get("stt").unwrap().reported, None);
}

#[test]
fn a_new_service_asks_for_a_config_and_a_known_one_is_recorded() {
    let mut f = fixture();
    let announcement = json!({"service_name": "piper", "service_type": "tts", "version": "2.0.0"});
    let actions = f.handle(
        "alicia/system/discovery/piper",
        announcement.to_string().as_bytes(),
        false,
    );
    assert!(
        matches!(&actions[..], [Action::CreateFromAnnouncement(a)] if a.service_name == "piper")
    );
    let known = json!({
        "service_name": "whisper-service", "service_type": "stt", "version": "9.9.9",
        "settings_schema": {"type": "object"}
    });
    let actions = f.handle(
        "alicia/system/discovery/whisper-service",
        known.to_string().as_bytes(),
        false,
    );
    assert!(actions.is_empty());
    assert_eq!(
        f.health
            .get("whisper-service")
            .unwrap()
            .announcement
            .unwrap()
            .version,
        "9.9.9"
    );
    // Its settings schema goes to the config writer, which this fixture does not run: it is
    // stored and enforced in config_store_edits' and settings_schemas_persist's tests.
    assert!(
        f.events()
            .iter()
            .any(|e| matches!(e, CoreEvent::ServiceUpdated { .. }))
    );
    f.handle("alicia/system/discovery/whisper-service", b"", true);
    assert!(
        f.health
            .get("whisper-service")
            .unwrap()
            .announcement
            .is_none()
    );
    assert!(
        f.handle("alicia/system/discovery/request", b"{}", false)
            .is_empty()
    );
}

#[test]
fn set_requests_become_submissions_and_unreadable_ones_refusals() {
    let f = fixture();
    let doc = json!({"service_name": "llm", "config": {"api_key": "sk-1"}});
    let actions = f.handle("alicia/config/llm/set", doc.to_string().as_bytes(), false);
    let [Action::SubmitSet { service, request }] = &actions[..] else {
        panic!("{actions:?}")
    };
    assert_eq!(service, "llm");
    assert_eq!(request.document["config"]["api_key"], "sk-1");
    assert_eq!(request.base, SetBase::Unstated, "a bare document");
    let record = f.messages.recent(1, None).remove(0);
    assert_eq!(
        record.data()["config"]["api_key"],
        MASK,
        "the message log never holds a key"
    );
    assert!(!record.payload_text().contains("sk-1"));
    let actions = f.handle("alicia/config/llm/set", b"\xff\xfe", false);
    assert!(matches!(&actions[..], [Action::RefuseSet { service, .. }] if service == "llm"));
    // CONTRACT §6: a /set that does not parse is kept in the ring without its text.
    let broken = br#"{"service_name": "llm", "config": {"api_key": "sk-2"  "#;
    f.handle("alicia/config/llm/set", broken, false);
    let record = f.messages.recent(1, None).remove(0);
    assert!(!record.valid);
    assert!(
        !record.payload_text().contains("sk-2"),
        "{}",
        record.payload_text()
    );

    // CONTRACT §9: the envelope, its key masked in the log too.
    let envelope = json!({
        "document": doc,
        "base": "2026-01-01T00:00:00.000Z",
        "watch": 30,
        "actor": {"kind": "gui", "name": "ana@den", "instance_id": "follower-1"},
    });
    let actions = f.handle(
        "alicia/config/llm/set",
        envelope.to_string().as_bytes(),
        false,
    );
    let [Action::SubmitSet { request, .. }] = &actions[..] else {
        panic!("{actions:?}")
    };
    assert_eq!(request.document, doc);
    assert_eq!(
        request.base,
        SetBase::LastUpdated("2026-01-01T00:00:00.000Z".into())
    );
    let actor = request.actor.as_ref().unwrap();
    assert_eq!(actor.describe(), "claimed by ana@den on follower-1");
    let record = f.messages.recent(1, None).remove(0);
    assert_eq!(record.data()["document"]["config"]["api_key"], MASK);
    assert!(!record.payload_text().contains("sk-1"));
    for (bad, field) in [
        (json!({"document": doc}), "/base"),
        (json!({"document": doc, "base": 7}), "/base"),
        (json!({"document": "x", "base": null}), "/document"),
        (
            json!({"document": doc, "base": null, "watch": 601}),
            "/watch",
        ),
        (
            json!({"document": doc, "base": null, "actor": {"kind": "boss"}}),
            "/actor/kind",
        ),
        (json!({"document": doc, "base": null, "extra": 1}), "/extra"),
    ] {
        let actions = f.handle("alicia/config/llm/set", bad.to_string().as_bytes(), false);
        let [Action::RefuseSet { refusal, .. }] = &actions[..] else {
            panic!("{bad}: {actions:?}")
        };
        assert!(refusal.error.contains(field), "{bad}: {}", refusal.error);
    }
}

/// CONTRACT §6: only the authority writes `alicia/config/<service>`. Its own echoes and the
/// stored document itself are fine; anything else — retained or live, a changed document, a
/// config for a service it does not hold, an empty payload, garbage — is never stored and is
/// published back.
#[test]
fn configs_on_the_authoritys_topics_that_are_not_its_own_are_restored() {
    let owned = std::sync::Arc::new(OwnedConfigs::default());
    let mut f = fixture();
    f.handler = f.handler.with_owned(std::sync::Arc::clone(&owned));
    let restores = |actions: Vec<Action>| -> Vec<String> {
        actions
            .into_iter()
            .map(|a| match a {
                Action::RestoreConfig { service } => service,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    let stale = json!({"service_name": "gone"});
    for retained in [true, false] {
        let actions = f.handle("alicia/config/gone", stale.to_string().as_bytes(), retained);
        assert_eq!(restores(actions), ["gone"], "retained: {retained}");
    }
    let stored = f.config.get("whisper-service").unwrap().document;
    let stored_bytes = serde_json::to_vec(&*stored).unwrap();
    assert!(
        f.handle("alicia/config/whisper-service", &stored_bytes, true)
            .is_empty(),
        "the stored document itself"
    );
    let mut changed = (*stored).clone();
    changed["config"]["model"] = json!("someone-elses");
    let changed = serde_json::to_vec(&changed).unwrap();
    for payload in [&changed[..], &b""[..], &b"\x00garbage"[..]] {
        let actions = f.handle("alicia/config/whisper-service", payload, false);
        assert_eq!(restores(actions), ["whisper-service"]);
    }
    owned.publishing("whisper-service", &changed);
    assert!(
        f.handle("alicia/config/whisper-service", &changed, false)
            .is_empty(),
        "its own publication in flight"
    );
    assert_eq!(f.config.get("whisper-service").unwrap().document, stored);
    assert!(
        f.handle(
            "alicia/config/x/error",
            br#"{"error":"e","details":[]}"#,
            false
        )
        .is_empty()
    );
    assert!(
        f.handle(
            "alicia/device/d/command",
            br#"{"request_id":"r","command":"c"}"#,
            false
        )
        .is_empty()
    );
    assert!(f.devices.list().is_empty());
}

#[test]
fn acks_devices_and_results() {
    let mut f = fixture();
    f.handle(
        "alicia/config/stt/ack",
        br#"{"last_updated":"t","applied":true}"#,
        false,
    );
    assert!(f.health.get("stt").unwrap().ack.unwrap().applied);
    f.handle(
        "alicia/device/plug-2/state",
        br#"{"name":"Kettle","type":"switch","room":"kitchen","on":true}"#,
        true,
    );
    f.handle("alicia/device/plug-2/availability", b"offline", true);
    let plug = f.devices.get("plug-2").unwrap();
    assert_eq!(plug.room.as_deref(), Some("kitchen"));
    assert!(!plug.online);
    f.commands.sent("req-1", "plug-2", "toggle");
    f.events();
    f.handle(
        "alicia/device/plug-2/command/result",
        br#"{"request_id":"req-1","ok":false,"error":"relay stuck"}"#,
        false,
    );
    let events = f.events();
    assert!(events.iter().any(|e| matches!(e, CoreEvent::CommandFinished(record) if record.error.as_deref() == Some("relay stuck"))));
    let record = f.commands.get("req-1").unwrap();
    assert_eq!(
        record.status,
        CommandStatus::Failed,
        "the pending command was matched"
    );
}

#[test]
fn bad_input_is_counted_recorded_and_changes_nothing() {
    let f = fixture();
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("alicia/system/health/stt", vec![0, 159, 146, 150]),
        ("alicia/system/health/stt", vec![b'x'; 1024 * 1024]),
        ("alicia/device/d/state", deep.into_bytes()),
        ("alicia/device/d/state", b"[1,2,3]".to_vec()),
        ("alicia/device/d/availability", b"42".to_vec()),
        (
            "alicia/config/stt/ack",
            br#"{"last_updated": 5, "applied": true}"#.to_vec(),
        ),
        ("alicia/device/d/command/result", b"".to_vec()),
        ("alicia/nothing/here", b"{}".to_vec()),
    ];
    for (topic, payload) in &inputs {
        assert!(f.handle(topic, payload, false).is_empty(), "{topic}");
    }
    assert_eq!(
        f.counters.invalid.load(Ordering::Relaxed),
        inputs.len() as u64
    );
    assert_eq!(
        f.counters.received.load(Ordering::Relaxed),
        inputs.len() as u64
    );
    assert!(f.devices.list().is_empty());
    assert!(f.health.get("stt").is_none());
    let records = f.messages.recent(100, None);
    assert_eq!(records.len(), inputs.len());
    assert!(records.iter().all(|r| !r.valid && r.error.is_some()));
    assert!(records.iter().all(|r| r.payload_text().len() <= 4096));
}
