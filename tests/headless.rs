//! The real binary in headless mode: the newcomer's first start, refusals that lose nothing,
//! and a clean exit on SIGTERM.

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use support::process::{capture_log, terminate, wait_for_log};
use support::{TestBroker, TestClient, free_port};

fn headless(config_dir: &std::path::Path) -> Command {
    let mut command = support::headless_command(config_dir, free_port(), None);
    command
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_creates_the_default_config_and_runs_the_embedded_broker() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("fresh");
    let port = free_port();
    let mut child = headless(&config_dir)
        .env("MQTT_PORT", port.to_string())
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    wait_for_log(&log, "connected to the MQTT broker");
    let text = log.lock().clone();
    assert!(text.contains("created the default config"), "{text}");
    assert!(text.contains("embedded MQTT broker running"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(
        text.contains(&config_dir.join("config.json").display().to_string()),
        "{text}"
    );

    let config: Value =
        serde_json::from_slice(&std::fs::read(config_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["whisper-service"]["config"]["model"], "whisper-1");
    let mut client = TestClient::connect(port).await;
    client.subscribe("alicia/config/#").await;
    let retained = client
        .expect_json("alicia/config/whisper-service", |_| true)
        .await;
    assert_eq!(retained, config["whisper-service"]);

    assert!(terminate(&mut child).success(), "SIGTERM exits 0");
    wait_for_log(&log, "stopped");
}

const PRESENCE: &str = "alicia/system/health/config-manager";

/// The headless app on `broker`'s port, watched: a client on its presence, and the `healthy`
/// presence it announced.
struct Watched {
    presence: TestClient,
    child: std::process::Child,
    _log: std::sync::Arc<parking_lot::Mutex<String>>,
    alive: Value,
}

async fn start_watched(broker: &TestBroker, dir: &std::path::Path) -> Watched {
    let mut presence = TestClient::connect(broker.port).await;
    presence.subscribe(PRESENCE).await;
    let mut child = headless(dir)
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker.port.to_string())
        .spawn()
        .expect("the app starts");
    let log = capture_log(&mut child);
    let alive = presence
        .expect_json(PRESENCE, |h| h["status"] == "healthy")
        .await;
    Watched {
        presence,
        child,
        _log: log,
        alive,
    }
}

impl Watched {
    /// Sends SIGTERM, checks the exit is clean, and returns the goodbye (`unhealthy`) presence.
    async fn leave(self) -> Value {
        let (mut child, mut presence) = (self.child, self.presence);
        let status = tokio::task::spawn_blocking(move || terminate(&mut child))
            .await
            .expect("the wait for the exit ends");
        assert!(status.success(), "{status:?}");
        presence
            .expect_json(PRESENCE, |h| h["status"] == "unhealthy")
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_goodbye_to_the_broker_and_exits_zero() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let app = start_watched(&broker, dir.path()).await;
    let instance = app.alive["instance_id"].clone();
    let goodbye = app.leave().await;
    assert_eq!(goodbye["instance_id"], instance);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_goodbye_arrives_while_the_bus_is_busy() {
    // The app leaves with messages still coming in. A socket closed with unread data in it is
    // reset, and a reset can lose what was sent just before: the goodbye must survive that.
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut app = start_watched(&broker, dir.path()).await;
    let flooder = TestClient::connect(broker.port).await;
    let flood = tokio::spawn(async move {
        for n in 0_u64.. {
            let topic = format!("alicia/device/flood-{}/state", n % 500);
            flooder
                .publish(&topic, format!("{{\"n\":{n}}}"), false)
                .await;
        }
    });
    // Lets the stream build up before the app is asked to leave.
    let _ = app
        .presence
        .drain_for(std::time::Duration::from_millis(300))
        .await;
    app.leave().await;
    flood.abort();
}

#[test]
fn a_taken_port_is_explained_with_the_way_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = headless(dir.path())
        .env("MQTT_PORT", port.to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--broker"), "{stderr}");
    assert!(stderr.contains("MQTT_BROKER"), "{stderr}");
}

#[test]
fn a_broken_config_file_stops_the_start_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let broken = "{\n  \"whisper-service\": {\n    \"enabled\": true,,\n  }\n}\n";
    std::fs::write(&path, broken).unwrap();
    let output = headless(dir.path())
        .env("MQTT_PORT", free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(stderr.contains("line 3, column"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn secrets_from_the_environment_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("combined.log");
    let output = headless(&dir.path().join("cfg"))
        .env("MQTT_BROKER", "mqtt://127.0.0.1:1")
        .env("MQTT_USERNAME", "alicia")
        .env("MQTT_PASSWORD", "pw-must-not-leak")
        .env("ALICIA_API_TOKEN", "token-must-not-leak")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FILE", &log_file)
        .arg("--help")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("MQTT_BROKER"),
        "--help names the environment variables"
    );
    assert!(!help.contains("pw-must-not-leak") && !help.contains("token-must-not-leak"));

    let mut child = headless(&dir.path().join("cfg"))
        .env("MQTT_BROKER", "mqtt://127.0.0.1:1")
        .env("MQTT_USERNAME", "alicia")
        .env("MQTT_PASSWORD", "pw-must-not-leak")
        .env("ALICIA_API_TOKEN", "token-must-not-leak")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FILE", &log_file)
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    wait_for_log(&log, "cannot reach the MQTT broker");
    assert!(terminate(&mut child).success());
    let file = std::fs::read_to_string(&log_file).unwrap();
    assert!(file.lines().count() > 3, "the JSON log was written");
    assert!(
        file.lines()
            .all(|line| serde_json::from_str::<Value>(line).is_ok()),
        "JSON lines"
    );
    for text in [file.as_str(), log.lock().as_str()] {
        assert!(!text.contains("pw-must-not-leak"));
        assert!(!text.contains("token-must-not-leak"));
    }
}

#[test]
fn serving_off_loopback_without_a_token_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let output = headless(dir.path())
        .env("MQTT_PORT", free_port().to_string())
        .env("ALICIA_API_BIND", "0.0.0.0")
        .env_remove("ALICIA_API_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
    assert!(stderr.contains("ALICIA_API_TOKEN"), "{stderr}");
}

#[test]
fn a_taken_rest_port_stops_the_start() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let output = headless(dir.path())
        .env("MQTT_PORT", free_port().to_string())
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}
