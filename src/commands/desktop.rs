//! The desktop app (or, with `--kiosk`, the kiosk): the core on a background runtime, the
//! window on the main thread.

use super::runtime;
use crate::core::settings::{Settings, SettingsFile};
use crate::gui::{self, GuiOptions};
use crate::session::{ServeApi, Session};

/// Starts the core (and the REST server when the settings file says it was on), opens the
/// window, and stops everything cleanly once the window is closed.
pub fn run(settings: Settings, file: SettingsFile, demo: bool, kiosk: bool) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let serve = if file.api_enabled == Some(true) {
        ServeApi::On
    } else {
        ServeApi::Off
    };
    let session = runtime.block_on(Session::start(settings, demo, serve))?;
    let options = GuiOptions { kiosk, demo };
    let shown = gui::run(
        session.core.clone(),
        runtime.handle().clone(),
        options,
        file,
    );
    runtime.block_on(session.stop());
    shown.map_err(anyhow::Error::msg)
}
