//! Ingest through a real broker: the simulator publishes device states at full speed into the
//! embedded broker and into Mosquitto; measured as messages per second reaching the core's
//! counters, next to the ceiling measured in the same run: the same load into a plain
//! subscriber that only counts. Also the simulator's own publish rate.
//!
//! The simulator runs as its own process (the release binary's `simulate`); the core and the
//! embedded broker run in this one, as they do in the app.
//!
//! `cargo bench --bench ingest` (Mosquitto is used when installed). Knobs:
//! `ALICIA_BENCH_SECS` (measured seconds per figure, default 5), `ALICIA_BENCH_RATE` (the
//! simulator's target rate, default 100000), `ALICIA_BENCH_DEVICES` (default 10000).

#![allow(missing_docs, reason = "a bench binary has no public API")]
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

/// The product's allocator (see `src/main.rs`), so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use alicia_config_manager::core::Core;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::TestBroker;

const WARM_UP: Duration = Duration::from_secs(2);

fn knob(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn window() -> Duration {
    Duration::from_secs_f64(knob("ALICIA_BENCH_SECS", 5.0))
}

/// The simulator, as its own process (the release binary's `simulate`), for the whole run.
fn start_simulator(port: u16) -> tokio::process::Child {
    let seconds = (WARM_UP + window()).as_secs_f64() + 1.0;
    tokio::process::Command::new(env!("CARGO_BIN_EXE_alicia-config-manager"))
        .args(["simulate", "--services", "8", "--seed", "1"])
        .args([
            "--devices",
            &knob("ALICIA_BENCH_DEVICES", 10_000.0).to_string(),
        ])
        .args(["--rate", &knob("ALICIA_BENCH_RATE", 100_000.0).to_string()])
        .args(["--duration", &seconds.to_string()])
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", port.to_string())
        .env("LOG_LEVEL", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the simulator starts")
}

/// The simulator's own figure: messages published per second over its run.
async fn simulator_rate(simulator: tokio::process::Child) -> String {
    let output = simulator
        .wait_with_output()
        .await
        .expect("the simulator ends");
    let log = String::from_utf8_lossy(&output.stderr);
    log.lines()
        .find(|l| l.contains("simulator stopped"))
        .and_then(|l| l.split("rate=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .map_or_else(|| "?".to_owned(), |r| r.trim_matches('"').to_owned())
}

/// Messages per second counted over the measured window, after the warm-up.
async fn measure(counted: impl Fn() -> u64) -> f64 {
    tokio::time::sleep(WARM_UP).await;
    let (before, started) = (counted(), Instant::now());
    tokio::time::sleep(window()).await;
    (counted() - before) as f64 / started.elapsed().as_secs_f64()
}

/// A subscriber that only counts what it receives (abort the task to disconnect it).
fn counting_subscriber(port: u16) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    let mut options = MqttOptions::new(format!("bench-ceiling-{port}"), "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let task = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.try_subscribe("alicia/device/#", QoS::AtMostOnce);
                }
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    (count, task)
}

async fn bench_broker(name: &str, port: u16) {
    let (count, subscriber) = counting_subscriber(port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let simulator = start_simulator(port);
    let ceiling = measure(|| count.load(Ordering::Relaxed)).await;
    let published_ceiling = simulator_rate(simulator).await;
    subscriber.abort();

    let dir = tempfile::tempdir().expect("a temp dir");
    let (core, runtime) = Core::start(support::settings_for(dir.path(), port))
        .await
        .expect("the core starts");
    let probe = core.clone();
    support::wait_until("the core is connected", move || probe.mqtt.is_connected()).await;
    let simulator = start_simulator(port);
    let ingest = measure(|| core.mqtt.stats().messages_received).await;
    let published_core = simulator_rate(simulator).await;
    runtime.shutdown(&core).await;

    println!(
        "ingest_{name}_ceiling {ceiling:.0} msgs/s (a plain subscriber; simulator published {published_ceiling})"
    );
    println!(
        "ingest_{name}_core {ingest:.0} msgs/s (the core's counters; simulator published {published_core})"
    );
    println!(
        "ingest_{name}_core_vs_ceiling {:.1} %",
        100.0 * ingest / ceiling.max(1.0)
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches without `--bench`: it only checks they build.
        println!("ingest: run it with `cargo bench --bench ingest`");
        return;
    }
    println!(
        "# ingest: simulator (its own process) at {} msgs/s over {} devices; {} s measured after {} s; {} cores",
        knob("ALICIA_BENCH_RATE", 100_000.0),
        knob("ALICIA_BENCH_DEVICES", 10_000.0),
        window().as_secs_f64(),
        WARM_UP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let embedded = TestBroker::embedded();
    bench_broker("embedded", embedded.port).await;
    if let Some(mosquitto) = TestBroker::mosquitto() {
        bench_broker("mosquitto", mosquitto.port).await;
    }
}
