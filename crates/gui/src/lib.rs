//! The desktop app (eframe/egui): schema-driven config forms, live tables of services,
//! devices and messages, health, the REST server's switch, settings, and a kiosk mode for the
//! home server's display. It knows the manager only through the model's asynchronous,
//! event-fed backend interface ([`alicia_model::backend`]) and this machine only through
//! [`platform::Platform`]: it never blocks on I/O and never reads the backend's state
//! synchronously — updates arrive in a bounded feed, answers as promises.

pub mod app;
pub mod clock;
pub mod drafts;
pub mod guard;
pub mod kiosk;
pub mod models;
pub mod palette;
pub mod panels;
pub mod platform;
pub mod tasks;
pub mod view;
pub mod widgets;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::run;

pub use app::AliciaApp;

/// How the app is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuiOptions {
    /// Kiosk: full screen, large type, read-only until the PIN.
    pub kiosk: bool,
    /// Demo: a simulated fleet plays on the embedded broker.
    pub demo: bool,
}

/// Closes the window as on a stop signal: drafts are kept, the guard for unsaved edits does
/// not ask.
pub fn close_window(ctx: &egui::Context) {
    app::mark_stopping(ctx);
    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    ctx.request_repaint();
}
