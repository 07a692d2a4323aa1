//! `alicia-config-manager simulate`: plays a simulated fleet on a broker until Ctrl-C or
//! `--duration`, logging what it publishes.

use super::shutdown_signal::ShutdownSignal;
use crate::cli::SimulateArgs;
use crate::core::settings::BrokerUrl;
use crate::sim::{SimOptions, Simulation};
use std::time::{Duration, Instant};

/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Runs the simulation (on the current runtime) and logs its report.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install();
    let broker = BrokerUrl::parse(
        args.broker.as_deref().unwrap_or("127.0.0.1"),
        args.mqtt_port,
    )
    .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        !broker.tls,
        "the simulator speaks plain MQTT (mqtt://) only"
    );
    anyhow::ensure!(
        args.rate >= 0.0 && args.rate.is_finite(),
        "--rate must be a number ≥ 0"
    );
    let options = SimOptions {
        host: broker.host.clone(),
        port: broker.port,
        prefix: args.topic_prefix.clone(),
        services: args.services,
        devices: args.devices,
        rate: args.rate,
        seed: args.seed,
        health_period: Duration::from_secs(args.health_period_secs.max(1)),
        flap_period: Duration::from_secs(20),
    };
    let simulation = Simulation::start(&options);
    tracing::info!(
        broker = %broker,
        services = args.services,
        devices = args.devices,
        rate = args.rate,
        seed = args.seed,
        "simulating an Alicia fleet"
    );
    let started = Instant::now();
    let deadline = args
        .duration
        .map(|secs| started + Duration::from_secs_f64(secs.max(0.0)));
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    progress.tick().await;
    let mut last = (Instant::now(), 0);
    loop {
        let until_deadline = deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        });
        tokio::select! {
            () = shutdown.received() => break,
            () = tokio::time::sleep(until_deadline) => break,
            _ = progress.tick() => {
                let published = simulation.published();
                let rate = (published - last.1) as f64 / last.0.elapsed().as_secs_f64();
                tracing::info!(published, rate = format!("{rate:.0}/s"), "simulator progress");
                last = (Instant::now(), published);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let report = simulation.stop().await;
    tracing::info!(
        published = report.published,
        rate = format!("{:.0}/s", report.published as f64 / elapsed),
        configs_applied = report.applied,
        configs_refused = report.refused,
        commands = report.commands,
        "simulator stopped"
    );
    Ok(())
}
