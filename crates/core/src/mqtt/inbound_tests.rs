//! Unit tests of the inbound rules: each topic kind parsed, refused with its reason, or masked.

use super::*;
use crate::config::MASK;
use crate::mqtt::payloads::HealthStatus;
use serde_json::json;

fn topics() -> Topics {
    Topics::default()
}

fn ok(topic: &str, payload: &[u8]) -> Inbound {
    let parsed = parse(&topics(), topic, payload);
    parsed.meaning.unwrap_or_else(|e| panic!("{topic}: {e}"))
}

fn err(topic: &str, payload: &[u8]) -> String {
    match parse(&topics(), topic, payload).meaning {
        Ok(meaning) => panic!(
            "{topic} {:?} accepted as {meaning:?}",
            String::from_utf8_lossy(payload)
        ),
        Err(error) => error,
    }
}

#[test]
fn health_reports() {
    let Inbound::Health { service, report } = ok(
        "alicia/system/health/whisper",
        br#"{"status":"healthy","timestamp":"2026-01-01T00:00:00Z","details":{"gpu":true}}"#,
    ) else {
        panic!()
    };
    let report = report.unwrap();
    assert_eq!(service, "whisper");
    assert_eq!(report.status, HealthStatus::Healthy);
    assert_eq!(report.details.unwrap()["gpu"], true);
    assert!(matches!(
        ok("alicia/system/health/whisper", b""),
        Inbound::Health { report: None, .. }
    ));
    assert!(err("alicia/system/health/whisper", br#"{"status":"great"}"#).contains("wrong shape"));
    assert!(
        err(
            "alicia/system/health/whisper",
            br#"{"status":"healthy","timestamp":"noon"}"#
        )
        .contains("/timestamp")
    );
    assert!(
        err(
            "alicia/system/health/whisper",
            br#"{"status":"healthy","details":[1]}"#
        )
        .contains("wrong shape")
    );
    assert!(err("alicia/system/health/whisper", b"[]").contains("object"));
    assert!(
        err("alicia/system/health/Bad-Name", br#"{"status":"healthy"}"#).contains("service name")
    );
}

#[test]
fn announcements() {
    let payload = json!({
        "service_name": "piper", "service_type": "tts", "version": "1.2.0",
        "endpoints": [{"type": "tts", "ip": "10.0.0.9", "port": 5002}],
        "settings_schema": {"type": "object", "properties": {"speed": {"type": "number"}}}
    });
    let Inbound::Discovery {
        announcement: Some(announcement),
        ..
    } = ok(
        "alicia/system/discovery/piper",
        payload.to_string().as_bytes(),
    )
    else {
        panic!()
    };
    assert_eq!(announcement.version, "1.2.0");
    assert!(announcement.settings_schema.is_some());
    let mut wrong_name = payload.clone();
    wrong_name["service_name"] = json!("other");
    assert!(
        err(
            "alicia/system/discovery/piper",
            wrong_name.to_string().as_bytes()
        )
        .contains("/service_name")
    );
    let mut wrong_type = payload.clone();
    wrong_type["service_type"] = json!("toaster");
    assert!(
        err(
            "alicia/system/discovery/piper",
            wrong_type.to_string().as_bytes()
        )
        .contains("/service_type")
    );
    // Too many patterns is told without compiling (CONTRACT §10); a schema that does not
    // compile is refused later, off the connection task.
    let mut many_patterns = payload.clone();
    let properties: serde_json::Map<String, Value> = (0..65)
        .map(|i| {
            (
                format!("p{i}"),
                json!({"type": "string", "pattern": "^a+$"}),
            )
        })
        .collect();
    many_patterns["settings_schema"] = json!({"properties": properties});
    let error = err(
        "alicia/system/discovery/piper",
        many_patterns.to_string().as_bytes(),
    );
    assert!(
        error.contains("/settings_schema") && error.contains("limit of 64"),
        "{error}"
    );
    let mut not_a_schema = payload.clone();
    not_a_schema["settings_schema"] = json!("a string");
    assert!(
        err(
            "alicia/system/discovery/piper",
            not_a_schema.to_string().as_bytes()
        )
        .contains("settings_schema")
    );
    let mut bad_port = payload;
    bad_port["endpoints"][0]["port"] = json!(70000);
    assert!(
        err(
            "alicia/system/discovery/piper",
            bad_port.to_string().as_bytes()
        )
        .contains("wrong shape")
    );
    assert!(matches!(
        ok("alicia/system/discovery/request", b"{}"),
        Inbound::DiscoveryRequest
    ));
    assert!(matches!(
        ok("alicia/system/discovery/piper", b""),
        Inbound::Discovery {
            announcement: None,
            ..
        }
    ));
}

#[test]
fn config_topics() {
    let doc = json!({"service_name": "llm", "config": {"api_key": "sk-secret"}});
    let parsed = parse(
        &topics(),
        "alicia/config/llm/set",
        doc.to_string().as_bytes(),
    );
    let Ok(Inbound::ConfigSet { service, request }) = parsed.meaning else {
        panic!()
    };
    let document = request.document;
    assert_eq!(service, "llm");
    assert_eq!(document["config"]["api_key"], "sk-secret");
    assert_eq!(
        parsed.data["config"]["api_key"], MASK,
        "the log never sees the key"
    );
    let retained = parse(&topics(), "alicia/config/llm", doc.to_string().as_bytes());
    assert_eq!(retained.data["config"]["api_key"], MASK);
    assert!(matches!(
        ok("alicia/config/llm", b""),
        Inbound::Config { document: None, .. }
    ));
    assert!(err("alicia/config/llm", b"42").contains("object"));
    assert!(err("alicia/config/llm/set", b"").contains("empty"));
    assert!(err("alicia/config/llm/set", b"{nope").contains("not valid JSON"));
    let Inbound::ConfigAck { ack, .. } = ok(
        "alicia/config/llm/ack",
        br#"{"last_updated":"t","applied":false,"error":"no such voice"}"#,
    ) else {
        panic!()
    };
    assert_eq!(ack.error.as_deref(), Some("no such voice"));
    assert!(
        err(
            "alicia/config/llm/ack",
            br#"{"last_updated":"t","applied":"yes"}"#
        )
        .contains("wrong shape")
    );
    assert!(err("alicia/config/llm/ack", br#"{"applied":true}"#).contains("last_updated"));
    assert!(matches!(
        ok("alicia/config/llm/error", br#"{"error":"x","details":[]}"#),
        Inbound::ConfigError { .. }
    ));
}

#[test]
fn device_topics() {
    let Inbound::DeviceState { id, state } = ok("alicia/device/lamp:1/state", br#"{"on":true}"#)
    else {
        panic!()
    };
    assert_eq!(id, "lamp:1");
    assert_eq!(state.unwrap()["on"], true);
    assert!(err("alicia/device/lamp/state", b"true").contains("object"));
    assert!(matches!(
        ok("alicia/device/lamp/state", b""),
        Inbound::DeviceState { state: None, .. }
    ));
    for (payload, online) in [
        (&b"online"[..], Some(true)),
        (b"offline", Some(false)),
        (b"\"online\"", Some(true)),
        (b"", None),
    ] {
        let Inbound::DeviceAvailability { online: got, .. } =
            ok("alicia/device/lamp/availability", payload)
        else {
            panic!()
        };
        assert_eq!(got, online);
    }
    assert!(err("alicia/device/lamp/availability", b"maybe").contains("online"));
    assert!(err("alicia/device/lamp/availability", &[0xff, 0xfe]).contains("text"));
    assert!(matches!(
        ok(
            "alicia/device/lamp/command",
            br#"{"request_id":"r","command":"on"}"#
        ),
        Inbound::DeviceCommand { .. }
    ));
    let Inbound::CommandResult { result, .. } = ok(
        "alicia/device/lamp/command/result",
        br#"{"request_id":"r1","ok":false,"error":"jammed"}"#,
    ) else {
        panic!()
    };
    assert!(!result.ok);
    assert!(err("alicia/device/lamp/command/result", br#"{"ok":true}"#).contains("request_id"));
    assert!(err("alicia/device/bad id/state", b"{}").contains("device id"));
    assert!(err(&format!("alicia/device/{}/state", "x".repeat(129)), b"{}").contains("device id"));
}

#[test]
fn garbage_is_refused_without_panicking() {
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let huge = vec![b'x'; 1024 * 1024];
    let huge_json = format!(
        "{{\"status\":\"healthy\",\"details\":{{\"blob\":\"{}\"}}}}",
        "y".repeat(1024 * 1024)
    );
    let payloads: Vec<&[u8]> = vec![
        deep_array.as_bytes(),
        deep_object.as_bytes(),
        &binary,
        &huge,
        b"\x00\x01\x02",
        b"null",
        b"\"just a string\"",
        b"1e400",
        b"{\"status\": 1}",
        b"{\"service_name\": [], \"service_type\": {}, \"version\": null}",
    ];
    let all_topics = [
        "alicia/system/health/svc",
        "alicia/system/discovery/svc",
        "alicia/config/svc",
        "alicia/config/svc/set",
        "alicia/config/svc/ack",
        "alicia/device/d/state",
        "alicia/device/d/availability",
        "alicia/device/d/command/result",
    ];
    for topic in all_topics {
        for payload in &payloads {
            let parsed = parse(&topics(), topic, payload);
            let is_object = serde_json::from_slice::<Value>(payload).is_ok_and(|v| v.is_object());
            if topic.ends_with("/set")
                || (is_object && (topic == "alicia/config/svc" || topic.ends_with("/state")))
            {
                continue; // any object is a document or a state; documents are validated later
            }
            assert!(
                parsed.meaning.is_err(),
                "{topic} accepted {:?}",
                String::from_utf8_lossy(&payload[..payload.len().min(40)])
            );
        }
    }
    assert!(
        parse(&topics(), "alicia/system/health/svc", huge_json.as_bytes())
            .meaning
            .is_ok()
    );
    assert!(err("alicia/unknown/topic", b"{}").contains("not a topic"));
    assert!(err("elsewhere/x", b"{}").contains("not a topic"));
}
