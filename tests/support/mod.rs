//! Shared test helpers: free ports, patient waits, real brokers (embedded rumqttd, or a
//! Mosquitto started on a free port), a real MQTT client owned by the test, a TCP relay that
//! can be cut to simulate a broker outage, and the core started against a broker.

#![allow(
    dead_code,
    unused_imports,
    missing_docs,
    reason = "each test and bench uses a part of the shared helpers"
)]
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is the failure report (benches include them too)"
)]

pub mod api;
pub mod broker;
pub mod client;
pub mod config_store;
pub mod documents;
pub mod handler;
pub mod headless;
pub mod process;
pub mod relay;
pub mod sio;

use alicia_config_manager::core::settings::{BrokerTarget, BrokerUrl, Settings};
use alicia_config_manager::core::{Core, CoreRuntime};
use std::path::Path;
use std::time::{Duration, Instant};

pub use broker::TestBroker;
pub use client::TestClient;
pub use documents::llm;
pub use relay::Relay;

/// The deadline for anything asynchronous: generous, CI shares 2 cores with the compiler.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A free TCP port on loopback (never 1883 or 3000: the OS picks from the ephemeral range).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `condition` holds, polling; panics with `what` after [`PATIENCE`].
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Settings for a core in `dir` talking to the broker on `port`.
pub fn settings_for(dir: &Path, port: u16) -> Settings {
    let mut settings = Settings::defaults_in(dir);
    settings.broker = BrokerTarget::External(BrokerUrl {
        tls: false,
        host: "127.0.0.1".into(),
        port,
    });
    settings
}

/// Starts the core against the broker on `port` and waits until it is connected.
pub async fn start_core(
    dir: &Path,
    port: u16,
    tweak: impl FnOnce(&mut Settings),
) -> (Core, CoreRuntime) {
    let mut settings = settings_for(dir, port);
    tweak(&mut settings);
    let (core, runtime) = Core::start(settings).await.expect("the core starts");
    let probe = core.clone();
    wait_until("the core is connected", move || probe.mqtt.is_connected()).await;
    (core, runtime)
}

/// Starts a manager of the fleet on the broker at `port` with `role`, no rate limit and the
/// settings `tweak` asks for, and waits until it has read the fleet's retained state.
pub async fn start_synced_manager(
    dir: &Path,
    port: u16,
    role: alicia_config_manager::core::fleet::RoleSetting,
    tweak: impl FnOnce(&mut Settings),
) -> (Core, CoreRuntime) {
    let (core, runtime) = start_core(dir, port, |s| {
        s.role = role;
        s.api.rate_limit_max = 0;
        tweak(s);
    })
    .await;
    let synced = core.clone();
    wait_until("the manager has read the fleet", move || {
        synced.fleet.state().synced
    })
    .await;
    (core, runtime)
}

/// The real binary in headless mode on `config_dir`, its REST server on `api_port`, on the
/// broker at `broker_port` (`None`: its embedded broker, on a free port): no rate limit,
/// warnings only, nothing from the caller's environment that would change it, output
/// discarded. Tests add or override what they need.
pub fn headless_command(
    config_dir: &Path,
    api_port: u16,
    broker_port: Option<u16>,
) -> std::process::Command {
    let mut command = std::process::Command::new(app_binary());
    command
        .arg("--headless")
        .env("CONFIG_PATH", config_dir)
        .env("PORT", api_port.to_string())
        .env("RATE_LIMIT_MAX", "0")
        .env("LOG_LEVEL", "warn")
        .env_remove("LOG_FILE")
        .env_remove("ERROR_LOG_FILE")
        // The rotated log files go to the test's folder, never the user's.
        .env("ALICIA_LOG_DIR", config_dir.join("logs"))
        .env_remove("ALICIA_ROLE")
        .env_remove("ALICIA_API_TOKEN")
        .env_remove("ALICIA_API_READ_TOKEN")
        .env_remove("ALICIA_API_BIND")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match broker_port {
        Some(port) => command
            .env("MQTT_BROKER", "127.0.0.1")
            .env("MQTT_PORT", port.to_string()),
        None => command
            .env_remove("MQTT_BROKER")
            .env("MQTT_PORT", free_port().to_string()),
    };
    command
}

/// Runs the real binary with `args` on `config_dir` (its embedded broker, warnings only) and
/// waits for it: for the subcommands that run and exit (`backup`, `restore`, `import`).
pub fn run_command(args: &[&str], config_dir: &Path) -> std::process::Output {
    std::process::Command::new(app_binary())
        .args(args)
        .env("CONFIG_PATH", config_dir)
        .env("ALICIA_LOG_DIR", config_dir.join("logs"))
        .env_remove("MQTT_BROKER")
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs")
}

/// The path of the app's binary, built by cargo for integration tests.
pub fn app_binary() -> &'static str {
    env!("CARGO_BIN_EXE_alicia-config-manager")
}

/// Asks `probe` every 100 ms until it says yes; panics with `what` after [`PATIENCE`].
pub async fn wait_for(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !probe().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the REST server at `base` (`http://host:port`) answers `/api/health` at all.
pub async fn wait_for_rest(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + PATIENCE;
    while http.get(format!("{base}/api/health")).send().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the REST server at {base} never answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `GET url`, its body as JSON (panics on a transport error or a body that is not JSON).
pub async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// A valid LLM service document (no key) for `service`, using `model`.
pub fn llm_document(service: &str, model: &str) -> serde_json::Value {
    documents::llm(service).model(model).build()
}

/// Runs each scenario (an `async fn(TestBroker)` of the test file) once on the embedded
/// broker and once on Mosquitto.
#[macro_export]
macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::TestBroker::embedded()).await;
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(broker) = super::TestBroker::mosquitto() {
                        super::$scenario(broker).await;
                    }
                }
            )*
        }
    };
}
