//! Real brokers for tests: the embedded rumqttd, or Mosquitto on a free port.

use super::{PATIENCE, free_port};
use alicia_config_manager::core::broker::{BrokerLimits, start_embedded_broker};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A broker the test owns.
pub struct TestBroker {
    pub port: u16,
    pub name: &'static str,
    mosquitto: Option<Mosquitto>,
}

struct Mosquitto {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl TestBroker {
    /// The embedded broker (rumqttd) on a free port, in this process.
    pub fn embedded() -> Self {
        Self::embedded_on(free_port())
    }

    /// The embedded broker on a given port.
    pub fn embedded_on(port: u16) -> Self {
        start_embedded_broker(
            SocketAddr::from(([127, 0, 0, 1], port)),
            None,
            BrokerLimits::default(),
        )
        .expect("embedded broker starts");
        Self {
            port,
            name: "embedded",
            mosquitto: None,
        }
    }

    /// Mosquitto on a free port, or `None` (test skipped) when it is not installed; with
    /// `ALICIA_REQUIRE_MOSQUITTO=1` a missing Mosquitto fails the test instead.
    pub fn mosquitto() -> Option<Self> {
        Self::mosquitto_with(|port, _dir| {
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
            )
        })
    }

    /// Mosquitto with a configuration of the test's own: `configure(port, dir)` may write
    /// files (certificates, password files) into `dir` and returns the config text.
    pub fn mosquitto_with(configure: impl FnOnce(u16, &std::path::Path) -> String) -> Option<Self> {
        let Some(binary) = mosquitto_binary() else {
            assert!(
                std::env::var("ALICIA_REQUIRE_MOSQUITTO").as_deref() != Ok("1"),
                "Mosquitto is required (ALICIA_REQUIRE_MOSQUITTO=1) but not installed: apt-get install mosquitto"
            );
            eprintln!("SKIPPED: mosquitto is not installed (apt-get install mosquitto)");
            return None;
        };
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let config = configure(port, dir.path());
        std::fs::write(dir.path().join("mosquitto.conf"), config).unwrap();
        let mut broker = Self {
            port,
            name: "mosquitto",
            mosquitto: Some(Mosquitto { dir, child: None }),
        };
        broker.start_with(&binary);
        Some(broker)
    }

    /// `mqtt://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// True for Mosquitto (which can be stopped and started).
    pub fn is_mosquitto(&self) -> bool {
        self.mosquitto.is_some()
    }

    /// Stops Mosquitto (retained messages are lost: it runs without persistence).
    pub fn stop(&mut self) {
        let mosquitto = self
            .mosquitto
            .as_mut()
            .expect("only Mosquitto can be stopped");
        if let Some(mut child) = mosquitto.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts Mosquitto again on the same port.
    pub fn restart(&mut self) {
        let binary = mosquitto_binary().unwrap();
        self.start_with(&binary);
    }

    fn start_with(&mut self, binary: &str) {
        let port = self.port;
        let mosquitto = self.mosquitto.as_mut().unwrap();
        let log = std::fs::File::create(mosquitto.dir.path().join("mosquitto.log")).unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let child = Command::new(binary)
                .arg("-c")
                .arg(mosquitto.dir.path().join("mosquitto.conf"))
                .stdout(Stdio::null())
                .stderr(log.try_clone().unwrap())
                .spawn()
                .expect("mosquitto starts");
            mosquitto.child = Some(child);
            if wait_for_port(port, Duration::from_secs(5)) {
                return;
            }
            // The port may still be held by the previous instance: try again.
            if let Some(mut child) = mosquitto.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if self.mosquitto.is_some() {
            self.stop();
        }
    }
}

fn mosquitto_binary() -> Option<String> {
    [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
        "/usr/local/bin/mosquitto",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .map(str::to_owned)
}

/// True once something accepts TCP connections on the port.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
