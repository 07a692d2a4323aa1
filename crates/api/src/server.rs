//! Serving the app on a socket, and following the core's switch: the supervisor starts the
//! server when it is turned on, restarts it when its settings change, stops it (gracefully:
//! socket.io clients are told, open requests get a few seconds) when it is turned off.

use super::{listener, router};
use alicia_core::Core;
use alicia_core::api_switch::{ApiDesired, ApiStatus};
use alicia_core::settings::{ApiSettings, ApiSettingsError};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use listener::GRACE;

/// A running server.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets open requests finish (up to a few seconds), and returns.
    pub async fn stop(self) {
        // An error only says the server has stopped already.
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(GRACE + Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings break their rules (off loopback without a token, a read token alone).
    #[error("{}", with_fix(.0))]
    Settings(#[from] ApiSettingsError),
    /// The server could not be built with these settings.
    #[error("the REST server on {0} could not be built with these settings (see the log)")]
    Unusable(SocketAddr),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A settings error with what fixes it.
fn with_fix(error: &ApiSettingsError) -> String {
    match error {
        ApiSettingsError::TokenRequired(_) => format!(
            "{error}. Set ALICIA_API_TOKEN (or api_token in the settings file), or bind 127.0.0.1"
        ),
        ApiSettingsError::ReadTokenWithoutToken => error.to_string(),
    }
}

/// Binds and serves the app until stopped.
pub async fn start(core: Core, settings: &ApiSettings) -> Result<RunningServer, StartError> {
    settings.validate()?;
    let requested = settings.addr();
    let listener = tokio::net::TcpListener::bind(requested)
        .await
        .map_err(|source| StartError::Bind {
            addr: requested,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: requested,
        source,
    })?;
    // A setting the HTTP layers cannot take must fail the start, not the supervisor.
    let app = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| router(core, settings)))
        .map_err(|_| StartError::Unusable(addr))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let max_connections = settings.max_connections;
    let task = tokio::spawn(async move {
        let shutdown = async move {
            // Either way the server stops: asked to, or its handle is gone.
            let _ = stopped.await;
        };
        listener::serve(listener, app, max_connections, shutdown).await;
    });
    Ok(RunningServer { addr, stop, task })
}

/// Follows the core's switch until the process ends; reports the status back to the core.
pub async fn supervise(core: Core) {
    let mut requests = core.api.requests();
    let mut running: Option<(ApiSettings, RunningServer)> = None;
    loop {
        let request = requests.borrow_and_update().clone();
        let number = request.number;
        let keep = matches!((&request.desired, &running), (ApiDesired::On(new), Some((current, _))) if new == current);
        if keep {
            core.api.report(number, core.api.status());
        } else {
            if let Some((_, server)) = running.take() {
                server.stop().await;
                tracing::info!("REST server stopped");
            }
            match &request.desired {
                ApiDesired::Off => core.api.report(number, ApiStatus::Off),
                ApiDesired::On(settings) => {
                    core.api.report(number, ApiStatus::Starting);
                    let status = match start(core.clone(), settings).await {
                        Ok(server) => {
                            let auth_required = settings.auth_required();
                            tracing::info!(
                                url = %format!("http://{}", server.addr),
                                auth_required,
                                "REST + socket.io server listening"
                            );
                            let status = ApiStatus::Running {
                                addr: server.addr,
                                auth_required,
                            };
                            running = Some((settings.clone(), server));
                            status
                        }
                        Err(error) => {
                            tracing::error!(%error, "the REST server did not start");
                            ApiStatus::Failed {
                                reason: error.to_string(),
                            }
                        }
                    };
                    core.api.report(number, status);
                }
            }
        }
        if requests.changed().await.is_err() {
            break;
        }
    }
    if let Some((_, server)) = running.take() {
        server.stop().await;
    }
}
