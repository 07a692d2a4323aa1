//! Safe apply (CONTRACT §7), against the real core, its REST server on a loopback port and a
//! real broker, with the test playing the service: a watched change is rolled back when the
//! service refuses it, turns unhealthy, or (one that confirms its configs) stays silent — each
//! recorded with its reason — and confirmed when it proves good; a seed-era service that never
//! acks keeps its change; `enabled: false` is never watched; a newer change ends a watch; a
//! `/set` envelope's `watch` counts; a restart during a watch keeps the change.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::events::CoreEvent;
use alicia_config_manager::core::safe_apply::RollbackReason;
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::{Value, json};
use std::time::Duration;
use support::{TestBroker, TestClient, free_port, llm_document, start_core, wait_until};

const SERVICE: &str = "llm-x";

struct Fleet {
    core: Core,
    runtime: Option<CoreRuntime>,
    broker: TestBroker,
    service: TestClient,
    http: reqwest::Client,
    base: String,
    dir: tempfile::TempDir,
}

/// A core with its REST server, and `llm-x` configured; when `confirms`, the service has
/// acked that config and reported healthy (so its silence would count).
async fn fleet(confirms: bool) -> Fleet {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.port = api_port;
        s.api.rate_limit_max = 0;
    })
    .await;
    tokio::spawn(alicia_config_manager::api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone()).unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    support::wait_for_rest(&http, &base).await;
    let committed = core
        .config
        .put(
            SERVICE,
            llm_document(SERVICE, "good-model"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let mut service = TestClient::connect(broker.port).await;
    service.subscribe(&format!("alicia/config/{SERVICE}")).await;
    if confirms {
        let stamp = committed.document.as_ref().unwrap()["last_updated"].clone();
        ack(&service, &stamp, true).await;
        health(&service, "healthy").await;
        let probe = core.clone();
        wait_until("the service confirmed its config", move || {
            probe
                .health
                .get(SERVICE)
                .is_some_and(|r| r.ack.is_some() && r.last_seen.is_some())
        })
        .await;
    }
    Fleet {
        core,
        runtime: Some(runtime),
        broker,
        service,
        http,
        base,
        dir,
    }
}

async fn ack(service: &TestClient, last_updated: &Value, applied: bool) {
    let mut ack = json!({"last_updated": last_updated, "applied": applied});
    if !applied {
        ack["error"] = json!("no such model");
    }
    service
        .publish_json(&format!("alicia/config/{SERVICE}/ack"), &ack, false)
        .await;
}

async fn health(service: &TestClient, status: &str) {
    service
        .publish_json(
            &format!("alicia/system/health/{SERVICE}"),
            &json!({"status": status}),
            false,
        )
        .await;
}

impl Fleet {
    /// PUTs a new model with `query` (`?watch=…`); returns the status and the answer.
    async fn put(&self, model: &str, query: &str) -> (u16, Value) {
        let answer = self
            .http
            .put(format!("{}/api/config/{SERVICE}{query}", self.base))
            .json(&llm_document(SERVICE, model))
            .send()
            .await
            .unwrap();
        (
            answer.status().as_u16(),
            answer.json().await.unwrap_or(Value::Null),
        )
    }

    fn model(&self) -> Value {
        self.core.config.get(SERVICE).unwrap().document["config"]["model"].clone()
    }

    async fn rolled_back(&self, reason: &str) {
        let core = self.core.clone();
        let wanted = reason.to_owned();
        wait_until("the change is rolled back with its reason", move || {
            core.config.history(SERVICE).first().is_some_and(|entry| {
                entry.source == ChangeSource::Rollback && entry.reason.as_deref() == Some(&wanted)
            })
        })
        .await;
        assert_eq!(
            self.model(),
            "good-model",
            "the document before the change is back"
        );
        let history = support::get_json(
            &self.http,
            &format!("{}/api/config/{SERVICE}/history", self.base),
        )
        .await;
        assert_eq!(history[0]["source"], "rollback");
        assert_eq!(history[0]["reason"], reason, "{history}");
    }

    async fn watch_until(&self) -> Option<String> {
        let services =
            support::get_json(&self.http, &format!("{}/api/system/services", self.base)).await;
        services
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service_name"] == SERVICE)
            .and_then(|s| s["watch_until"].as_str().map(str::to_owned))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_is_rolled_back_and_says_why() {
    let fleet = fleet(true).await;
    let mut events = fleet.core.events.subscribe();
    let (status, body) = fleet.put("no-such-model", "?watch=30").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        fleet.watch_until().await.is_some(),
        "watch_until while it runs"
    );
    ack(&fleet.service, &body["last_updated"], false).await;
    fleet.rolled_back("refused").await;
    assert_eq!(fleet.watch_until().await, None);
    // The live event names the rollback's own revision and the reason.
    let rollback = fleet.core.config.get(SERVICE).unwrap().revision;
    loop {
        match tokio::time::timeout(support::PATIENCE, events.recv())
            .await
            .unwrap()
        {
            Ok(CoreEvent::ConfigRolledBack {
                service,
                revision,
                reason,
            }) => {
                assert_eq!(
                    (service.as_str(), revision, reason),
                    (SERVICE, rollback, RollbackReason::Refused)
                );
                break;
            }
            Ok(_) => {}
            Err(error) => panic!("{error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_after_which_the_service_turns_unhealthy_is_rolled_back() {
    let fleet = fleet(true).await;
    let (_, body) = fleet.put("heavy-model", "?watch=30").await;
    ack(&fleet.service, &body["last_updated"], true).await;
    health(&fleet.service, "unhealthy").await;
    fleet.rolled_back("unhealthy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_confirms_its_configs_and_stays_silent_gets_the_old_one_back() {
    let fleet = fleet(true).await;
    fleet.put("quiet-model", "?watch=1").await;
    fleet.rolled_back("silent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_change_is_confirmed_and_kept() {
    let fleet = fleet(true).await;
    let mut events = fleet.core.events.subscribe();
    let (_, body) = fleet.put("better-model", "?watch=1").await;
    ack(&fleet.service, &body["last_updated"], true).await;
    loop {
        match tokio::time::timeout(support::PATIENCE, events.recv())
            .await
            .unwrap()
        {
            Ok(CoreEvent::ConfigConfirmed { service, .. }) if service == SERVICE => break,
            Ok(CoreEvent::ConfigRolledBack { .. }) => panic!("a good change was rolled back"),
            Ok(_) => {}
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(fleet.model(), "better-model");
    assert_eq!(fleet.watch_until().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_era_service_that_never_acks_keeps_its_change() {
    let fleet = fleet(false).await;
    fleet.put("kept-model", "?watch=1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fleet.watch_until().await, None, "the watch ended");
    assert_eq!(fleet.model(), "kept-model");
    assert_ne!(
        fleet.core.config.history(SERVICE)[0].source,
        ChangeSource::Rollback
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_a_service_off_is_never_watched_and_bad_watches_are_refused() {
    let fleet = fleet(true).await;
    let mut off = llm_document(SERVICE, "good-model");
    off["enabled"] = json!(false);
    let answer = fleet
        .http
        .put(format!("{}/api/config/{SERVICE}?watch=30", fleet.base))
        .json(&off)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(fleet.watch_until().await, None);
    for bad in ["abc", "601", "-1", "1.5", ""] {
        let (status, body) = fleet.put("x", &format!("?watch={bad}")).await;
        assert_eq!(status, 400, "watch={bad}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_change_ends_the_watch() {
    let fleet = fleet(true).await;
    fleet.put("first", "?watch=2").await;
    assert!(fleet.watch_until().await.is_some());
    fleet.put("second", "?watch=0").await;
    let core = fleet.core.clone();
    wait_until("the watch ended", move || {
        !core.safe_apply.watching(SERVICE)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        fleet.model(),
        "second",
        "no rollback after the watch was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_envelope_is_watched_as_it_asks() {
    let fleet = fleet(true).await;
    let stored = fleet.core.config.get(SERVICE).unwrap();
    let envelope = json!({
        "document": llm_document(SERVICE, "set-model"),
        "base": stored.document["last_updated"],
        "watch": 1
    });
    fleet
        .service
        .publish_json(&format!("alicia/config/{SERVICE}/set"), &envelope, false)
        .await;
    let core = fleet.core.clone();
    wait_until("the /set change is stored", move || {
        core.config.get(SERVICE).unwrap().document["config"]["model"] == "set-model"
    })
    .await;
    fleet.rolled_back("silent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_a_watch_keeps_the_change() {
    let mut fleet = fleet(true).await;
    fleet.put("restarted-model", "?watch=60").await;
    let file = fleet.dir.path().join("watches.json");
    let listed = file.clone();
    wait_until("the running watch is listed", move || listed.exists()).await;
    let runtime = fleet.runtime.take().unwrap();
    runtime.shutdown(&fleet.core).await;
    let (core, runtime) = start_core(fleet.dir.path(), fleet.broker.port, |_| {}).await;
    assert!(!file.exists(), "the list is cleared at start");
    assert!(!core.safe_apply.watching(SERVICE));
    assert_eq!(
        core.config.get(SERVICE).unwrap().document["config"]["model"],
        "restarted-model",
        "treated as confirmed"
    );
    runtime.shutdown(&core).await;
}

/// A follower's watched change goes to the authority with its `watch` in the `/set` envelope,
/// and the authority watches it (the follower does not: that would roll it back twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followers_watched_change_is_watched_by_the_authority() {
    use alicia_config_manager::core::config::{Actor, ActorKind, Origin};
    let fleet = fleet(true).await;
    let dir = tempfile::tempdir().unwrap();
    let (follower, follower_runtime) = start_core(dir.path(), fleet.broker.port, |s| {
        s.role = alicia_config_manager::core::fleet::RoleSetting::Follower;
    })
    .await;
    let probe = follower.clone();
    wait_until("the follower mirrors the authority", move || {
        probe.fleet.state().has_live_authority() && probe.config.get(SERVICE).is_some()
    })
    .await;
    let origin = Origin::new(ChangeSource::Rest, Actor::of_kind(ActorKind::Rest)).with_watch(1);
    follower
        .put_watched(
            SERVICE,
            llm_document(SERVICE, "from-the-follower"),
            origin,
            Precondition::None,
        )
        .await
        .unwrap();
    assert!(
        !follower.safe_apply.watching(SERVICE),
        "the authority watches, not the follower"
    );
    assert!(
        follower.safe_apply.watch_until(SERVICE).is_some(),
        "the follower counts the authority's watch down (its row and editor show it)"
    );
    fleet.rolled_back("silent").await;
    let probe = follower.clone();
    wait_until(
        "the follower's countdown ends with the rollback",
        move || probe.safe_apply.watch_until(SERVICE).is_none(),
    )
    .await;
    follower_runtime.shutdown(&follower).await;
}

/// A service that confirms its configs and is unhealthy now (its heartbeat says so).
async fn unhealthy_fleet() -> Fleet {
    let fleet = fleet(true).await;
    health(&fleet.service, "unhealthy").await;
    let probe = fleet.core.clone();
    wait_until("the service is unhealthy", move || {
        probe.health.get(SERVICE).is_some_and(|r| {
            r.reported == Some(alicia_config_manager::core::mqtt::payloads::HealthStatus::Unhealthy)
        })
    })
    .await;
    fleet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_fix_of_an_unhealthy_service_outlives_its_unchanged_heartbeat() {
    let fleet = unhealthy_fleet().await;
    let (status, body) = fleet.put("the-fix", "?watch=3").await;
    assert_eq!(status, 200, "{body}");
    // Its heartbeat still says unhealthy (it has not restarted yet), and anyone may echo it.
    for _ in 0..3 {
        health(&fleet.service, "unhealthy").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // It acks the fix: judged by silence alone, the fix is confirmed.
    ack(&fleet.service, &body["last_updated"], true).await;
    let core = fleet.core.clone();
    wait_until("the watch ends", move || {
        core.safe_apply.watch_until(SERVICE).is_none()
    })
    .await;
    assert_eq!(fleet.model(), "the-fix", "the good fix was kept");
    assert!(
        fleet
            .core
            .config
            .history(SERVICE)
            .iter()
            .all(|entry| entry.source != ChangeSource::Rollback),
        "never rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_that_recovers_then_fails_again_is_rolled_back() {
    let fleet = unhealthy_fleet().await;
    let (status, _) = fleet.put("flaky-fix", "?watch=30").await;
    assert_eq!(status, 200);
    // Healthy after the change arms the rule; unhealthy after that undoes it.
    health(&fleet.service, "healthy").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    health(&fleet.service, "unhealthy").await;
    fleet.rolled_back("unhealthy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_stamped_before_the_change_does_not_count_after_it() {
    let fleet = fleet(true).await;
    let (status, _) = fleet.put("stamped", "?watch=2").await;
    assert_eq!(status, 200);
    // An unhealthy report that says it was made a minute ago (a late delivery, a replay).
    let old = time::OffsetDateTime::now_utc() - time::Duration::seconds(60);
    fleet
        .service
        .publish_json(
            &format!("alicia/system/health/{SERVICE}"),
            &json!({"status": "unhealthy", "timestamp": alicia_config_manager::core::clock::format_rfc3339(old)}),
            false,
        )
        .await;
    let core = fleet.core.clone();
    wait_until("the watch ends", move || {
        core.safe_apply.watch_until(SERVICE).is_none()
    })
    .await;
    assert!(
        fleet
            .core
            .config
            .history(SERVICE)
            .iter()
            .all(|entry| entry.reason.as_deref() != Some("unhealthy")),
        "a report from before the change never undoes it"
    );
}
