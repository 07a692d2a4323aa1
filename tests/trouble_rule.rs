//! Which service is in trouble (CONTRACT §10), one rule for every face, against the real core
//! on a real broker: an enabled service that reports unhealthy is in trouble in the REST
//! overview, with the reason its report gives; the same report from a switched-off service is
//! no trouble, and Home Assistant's problem sensor says so too.

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use serde_json::{Value, json};
use support::{TestBroker, TestClient, llm, start_core, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_service_is_in_trouble_only_while_enabled_and_says_why() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| s.ha_discovery = true).await;
    let mut bus = TestClient::connect(broker.port).await;
    bus.subscribe("alicia/ha/+/problem").await;
    for (service, ip, enabled) in [("on-llm", "10.0.0.1", true), ("off-llm", "10.0.0.2", false)] {
        let mut document: Value = llm(service).ip(ip).build();
        document["enabled"] = json!(enabled);
        core.config
            .put(service, document, ChangeSource::Rest, Precondition::None)
            .await
            .unwrap();
        bus.publish_json(
            &format!("alicia/system/health/{service}"),
            &json!({"status": "unhealthy", "details": {"reason": "model server not responding", "error": "ECONNREFUSED"}}),
            false,
        )
        .await;
    }
    let probe = core.clone();
    wait_until("both reports arrived", move || {
        let (rows, _) = probe.overview_and_checks();
        rows.iter()
            .filter(|r| r.status.as_str() == "unhealthy")
            .count()
            == 2
    })
    .await;
    let (rows, _) = core.overview_and_checks();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.service_name == name)
            .unwrap()
            .clone()
    };
    let on = row("on-llm");
    assert!(on.in_trouble);
    assert_eq!(on.reason.as_deref(), Some("model server not responding"));
    let off = row("off-llm");
    assert!(
        !off.in_trouble,
        "a switched-off service is never in trouble"
    );
    let overview = serde_json::to_value(&on).unwrap();
    assert_eq!(overview["in_trouble"], true);
    assert_eq!(overview["reason"], "model server not responding");
    let mut states = std::collections::BTreeMap::new();
    let wanted = [
        ("alicia/ha/on-llm/problem".to_owned(), b"ON".to_vec()),
        ("alicia/ha/off-llm/problem".to_owned(), b"OFF".to_vec()),
    ];
    while !wanted
        .iter()
        .all(|(topic, state)| states.get(topic) == Some(state))
    {
        let sent = bus
            .expect("Home Assistant's problem states", |p| {
                p.topic.ends_with("/problem")
            })
            .await;
        states.insert(sent.topic.clone(), sent.payload.to_vec());
    }
    runtime.shutdown(&core).await;
}
