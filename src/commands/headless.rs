//! Headless mode: the core and the REST + socket.io server without a window, until SIGINT or
//! SIGTERM.

use super::shutdown_signal::ShutdownSignal;
use crate::core::settings::Settings;
use crate::session::{ServeApi, Session};

/// Starts the core and the REST server, and runs until a shutdown signal; then stops the
/// server, stores the writes in flight, says goodbye to the broker and returns. A server that
/// cannot start (port taken, no token off loopback) stops the start. With `demo`, a simulated
/// fleet plays on the embedded broker too.
pub async fn run(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install();
    let session = tokio::select! {
        session = Session::start(settings, demo, ServeApi::Required) => session?,
        () = shutdown.received() => {
            tracing::info!("stopped while starting");
            return Ok(());
        }
    };
    shutdown.received().await;
    session.stop().await;
    Ok(())
}
