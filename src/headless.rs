//! Headless mode: the core and the REST + socket.io server without a window, until SIGINT or
//! SIGTERM.

use crate::core::settings::Settings;
use crate::session::{ServeApi, Session};

/// Starts the core and the REST server, and runs until a shutdown signal; then stops the
/// server, stores the writes in flight, says goodbye to the broker and returns. A server that
/// cannot start (port taken, no token off loopback) stops the start. With `demo`, a simulated
/// fleet plays on the embedded broker too.
pub async fn run(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let mut shutdown = ShutdownSignal::install();
    let session = Session::start(settings, demo, ServeApi::Required).await?;
    shutdown.received().await;
    session.stop().await;
    Ok(())
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
