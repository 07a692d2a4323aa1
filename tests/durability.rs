//! Crash safety of the store: the real binary takes config changes over MQTT `/set` and over
//! REST `PUT /api/config/:service` at the same time while it is SIGKILLed at random moments,
//! again and again. After every kill `config.json` must parse and hold every change that was
//! acknowledged, and the history must hold it too. Acknowledged means: for MQTT, the manager
//! published the change's retained config (it does so only after the change is on disk); for
//! REST, a 2xx answer arrived.
//!
//! Change sets (CONTRACT §7) go in alongside, each changing the three `set-N` services to one
//! counter: after every kill `config.json` holds all of a set or none of it (the three share a
//! counter), and the store as the next start opens it holds every set whole in its history —
//! an interrupted one is gone from both files.
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

/// Member `index` of change set `counter` (each member on its own address).
fn set_member(index: u64, counter: u64) -> Value {
    support::llm(&format!("set-{index}"))
        .ip(&format!("10.9.0.{index}"))
        .settings(json!({"counter": counter, "padding": "x".repeat(2048)}))
        .build()
}

/// All or none: `config.json` holds one set's counter in every member, at least the last
/// acknowledged one; opened as the next start opens it, the store's history holds every set
/// whole, and its newest set is the one `config.json` holds.
fn check_change_sets(round: usize, stored: &Value, acked: u64, dir: &std::path::Path) {
    let counters: Vec<Option<u64>> = (0..SERVICES)
        .map(|i| counter_of(&stored[format!("set-{i}")]))
        .collect();
    assert!(
        counters.windows(2).all(|w| w[0] == w[1]),
        "round {round}: config.json holds part of a change set: {counters:?}"
    );
    let on_disk = counters[0].unwrap_or(0);
    assert!(
        on_disk >= acked,
        "round {round}: change set {acked} was acknowledged but config.json holds {on_disk}"
    );
    let copy = tempfile::tempdir().expect("a temp dir");
    for file in ["config.json", "history.jsonl"] {
        std::fs::copy(dir.join(file), copy.path().join(file)).expect("the store copied");
    }
    let (config, _writer, _) = alicia_config_manager::core::config::ConfigService::open(
        alicia_config_manager::core::config::ConfigPaths::in_dir(copy.path()),
        alicia_config_manager::core::events::EventBus::default(),
        1000,
    )
    .expect("the store opens after a kill");
    let mut sets: HashMap<String, Vec<u64>> = HashMap::new();
    for entry in config.all_history() {
        if let Some(id) = &entry.change_id {
            let counter = entry.document.as_deref().and_then(counter_of).unwrap_or(0);
            sets.entry(id.clone()).or_default().push(counter);
        }
    }
    for (id, members) in &sets {
        assert!(
            members.len() == SERVICES as usize && members.windows(2).all(|w| w[0] == w[1]),
            "round {round}: change set {id} is not whole in the history: {members:?}"
        );
    }
    let newest = sets.values().map(|m| m[0]).max().unwrap_or(0);
    assert_eq!(
        newest, on_disk,
        "round {round}: the history's newest change set is not the one config.json holds"
    );
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
    let set_acked: Arc<Mutex<u64>> = Arc::default();
    let mut set_counter = 0;
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

        // Change sets too, until the kill.
        let sets = {
            let http = http.clone();
            let acked = Arc::clone(&set_acked);
            let first = set_counter;
            tokio::spawn(async move {
                let mut counter = first;
                loop {
                    counter += 1;
                    let documents: Vec<Value> =
                        (0..SERVICES).map(|i| set_member(i, counter)).collect();
                    let answer = http
                        .post(format!("http://127.0.0.1:{api_port}/api/config/changes"))
                        .json(&json!({ "documents": documents }))
                        .send()
                        .await;
                    match answer {
                        Ok(answer) if answer.status().is_success() => {
                            let mut acked = acked.lock();
                            *acked = (*acked).max(counter);
                        }
                        Ok(answer) => panic!("a valid change set was refused: {}", answer.status()),
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
        set_counter = sets.await.expect("the change-set writer ran");
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
        check_change_sets(round, &stored, *set_acked.lock(), dir.path());
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
    assert!(*set_acked.lock() > 0, "some change sets were acknowledged");
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
