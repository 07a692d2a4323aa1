//! Several managers on one fleet: how long an edit takes to be acknowledged when made on the
//! authority (stored durably, then answered) and when made on a follower (sent as `/set`,
//! validated and stored by the authority, published retained, mirrored back into the
//! follower's own store, then answered) — through the embedded broker and through
//! Mosquitto. Also the cost of computing the checks across services for a large fleet.
//!
//! `cargo bench --bench fleet`. Knob: `ALICIA_BENCH_EDITS` (edits per figure, default 500).

#![allow(missing_docs, reason = "a bench binary has no public API")]
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use alicia_config_manager::core::Core;
use alicia_config_manager::core::checks::run_checks;
use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::fleet::{Role, RoleSetting};
use std::time::{Duration, Instant};
use support::{TestBroker, llm_document, start_core, wait_until};

fn edits() -> usize {
    std::env::var("ALICIA_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

async fn timed_edits(core: &Core, count: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let document = llm_document("llm-bench", &format!("model-{i}"));
        let start = Instant::now();
        core.config
            .put(
                "llm-bench",
                document,
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
            .expect("the edit is accepted");
        times.push(start.elapsed());
    }
    times
}

fn report(what: &str, broker: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let total: Duration = times.iter().sum();
    println!(
        "{what:<22} {broker:<18} n={:<5} mean {:>7.2} ms  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        times.len(),
        total.as_secs_f64() * 1000.0 / times.len() as f64,
        at(0.5).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
    );
}

async fn round_trips(broker: TestBroker) {
    let (dir_a, dir_f) = (
        tempfile::tempdir().expect("a temp dir"),
        tempfile::tempdir().expect("a temp dir"),
    );
    let (authority, authority_runtime) = start_core(dir_a.path(), broker.port, |_| {}).await;
    let (follower, follower_runtime) = start_core(dir_f.path(), broker.port, |s| {
        s.role = RoleSetting::Follower;
    })
    .await;
    let f = follower.clone();
    wait_until("the follower has a live authority", move || {
        f.fleet.state().has_live_authority()
    })
    .await;
    assert_eq!(follower.fleet.role(), Role::Follower);
    timed_edits(&follower, 20).await;
    report(
        "edit on the authority",
        broker.name,
        timed_edits(&authority, edits()).await,
    );
    report(
        "edit on a follower",
        broker.name,
        timed_edits(&follower, edits()).await,
    );
    follower_runtime.shutdown(&follower).await;
    authority_runtime.shutdown(&authority).await;
}

fn checks_cost() {
    use alicia_config_manager::core::config::{Snapshot, StoredDocument};
    use serde_json::json;
    use std::sync::Arc;
    let mut snapshot = Snapshot::default();
    for i in 0..1000u16 {
        let (kind, name) = match i % 4 {
            0 => ("stt", format!("stt-{i}")),
            1 => ("tts", format!("tts-{i}")),
            2 => ("llm", format!("llm-{i}")),
            _ => ("voice_router", format!("router-{i}")),
        };
        let document = json!({
            "service_name": name, "service_type": kind, "enabled": true, "version": "1",
            "config": {
                "language": if i % 7 == 0 { "de" } else { "en" },
                "endpoints": [{"type": kind, "ip": "10.0.0.1", "port": 8000 + i % 900}],
                "settings": {"stt_service": format!("stt-{}", i32::from(i) - 3), "tts_service": format!("tts-{}", i32::from(i) - 2), "llm_service": "llm-missing"}
            }
        });
        snapshot.documents.insert(
            name,
            StoredDocument {
                document: Arc::new(document),
                revision: u64::from(i),
            },
        );
    }
    let rounds = 200;
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..rounds {
        found = run_checks(
            &snapshot,
            &[],
            &Default::default(),
            time::OffsetDateTime::now_utc(),
        )
        .len();
    }
    println!(
        "checks across 1,000 services: {:.2} ms per run ({found} findings)",
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );
}

fn main() {
    checks_cost();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(round_trips(TestBroker::embedded()));
    if let Some(mosquitto) = TestBroker::mosquitto() {
        runtime.block_on(round_trips(mosquitto));
    }
    // Mosquitto Nagles its own sockets unless told not to.
    if let Some(mut mosquitto) = TestBroker::mosquitto_with(|port, _| {
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n"
        )
    }) {
        mosquitto.name = "mosquitto+nodelay";
        runtime.block_on(round_trips(mosquitto));
    }
}
