//! Crash safety of the store: the real binary takes config changes over MQTT `/set` and over
//! REST `PUT /api/config/:service` at the same time while it is SIGKILLed at random moments,
//! again and again. After every kill `config.json` must parse and hold every change that was
//! acknowledged, and the history must hold it too. Acknowledged means: for MQTT, the manager
//! published the change's retained config (it does so only after the change is on disk); for
//! REST, a 2xx answer arrived.
//!
//! Rounds: `ALICIA_DURABILITY_ROUNDS` (default 30).

mod support;

use parking_lot::Mutex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::{TestBroker, TestClient};

/// Services changed over MQTT (`svc-N`) and, separately, over REST (`rest-N`): each path has
/// its own, so a service's counter only grows and "on disk ≥ acknowledged" is exact.
const SERVICES: u64 = 3;

fn document(service: &str, counter: u64) -> Value {
    support::llm(service)
        .api_key("sk-durable")
        .settings(json!({"counter": counter, "padding": "x".repeat(2048)}))
        .build()
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
    let mut previous_start = Value::Null;
    let mut total_acks = 0;

    let rest_acks: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let mut rest_counter = 0;
    let mut rest_sent = 0;
    let http = reqwest::Client::new();

    for round in 0..rounds {
        let api_port = support::free_port();
        let mut child = support::headless_command(dir.path(), api_port, Some(broker.port))
            .env("LOG_LEVEL", "error")
            .spawn()
            .unwrap();
        let alive = client
            .expect_json("alicia/system/health/config-manager", |h| {
                h["status"] == "healthy" && h["details"]["since"] != previous_start
            })
            .await;
        previous_start = alive["details"]["since"].clone();
        support::wait_for_rest(&http, &format!("http://127.0.0.1:{api_port}")).await;

        // REST writers run alongside the MQTT loop until the kill cuts them off.
        let writer = {
            let http = http.clone();
            let acks = Arc::clone(&rest_acks);
            let first = rest_counter;
            tokio::spawn(async move {
                let mut counter = first;
                loop {
                    counter += 1;
                    let service = format!("rest-{}", counter % SERVICES);
                    let answer = http
                        .put(format!("http://127.0.0.1:{api_port}/api/config/{service}"))
                        .json(&document(&service, counter))
                        .send()
                        .await;
                    match answer {
                        Ok(answer) if answer.status().is_success() => {
                            let mut acks = acks.lock();
                            let entry = acks.entry(service).or_default();
                            *entry = (*entry).max(counter);
                        }
                        Ok(answer) => panic!("a valid PUT was refused: {}", answer.status()),
                        // The kill: the answer never came, so the change was not acknowledged.
                        Err(_) => return counter,
                    }
                }
            })
        };

        let kill_at =
            tokio::time::Instant::now() + Duration::from_millis(fastrand::Rng::new().u64(50..500));
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
        let last = writer.await.expect("the REST writer ran");
        rest_sent += last - rest_counter;
        rest_counter = last;
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
        let rest_acked = rest_acks.lock().clone();
        for (service, acked) in acknowledged.iter().chain(&rest_acked) {
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
        "the test acknowledged too few MQTT changes ({total_acks}) to mean anything"
    );
    assert!(
        rest_acks.lock().len() == SERVICES as usize,
        "every REST service had acknowledged changes"
    );
    eprintln!(
        "{rounds} SIGKILL rounds: MQTT {counter} changes sent, {total_acks} acknowledged; REST {rest_sent} sent; none lost"
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
