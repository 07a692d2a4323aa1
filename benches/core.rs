//! Micro-benchmarks of the core's hot paths (criterion): validating a document, handling one
//! message of each topic kind, a device update with 10,000 devices present, and the kiosk's
//! Argon2 PIN check.
//!
//! `cargo bench --bench core`

#![allow(missing_docs, reason = "a bench binary has no public API")]

/// The product's allocator (see `src/main.rs`), so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use alicia_config_manager::core::config::{seed_default_document, validate_document};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use support::handler::HandlerFixture;

fn validation(c: &mut Criterion) {
    let document = seed_default_document("2026-11-25T10:00:00.000Z");
    c.bench_function("validate one service document", |b| {
        b.iter(|| validate_document(black_box(&document), None))
    });
    let mut invalid = document.clone();
    invalid["config"]["endpoints"][0]["port"] = json!(70000);
    invalid["enabled"] = json!("yes");
    c.bench_function("validate an invalid document (2 errors)", |b| {
        b.iter(|| validate_document(black_box(&invalid), None))
    });
}

fn handler(c: &mut Criterion) {
    let fixture = HandlerFixture::new(Duration::from_secs(60), 10_000, 100);
    let handler = &fixture.handler;
    let devices = fixture.devices.clone();
    let document = seed_default_document("2026-11-25T10:00:00.000Z").to_string();
    let announcement =
        json!({"service_name": "whisper-service", "service_type": "stt", "version": "1.2.0"})
            .to_string();
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        ("health", "alicia/system/health/whisper-service".into(), br#"{"status":"healthy","timestamp":"2026-11-25T10:00:00Z"}"#.to_vec()),
        ("discovery (known service)", "alicia/system/discovery/whisper-service".into(), announcement.into_bytes()),
        ("config /set", "alicia/config/whisper-service/set".into(), document.clone().into_bytes()),
        ("config (own, retained)", "alicia/config/whisper-service".into(), document.into_bytes()),
        ("config /ack", "alicia/config/whisper-service/ack".into(), br#"{"last_updated":"2026-11-25T10:00:00.000Z","applied":true}"#.to_vec()),
        ("device state", "alicia/device/light-kitchen-1/state".into(), br#"{"name":"Kitchen light 1","type":"light","room":"kitchen","on":true,"brightness":73,"color_temp":4000}"#.to_vec()),
        ("device availability", "alicia/device/light-kitchen-1/availability".into(), b"online".to_vec()),
        ("command result", "alicia/device/light-kitchen-1/command/result".into(), br#"{"request_id":"r-1","ok":true}"#.to_vec()),
        ("invalid (not JSON)", "alicia/device/light-kitchen-1/state".into(), b"\x00\xffgarbage".to_vec()),
    ];
    let mut group = c.benchmark_group("handle one message");
    for (name, topic, payload) in &cases {
        let payload = bytes::Bytes::from(payload.clone());
        group.bench_function(*name, |b| {
            b.iter(|| handler.handle(black_box(topic), payload.clone(), false))
        });
    }
    group.finish();

    for i in 0..10_000 {
        let state = json!({"name": format!("Device {i}"), "type": "sensor", "room": "hall", "temperature": 21.5});
        devices.apply_state(
            &format!("sensor-{i}"),
            Some(Arc::new(state)),
            "2026-11-25T10:00:00.000Z",
        );
    }
    let mut n = 0u32;
    c.bench_function("device update with 10,000 devices present", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let state = json!({"name": "Device 5000", "type": "sensor", "room": "hall", "temperature": f64::from(n % 300) / 10.0});
            devices.apply_state(black_box("sensor-5000"), Some(Arc::new(state)), "2026-11-25T10:00:01.000Z")
        })
    });
    c.bench_function("list 10,000 devices (sorted)", |b| {
        b.iter(|| devices.list().len())
    });
}

/// The kiosk's PIN check and a new PIN's hash (Argon2: slow on purpose). They run on the
/// runtime's blocking pool; this is the frame they used to take on the UI thread.
fn kiosk_pin(c: &mut Criterion) {
    use alicia_config_manager::core::kiosk_pin::{hash_pin, verify_pin};
    let hash = hash_pin("2468").expect("a hash");
    let mut group = c.benchmark_group("kiosk PIN (Argon2)");
    group.sample_size(10);
    group.bench_function("check a PIN", |b| {
        b.iter(|| verify_pin(black_box("1357"), &hash))
    });
    group.bench_function("hash a new PIN", |b| b.iter(|| hash_pin(black_box("2468"))));
    group.finish();
}

/// The extra cost of safe apply (CONTRACT §7): a change stored durably by the core (what REST
/// and the editor call), plain and put on watch — the watch adds a lookup of the service's
/// health and an entry in the watch list; `watches.json` is written by the watch task, off
/// the caller's path.
fn safe_apply(c: &mut Criterion) {
    use alicia_config_manager::core::config::{ChangeSource, Precondition};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let broker = support::TestBroker::embedded();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (core, _core_runtime) =
        runtime.block_on(support::start_core(dir.path(), broker.port, |_| {}));
    let mut group = c.benchmark_group("a config change stored durably");
    group.sample_size(30);
    let mut n = 0u64;
    let mut change = |watch: bool| {
        n += 1;
        let document = support::llm_document("llm-bench", &format!("model-{n}"));
        let committed = runtime
            .block_on(core.config.put(
                "llm-bench",
                document,
                ChangeSource::Rest,
                Precondition::None,
            ))
            .expect("stored");
        if watch {
            core.safe_apply.start(
                "llm-bench",
                committed.revision,
                60,
                &core.health,
                &core.config,
            );
        }
    };
    group.bench_function("plain", |b| b.iter(|| change(false)));
    group.bench_function("watched (60 s)", |b| b.iter(|| change(true)));
    group.finish();
}

/// Twenty services changed: as one change set (validated, checked across services on the
/// fleet as it would be, one commit) against twenty plain PUTs (twenty commits, each waited
/// for in turn, as a client changing them one by one does).
fn change_set(c: &mut Criterion) {
    use alicia_config_manager::core::change_sets::ChangeSetRequest;
    use alicia_config_manager::core::config::{ChangeSource, Origin, Precondition};
    const MEMBERS: usize = 20;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let broker = support::TestBroker::embedded();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (core, _core_runtime) =
        runtime.block_on(support::start_core(dir.path(), broker.port, |_| {}));
    let documents = |n: u64| -> Vec<serde_json::Value> {
        (0..MEMBERS)
            .map(|i| {
                support::llm(&format!("llm-{i}"))
                    .ip(&format!("10.0.0.{i}"))
                    .model(&format!("model-{n}"))
                    .build()
            })
            .collect()
    };
    let mut group = c.benchmark_group("twenty services changed");
    group.sample_size(20);
    let mut n = 0u64;
    group.bench_function("20 plain PUTs", |b| {
        b.iter(|| {
            n += 1;
            for (i, document) in documents(n).into_iter().enumerate() {
                runtime
                    .block_on(core.config.put(
                        &format!("llm-{i}"),
                        document,
                        ChangeSource::Rest,
                        Precondition::None,
                    ))
                    .expect("stored");
            }
        })
    });
    group.bench_function("one change set of 20", |b| {
        b.iter(|| {
            n += 1;
            let request = ChangeSetRequest {
                documents: documents(n),
                watch: Some(0),
                allow_warnings: false,
            };
            runtime
                .block_on(
                    core.changes
                        .apply(request, Origin::from(ChangeSource::Rest)),
                )
                .expect("stored");
        })
    });
    group.finish();
}

criterion_group!(
    benches, validation, handler, kiosk_pin, safe_apply, change_set
);
criterion_main!(benches);
