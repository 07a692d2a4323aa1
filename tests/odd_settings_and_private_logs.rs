//! Trust in the process (CONTRACT §6), tried against the real binary: a login written in the
//! broker's address works and is never shown; a stored time of year 9999 breaks nothing;
//! `FRONTEND_URL=*` allows any origin and leaves the process stoppable; log files are private.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::process::{capture_log, terminate, wait_for_log};
use support::{PATIENCE, TestBroker, free_port, wait_for_rest};

const PASSWORD: &str = "s3cret-in-the-url";

/// Mosquitto that wants user `alicia` with [`PASSWORD`].
fn broker_with_a_login() -> Option<TestBroker> {
    TestBroker::mosquitto_with(|port, dir| {
        let passwords = dir.join("passwd");
        let made = std::process::Command::new("mosquitto_passwd")
            .arg("-c")
            .arg("-b")
            .arg(&passwords)
            .args(["alicia", PASSWORD])
            .status()
            .unwrap();
        assert!(made.success());
        format!(
            "user root\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n",
            passwords.display()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_in_the_broker_url_is_used_and_never_shown() {
    let Some(broker) = broker_with_a_login() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, None)
        .env(
            "MQTT_BROKER",
            format!("mqtt://alicia:{PASSWORD}@127.0.0.1:{}", broker.port),
        )
        .env("LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_for_rest(&http, &base).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let system = support::get_json(&http, &format!("{base}/api/system")).await;
        if system["mqtt"]["connected"] == true {
            assert!(!system.to_string().contains(PASSWORD));
            assert_eq!(
                system["mqtt"]["url"],
                format!("mqtt://127.0.0.1:{}", broker.port)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never connected with the URL's login"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_log(&log, "connected to the MQTT broker");
    assert!(terminate(&mut child).success());
    assert!(!log.lock().contains(PASSWORD), "the log shows the password");

    // An address that does not parse is refused without showing the login.
    let refused = std::process::Command::new(support::app_binary())
        .arg("--headless")
        .env("CONFIG_PATH", dir.path())
        .env(
            "MQTT_BROKER",
            format!("mqtt://alicia:{PASSWORD}@host:notaport"),
        )
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("invalid port"), "{said}");
    assert!(!said.contains(PASSWORD), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_time_of_year_9999_breaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut document =
        alicia_config_manager::core::config::seed_default_document("9999-12-31T23:59:59.999Z");
    document["config"]["model"] = json!("before");
    let file = json!({"whisper-service": document});
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec_pretty(&file).unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let manager = Headless::start_in(dir, None, &[], &http, |_| {}).await;
    for model in ["after", "again"] {
        let mut changed = document.clone();
        changed["config"]["model"] = json!(model);
        let answer = http
            .put(format!("{}/api/config/whisper-service", manager.base))
            .json(&changed)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
    let stored = manager.get(&http, "/api/config/whisper-service").await;
    assert_eq!(stored["config"]["model"], "again");
    let stamp = stored["last_updated"].as_str().unwrap();
    assert!(
        stamp.starts_with("20"),
        "stamped now, not after 9999: {stamp}"
    );
    let health = manager.get(&http, "/api/health").await;
    assert_eq!(health["services"]["config"], true);
    let history = manager
        .get(&http, "/api/config/whisper-service/history")
        .await;
    assert_eq!(history.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontend_url_star_allows_any_origin_and_the_process_stays_stoppable() {
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, None)
        .env("FRONTEND_URL", "*")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    wait_for_rest(&http, &base).await;
    let answer = http
        .get(format!("{base}/api/config"))
        .header("Origin", "http://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "*",
        "any origin, without credentials"
    );
    assert!(
        answer
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    assert!(terminate(&mut child).success(), "SIGTERM stops it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (all, errors) = (logs.path().join("all.log"), logs.path().join("errors.log"));
    let http = reqwest::Client::new();
    let manager = Headless::start_with(None, &[], &http, |command| {
        command
            .env("LOG_FILE", &all)
            .env("ERROR_LOG_FILE", &errors)
            .env("LOG_LEVEL", "info");
    })
    .await;
    let _ = dir;
    use std::os::unix::fs::PermissionsExt;
    for file in [&all, &errors] {
        let deadline = Instant::now() + PATIENCE;
        while !file.exists() {
            assert!(
                Instant::now() < deadline,
                "{} was not created",
                file.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    let system: Value = manager.get(&http, "/api/system").await;
    assert!(system["version"].is_string());
}
