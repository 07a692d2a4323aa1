//! No deletion from the bus is lost (CONTRACT §10), with real managers on a real broker: a
//! config cleared by anyone is repaired by the authority and a follower keeps its copy; one
//! that stays cleared past the repair window, while an authority is live, is deleted on the
//! follower as a revision of its history, restorable; a forced rollback of a change set
//! deletes only the services the set created, even after the revisions before it aged out.

mod support;

use alicia_config_manager::core::change_sets::ChangeSetRequest;
use alicia_config_manager::core::config::{
    Actor, ActorKind, ChangeSource, ConfigError, Origin, Precondition,
};
use alicia_config_manager::core::fleet::{Role, RoleSetting};
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{TestBroker, TestClient, llm_document, wait_until};

fn broker() -> TestBroker {
    TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded)
}

async fn manager(dir: &Path, port: u16, role: RoleSetting) -> (Core, CoreRuntime) {
    support::start_synced_manager(dir, port, role, |s| s.history_limit = 3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleared_config_is_repaired_and_the_follower_keeps_its_copy() {
    let broker = broker();
    let (dir_a, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (authority, authority_rt) = manager(dir_a.path(), broker.port, RoleSetting::Auto).await;
    let (follower, follower_rt) = manager(dir_f.path(), broker.port, RoleSetting::Auto).await;
    assert_eq!(follower.fleet.role(), Role::Follower);
    authority
        .config
        .put(
            "llm",
            llm_document("llm", "kept"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let probe = follower.clone();
    wait_until("the follower mirrors it", move || {
        probe.config.get("llm").is_some()
    })
    .await;
    let bus = TestClient::connect(broker.port).await;
    bus.publish("alicia/config/llm", Vec::new(), true).await;
    // Past the repair window: the authority published its document again, the follower
    // never deleted its copy.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        follower.config.get("llm").is_some(),
        "the follower kept its copy"
    );
    assert!(
        follower
            .config
            .history("llm")
            .iter()
            .all(|entry| entry.document.is_some()),
        "no deletion was ever stored"
    );
    follower_rt.shutdown(&follower).await;
    authority_rt.shutdown(&authority).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_that_stays_is_mirrored_after_the_window_and_restorable() {
    let broker = broker();
    let bus = TestClient::connect(broker.port).await;
    let (dir_a, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (authority, authority_rt) = manager(dir_a.path(), broker.port, RoleSetting::Auto).await;
    let (follower, follower_rt) = manager(dir_f.path(), broker.port, RoleSetting::Auto).await;
    authority
        .config
        .put(
            "llm",
            llm_document("llm", "doomed"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let probe = follower.clone();
    wait_until("the follower mirrors it", move || {
        probe.config.get("llm").is_some()
    })
    .await;
    // The authority deletes it: the follower follows once the window has passed.
    let deleted_at = Instant::now();
    authority
        .config
        .delete("llm", ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        follower.config.get("llm").is_some(),
        "not within the window"
    );
    let probe = follower.clone();
    wait_until("the follower deletes its copy", move || {
        probe.config.get("llm").is_none()
    })
    .await;
    assert!(deleted_at.elapsed() >= Duration::from_secs(6));
    let history = follower.config.history("llm");
    assert!(history[0].document.is_none(), "the deletion is a revision");
    let before = history
        .iter()
        .find(|entry| entry.document.is_some())
        .expect("the document before the deletion is kept");
    assert_eq!(
        before.document.as_ref().unwrap()["config"]["model"],
        "doomed"
    );
    drop(bus);
    follower_rt.shutdown(&follower).await;
    authority_rt.shutdown(&authority).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_rollback_deletes_only_what_the_set_created() {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let (authority, runtime) = manager(dir.path(), broker.port, RoleSetting::Authority).await;
    authority
        .config
        .put(
            "kept",
            llm_document("kept", "v0"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let request = ChangeSetRequest::read(json!({"documents": [
        llm_document("kept", "in-set"),
        support::llm("created").model("in-set").ip("10.0.0.8").build(),
    ]}))
    .unwrap();
    let set = authority
        .changes
        .apply(request, Origin::from(ChangeSource::Rest))
        .await
        .unwrap();
    // `kept` changes on until its revision before the set ages out (3 kept: the set's own
    // entry and the two after it).
    for i in 0..2 {
        authority
            .config
            .put(
                "kept",
                llm_document("kept", &format!("after-{i}")),
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
            .unwrap();
    }
    let refused = authority
        .changes
        .rollback(&set.change_id, true, Actor::of_kind(ActorKind::Rest))
        .await;
    assert!(
        matches!(&refused, Err(ConfigError::BeforeSetForgotten { services }) if services == &["kept".to_owned()]),
        "{refused:?}"
    );
    assert!(
        authority.config.get("kept").is_some(),
        "a service the set only changed is never deleted"
    );
    assert!(
        authority.config.get("created").is_some(),
        "nothing was undone"
    );
    runtime.shutdown(&authority).await;
}
