//! The core's tasks as one handle: the embedded broker, the store's report, and stopping
//! everything in order.

use super::*;

impl CoreRuntime {
    /// The embedded broker, when one was started.
    pub fn embedded_broker(&self) -> Option<EmbeddedBroker> {
        self.broker
    }

    /// What opening the config store found (for the start-up log).
    pub fn open_report(&self) -> &OpenReport {
        &self.open_report
    }

    /// Stores every change in flight, says goodbye to the broker (offline health,
    /// DISCONNECT) and stops every task.
    pub async fn shutdown(self, core: &Core) {
        core.config.shutdown().await;
        if let Err(error) = self.writer.await {
            tracing::error!(%error, "the config writer failed while stopping; changes queued after its failure were not stored");
        }
        // An error only says every task has stopped already.
        let _ = self.shutdown.send(true);
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, self.connection)
            .await
            .is_err()
        {
            tracing::warn!("the MQTT connection task did not stop in time");
        }
        for helper in self.helpers {
            if tokio::time::timeout(SHUTDOWN_TIMEOUT, helper)
                .await
                .is_err()
            {
                tracing::warn!("a background task did not stop in time");
            }
        }
    }
}

/// How long shutdown waits for each task.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
