//! The desktop app (eframe/egui) over the core: schema-driven config forms, live tables of
//! services, devices and messages, health, the REST server's switch, settings, and a kiosk
//! mode for the home server's display. It never blocks on I/O: core events arrive through a
//! bounded bridge, and writes run on the runtime as promises.

pub mod app;
pub mod bridge;
pub mod drafts;
pub mod guard;
pub mod kiosk;
pub mod models;
pub mod palette;
pub mod panels;
pub mod tasks;
pub mod widgets;

use alicia_core::Core;
use alicia_core::settings::SettingsFile;
pub use app::AliciaApp;
use std::sync::Arc;

/// How the app is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuiOptions {
    /// Kiosk: full screen, large type, read-only until the PIN.
    pub kiosk: bool,
    /// Demo: a simulated fleet plays on the embedded broker.
    pub demo: bool,
}

/// Opens the window and runs until it is closed — by the user, or when `stop` resolves (a
/// SIGTERM or SIGINT) — on the calling thread, which must be the main thread; the core keeps
/// running on `runtime`.
pub fn run(
    core: Core,
    runtime: tokio::runtime::Handle,
    options: GuiOptions,
    settings_file: SettingsFile,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
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
            let ctx = cc.egui_ctx.clone();
            runtime.spawn(async move {
                stop.await;
                tracing::info!("stop signal: closing the window");
                app::mark_stopping(&ctx);
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                ctx.request_repaint();
            });
            Ok(Box::new(AliciaApp::new(
                &cc.egui_ctx,
                core,
                runtime,
                options,
                &settings_file,
            )))
        }),
    )
    .map_err(|error| format!("the window could not open: {error}"))
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
