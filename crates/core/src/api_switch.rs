//! The switch of the embedded REST + socket.io server. The core knows nothing of HTTP: it
//! holds the desired state (off, or on with its settings) and the reported status; the server
//! module watches the desired state, starts and stops the server, and reports back. The GUI's
//! switch and headless mode only flip the desired state.

use crate::settings::{ApiSettings, ApiSettingsError};
pub use alicia_model::settings::api::ApiStatus;

use tokio::sync::watch;

/// What the admin wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiDesired {
    /// No server.
    Off,
    /// A server with these settings.
    On(ApiSettings),
}

/// A numbered request: the supervisor answers each number with a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Increases with every request.
    pub number: u64,
    /// What is asked.
    pub desired: ApiDesired,
}

/// The switch; cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiSwitch {
    desired: watch::Sender<Request>,
    status: watch::Sender<(u64, ApiStatus)>,
}

impl Default for ApiSwitch {
    fn default() -> Self {
        let off = Request {
            number: 0,
            desired: ApiDesired::Off,
        };
        Self {
            desired: watch::channel(off).0,
            status: watch::channel((0, ApiStatus::Off)).0,
        }
    }
}

impl ApiSwitch {
    /// Asks for the server with these settings (restarting it if they changed). Settings that
    /// break their rules are refused here and the server stays as it was (CONTRACT §10).
    pub fn turn_on(&self, settings: ApiSettings) -> Result<(), ApiSettingsError> {
        settings.validate()?;
        self.ask(ApiDesired::On(settings));
        Ok(())
    }

    /// Asks for no server.
    pub fn turn_off(&self) {
        self.ask(ApiDesired::Off);
    }

    fn ask(&self, desired: ApiDesired) {
        self.desired.send_modify(|request| {
            request.number += 1;
            request.desired = desired;
        });
    }

    /// Watches the requests (for the server module).
    pub fn requests(&self) -> watch::Receiver<Request> {
        self.desired.subscribe()
    }

    /// The server's status now.
    pub fn status(&self) -> ApiStatus {
        self.status.borrow().1.clone()
    }

    /// Watches the status (the number is the request it answers).
    pub fn watch_status(&self) -> watch::Receiver<(u64, ApiStatus)> {
        self.status.subscribe()
    }

    /// Reports the status reached for request `number` (for the server module).
    pub fn report(&self, number: u64, status: ApiStatus) {
        self.status.send_replace((number, status));
    }

    /// Waits until the latest request is answered: running, failed, or off.
    pub async fn settled(&self) -> ApiStatus {
        let wanted = self.desired.borrow().number;
        let mut status = self.watch_status();
        let answered = status
            .wait_for(|(number, status)| *number >= wanted && *status != ApiStatus::Starting)
            .await;
        match answered {
            Ok(answer) => answer.1.clone(),
            Err(_) => ApiStatus::Off,
        }
    }
}
