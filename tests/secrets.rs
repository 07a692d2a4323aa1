//! Secrets over a full run of the real binary: the services' `api_key`s (sent over REST and
//! over MQTT `/set`), the MQTT password and the API token must never appear in a log line
//! (console, JSON log file, error log, at `trace` level), a REST answer, a socket.io event or
//! a masked export — while the stored copies keep every key, in files only their owner can
//! read. With a token set, every route but `/api/health` refuses requests without it.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::Core;
use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::transfer::export_documents;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::sio::SioClient;
use support::{PATIENCE, TestBroker, TestClient};

const REST_KEY: &str = "sk-rest-key-must-not-leak";
const MQTT_KEY: &str = "sk-mqtt-key-must-not-leak";
const PASSWORD: &str = "mqtt-password-must-not-leak";
const TOKEN: &str = "api-token-must-not-leak";

/// An LLM document for `service` holding `key`.
fn llm(service: &str, key: &str, model: &str) -> Value {
    support::llm(service).model(model).api_key(key).build()
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [REST_KEY, MQTT_KEY, PASSWORD, TOKEN] {
        assert!(!text.contains(secret), "{what} shows the secret {secret}");
    }
}

#[cfg(unix)]
fn assert_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} is readable by others",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_from_a_full_run() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    let log_file = dir.path().join("all.jsonl");
    let error_file = dir.path().join("errors.jsonl");
    let console_file = dir.path().join("stdout.txt");
    let console_errors = dir.path().join("stderr.txt");
    let api_port = support::free_port();
    let mut app = support::headless_command(&config_dir, api_port, Some(broker.port))
        .env("MQTT_USERNAME", "alicia")
        .env("MQTT_PASSWORD", PASSWORD)
        .env("ALICIA_API_TOKEN", TOKEN)
        .env("LOG_LEVEL", "trace")
        .env("LOG_FILE", &log_file)
        .env("ERROR_LOG_FILE", &error_file)
        .stdout(Stdio::from(std::fs::File::create(&console_file).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&console_errors).unwrap()))
        .spawn()
        .unwrap();

    let base = format!("http://127.0.0.1:{api_port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let health = http.get(format!("{base}/api/health")).send().await;
        if let Ok(answer) = health
            && answer.json::<Value>().await.unwrap()["services"]["mqtt"] == true
        {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the app never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut live = SioClient::spawn(&base, &["--token", TOKEN]);
    live.expect("connect", |_| true).await;
    live.expect("config:update", |_| true).await;
    let mut mqtt = TestClient::connect(broker.port).await;
    mqtt.subscribe("alicia/config/+").await;

    // Keys arrive over REST and over MQTT.
    let put = http
        .put(format!("{base}/api/config/rest-llm"))
        .bearer_auth(TOKEN)
        .json(&llm("rest-llm", REST_KEY, "m1"))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let mut answers = vec![put.text().await.unwrap()];
    mqtt.publish_json(
        "alicia/config/mqtt-llm/set",
        &llm("mqtt-llm", MQTT_KEY, "m2"),
        false,
    )
    .await;
    mqtt.expect_json("alicia/config/mqtt-llm", |d| {
        d["config"]["api_key"] == MQTT_KEY
    })
    .await;
    live.expect("config:update", |l| l["data"].get("mqtt-llm").is_some())
        .await;

    // Every read route, and the routes' refusals without the token.
    for path in [
        "/api/config",
        "/api/config/rest-llm",
        "/api/config/mqtt-llm",
        "/api/config/rest-llm/history",
        "/api/config/mqtt-llm/history",
        "/api/system",
        "/api/system/services",
        "/api/system/messages?limit=1000",
        "/api/health",
    ] {
        let answer = http
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answers.push(answer.text().await.unwrap());
        let anonymous = http.get(format!("{base}{path}")).send().await.unwrap();
        let expected = if path == "/api/health" { 200 } else { 401 };
        assert_eq!(anonymous.status(), expected, "{path} without the token");
    }
    let wrong = http
        .get(format!("{base}/api/config"))
        .bearer_auth("api-token-must-not-leaX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401, "a token one letter off is refused");
    answers.push(wrong.text().await.unwrap());

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(app.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + PATIENCE;
    while app.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the app did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let console = std::fs::read_to_string(&console_file).unwrap()
        + &std::fs::read_to_string(&console_errors).unwrap();
    let events: Vec<String> = live.drain().iter().map(Value::to_string).collect();

    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(log.lines().count() > 5, "the trace log was written");
    assert_no_secret("the console log", &console);
    assert_no_secret("the JSON log file", &log);
    assert_no_secret(
        "the error log",
        &std::fs::read_to_string(&error_file).unwrap_or_default(),
    );
    for answer in &answers {
        assert_no_secret("a REST answer", answer);
    }
    for event in &events {
        assert_no_secret("a socket.io event", event);
    }
    assert!(
        answers.iter().any(|a| a.contains("********")),
        "the keys are shown masked"
    );

    // The stored copies keep the keys, privately.
    let stored = std::fs::read_to_string(config_dir.join("config.json")).unwrap();
    assert!(stored.contains(REST_KEY) && stored.contains(MQTT_KEY));
    #[cfg(unix)]
    for file in ["config.json", "history.jsonl"] {
        assert_private(&config_dir.join(file));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_mask_the_keys_unless_asked() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, _runtime): (Core, _) = support::start_core(dir.path(), broker.port, |_| {}).await;
    core.config
        .put(
            "rest-llm",
            llm("rest-llm", REST_KEY, "m1"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let masked = export_documents(&core.config, false).to_string();
    assert_no_secret("a masked export", &masked);
    assert!(masked.contains("********"));
    let full = export_documents(&core.config, true).to_string();
    assert!(
        full.contains(REST_KEY),
        "an export with secrets, when asked, has them"
    );
}
