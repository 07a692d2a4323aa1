//! Frame CPU time of the desktop app under load: the real app, driven frame by frame as eframe
//! drives it, over a real core on the embedded broker, with 10,000 devices in the registry,
//! 100,000 messages in the ring and the simulator (its own process) publishing 10,000 msg/s.
//!
//! A frame is what eframe does on the UI thread before handing triangles to the GPU: draining
//! core events (`App::logic`), laying out and drawing every widget (`App::ui`), and tessellating
//! the shapes. Frames are paced at 60 per second, as on screen; per panel the p50 / p95 / p99 /
//! max of the UI thread's CPU time per frame are reported, and the p95 of wall time (which also
//! counts the moments the machine's cores were busy with the broker and the simulator).
//!
//! `cargo bench --bench frames`. Knobs: `ALICIA_BENCH_FRAMES` (frames measured per panel,
//! default 600 = 10 s), `ALICIA_BENCH_RATE` (default 10000), `ALICIA_BENCH_DEVICES` (default
//! 10000), `ALICIA_BENCH_RING` (default 100000), `ALICIA_BENCH_PANELS` (comma-separated
//! panel names to measure, default all).

#![allow(missing_docs, reason = "a bench binary has no public API")]
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

/// The product's allocator (see `src/main.rs`), so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/mod.rs"]
mod support;

use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::app::Tab;
use alicia_config_manager::gui::{AliciaApp, GuiOptions};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{TestBroker, start_core};

/// The frame period at 60 fps.
const FRAME: Duration = Duration::from_micros(16_667);

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The simulator, as its own process, for as long as the benchmark runs.
fn start_simulator(port: u16, devices: usize, rate: usize) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_alicia-config-manager"))
        .args(["simulate", "--services", "8", "--seed", "1"])
        .args(["--devices", &devices.to_string()])
        .args(["--rate", &rate.to_string()])
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", port.to_string())
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts")
}

/// CPU time this thread has used (wall time would also count the moments the 2-core machine
/// spends on the broker and the simulator).
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec.unsigned_abs(), now.tv_nsec.unsigned_abs() as u32)
}

/// A frame's cost.
struct FrameTime {
    cpu: Duration,
    wall: Duration,
}

/// Milliseconds at the given quantile of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

/// The app in an egui context of its own, as eframe holds it (no screen reader attached, so
/// no AccessKit tree is built — egui_kittest would build one every frame).
struct Window {
    ctx: egui::Context,
    app: AliciaApp,
    started: Instant,
}

impl Window {
    /// One frame as eframe does it on the UI thread; returns its CPU and wall time.
    fn frame(&mut self) -> FrameTime {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1600.0, 1000.0),
            )),
            time: Some(self.started.elapsed().as_secs_f64()),
            ..egui::RawInput::default()
        };
        let (started, cpu_started) = (Instant::now(), thread_cpu_time());
        let app = &mut self.app;
        let output = self.ctx.run_ui(input, |ui| {
            app.take_in_events(ui.ctx());
            app.draw(ui);
        });
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        FrameTime {
            cpu: thread_cpu_time() - cpu_started,
            wall: started.elapsed(),
        }
    }
}

/// A service with a settings schema and a few revisions, for the editor and history panels:
/// its name and its oldest retained revision.
fn prepare_editor_history(
    runtime: &tokio::runtime::Runtime,
    core: &alicia_config_manager::core::Core,
) -> (String, u64) {
    use alicia_config_manager::core::config::{ChangeSource, Precondition};
    let service = core
        .config
        .snapshot()
        .documents
        .keys()
        .find(|name| core.config.settings_schema(name).is_some())
        .cloned()
        .expect("the simulator's services announced settings schemas");
    for version in ["9.0.1", "9.0.2", "9.0.3"] {
        let mut document = (*core.config.get(&service).expect("stored").document).clone();
        document["version"] = serde_json::json!(version);
        runtime
            .block_on(
                core.config
                    .put(&service, document, ChangeSource::Gui, Precondition::None),
            )
            .expect("a valid change");
    }
    let oldest = core
        .config
        .history(&service)
        .last()
        .expect("a history")
        .revision;
    (service, oldest)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches without `--bench`: it only checks they build.
        println!("frames: run it with `cargo bench --bench frames`");
        return;
    }
    let frames = knob("ALICIA_BENCH_FRAMES", 600);
    let rate = knob("ALICIA_BENCH_RATE", 10_000);
    let devices = knob("ALICIA_BENCH_DEVICES", 10_000);
    let ring = knob("ALICIA_BENCH_RING", 100_000);
    let only = std::env::var("ALICIA_BENCH_PANELS").unwrap_or_default();
    println!(
        "# frames: {devices} devices, {ring} messages in the ring, {rate} msg/s arriving; \
         {frames} frames per panel at 60 fps; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (core, _core_runtime) = runtime.block_on(start_core(dir.path(), broker.port, |s| {
        s.message_log_capacity = ring;
        // The worst case for the monitor: the whole count kept, whatever it weighs.
        s.message_log_bytes = usize::MAX;
    }));
    let mut simulator = start_simulator(broker.port, devices, rate);

    let warm_up = Instant::now();
    while core.devices.counts().1 < devices || core.messages.len() < ring {
        assert!(
            warm_up.elapsed() < Duration::from_secs(600),
            "the fleet did not fill the registry and the ring: {} devices, {} messages",
            core.devices.counts().1,
            core.messages.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "warm-up: {} devices and {} messages after {:.1} s",
        core.devices.counts().1,
        core.messages.len(),
        warm_up.elapsed().as_secs_f64()
    );

    let ctx = egui::Context::default();
    let app = AliciaApp::new(
        &ctx,
        alicia_config_manager::desktop::in_process(&core, runtime.handle()),
        GuiOptions::default(),
        &SettingsFile::default(),
    );
    let mut window = Window {
        ctx,
        app,
        started: Instant::now(),
    };

    println!(
        "| panel | CPU p50 ms | CPU p95 ms | CPU p99 ms | CPU max ms | wall p95 ms | msgs received meanwhile |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let edited = prepare_editor_history(&runtime, &core);
    for (tab, name) in [
        (Tab::Services, "Services"),
        (Tab::Devices, "Devices"),
        (Tab::Health, "Health"),
        (Tab::Monitor, "MQTT monitor"),
        (Tab::Monitor, "Topic tree"),
        (Tab::Services, "Editor"),
        (Tab::Services, "History"),
    ] {
        if !only.is_empty() && !only.split(',').any(|o| name.starts_with(o)) {
            continue;
        }
        window.app.tab = tab;
        match name {
            "Editor" => {
                window.app.open_editor(&edited.0);
                window.app.show_editor_form();
            }
            "History" => window.app.show_editor_history(Some(edited.1)),
            // The tree with its busiest branch open: thousands of device topics below it.
            "Topic tree" => {
                window
                    .app
                    .show_topic_tree(&["alicia", "alicia/device", "alicia/system"])
            }
            _ => {}
        }
        for _ in 0..30 {
            window.frame();
        }
        let received_before = core.mqtt.stats().messages_received;
        let (mut cpu, mut wall) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
        let mut next = Instant::now();
        for _ in 0..frames {
            let time = window.frame();
            cpu.push(time.cpu);
            wall.push(time.wall);
            next += FRAME;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let received = core.mqtt.stats().messages_received - received_before;
        cpu.sort_unstable();
        wall.sort_unstable();
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {received} |",
            quantile(&cpu, 0.5),
            quantile(&cpu, 0.95),
            quantile(&cpu, 0.99),
            quantile(&cpu, 1.0),
            quantile(&wall, 0.95),
        );
    }
    simulator.kill().ok();
    simulator.wait().ok();
}
