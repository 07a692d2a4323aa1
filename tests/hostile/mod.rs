//! Hostile inputs as proptest strategies: odd text, arbitrary and deeply nested JSON, wrong
//! types in the right shape, payloads, topics; and the runner (`PROPTEST_CASES` cases).

#![allow(
    dead_code,
    reason = "each hostile-input test file uses a part of the strategies"
)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// Strings people do not expect: empty, control characters, right-to-left marks, combining
/// marks, emoji, the BOM, NUL, and any Unicode at all.
pub fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just("\u{0}".to_owned()),
        Just("\u{feff}svc".to_owned()),
        Just("\u{202e}lanruoj".to_owned()),
        Just("e\u{301}\u{301}\u{301}".to_owned()),
        Just("🦀🔥💬".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("a".repeat(300)),
        prop::collection::vec(prop::char::range('a', 'z'), 1..12)
            .prop_map(|letters| letters.into_iter().collect()),
    ]
}

/// A topic segment: odd text without the separators and wildcards MQTT forbids in names.
pub fn segment() -> impl Strategy<Value = String> {
    odd_text().prop_map(|s| s.replace(['/', '+', '#'], "_"))
}

/// Any JSON value, a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        odd_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(odd_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A document of the right shape with one field replaced by anything at all.
pub fn wrong_typed_document() -> impl Strategy<Value = Value> {
    let fields = [
        "/service_name",
        "/service_type",
        "/enabled",
        "/version",
        "/status",
        "/config",
        "/config/api_key",
        "/config/model",
        "/config/endpoints",
        "/config/endpoints/0",
        "/config/endpoints/0/port",
        "/config/endpoints/0/ip",
        "/config/endpoints/0/protocol",
        "/config/settings",
    ];
    (prop::sample::select(fields.to_vec()), json_value()).prop_map(|(field, value)| {
        let mut document = valid_document("svc");
        if let Some(slot) = document.pointer_mut(field) {
            *slot = value;
        }
        document
    })
}

/// JSON nested `depth` levels deep, unclosed half the time.
pub fn deep_json() -> impl Strategy<Value = Vec<u8>> {
    (1usize..20_000, any::<bool>(), any::<bool>()).prop_map(|(depth, objects, closed)| {
        let (open, close) = if objects {
            ("{\"a\":", "}")
        } else {
            ("[", "]")
        };
        let mut text = open.repeat(depth);
        text.push('1');
        if closed {
            text.push_str(&close.repeat(depth));
        }
        text.into_bytes()
    })
}

/// A payload of any kind.
pub fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        wrong_typed_document().prop_map(|v| v.to_string().into_bytes()),
        deep_json(),
        (0usize..2_000_000).prop_map(|n| format!("\"{}\"", "x".repeat(n)).into_bytes()),
        manager_report().prop_map(|v| v.to_string().into_bytes()),
        Just(b"online".to_vec()),
        Just(b"offline".to_vec()),
        Just(Vec::new()),
    ]
}

/// A manager's presence report, well-formed or nearly: any status, id, role and `since`.
pub fn manager_report() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["healthy", "unhealthy", "unknown", "dead"]),
        odd_text(),
        prop::sample::select(vec!["authority", "follower", "", "king"]),
        prop_oneof![
            Just(json!("2026-01-01T00:00:00Z")),
            Just(json!("2099-12-31T23:59:59Z")),
            odd_text().prop_map(Value::String),
            Just(json!(42)),
        ],
    )
        .prop_map(|(status, id, role, since)| {
            json!({"status": status, "instance_id": id, "role": role, "details": {"since": since}})
        })
}

/// A topic of every kind the manager subscribes to, and some it does not know, with the
/// service or device name in it.
pub fn topic() -> impl Strategy<Value = (String, String)> {
    let kinds = [
        "alicia/system/health/{}",
        "alicia/system/health/config-manager",
        "alicia/system/health/config-manager/{}",
        "alicia/system/discovery/{}",
        "alicia/system/discovery/request",
        "alicia/config/{}",
        "alicia/config/{}/set",
        "alicia/config/{}/ack",
        "alicia/config/{}/error",
        "alicia/device/{}/state",
        "alicia/device/{}/availability",
        "alicia/device/{}/command",
        "alicia/device/{}/command/result",
        "alicia/{}",
        "{}",
    ];
    (prop::sample::select(kinds.to_vec()), segment())
        .prop_map(|(kind, name)| (kind.replace("{}", &name), name))
}

pub fn valid_document(service: &str) -> Value {
    crate::support::llm(service)
        .api_key("sk-stored")
        .model("llama3")
        .protocol("http")
        .settings(json!({"temperature": 0.5}))
        .build()
}

pub fn runner() -> TestRunner {
    // `Config::default()` reads PROPTEST_CASES; without it, 256 cases.
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    })
}
