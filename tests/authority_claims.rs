//! Trust on the bus (CONTRACT §6), tried against the real binary on a real broker — Mosquitto
//! when it is installed (always in CI), else the embedded one — the way a hostile or careless
//! client would: authority claims from the future, from the past, or never renewed take
//! nothing over for good; configs someone else writes on the manager's own topics are never
//! stored and are published back within 5 s; a follower mirrors only valid configs.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::clock::{format_rfc3339, now_rfc3339};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::{PATIENCE, TestBroker, TestClient};

const PRESENCE: &str = "alicia/system/health/config-manager";

fn broker() -> TestBroker {
    TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded)
}

/// An authority claim from instance `intruder`, made `since` and reported at `timestamp`.
fn claim(timestamp: &str, since: &str) -> Value {
    json!({
        "status": "healthy",
        "timestamp": timestamp,
        "instance_id": "intruder",
        "role": "authority",
        "details": {"since": since},
    })
}

fn seconds_from_now(seconds: i64) -> String {
    format_rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

async fn role(manager: &Headless, http: &reqwest::Client) -> String {
    manager.get(http, "/api/system").await["role"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until the manager's role is `wanted` (within `patience`).
async fn wait_for_role(
    manager: &Headless,
    http: &reqwest::Client,
    wanted: &str,
    patience: Duration,
) {
    let deadline = Instant::now() + patience;
    loop {
        let now = role(manager, http).await;
        if now == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the manager is still {now}, not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads what the broker retains on `topic` now, through a fresh subscription: `None` when
/// nothing is retained.
async fn retained(port: u16, topic: &str) -> Option<Vec<u8>> {
    let mut client = TestClient::connect(port).await;
    client.subscribe(topic).await;
    let seen = client.drain_for(Duration::from_millis(700)).await;
    seen.iter()
        .rfind(|p| p.topic == topic && p.retain)
        .map(|p| p.payload.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_from_the_future_or_the_past_take_nothing_over() {
    let broker = broker();
    let http = reqwest::Client::new();
    let authority = Headless::start(Some(broker.port), &[], &http).await;
    assert_eq!(role(&authority, &http).await, "authority");
    let before = authority.stored_configs();
    let own_id = authority.get(&http, "/api/system").await["instance_id"].clone();

    let client = TestClient::connect(broker.port).await;
    for fake in [
        claim(&now_rfc3339(), "2099-01-01T00:00:00.000Z"),
        claim(&seconds_from_now(-600), &seconds_from_now(-600)),
        claim(&seconds_from_now(600), &seconds_from_now(-10)),
    ] {
        client.publish_json(PRESENCE, &fake, true).await;
        // The authority overwrites the retained fake with its own presence…
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = retained(broker.port, PRESENCE).await.unwrap_or_default();
            let report: Value = serde_json::from_slice(&now).unwrap_or(Value::Null);
            if report["instance_id"] == own_id {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the fake claim {fake} stays retained"
            );
        }
        // …and never steps down for it.
        assert_eq!(role(&authority, &http).await, "authority", "{fake}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(role(&authority, &http).await, "authority");

    // Killed (its Will lands on the topic), a fake claim retained, then restarted with
    // --role authority: it is still the authority.
    let dir = authority.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    client
        .publish_json(
            PRESENCE,
            &claim(&now_rfc3339(), "2099-01-01T00:00:00.000Z"),
            true,
        )
        .await;
    let restarted = Headless::start_in(
        dir,
        Some(broker.port),
        &["--role", "authority"],
        &http,
        |_| {},
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(role(&restarted, &http).await, "authority");
    assert_eq!(restarted.stored_configs(), before, "nothing was lost");
}

/// The one slow test here: a claim must age for 90 s (CONTRACT §6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_never_renewed_ages_and_the_authority_takes_its_role_back() {
    let broker = broker();
    let http = reqwest::Client::new();
    let authority = Headless::start(Some(broker.port), &[], &http).await;
    let before = authority.stored_configs();

    let client = TestClient::connect(broker.port).await;
    client
        .publish_json(
            PRESENCE,
            &claim(&now_rfc3339(), &seconds_from_now(30)),
            true,
        )
        .await;
    wait_for_role(&authority, &http, "follower", PATIENCE).await;

    // While it follows the intruder, what arrives on the config topics must be valid to be
    // mirrored.
    let mut broken = before["whisper-service"].clone();
    broken["config"]["endpoints"][0]["port"] = json!(70_000);
    client
        .publish_json("alicia/config/whisper-service", &broken, true)
        .await;
    client
        .publish_json(
            "alicia/config/new-one",
            &json!({"service_name": "new-one"}),
            true,
        )
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        authority.stored_configs(),
        before,
        "invalid configs are never mirrored"
    );

    // The intruder never renews its claim: 90 s after it arrived, the role comes back.
    wait_for_role(
        &authority,
        &http,
        "authority",
        Duration::from_secs(90) + PATIENCE,
    )
    .await;
    let own_id = authority.get(&http, "/api/system").await["instance_id"].clone();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = retained(broker.port, PRESENCE).await.unwrap_or_default();
        let report: Value = serde_json::from_slice(&now).unwrap_or(Value::Null);
        if report["instance_id"] == own_id && report["role"] == "authority" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the authority's presence is not back on the topic"
        );
    }
    assert_eq!(authority.stored_configs(), before, "nothing was lost");
    // As the authority again, it restores what the intruder wrote on its topics.
    let deadline = Instant::now() + PATIENCE;
    while retained(broker.port, "alicia/config/new-one")
        .await
        .is_some()
    {
        assert!(Instant::now() < deadline, "a foreign config stays retained");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_written_by_anyone_else_are_published_back_within_5_s() {
    let broker = broker();
    let http = reqwest::Client::new();
    let authority = Headless::start(Some(broker.port), &[], &http).await;
    let stored = authority.stored_configs()["whisper-service"].clone();
    let topic = "alicia/config/whisper-service";
    let deadline = Instant::now() + PATIENCE;
    while retained(broker.port, topic).await.is_none() {
        assert!(Instant::now() < deadline, "the authority never published");
    }

    let client = TestClient::connect(broker.port).await;
    let mut hijacked = stored.clone();
    hijacked["config"]["model"] = json!("attacker-model");
    for (what, payload) in [
        ("a changed document", serde_json::to_vec(&hijacked).unwrap()),
        ("an empty payload", Vec::new()),
        ("not even JSON", b"\x00garbage".to_vec()),
    ] {
        client.publish(topic, payload, true).await;
        let written = Instant::now();
        loop {
            let now = retained(broker.port, topic).await;
            let document: Value = now
                .as_deref()
                .and_then(|bytes| serde_json::from_slice(bytes).ok())
                .unwrap_or(Value::Null);
            if document == stored {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5) + Duration::from_secs(2),
                "{what}: the stored document was not published back within 5 s"
            );
        }
    }
    client
        .publish_json(
            "alicia/config/ghost",
            &json!({"service_name": "ghost"}),
            true,
        )
        .await;
    let written = Instant::now();
    while retained(broker.port, "alicia/config/ghost").await.is_some() {
        assert!(
            written.elapsed() < Duration::from_secs(7),
            "a config for a service the authority does not hold stays retained"
        );
    }
    assert_eq!(
        authority.stored_configs()["whisper-service"],
        stored,
        "a foreign write is never stored"
    );
    assert!(authority.stored_configs().get("ghost").is_none());
    let history = authority
        .get(&http, "/api/config/whisper-service/history")
        .await;
    assert_eq!(
        history.as_array().unwrap().len(),
        1,
        "no revision was added"
    );
}
