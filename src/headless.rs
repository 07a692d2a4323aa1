//! Headless mode: the core and the REST + socket.io server without a window, until SIGINT or
//! SIGTERM.

use crate::api;
use crate::core::Core;
use crate::core::api_switch::ApiStatus;
use crate::core::settings::{BrokerTarget, Settings};

/// Starts the core and the REST server, logs where everything is, and runs until a shutdown
/// signal; then stops the server, stores the writes in flight, says goodbye to the broker and
/// returns. A server that cannot start (port taken, no token off loopback) stops the start.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
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
    wait_for_shutdown_signal().await;
    tracing::info!("shutting down");
    core.api.turn_off();
    core.api.settled().await;
    supervisor.abort();
    runtime.shutdown(&core).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
