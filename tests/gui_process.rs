//! The real desktop binary on a real display server (Xvfb) stops cleanly on SIGTERM, as
//! headless does: the window closes, the session stops (writes in flight stored, offline
//! presence published) and the process exits 0 — the kiosk's systemd user unit stops it so.
//!
//! Needs `Xvfb` (scripts/test installs it); without it the test says so and does nothing.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{PATIENCE, TestBroker, TestClient};

/// An X display of its own, on a number no other test or session uses.
struct Display {
    number: u32,
    server: std::process::Child,
}

impl Display {
    fn start() -> Option<Self> {
        let xvfb = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"]
            .into_iter()
            .find(|path| Path::new(path).exists())?;
        let number = (200..400)
            .map(|n| n + std::process::id() % 100)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())?;
        let server = Command::new(xvfb)
            .arg(format!(":{number}"))
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + PATIENCE;
        while !Path::new(&socket).exists() {
            assert!(Instant::now() < deadline, "Xvfb :{number} starts");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { number, server })
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_closes_and_the_app_exits_0_on_sigterm() {
    let Some(display) = Display::start() else {
        eprintln!("no Xvfb here: the desktop app's SIGTERM test did not run");
        return;
    };
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let mut presence = TestClient::connect(broker.port).await;
    presence
        .subscribe("alicia/system/health/config-manager")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = Command::new(support::app_binary())
        .env("DISPLAY", format!(":{}", display.number))
        .env("CONFIG_PATH", dir.path())
        .env("ALICIA_LOG_DIR", dir.path().join("logs"))
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker.port.to_string())
        .env("LOG_LEVEL", "warn")
        .env_remove("ALICIA_ROLE")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let healthy = presence
        .expect_json("alicia/system/health/config-manager", |p| {
            p["status"] == "healthy"
        })
        .await;
    let instance = healthy["instance_id"].as_str().unwrap().to_owned();
    // The window is up once the app has drawn; give it a moment past the core's start.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let sent = Command::new("kill")
        .args(["-TERM", &app.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = app.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the app exits after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0), "a clean exit");
    let goodbye: Value = presence
        .expect_json("alicia/system/health/config-manager", |p| {
            p["instance_id"] == instance.as_str() && p["status"] != "healthy"
        })
        .await;
    assert_eq!(goodbye["status"], "unhealthy", "the offline presence");
}
