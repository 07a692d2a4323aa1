//! The seed's logging (CONTRACT §9), tried against the real binary as a seed user's `.env`
//! would: every winston level name logs at its mapped level and a word that is no level is
//! refused at start; the two log files appear in the platform's log folder by default and roll
//! over; socket.io connects and disconnects are logged; a subscription the broker refuses is an
//! error in the log, in `/api/system` and a check.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::process::{capture_log, terminate, wait_for_log};
use support::{PATIENCE, TestBroker, free_port, wait_for_rest};

/// Lines the manager logs at start, one per level (info, debug, trace).
const INFO_LINE: &str = "Alicia Config Manager running";
const DEBUG_LINE: &str = "open-files limit";
const TRACE_LINE: &str = "MQTT message";

/// Runs the headless manager with `LOG_LEVEL=level` until it has started and heard its own
/// presence, and returns what it logged on the console.
async fn console_log_at(level: &str) -> String {
    let http = reqwest::Client::new();
    // A free port can be taken by another test before the binary binds it: the binary then
    // stops at once, and the start is tried again on other ports.
    let mut tries = 0;
    let (mut child, log, base, _dir) = loop {
        tries += 1;
        let dir = tempfile::tempdir().unwrap();
        let api_port = free_port();
        let mut child = support::headless_command(dir.path(), api_port, None)
            .env("LOG_LEVEL", level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = capture_log(&mut child);
        let base = format!("http://127.0.0.1:{api_port}");
        let deadline = Instant::now() + PATIENCE;
        let up = loop {
            if http.get(format!("{base}/api/health")).send().await.is_ok() {
                break true;
            }
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            assert!(
                Instant::now() < deadline,
                "the REST server at {base} never answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if up {
            break (child, log, base, dir);
        }
        assert!(
            tries < 3,
            "the binary stopped at start three times: {}",
            log.lock()
        );
    };
    // Its own presence comes back from the broker: a message handled (trace).
    let deadline = Instant::now() + PATIENCE;
    while support::get_json(&http, &format!("{base}/api/system")).await["mqtt"]["messages_received"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(Instant::now() < deadline, "no message arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(terminate(&mut child).success());
    log.lock().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_winston_level_name_logs_at_its_level() {
    // (name, info shown, debug shown, trace shown)
    for (name, info, debug, trace) in [
        ("error", false, false, false),
        ("warn", false, false, false),
        ("info", true, false, false),
        ("http", true, false, false),
        ("verbose", true, true, false),
        ("debug", true, true, false),
        ("silly", true, true, true),
        ("trace", true, true, true),
    ] {
        let log = console_log_at(name).await;
        assert_eq!(log.contains(INFO_LINE), info, "{name}: info\n{log}");
        assert_eq!(log.contains(DEBUG_LINE), debug, "{name}: debug\n{log}");
        assert_eq!(log.contains(TRACE_LINE), trace, "{name}: trace\n{log}");
    }
}

#[test]
fn a_word_that_is_no_level_is_refused_with_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::headless_command(dir.path(), free_port(), None)
        .env("LOG_LEVEL", "loud")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("loud") && said.contains("verbose") && said.contains("silly"),
        "{said}"
    );
}

/// The files in `dir` whose names start with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_log_files_are_written_in_the_platform_folder_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, None)
        .env_remove("ALICIA_LOG_DIR")
        .env_remove("LOGS_DIRECTORY")
        .env("XDG_STATE_HOME", state.path())
        .env("LOG_LEVEL", "info")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    wait_for_rest(&http, &format!("http://127.0.0.1:{api_port}")).await;
    assert!(terminate(&mut child).success());
    let folder = state.path().join("alicia-config-manager");
    let combined = files_starting(&folder, "combined.log");
    let errors = files_starting(&folder, "error.log");
    assert_eq!(combined.len(), 1, "{combined:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let text = std::fs::read_to_string(&combined[0]).unwrap();
    assert!(text.contains(INFO_LINE), "{text}");
    assert!(
        text.lines()
            .all(|line| serde_json::from_str::<Value>(line).is_ok()),
        "JSON lines"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the log folder is private");

    // Errors go to both files; only errors to error.log.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let out = support::headless_command(dir.path(), taken_port, None)
        .env_remove("ALICIA_LOG_DIR")
        .env("XDG_STATE_HOME", state.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the REST port is taken");
    let errors = std::fs::read_to_string(&files_starting(&folder, "error.log")[0]).unwrap();
    assert!(errors.contains("cannot listen on"), "{errors}");
    assert!(
        errors
            .lines()
            .all(|line| serde_json::from_str::<Value>(line).unwrap()["level"] == "ERROR"),
        "{errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_files_roll_over() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, None)
        .env("ALICIA_LOG_ROTATION", "minutely")
        .env("LOG_LEVEL", "trace")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_for_rest(&http, &base).await;
    // Something to log every second until the minute turns (its presence heartbeat and
    // messages are logged at trace).
    let deadline = Instant::now() + Duration::from_secs(150);
    while files_starting(&logs, "combined.log").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "no second file: {:?}",
            files_starting(&logs, "combined.log")
        );
        let _ = http.get(format!("{base}/api/health")).send().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(terminate(&mut child).success());
    let files = files_starting(&logs, "combined.log");
    eprintln!("rolled over: {files:?}");
    assert!(
        files
            .iter()
            .all(|f| std::fs::metadata(f).unwrap().len() > 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_connects_and_disconnects_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, None)
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    let base = format!("http://127.0.0.1:{api_port}");
    wait_for_rest(&reqwest::Client::new(), &base).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/sio-cycles.mjs");
    let ran = tokio::process::Command::new("node")
        .args([script, &base, "2"])
        .output()
        .await
        .expect("node runs");
    assert!(ran.status.success());
    wait_for_log(&log, "socket.io client connected");
    wait_for_log(&log, "socket.io client disconnected");
    assert!(log.lock().contains("127.0.0.1"), "the client's address");
    assert!(terminate(&mut child).success());
}

/// Mosquitto with its dynamic-security plugin: `alicia-manager` may subscribe to everything
/// under `alicia/` except `alicia/device/#`, which the broker refuses with a failure code
/// (Mosquitto's `acl_file` never refuses a subscription; it only withholds messages).
fn broker_refusing_devices() -> Option<TestBroker> {
    let broker = TestBroker::mosquitto_with(|port, dir| {
        let file = dir.join("dynsec.json");
        let made = std::process::Command::new("mosquitto_ctrl")
            .args(["dynsec", "init"])
            .arg(&file)
            .args(["admin", "admin-password"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success());
        let plugin = [
            "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
            "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
            "/usr/lib/mosquitto_dynamic_security.so",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Mosquitto's dynamic-security plugin");
        format!(
            "user root\npersistence false\nlistener {port} 127.0.0.1\nallow_anonymous false\nplugin {plugin}\nplugin_opt_config_file {}\n",
            file.display()
        )
    })?;
    let port = broker.port.to_string();
    for command in [
        vec!["createClient", "alicia-manager", "-p", "manager-password"],
        vec!["createRole", "manager"],
        vec![
            "addRoleACL",
            "manager",
            "subscribePattern",
            "alicia/#",
            "allow",
            "1",
        ],
        vec![
            "addRoleACL",
            "manager",
            "publishClientSend",
            "alicia/#",
            "allow",
            "1",
        ],
        vec![
            "addRoleACL",
            "manager",
            "subscribePattern",
            "alicia/device/#",
            "deny",
            "5",
        ],
        vec!["addClientRole", "alicia-manager", "manager", "1"],
    ] {
        let done = std::process::Command::new("mosquitto_ctrl")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-u",
                "admin",
                "-P",
                "admin-password",
            ])
            .arg("dynsec")
            .args(&command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(done.success(), "mosquitto_ctrl {command:?}");
    }
    Some(broker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscription_is_an_error_in_the_log_in_the_system_info_and_a_check() {
    let Some(broker) = broker_refusing_devices() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, Some(broker.port))
        .env("MQTT_USERNAME", "alicia-manager")
        .env("MQTT_PASSWORD", "manager-password")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_for_rest(&http, &base).await;
    wait_for_log(&log, "refused the subscription");
    let system = support::get_json(&http, &format!("{base}/api/system")).await;
    assert_eq!(
        system["mqtt"]["subscriptions_refused"],
        serde_json::json!(["alicia/device/#"]),
        "{system}"
    );
    let checks = support::get_json(&http, &format!("{base}/api/system/checks")).await;
    let refused = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "subscription_refused")
        .unwrap_or_else(|| panic!("a check: {checks}"));
    assert_eq!(refused["severity"], "error");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("alicia/device/#")
    );
    let text = log.lock().clone();
    assert!(
        text.lines()
            .any(|l| l.contains("ERROR") && l.contains("alicia/device/#")),
        "{text}"
    );
    assert!(
        text.contains("subscribed"),
        "the others are logged too: {text}"
    );
    assert!(terminate(&mut child).success());
}
