//! One run of the manager, whatever its face: the core, the REST server's supervisor (and the
//! server when wanted), and the demo fleet; started and stopped in the right order.

use crate::api;
use crate::core::api_switch::ApiStatus;
use crate::core::settings::{BrokerTarget, DEFAULT_MQTT_PORT, Settings};
use crate::core::{Core, CoreRuntime};
use crate::sim::{SimOptions, Simulation};
use tokio::task::JoinHandle;

/// Whether the REST server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeApi {
    /// Not at start (the desktop app's switch can turn it on).
    Off,
    /// On; a server that cannot start is only reported.
    On,
    /// On; a server that cannot start stops the start (headless).
    Required,
}

/// A running manager.
pub struct Session {
    /// The running core, for the faces to call.
    pub core: Core,
    runtime: CoreRuntime,
    supervisor: JoinHandle<()>,
    simulation: Option<Simulation>,
}

impl Session {
    /// Starts the core, logs where everything is, starts the REST server as asked and, with
    /// `demo`, a simulated fleet on the embedded broker.
    pub async fn start(settings: Settings, demo: bool, serve: ServeApi) -> anyhow::Result<Self> {
        let (core, runtime) = Core::start(settings).await?;
        log_start(&core, &runtime);
        let mut supervisor = tokio::spawn(api::server::supervise(core.clone()));
        if serve != ServeApi::Off {
            // A supervisor that stops (it never should) must not leave the start waiting.
            let status = match core.api.turn_on(core.settings.api.clone()) {
                Err(refused) => ApiStatus::Failed {
                    // Said with its fix, as the server would say it.
                    reason: api::server::StartError::from(refused).to_string(),
                },
                Ok(()) => tokio::select! {
                    status = core.api.settled() => status,
                    ended = &mut supervisor => ApiStatus::Failed {
                        reason: format!("the REST server's supervisor stopped: {ended:?}"),
                    },
                },
            };
            if let ApiStatus::Failed { reason } = status
                && serve == ServeApi::Required
            {
                supervisor.abort();
                runtime.shutdown(&core).await;
                anyhow::bail!("{reason}");
            }
        }
        let simulation = demo.then(|| start_demo(&core, &runtime));
        Ok(Self {
            core,
            runtime,
            supervisor,
            simulation,
        })
    }

    /// Stops the demo fleet and the server, stores the writes in flight, says goodbye to the
    /// broker.
    pub async fn stop(self) {
        tracing::info!("shutting down");
        if let Some(simulation) = self.simulation {
            simulation.stop().await;
        }
        self.core.api.turn_off();
        self.core.api.settled().await;
        self.supervisor.abort();
        self.runtime.shutdown(&self.core).await;
        tracing::info!("stopped");
    }
}

fn log_start(core: &Core, runtime: &CoreRuntime) {
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
        instance_id = core.fleet.instance_id(),
        services = core.config.snapshot().documents.len(),
        "Alicia Config Manager running"
    );
}

fn start_demo(core: &Core, runtime: &CoreRuntime) -> Simulation {
    let port = runtime
        .embedded_broker()
        .map_or(DEFAULT_MQTT_PORT, |b| b.addr().port());
    let options = SimOptions::demo("127.0.0.1", port, &core.settings.topic_prefix);
    tracing::info!(
        services = options.services,
        devices = options.devices,
        "demo: a simulated fleet is playing on the embedded broker"
    );
    Simulation::start(&options)
}
