//! `GET /metrics` (CONTRACT §8) against the real core, its REST server on a loopback port and a
//! real broker: after a known sequence of messages, requests and changes, the output passes
//! `promtool check metrics` and its values equal the REST answers of the same moment; requests
//! to a thousand different `/api/devices/<id>` are one label, the route's pattern; two cores in
//! one process count apart; the API's access rule holds (the read-only token is enough).
//!
//! `promtool` comes from Debian's `prometheus` package (scripts/test installs it); without it
//! that check is skipped, unless `ALICIA_REQUIRE_PROMTOOL=1` (CI).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::secret::Secret;
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::{TestBroker, TestClient, free_port, start_core, wait_until};

struct Server {
    core: Core,
    runtime: CoreRuntime,
    http: reqwest::Client,
    base: String,
    _dir: tempfile::TempDir,
}

async fn server(broker: &TestBroker, token: Option<(&str, &str)>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.port = api_port;
        s.api.rate_limit_max = 0;
        if let Some((admin, reader)) = token {
            s.api.token = Some(Secret::new(admin));
            s.api.read_token = Some(Secret::new(reader));
        }
    })
    .await;
    tokio::spawn(alicia_config_manager::api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone()).unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{api_port}");
    let probe = http.clone();
    let health = format!("{base}/api/health");
    support::wait_for("the REST server answers", async || {
        probe.get(&health).send().await.is_ok()
    })
    .await;
    Server {
        core,
        runtime,
        http,
        base,
        _dir: dir,
    }
}

impl Server {
    async fn metrics(&self, token: Option<&str>) -> (u16, String) {
        let mut request = self.http.get(format!("{}/metrics", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap())
    }

    async fn json(&self, path: &str) -> Value {
        support::get_json(&self.http, &format!("{}{path}", self.base)).await
    }
}

/// Every sample of the text: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn promtool_check(text: &str) {
    let promtool = std::env::var("ALICIA_PROMTOOL").unwrap_or_else(|_| "promtool".to_owned());
    let child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var("ALICIA_REQUIRE_PROMTOOL").as_deref() != Ok("1"),
            "promtool is required (ALICIA_REQUIRE_PROMTOOL=1) but `{promtool}` does not run"
        );
        eprintln!("SKIPPED: promtool is not installed (scripts/test installs it)");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_pass_promtool_and_agree_with_the_rest_answers() {
    let broker = TestBroker::embedded();
    let server = server(&broker, None).await;
    // A known sequence: a healthy service with its config applied, devices on and off line,
    // an invalid message, two REST changes, a thousand requests for devices by id.
    let client = TestClient::connect(broker.port).await;
    let stored = server.core.config.get("whisper-service").unwrap();
    client
        .publish_json(
            "alicia/system/health/whisper-service",
            &json!({"status": "healthy"}),
            false,
        )
        .await;
    client
        .publish_json(
            "alicia/config/whisper-service/ack",
            &json!({"last_updated": stored.document["last_updated"], "applied": true}),
            false,
        )
        .await;
    for (id, online) in [
        ("lamp-1", "online"),
        ("lamp-2", "online"),
        ("plug-1", "offline"),
    ] {
        client
            .publish_json(
                &format!("alicia/device/{id}/state"),
                &json!({"on": true}),
                false,
            )
            .await;
        client
            .publish(
                &format!("alicia/device/{id}/availability"),
                online.as_bytes().to_vec(),
                false,
            )
            .await;
    }
    client
        .publish("alicia/device/lamp-1/state", b"not json".to_vec(), false)
        .await;
    for model in ["large-v3", "medium"] {
        let mut document = (*stored.document).clone();
        document["config"]["model"] = json!(model);
        let answer = server
            .http
            .put(format!("{}/api/config/whisper-service", server.base))
            .json(&document)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
    }
    let probe = server.core.clone();
    wait_until("the messages arrived", move || {
        probe.devices.counts() == (2, 3) && probe.mqtt.stats().messages_invalid >= 1
    })
    .await;
    for i in 0..1000 {
        let answer = server
            .http
            .get(format!("{}/api/devices/dev-{i}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404);
    }

    let before = server.json("/api/system").await;
    let (status, text) = server.metrics(None).await;
    let after = server.json("/api/system").await;
    assert_eq!(status, 200);
    promtool_check(&text);
    let metrics = samples(&text);
    let value = |key: &str| {
        *metrics
            .get(key)
            .unwrap_or_else(|| panic!("{key} in\n{text}"))
    };
    // Counters lie between the REST answers just before and just after.
    for (metric, field) in [
        ("alicia_mqtt_messages_received_total", "messages_received"),
        ("alicia_mqtt_messages_invalid_total", "messages_invalid"),
        ("alicia_mqtt_messages_published_total", "messages_published"),
        ("alicia_mqtt_reconnects_total", "reconnects"),
    ] {
        let (low, high) = (
            before["mqtt"][field].as_f64().unwrap(),
            after["mqtt"][field].as_f64().unwrap(),
        );
        let got = value(metric);
        assert!(
            low <= got && got <= high,
            "{metric} {got} not in {low}..={high}"
        );
    }
    assert_eq!(value("alicia_mqtt_connected"), 1.0);
    assert_eq!(value(r#"alicia_devices{state="online"}"#), 2.0);
    assert_eq!(value(r#"alicia_devices{state="offline"}"#), 1.0);
    assert_eq!(value(r#"alicia_config_changes_total{source="rest"}"#), 2.0);
    // The services and their states, as /api/system/services says.
    let services = server.json("/api/system/services").await;
    for row in services.as_array().unwrap() {
        let name = row["service_name"].as_str().unwrap();
        let state = row["config_state"].as_str().unwrap();
        let key = format!(r#"alicia_service_config_state{{service="{name}",state="{state}"}}"#);
        assert_eq!(value(&key), 1.0, "{key}");
    }
    assert_eq!(
        value(r#"alicia_service_up{service="whisper-service",type="stt"}"#),
        1.0
    );
    let checks = server.json("/api/system/checks").await;
    for severity in ["error", "warning"] {
        let found = checks
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["severity"] == severity)
            .count();
        assert_eq!(
            value(&format!(r#"alicia_checks{{severity="{severity}"}}"#)),
            found as f64
        );
    }
    // One label for a thousand paths: the route's pattern.
    assert_eq!(
        value(r#"alicia_http_requests_total{method="GET",route="/api/devices/{id}",status="404"}"#),
        1000.0
    );
    assert!(
        !text.contains("/api/devices/dev-"),
        "no raw path in a label"
    );
    assert!(
        value(
            r#"alicia_http_request_duration_seconds_count{method="GET",route="/api/devices/{id}"}"#
        ) >= 1000.0
    );
    for name in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(value(name) > 0.0, "{name}");
    }
    // Whole seconds of CPU: present, perhaps 0 this early.
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert_eq!(value("alicia_socketio_clients"), 0.0);
    assert_eq!(value("alicia_socketio_dropped_total"), 0.0);
    dashboard_reads_only_these_metrics(&metrics);
    server.runtime.shutdown(&server.core).await;
}

/// The Grafana dashboard (`packaging/grafana/`) asks only for metrics the manager serves.
fn dashboard_reads_only_these_metrics(metrics: &BTreeMap<String, f64>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/grafana/alicia-config-manager.json"
    );
    let dashboard: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let served: std::collections::BTreeSet<&str> = metrics
        .keys()
        .map(|key| key.split('{').next().unwrap())
        .collect();
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("alicia_") || word.starts_with("process_") {
                    asked += 1;
                    assert!(
                        served.contains(word),
                        "the dashboard's panel {:?} asks for {word}, which /metrics does not serve",
                        panel["title"]
                    );
                }
            }
        }
    }
    assert!(asked >= 14, "the dashboard reads the metrics ({asked})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_core_counts_apart_and_the_access_rule_holds() {
    let broker = TestBroker::embedded();
    let guarded = server(&broker, Some(("admin-token", "read-token"))).await;
    let other = server(&broker, None).await;
    for _ in 0..5 {
        other
            .http
            .get(format!("{}/api/config", other.base))
            .send()
            .await
            .unwrap();
    }
    let (status, _) = guarded.metrics(None).await;
    assert_eq!(status, 401, "a token is required");
    let (status, text) = guarded.metrics(Some("read-token")).await;
    assert_eq!(status, 200, "the read-only token is enough");
    assert!(
        !text.contains(r#"route="/api/config""#),
        "the other core's requests are not counted here:\n{text}"
    );
    let (_, text) = other.metrics(None).await;
    assert!(
        text.contains(
            r#"alicia_http_requests_total{method="GET",route="/api/config",status="200"} 5"#
        ),
        "{text}"
    );
    guarded.runtime.shutdown(&guarded.core).await;
    other.runtime.shutdown(&other.core).await;
}
