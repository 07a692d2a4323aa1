//! Secrets wherever a settings schema puts them (CONTRACT §10), through every face of the real
//! binary: a service announces a schema whose secrets sit behind `$ref`, in array items, as a
//! map's values (`additionalProperties`) and in an `allOf` branch; its document, stored over
//! REST and sent again over MQTT `/set`, never shows them in a REST answer, a socket.io event,
//! the message log or a backup without secrets — while the store keeps every one, and a
//! masked document sent back keeps them.

mod support;

use serde_json::{Value, json};
use support::headless::Headless;
use support::sio::SioClient;
use support::{TestBroker, TestClient, run_command, wait_for};

const MARK: &str = "leak-";

fn settings_schema() -> Value {
    json!({
        "type": "object",
        "$defs": {"Token": {"type": "string", "writeOnly": true}},
        "properties": {
            "by_ref": {"$ref": "#/$defs/Token"},
            "accounts": {"type": "array", "items": {"type": "object", "properties": {
                "user": {"type": "string"},
                "password": {"type": "string", "format": "password"},
            }}},
            "tokens": {"type": "object", "additionalProperties": {"type": "string", "writeOnly": true}},
            "combined": {"allOf": [
                {"type": "object"},
                {"properties": {"key": {"type": "string", "writeOnly": true}}},
            ]},
            "label": {"type": "string"},
        },
    })
}

fn settings(n: u32) -> Value {
    json!({
        "by_ref": format!("{MARK}ref-{n}"),
        "accounts": [
            {"user": "ann", "password": format!("{MARK}ann-{n}")},
            {"user": "bob", "password": format!("{MARK}bob-{n}")},
        ],
        "tokens": {"hue": format!("{MARK}hue-{n}"), "sonos": format!("{MARK}sonos-{n}")},
        "combined": {"key": format!("{MARK}combined-{n}")},
        "label": "shown",
    })
}

fn assert_masked(what: &str, text: &str) {
    assert!(!text.contains(MARK), "{what} shows a secret: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_secrets_never_leave_through_any_face() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let base = manager.base.clone();
    let bus = TestClient::connect(broker.port).await;
    bus.publish_json(
        "alicia/system/discovery/vault",
        &json!({"service_name": "vault", "service_type": "llm", "version": "1.0.0",
                "settings_schema": settings_schema()}),
        false,
    )
    .await;
    wait_for("the announced schema to be enforced", async || {
        let answer = http
            .get(format!("{base}/api/config/vault/schema"))
            .send()
            .await
            .unwrap();
        answer.status() == 200 && answer.json::<Value>().await.unwrap()["enforced"].is_object()
    })
    .await;
    let mut live = SioClient::spawn(&base, &[]);
    live.expect("connect", |_| true).await;

    // Stored over REST.
    let mut document = support::llm("vault").api_key(&format!("{MARK}api")).build();
    document["config"]["settings"] = settings(1);
    let put = http
        .put(format!("{base}/api/config/vault"))
        .json(&document)
        .send()
        .await
        .unwrap();
    let status = put.status();
    let answer = put.text().await.unwrap();
    assert!(status.is_success(), "{status} {answer}");
    assert_masked("the PUT's answer", &answer);
    let event = live
        .expect("config:update", |line| line.to_string().contains("shown"))
        .await;
    assert_masked("socket.io's config:update", &event.to_string());
    for path in [
        "/api/config/vault",
        "/api/config",
        "/api/config/vault/history",
    ] {
        let text = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_masked(path, &text);
        assert!(text.contains("shown"), "{path} shows the document: {text}");
    }

    // A masked copy sent back keeps every secret; a mask that moved is refused.
    let shown: Value = http
        .get(format!("{base}/api/config/vault"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut back = shown.clone();
    back["config"]["settings"]["label"] = json!("still shown");
    let kept = http
        .put(format!("{base}/api/config/vault"))
        .json(&back)
        .send()
        .await
        .unwrap();
    assert!(kept.status().is_success(), "{}", kept.text().await.unwrap());
    let stored = &manager.stored_configs()["vault"]["config"]["settings"];
    assert_eq!(stored["accounts"][1]["password"], format!("{MARK}bob-1"));
    assert_eq!(stored["tokens"]["sonos"], format!("{MARK}sonos-1"));
    let mut moved = shown.clone();
    moved["config"]["settings"]["accounts"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    let refused = http
        .put(format!("{base}/api/config/vault"))
        .json(&moved)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["details"][0]["path"],
        "/config/settings/accounts/0/password"
    );
    assert_eq!(body["details"][0]["message"], "enter this secret again");

    // Sent again over MQTT /set: the message log masks it, and the config it publishes.
    let mut over_mqtt = document.clone();
    over_mqtt["config"]["settings"] = settings(2);
    bus.publish_json("alicia/config/vault/set", &over_mqtt, false)
        .await;
    wait_for("the /set to be stored", async || {
        manager.stored_configs()["vault"]["config"]["settings"]["by_ref"] == format!("{MARK}ref-2")
    })
    .await;
    let messages = http
        .get(format!(
            "{base}/api/system/messages?limit=100&topic=alicia/config/%23"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(messages.contains("alicia/config/vault/set"), "{messages}");
    assert_masked("the message log", &messages);
    let events = live.drain();
    assert_masked(
        "socket.io's events",
        &serde_json::to_string(&events).unwrap(),
    );

    // A backup without secrets holds none; with them, every one.
    drop(live);
    let dir = manager.kill();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("backup.json");
    let made = run_command(&["backup", file.to_str().unwrap()], dir.path());
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert_masked(
        "a backup without secrets",
        &std::fs::read_to_string(&file).unwrap(),
    );
    let made = run_command(
        &["backup", file.to_str().unwrap(), "--include-secrets"],
        dir.path(),
    );
    assert!(made.status.success());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(&format!("{MARK}sonos-2"))
    );
}
