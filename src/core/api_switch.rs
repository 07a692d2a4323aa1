//! The switch of the embedded REST + socket.io server. The core knows nothing of HTTP: it
//! holds the desired state (off, or on with its settings) and the reported status; the server
//! module watches the desired state, starts and stops the server, and reports back. The GUI's
//! switch and headless mode only flip the desired state.

use crate::core::settings::ApiSettings;
use std::net::SocketAddr;
use tokio::sync::watch;

/// What the admin wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiDesired {
    /// No server.
    Off,
    /// A server with these settings.
    On(ApiSettings),
}

/// What the server is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiStatus {
    /// Not running.
    Off,
    /// Binding its address.
    Starting,
    /// Serving.
    Running {
        /// The address bound (with the real port when 0 was asked for).
        addr: SocketAddr,
        /// True when a bearer token is required.
        auth_required: bool,
    },
    /// Could not start (the reason says what to change).
    Failed {
        /// Why.
        reason: String,
    },
}

/// The switch; cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiSwitch {
    desired: watch::Sender<ApiDesired>,
    status: watch::Sender<ApiStatus>,
}

impl Default for ApiSwitch {
    fn default() -> Self {
        Self {
            desired: watch::channel(ApiDesired::Off).0,
            status: watch::channel(ApiStatus::Off).0,
        }
    }
}

impl ApiSwitch {
    /// Asks for the server with these settings (restarting it if they changed).
    pub fn turn_on(&self, settings: ApiSettings) {
        self.desired.send_replace(ApiDesired::On(settings));
    }

    /// Asks for no server.
    pub fn turn_off(&self) {
        self.desired.send_replace(ApiDesired::Off);
    }

    /// Watches the desired state (for the server module).
    pub fn desired(&self) -> watch::Receiver<ApiDesired> {
        self.desired.subscribe()
    }

    /// The server's status now.
    pub fn status(&self) -> ApiStatus {
        self.status.borrow().clone()
    }

    /// Watches the status.
    pub fn watch_status(&self) -> watch::Receiver<ApiStatus> {
        self.status.subscribe()
    }

    /// Reports the status (for the server module).
    pub fn report(&self, status: ApiStatus) {
        self.status.send_replace(status);
    }

    /// Waits until the server is running, failed, or off after having been asked off.
    pub async fn settled(&self) -> ApiStatus {
        let mut status = self.watch_status();
        let wanted_on = matches!(*self.desired.borrow(), ApiDesired::On(_));
        let result = status
            .wait_for(|s| match s {
                ApiStatus::Starting => false,
                ApiStatus::Off => !wanted_on,
                ApiStatus::Running { .. } | ApiStatus::Failed { .. } => true,
            })
            .await;
        match result {
            Ok(status) => status.clone(),
            Err(_) => ApiStatus::Off,
        }
    }
}
