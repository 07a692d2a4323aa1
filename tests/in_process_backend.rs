//! The GUI's backend in the same process, as the GUI meets it: the whole state arrives as
//! updates at connect; a put answers through a promise and its document arrives as an
//! update; the history, a change set and a device's removal come the same way; an overflowed
//! feed gets the whole state again. A real core on a real broker (the embedded one, or
//! Mosquitto in CI).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::backend::InProcess;
use alicia_config_manager::model::backend::{Backend, Feed, Reply, Update};
use alicia_config_manager::model::change_sets::ChangeSetRequest;
use alicia_config_manager::model::config::Precondition;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use support::{PATIENCE, TestBroker, llm_document, start_core};

/// Everything the feed held so far, in order.
fn drain(feed: &Feed) -> Vec<Update> {
    feed.take(usize::MAX)
}

/// The answer of `reply`, waited for patiently (off the runtime's workers).
async fn answer<T: Send + 'static>(reply: Reply<T>) -> T {
    tokio::task::spawn_blocking(move || reply.block_and_take())
        .await
        .unwrap()
}

/// Drains `feed` until an update satisfies `wanted`.
async fn until_update(feed: &Feed, what: &str, mut wanted: impl FnMut(&Update) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if drain(feed).iter().any(&mut wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gui_hears_the_state_then_every_change_and_its_requests_answer() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    let backend = InProcess::new(core.clone(), tokio::runtime::Handle::current());
    let wakes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&wakes);
    let feed = backend.connect(Arc::new(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    }));

    // The whole state first: the manager, its documents, the overview, devices, messages.
    let first = drain(&feed);
    assert!(matches!(first[0], Update::System(ref system) if system.mqtt_connected));
    assert!(first.iter().any(|u| matches!(u, Update::Local(_))));
    assert!(first.iter().any(|u| matches!(u, Update::Config(_))));
    assert!(first.iter().any(|u| matches!(u, Update::Services { .. })));
    assert!(first.iter().any(|u| matches!(u, Update::Devices(_))));
    assert!(first.iter().any(|u| matches!(u, Update::Messages(_))));
    assert!(
        wakes.load(Ordering::Relaxed) > 0,
        "the face is asked to look"
    );

    // A put answers through its promise; its document arrives as an update.
    let committed = answer(backend.put("llm", llm_document("llm", "m1"), Precondition::None, 0))
        .await
        .unwrap();
    until_update(&feed, "the stored document arrives", |update| {
        matches!(update, Update::Config(config)
            if config.documents.get("llm").is_some_and(|s| s.revision == committed.revision))
    })
    .await;
    until_update(&feed, "the overview shows the new service", |update| {
        matches!(update, Update::Services { rows, .. }
            if rows.iter().any(|row| row.service_name == "llm"))
    })
    .await;

    // A stale precondition is refused, by the same rule as REST's.
    let refused = answer(backend.put(
        "llm",
        llm_document("llm", "m2"),
        Precondition::Revision(committed.revision + 5),
        0,
    ))
    .await;
    assert!(refused.is_err(), "a stale revision is refused");

    // The history and a change set, as the history view reads them.
    let mut second = llm_document("llm-2", "m3");
    second["config"]["endpoints"][0]["port"] = serde_json::json!(11435);
    let set = answer(backend.apply_set(ChangeSetRequest {
        documents: vec![llm_document("llm", "m3"), second],
        watch: Some(0),
        allow_warnings: true,
    }))
    .await
    .unwrap();
    let page = answer(backend.history("llm")).await;
    assert_eq!(page.entries.len(), 2, "newest first: the set, then the put");
    let newest = &page.entries[0];
    assert_eq!(newest.change_id.as_deref(), Some(set.change_id.as_str()));
    let members = &page.sets[&set.change_id];
    assert!(members.iter().any(|(service, _)| service == "llm-2"));

    // A face that fell behind asks again, and the whole state comes.
    drain(&feed);
    backend.resync();
    let again = drain(&feed);
    assert!(again.iter().any(|u| matches!(u, Update::Config(config)
        if config.documents.contains_key("llm-2"))));
    assert!(again.iter().any(|u| matches!(u, Update::System(_))));

    // Forgetting an unknown device says so.
    assert!(!answer(backend.forget_device("no-such-device")).await);
}
