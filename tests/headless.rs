//! The real binary in headless mode: the newcomer's first start, refusals that lose nothing,
//! and a clean exit on SIGTERM.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::Value;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{TestBroker, TestClient, free_port};

fn headless(config_dir: &std::path::Path) -> Command {
    let mut command = support::headless_command(config_dir, free_port(), None);
    command.env("LOG_LEVEL", "info").stderr(Stdio::piped());
    command
}

/// Reads the child's stderr on a thread; returns a handle to what it has written so far.
fn capture_stderr(child: &mut Child) -> std::sync::Arc<parking_lot::Mutex<String>> {
    let mut stderr = child.stderr.take().unwrap();
    let text = std::sync::Arc::new(parking_lot::Mutex::new(String::new()));
    let sink = std::sync::Arc::clone(&text);
    std::thread::Builder::new()
        .name("child-stderr".into())
        .spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        })
        .unwrap();
    text
}

fn wait_for_log(log: &parking_lot::Mutex<String>, needle: &str) {
    let deadline = Instant::now() + support::PATIENCE;
    while !log.lock().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{}",
            log.lock()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + support::PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the app did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
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
    let log = capture_stderr(&mut child);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_goodbye_to_the_broker_and_exits_zero() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut client = TestClient::connect(broker.port).await;
    client
        .subscribe("alicia/system/health/config-manager")
        .await;
    let mut child = headless(dir.path())
        .env("MQTT_BROKER", "127.0.0.1")
        .env("MQTT_PORT", broker.port.to_string())
        .spawn()
        .unwrap();
    let _log = capture_stderr(&mut child);
    let alive = client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "healthy"
        })
        .await;
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
    let goodbye = client
        .expect_json("alicia/system/health/config-manager", |h| {
            h["status"] == "unhealthy"
        })
        .await;
    assert_eq!(goodbye["instance_id"], alive["instance_id"]);
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
    let log = capture_stderr(&mut child);
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
