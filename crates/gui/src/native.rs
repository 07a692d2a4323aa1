//! The desktop's window (not in a browser): eframe's native runner with a lean renderer.

use super::{AliciaApp, GuiOptions};
use crate::platform::Link;
use alicia_model::settings::file::SettingsFile;
use std::sync::Arc;

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
