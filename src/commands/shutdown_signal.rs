//! Waiting for the signal to stop: SIGINT or SIGTERM (Ctrl-C elsewhere).

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
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C; stop the manager by killing it");
            std::future::pending::<()>().await;
        }
    }
}
