//! The desktop app (or, with `--kiosk`, the kiosk): the core on a background runtime, the
//! window on the main thread.

use super::runtime;
use super::shutdown_signal::ShutdownSignal;
use crate::core::settings::{Settings, SettingsFile};
use crate::desktop;
use crate::gui::{self, GuiOptions};
use crate::session::{ServeApi, Session};

/// Starts the core (and the REST server when the settings file says it was on), opens the
/// window, and stops everything cleanly once the window is closed.
pub fn run(settings: Settings, file: SettingsFile, demo: bool, kiosk: bool) -> anyhow::Result<()> {
    let runtime = runtime()?;
    // Listened for from the start (a signal during start-up is not lost); it closes the
    // window, and the session stops as when the window is closed by hand.
    let mut shutdown = {
        let _inside = runtime.enter();
        ShutdownSignal::install()
    };
    let serve = if file.api_enabled == Some(true) {
        ServeApi::On
    } else {
        ServeApi::Off
    };
    let session = runtime.block_on(Session::start(settings, demo, serve))?;
    let options = GuiOptions { kiosk, demo };
    gui::clock::set_local_offset(crate::core::clock::local_offset());
    let link = desktop::in_process(&session.core, runtime.handle());
    let handle = runtime.handle().clone();
    let shown = gui::run(link, options, file, move |ctx| {
        handle.spawn(async move {
            shutdown.received().await;
            tracing::info!("stop signal: closing the window");
            gui::close_window(&ctx);
        });
    });
    runtime.block_on(session.stop());
    shown.map_err(anyhow::Error::msg)
}
