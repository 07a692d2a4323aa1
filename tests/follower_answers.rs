//! Answers never lie (CONTRACT §10), across managers on one real broker: two followers
//! editing one service from one base at once are each told exactly what the authority did
//! with their change (50 rounds); a follower whose authority never answers says 504 "outcome
//! unknown" with its request id; answers not from the current authority — a spoofed `/set`
//! result, a spoofed change-set result — are ignored; what the bus claims of who made a change
//! is recorded as claimed; request ids of any other shape than 32 hex digits are refused.

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::config::{ChangeSource, ConfigError, Precondition};
use alicia_config_manager::core::fleet::{Role, RoleSetting};
use alicia_config_manager::core::{Core, CoreRuntime};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::api::Call;
use support::{TestBroker, TestClient, llm_document, wait_until};

fn broker() -> TestBroker {
    TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded)
}

async fn manager(dir: &Path, port: u16, role: RoleSetting) -> (Core, CoreRuntime) {
    support::start_synced_manager(dir, port, role, |_| {}).await
}

fn model_of(core: &Core, service: &str) -> Option<String> {
    core.config
        .get(service)
        .and_then(|s| s.document["config"]["model"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_from_one_base_are_each_told_what_happened_to_their_change() {
    let broker = broker();
    let dirs = [(); 3].map(|()| tempfile::tempdir().unwrap());
    let (authority, authority_rt) = manager(dirs[0].path(), broker.port, RoleSetting::Auto).await;
    let (one, one_rt) = manager(dirs[1].path(), broker.port, RoleSetting::Auto).await;
    let (two, two_rt) = manager(dirs[2].path(), broker.port, RoleSetting::Auto).await;
    assert_eq!(one.fleet.role(), Role::Follower);
    assert_eq!(two.fleet.role(), Role::Follower);
    authority
        .config
        .put(
            "llm",
            llm_document("llm", "start"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let (mut stored_by_one, mut stored_by_two) = (0, 0);
    for round in 0..50 {
        let expected = model_of(&authority, "llm");
        for follower in [&one, &two] {
            let (f, want) = (follower.clone(), expected.clone());
            wait_until("the follower mirrors the authority", move || {
                model_of(&f, "llm") == want
            })
            .await;
        }
        let edit = |core: &Core, who: &str| {
            let stored = core.config.get("llm").unwrap();
            let mut document = llm_document("llm", &format!("{who}-{round}"));
            document["last_updated"] = stored.document["last_updated"].clone();
            let config = core.config.clone();
            async move {
                config
                    .put(
                        "llm",
                        document,
                        ChangeSource::Rest,
                        Precondition::Revision(stored.revision),
                    )
                    .await
            }
        };
        let (answer_one, answer_two) = tokio::join!(edit(&one, "one"), edit(&two, "two"));
        let stored = model_of(&authority, "llm").unwrap();
        for (who, answer) in [("one", &answer_one), ("two", &answer_two)] {
            let mine = stored == format!("{who}-{round}");
            match answer {
                Ok(_) => assert!(
                    mine,
                    "round {round}: {who} was told stored, the authority holds {stored}"
                ),
                Err(ConfigError::Conflict { .. }) => {
                    assert!(
                        !mine,
                        "round {round}: {who} was told 412, but its change was stored"
                    )
                }
                Err(other) => panic!("round {round}: {who}: {other}"),
            }
        }
        assert!(
            answer_one.is_ok() != answer_two.is_ok(),
            "round {round}: exactly one is stored ({answer_one:?}, {answer_two:?})"
        );
        if answer_one.is_ok() {
            stored_by_one += 1;
        } else {
            stored_by_two += 1;
        }
    }
    eprintln!(
        "50 rounds: follower one's change stored {stored_by_one} times, two's {stored_by_two}"
    );
    one_rt.shutdown(&one).await;
    two_rt.shutdown(&two).await;
    authority_rt.shutdown(&authority).await;
}

/// A live authority's presence that answers nothing.
async fn silent_authority(bus: &TestClient) {
    let presence = json!({
        "status": "healthy",
        "timestamp": alicia_config_manager::core::clock::now_rfc3339(),
        "instance_id": "feedfacefeedface",
        "role": "authority",
    });
    bus.publish_json("alicia/system/health/config-manager", &presence, true)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_without_an_answer_says_outcome_unknown_with_its_request_id() {
    let broker = broker();
    let bus = TestClient::connect(broker.port).await;
    silent_authority(&bus).await;
    let dir = tempfile::tempdir().unwrap();
    let (follower, runtime) = manager(dir.path(), broker.port, RoleSetting::Follower).await;
    let probe = follower.clone();
    wait_until("the follower sees the live authority", move || {
        probe.fleet.state().has_live_authority()
    })
    .await;
    let app = api::router(follower.clone(), &follower.settings.api);
    let answer = Call::new(Method::PUT, "/api/config/llm")
        .json(&llm_document("llm", "waits"))
        .send(&app)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::GATEWAY_TIMEOUT,
        "{}",
        answer.text
    );
    assert_eq!(answer.body["error"], "outcome unknown");
    let request_id = answer.body["request_id"].as_str().unwrap();
    assert!(
        request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{request_id}"
    );
    runtime.shutdown(&follower).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_not_from_the_current_authority_are_ignored() {
    let broker = broker();
    let mut bus = TestClient::connect(broker.port).await;
    bus.subscribe("alicia/config/+/set").await;
    bus.subscribe("alicia/system/changes/set").await;
    silent_authority(&bus).await;
    let dir = tempfile::tempdir().unwrap();
    let (follower, runtime) = manager(dir.path(), broker.port, RoleSetting::Follower).await;
    let probe = follower.clone();
    wait_until("the follower sees the live authority", move || {
        probe.fleet.state().has_live_authority()
    })
    .await;

    // A /set: a forged result (another instance) is ignored; the real refusal is taken.
    let config = follower.config.clone();
    let edit = tokio::spawn(async move {
        config
            .put(
                "llm",
                llm_document("llm", "x"),
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
    });
    let sent = bus.expect_on("alicia/config/llm/set").await;
    let envelope: Value = serde_json::from_slice(&sent.payload).unwrap();
    let request_id = envelope["request_id"].as_str().unwrap().to_owned();
    bus.publish_json(
        &format!("alicia/config/llm/result/{request_id}"),
        &json!({"request_id": request_id, "revision": 7, "last_updated": "2026-01-01T00:00:00Z",
                "instance_id": "0000000000000bad"}),
        false,
    )
    .await;
    bus.publish_json(
        "alicia/config/llm/error",
        &json!({"error": "refused by the real authority", "details": [], "request_id": request_id}),
        false,
    )
    .await;
    let answer = edit.await.unwrap();
    assert!(
        matches!(&answer, Err(ConfigError::RefusedByAuthority { error, .. }) if error == "refused by the real authority"),
        "{answer:?}"
    );

    // A change set: a forged acceptance (another instance, a fake change_id) is ignored.
    let changes = follower.changes.clone();
    let set = tokio::spawn(async move {
        let request = alicia_config_manager::core::change_sets::ChangeSetRequest::read(
            json!({"documents": [llm_document("llm", "y")]}),
        )
        .unwrap();
        changes
            .apply(
                request,
                alicia_config_manager::core::config::Origin::from(ChangeSource::Rest),
            )
            .await
    });
    let sent = bus.expect_on("alicia/system/changes/set").await;
    let request: Value = serde_json::from_slice(&sent.payload).unwrap();
    let request_id = request["request_id"].as_str().unwrap().to_owned();
    assert_eq!(request_id.len(), 32);
    let result_topic = format!("alicia/system/changes/result/{request_id}");
    bus.publish_json(
        &result_topic,
        &json!({"change_id": "fake", "revisions": {"llm": 1}, "instance_id": "0000000000000bad"}),
        false,
    )
    .await;
    bus.publish_json(
        &result_topic,
        &json!({"error": "the set is refused", "details": [], "status": 400,
                "instance_id": "feedfacefeedface"}),
        false,
    )
    .await;
    let answer = set.await.unwrap();
    assert!(
        matches!(&answer, Err(ConfigError::RefusedByAuthority { error, .. }) if error == "the set is refused"),
        "{answer:?}"
    );
    runtime.shutdown(&follower).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_actor_is_recorded_as_claimed_and_odd_request_ids_are_refused() {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let (authority, runtime) = manager(dir.path(), broker.port, RoleSetting::Authority).await;
    let mut bus = TestClient::connect(broker.port).await;
    bus.subscribe("alicia/config/llm/#").await;
    let good_id = "0123456789abcdef0123456789abcdef";
    bus.publish_json(
        "alicia/config/llm/set",
        &json!({"document": llm_document("llm", "claimed"), "base": null, "request_id": good_id,
                "actor": {"kind": "gui", "name": "mallory@evil", "instance_id": "f00d"}}),
        false,
    )
    .await;
    let result = bus
        .expect_on(&format!("alicia/config/llm/result/{good_id}"))
        .await;
    let result: Value = serde_json::from_slice(&result.payload).unwrap();
    assert_eq!(result["request_id"], good_id);
    assert_eq!(result["instance_id"], authority.fleet.instance_id());
    let entry = authority.config.history("llm").remove(0);
    let actor = serde_json::to_value(&entry.actor).unwrap();
    assert_eq!(actor["claimed"], true, "{actor}");
    assert_eq!(
        entry.actor.as_ref().unwrap().describe(),
        "claimed by mallory@evil on f00d"
    );

    // Any other shape of request id is refused, on /error, without storing anything.
    let stored = authority.config.history("llm").len();
    bus.publish_json(
        "alicia/config/llm/set",
        &json!({"document": llm_document("llm", "odd"), "base": null, "request_id": "r1"}),
        false,
    )
    .await;
    let refusal = bus
        .expect("a refusal of the odd request id", |p| {
            p.topic == "alicia/config/llm/error"
        })
        .await;
    let refusal: Value = serde_json::from_slice(&refusal.payload).unwrap();
    assert!(
        refusal["error"].as_str().unwrap().contains("request_id"),
        "{refusal}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(authority.config.history("llm").len(), stored);
    runtime.shutdown(&authority).await;
}
