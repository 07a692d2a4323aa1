//! Crash safety of the store: the real binary takes config changes over MQTT `/set` while it
//! is SIGKILLed at random moments, again and again. After every kill `config.json` must parse
//! and hold every change that was acknowledged (the manager publishes a change's retained
//! config only after it is on disk, so a publication is the acknowledgement), and the history
//! must hold it too.
//!
//! Rounds: `ALICIA_DURABILITY_ROUNDS` (default 30).

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{TestBroker, TestClient};

const SERVICES: u64 = 3;

fn document(service: &str, counter: u64) -> Value {
    json!({
        "service_name": service,
        "service_type": "llm",
        "enabled": true,
        "version": "1.0.0",
        "config": {
            "api_key": "sk-durable",
            "endpoints": [{"type": "llm", "ip": "127.0.0.1", "port": 11434}],
            "settings": {"counter": counter, "padding": "x".repeat(2048)}
        }
    })
}

fn counter_of(document: &Value) -> Option<u64> {
    document["config"]["settings"]["counter"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_at_any_moment() {
    let rounds: usize = std::env::var("ALICIA_DURABILITY_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut client = TestClient::connect(broker.port).await;
    client.subscribe("alicia/config/+").await;
    client
        .subscribe("alicia/system/health/config-manager")
        .await;
    let mut acknowledged: HashMap<String, u64> = HashMap::new();
    let mut counter = 0;
    let mut previous_instance = Value::Null;
    let mut total_acks = 0;

    for round in 0..rounds {
        let mut child = Command::new(support::app_binary())
            .arg("--headless")
            .env("CONFIG_PATH", dir.path())
            .env("PORT", support::free_port().to_string())
            .env("MQTT_BROKER", "127.0.0.1")
            .env("MQTT_PORT", broker.port.to_string())
            .env("LOG_LEVEL", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let alive = client
            .expect_json("alicia/system/health/config-manager", |h| {
                h["status"] == "healthy" && h["instance_id"] != previous_instance
            })
            .await;
        previous_instance = alive["instance_id"].clone();

        let kill_at = tokio::time::Instant::now() + Duration::from_millis(fastrand::u64(50..500));
        while tokio::time::Instant::now() < kill_at {
            let service = format!("svc-{}", counter % SERVICES);
            counter += 1;
            client
                .publish_json(
                    &format!("alicia/config/{service}/set"),
                    &document(&service, counter),
                    false,
                )
                .await;
            for publish in client.drain_for(Duration::from_millis(2)).await {
                total_acks += record_ack(&mut acknowledged, &publish);
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        for publish in client.drain_for(Duration::from_millis(300)).await {
            total_acks += record_ack(&mut acknowledged, &publish);
        }

        let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
        let stored: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("round {round}: config.json does not parse after SIGKILL: {e}")
        });
        let history = std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap();
        let lines: Vec<&str> = history.lines().collect();
        let complete = if history.ends_with('\n') {
            lines.len()
        } else {
            lines.len().saturating_sub(1)
        };
        let history: Vec<Value> = lines[..complete]
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("round {round}: a complete history line is torn: {e}")
                })
            })
            .collect();
        for (service, acked) in &acknowledged {
            let on_disk = counter_of(&stored[service]).unwrap_or(0);
            assert!(
                on_disk >= *acked,
                "round {round}: {service} acknowledged {acked} but the file holds {on_disk}"
            );
            assert!(
                history.iter().any(|e| e["service"] == service.as_str()
                    && e["document"].pointer("/config/settings/counter") == Some(&json!(acked))),
                "round {round}: {service} change {acked} is missing from the history"
            );
        }
    }
    assert!(
        total_acks > rounds,
        "the test acknowledged too few changes ({total_acks}) to mean anything"
    );
    eprintln!(
        "{rounds} SIGKILL rounds, {counter} changes sent, {total_acks} acknowledged, none lost"
    );
}

fn record_ack(acknowledged: &mut HashMap<String, u64>, publish: &rumqttc::Publish) -> usize {
    let Some(service) = publish.topic.strip_prefix("alicia/config/") else {
        return 0;
    };
    let Ok(document) = serde_json::from_slice::<Value>(&publish.payload) else {
        return 0;
    };
    let Some(counter) = counter_of(&document) else {
        return 0;
    };
    let entry = acknowledged.entry(service.to_owned()).or_default();
    *entry = (*entry).max(counter);
    1
}
