//! Headless mode: the core and the REST + socket.io server without a window, until SIGINT or
//! SIGTERM.

use crate::api;
use crate::core::Core;
use crate::core::api_switch::ApiStatus;
use crate::core::settings::{BrokerTarget, Settings};
use crate::sim::{SimOptions, Simulation};

/// Starts the core and the REST server, logs where everything is, and runs until a shutdown
/// signal; then stops the server, stores the writes in flight, says goodbye to the broker and
/// returns. A server that cannot start (port taken, no token off loopback) stops the start.
/// With `demo`, a simulated fleet plays on the embedded broker too.
pub async fn run(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install();
    let (core, runtime) = Core::start(settings).await?;
    let paths = core.config.paths();
    let report = runtime.open_report();
    if report.created_default {
        tracing::info!(file = %paths.config_file.display(), "created the default config (whisper-service)");
    }
    for warning in &report.warnings {
        tracing::warn!("{warning}");
    }
    match (&core.settings.broker, runtime.embedded_broker()) {
        (BrokerTarget::Embedded { .. }, Some(broker)) => {
            tracing::info!(listen = %broker.addr(), "embedded MQTT broker running (no broker was named)");
        }
        _ => tracing::info!(broker = core.mqtt.url(), "using the named MQTT broker"),
    }
    tracing::info!(
        config = %paths.config_file.display(),
        history = %paths.history_file.display(),
        settings = %core.settings.settings_file().display(),
        instance_id = core.mqtt.instance().instance_id,
        services = core.config.snapshot().documents.len(),
        "Alicia Config Manager running headless"
    );
    let supervisor = tokio::spawn(api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone());
    if let ApiStatus::Failed { reason } = core.api.settled().await {
        runtime.shutdown(&core).await;
        anyhow::bail!("{reason}");
    }
    let simulation = demo.then(|| start_demo(&core, &runtime));
    shutdown.received().await;
    tracing::info!("shutting down");
    if let Some(simulation) = simulation {
        simulation.stop().await;
    }
    core.api.turn_off();
    core.api.settled().await;
    supervisor.abort();
    runtime.shutdown(&core).await;
    tracing::info!("stopped");
    Ok(())
}

fn start_demo(core: &Core, runtime: &crate::core::CoreRuntime) -> Simulation {
    let port = runtime
        .embedded_broker()
        .map_or(crate::core::settings::DEFAULT_MQTT_PORT, |b| {
            b.addr().port()
        });
    let options = SimOptions::demo("127.0.0.1", port, &core.settings.topic_prefix);
    tracing::info!(
        services = options.services,
        devices = options.devices,
        "demo: a simulated fleet is playing on the embedded broker"
    );
    Simulation::start(&options)
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), listened for from the moment it is installed, so a
/// signal that arrives during start-up is not lost (nor fatal).
pub struct ShutdownSignal {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignal {
    /// Starts listening.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::interrupt())
                .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)))
                .ok();
            Self { streams }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves when a signal has arrived.
    pub async fn received(&mut self) {
        #[cfg(unix)]
        if let Some((interrupt, terminate)) = &mut self.streams {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
