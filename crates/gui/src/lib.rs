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

use alicia_model::settings::file::SettingsFile;
pub use app::AliciaApp;
use platform::Link;
use std::sync::Arc;

/// How the app is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuiOptions {
    /// Kiosk: full screen, large type, read-only until the PIN.
    pub kiosk: bool,
    /// Demo: a simulated fleet plays on the embedded broker.
    pub demo: bool,
}

/// Opens the window over `link` and runs until it is closed — by the user, or by
/// [`close_window`] — on the calling thread, which must be the main thread. `opened` is
/// handed the window's context once it exists (to close it on a signal).
pub fn run(
    link: Link,
    options: GuiOptions,
    settings_file: SettingsFile,
    opened: impl FnOnce(egui::Context) + 'static,
) -> Result<(), String> {
    let viewport = egui::ViewportBuilder::default()
        .with_title("Alicia Config Manager")
        .with_app_id("alicia-config-manager")
        .with_inner_size([1320.0, 820.0])
        .with_min_inner_size([900.0, 560.0])
        .with_fullscreen(options.kiosk);
    let native = eframe::NativeOptions {
        viewport,
        wgpu_options: lean_wgpu(),
        ..Default::default()
    };
    eframe::run_native(
        "Alicia Config Manager",
        native,
        Box::new(move |cc| {
            opened(cc.egui_ctx.clone());
            Ok(Box::new(AliciaApp::new(
                &cc.egui_ctx,
                link,
                options,
                &settings_file,
            )))
        }),
    )
    .map_err(|error| format!("the window could not open: {error}"))
}

/// Closes the window as on a stop signal: drafts are kept, the guard for unsaved edits does
/// not ask.
pub fn close_window(ctx: &egui::Context) {
    app::mark_stopping(ctx);
    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    ctx.request_repaint();
}

/// The renderer's setup, for memory (issue 21): the platform's primary API only (Vulkan,
/// Metal, DX12) — looking for an OpenGL adapter too loads a second driver for nothing — unless
/// `WGPU_BACKEND` asks for another, and the device's memory in small blocks (wgpu's default
/// suballocates large ones, which a software renderer keeps in the app's own memory).
fn lean_wgpu() -> eframe::WgpuConfiguration {
    use eframe::egui_wgpu::{WgpuSetup, WgpuSetupCreateNew};
    use eframe::wgpu;
    let mut setup = WgpuSetupCreateNew::without_display_handle();
    setup.instance_descriptor.backends =
        wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    let describe = Arc::clone(&setup.device_descriptor);
    setup.device_descriptor = Arc::new(move |adapter| wgpu::DeviceDescriptor {
        memory_hints: wgpu::MemoryHints::MemoryUsage,
        ..describe(adapter)
    });
    eframe::WgpuConfiguration {
        wgpu_setup: WgpuSetup::from(setup),
        ..Default::default()
    }
}
