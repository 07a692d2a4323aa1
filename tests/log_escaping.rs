//! Logs say what came (CONTRACT §10), tried against the real binary: text from the bus — a
//! topic (through the embedded broker; Mosquitto refuses control characters in topics) and a
//! payload's `request_id` — that carries a newline, an escape sequence and C1 characters
//! never forges a log line nor reaches the console or the JSON log file raw: the console shows
//! Rust escapes, the file JSON escapes, and the text stays a field of its line.

mod support;

use std::process::Stdio;
use support::process::{capture_log, terminate, wait_for_log};
use support::{TestBroker, free_port, wait_for_rest};

/// The characters CONTRACT §10 names, and none of them may reach a log raw.
fn is_forbidden(c: char) -> bool {
    let code = u32::from(c);
    (code < 0x20 && c != '\n') || code == 0x7f || (0x80..=0x9f).contains(&code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_the_bus_never_forges_a_log_line() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let mut child = support::headless_command(dir.path(), api_port, Some(broker.port))
        .env("LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = capture_log(&mut child);
    let http = reqwest::Client::new();
    wait_for_rest(&http, &format!("http://127.0.0.1:{api_port}")).await;
    let client = support::client::TestClient::connect(broker.port).await;
    let forged =
        "alicia/device/x\nERROR alicia forged: the admin token is 1234\u{1b}[2J\u{7f}\u{9b}/state";
    client.publish(forged, "{}", false).await;
    wait_for_log(&log, "invalid MQTT message ignored");
    let request_id = r"r1\nERROR alicia forged too\u001b[2J\u0085";
    client
        .publish(
            "alicia/device/d1/command/result",
            format!(r#"{{"request_id": "{request_id}", "ok": true}}"#),
            false,
        )
        .await;
    wait_for_log(&log, "command result");
    assert!(terminate(&mut child).success());
    let console = log.lock().clone();
    for line in console.lines() {
        assert!(
            !line.trim_start().starts_with("ERROR alicia forged"),
            "a forged line on the console:\n{console}"
        );
        assert!(
            !line.chars().any(is_forbidden),
            "a raw control character on the console: {line:?}"
        );
    }
    let shown = console
        .lines()
        .find(|line| line.contains("invalid MQTT message ignored"))
        .unwrap();
    assert!(
        shown.contains(r"x\nERROR alicia forged") && shown.contains(r"\u{1b}[2J"),
        "the topic is shown with Rust escapes: {shown}"
    );
    // The JSON log file: one parsable line per event, the topic a field with JSON escapes.
    let logs = dir.path().join("logs");
    let combined = std::fs::read_dir(&logs)
        .unwrap()
        .filter_map(Result::ok)
        .find(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("combined.log")
        })
        .expect("the combined log file");
    let text = std::fs::read_to_string(combined.path()).unwrap();
    let mut found = false;
    let mut found_result = false;
    for line in text.lines() {
        assert!(
            !line.chars().any(is_forbidden),
            "a raw control character in the JSON log: {line:?}"
        );
        let event: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        if event["fields"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("r1\nERROR alicia forged too"))
        {
            found_result = true;
        }
        if let Some(topic) = event["fields"]["topic"].as_str()
            && topic.contains("forged")
        {
            found = true;
            assert_eq!(topic, forged, "the field holds exactly what came");
            assert!(
                line.contains(r"\u007f") && line.contains(r"\u009b"),
                "{line}"
            );
            assert!(
                !event["fields"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("forged"),
                "untrusted text is a field, never the message: {line}"
            );
        }
    }
    assert!(found, "the invalid message was logged to the file:\n{text}");
    assert!(
        found_result,
        "the command result was logged to the file:\n{text}"
    );
}
