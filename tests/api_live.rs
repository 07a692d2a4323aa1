//! The server on a real socket: an HTTP client, and socket.io with the npm `socket.io-client`
//! (a client this project did not write): events on connect, after a PUT, per MQTT message,
//! after a health message; the handshake token; a stalled client during a burst.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::api_switch::ApiStatus;
use alicia_config_manager::core::config::MASK;
use alicia_config_manager::core::secret::Secret;
use alicia_config_manager::core::settings::Settings;
use alicia_config_manager::core::{Core, CoreRuntime};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::sio::SioClient;
use support::{TestBroker, TestClient, start_core};

struct Served {
    core: Core,
    addr: SocketAddr,
    broker: TestBroker,
    _runtime: CoreRuntime,
    _dir: tempfile::TempDir,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve(tweak: impl FnOnce(&mut Settings)) -> Served {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |s| {
        s.api.port = 0;
        s.api.rate_limit_max = 0;
        tweak(s);
    })
    .await;
    tokio::spawn(api::server::supervise(core.clone()));
    core.api.turn_on(core.settings.api.clone()).unwrap();
    let ApiStatus::Running { addr, .. } = core.api.settled().await else {
        panic!("the server did not start: {:?}", core.api.status())
    };
    Served {
        core,
        addr,
        broker,
        _runtime: runtime,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_client_over_a_real_socket() {
    let served = serve(|_| {}).await;
    let http = reqwest::Client::new();
    let health = support::get_json(&http, &served.url("/api/health")).await;
    assert_eq!(health["status"], "healthy");
    let document = json!({
        "service_name": "piper", "service_type": "tts", "enabled": true, "version": "1.0.0",
        "config": {"voice": "en_GB-alba", "endpoints": [{"type": "tts", "ip": "127.0.0.1", "port": 5002}]}
    });
    let created = http
        .put(served.url("/api/config/piper"))
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let stale = http
        .put(served.url("/api/config/piper"))
        .header("if-match", "\"1\"")
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let fresh = http
        .put(served.url("/api/config/piper"))
        .header("if-match", &etag)
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let system = support::get_json(&http, &served.url("/api/system")).await;
    assert_eq!(system["api"]["bind"], served.addr.to_string());

    served.core.api.turn_off();
    assert_eq!(served.core.api.settled().await, ApiStatus::Off);
    assert!(
        http.get(served.url("/api/health")).send().await.is_err(),
        "the switch stops the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_clients_hear_every_kind_of_change() {
    let served = serve(|_| {}).await;
    let mut live = SioClient::spawn(&served.url(""), &[]);
    live.expect("connect", |_| true).await;
    let configs = live.expect("config:update", |_| true).await;
    assert_eq!(configs["data"]["whisper-service"]["service_type"], "stt");
    let devices = live.expect("devices:update", |_| true).await;
    assert_eq!(devices["data"], json!([]));

    let mut document = configs["data"]["whisper-service"].clone();
    document["config"]["api_key"] = json!("sk-whisper-secret");
    let http = reqwest::Client::new();
    let put = http
        .put(served.url("/api/config/whisper-service"))
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let update = live
        .expect("config:update", |l| {
            l["data"]["whisper-service"]["config"]["api_key"] == MASK
        })
        .await;
    assert!(!update.to_string().contains("sk-whisper-secret"));

    let mqtt = TestClient::connect(served.broker.port).await;
    mqtt.publish_json(
        "alicia/device/lamp-1/state",
        &json!({"name": "Lamp", "room": "den", "on": true}),
        true,
    )
    .await;
    let message = live
        .expect("mqtt:message", |l| {
            l["data"]["topic"] == "alicia/device/lamp-1/state"
        })
        .await;
    assert_eq!(message["data"]["data"]["on"], true);
    assert!(message["data"]["timestamp"].is_string());
    let one = live.expect("device:update", |_| true).await;
    assert_eq!(one["data"]["id"], "lamp-1");
    let all = live
        .expect("devices:update", |l| {
            l["data"].as_array().is_some_and(|d| d.len() == 1)
        })
        .await;
    assert_eq!(all["data"][0]["room"], "den");

    mqtt.publish(
        "alicia/device/lamp-1/availability",
        b"offline".to_vec(),
        false,
    )
    .await;
    let text = live
        .expect("mqtt:message", |l| {
            l["data"]["topic"] == "alicia/device/lamp-1/availability"
        })
        .await;
    assert_eq!(
        text["data"]["data"], "offline",
        "a non-JSON payload is sent as text"
    );

    mqtt.publish_json(
        "alicia/system/health/whisper-service",
        &json!({"status": "unhealthy"}),
        false,
    )
    .await;
    let health = live
        .expect("health:update", |l| {
            l["data"]["service_name"] == "whisper-service"
        })
        .await;
    assert_eq!(health["data"]["status"], "unhealthy");
    assert!(health["data"]["timestamp"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_transport_works_too() {
    let served = serve(|_| {}).await;
    let mut live = SioClient::spawn(&served.url(""), &["--transport", "polling"]);
    live.expect("connect", |_| true).await;
    live.expect("config:update", |_| true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_needs_the_token_when_one_is_required() {
    let served = serve(|s| s.api.token = Some(Secret::new("tok-123"))).await;
    let mut anonymous = SioClient::spawn(&served.url(""), &[]);
    let refused = anonymous.expect("connect_error", |_| true).await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("Unauthorized"),
        "{refused}"
    );
    let mut wrong = SioClient::spawn(&served.url(""), &["--token", "tok-124"]);
    wrong.expect("connect_error", |_| true).await;
    let mut right = SioClient::spawn(&served.url(""), &["--token", "tok-123"]);
    right.expect("connect", |_| true).await;
    right.expect("config:update", |_| true).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(served.url("/api/config"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(served.url("/api/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_loses_its_oldest_messages_and_slows_no_one() {
    const BURST: u64 = 20_000;
    let served = serve(|_| {}).await;
    let release = tempfile::tempdir().unwrap();
    let resume_file = release.path().join("resume");
    let resume_arg = resume_file.display().to_string();
    let mut stalled = SioClient::spawn(
        &served.url(""),
        &["--count-mqtt", "--stall-until", &resume_arg],
    );
    stalled.expect("stalled", |_| true).await;
    let mut healthy = SioClient::spawn(&served.url(""), &["--count-mqtt"]);
    healthy.expect("connect", |_| true).await;
    healthy.expect("devices:update", |_| true).await;

    let mqtt = TestClient::connect(served.broker.port).await;
    let started = Instant::now();
    let publisher = tokio::spawn(async move {
        for i in 0..BURST {
            mqtt.client
                .publish(
                    format!("alicia/device/dev-{}/state", i % 100),
                    rumqttc::QoS::AtMostOnce,
                    false,
                    format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(2000)),
                )
                .await
                .unwrap();
        }
        mqtt
    });
    let http = reqwest::Client::new();
    let mut slowest_rest = Duration::ZERO;
    while !publisher.is_finished() {
        let asked = Instant::now();
        let answer = http.get(served.url("/api/health")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        slowest_rest = slowest_rest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _mqtt = publisher.await.unwrap();
    let counted = healthy
        .expect("count", |l| l["mqtt"].as_u64() == Some(BURST))
        .await;
    let healthy_done = started.elapsed();
    assert_eq!(counted["mqtt"], BURST);
    assert!(
        healthy.drain().iter().all(|l| l["event"] != "mqtt:dropped"),
        "the healthy client lost nothing"
    );
    assert!(
        slowest_rest < Duration::from_secs(1),
        "REST stayed responsive: slowest {slowest_rest:?}"
    );

    std::fs::write(&resume_file, b"go").unwrap();
    stalled.expect("resumed", |_| true).await;
    let dropped_notice = stalled.expect("mqtt:dropped", |_| true).await;
    let dropped = dropped_notice["data"]["count"].as_u64().unwrap();
    assert!(dropped > 0, "the stalled client was told what it missed");
    let total = stalled
        .expect("count", |l| {
            l["mqtt"].as_u64().is_some_and(|n| n + dropped >= BURST)
        })
        .await;
    assert_eq!(
        total["mqtt"].as_u64().unwrap() + dropped,
        BURST,
        "received + dropped = sent"
    );
    assert_eq!(
        total["last_topic"],
        format!("alicia/device/dev-{}/state", (BURST - 1) % 100),
        "the newest were kept"
    );
    // Memory stayed bounded: what the stalled client got after resuming is what the server held
    // for it (its 16 MiB queue and socketioxide's 1,024-packet buffer) plus what the kernel's
    // socket buffers held (counted generously as 8 MiB) — far less than the burst.
    let per_message = 2_000 + 64;
    let bound = api::live::MQTT_QUEUE_BYTES / per_message + 1_024 + 8 * 1024 * 1024 / per_message;
    let held = total["mqtt"].as_u64().unwrap();
    assert!(
        held as usize <= bound,
        "the stalled client was sent {held} messages after the stall: more than its bounded queue ({bound})"
    );
    eprintln!(
        "burst of {BURST}: healthy client had all in {healthy_done:?}; stalled client dropped {dropped}, got {held}; slowest REST {slowest_rest:?}"
    );
    assert!(served.core.mqtt.stats().messages_received >= BURST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_disconnect_leave_no_task_behind() {
    let served = serve(|_| {}).await;
    let cycles = |count: usize| {
        let url = served.url("");
        async move {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/sio-cycles.mjs");
            let output = tokio::process::Command::new("node")
                .arg(script)
                .arg(url)
                .arg(count.to_string())
                .output()
                .await
                .expect("node runs");
            assert!(
                String::from_utf8_lossy(&output.stdout).contains("\"done\""),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    cycles(10).await;
    // Tasks of the clients just gone end within a moment.
    let settled = |ceiling: usize| async move {
        let deadline = Instant::now() + support::PATIENCE;
        while alive() > ceiling {
            assert!(
                Instant::now() < deadline,
                "{} tasks still alive, expected at most {ceiling}",
                alive()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = alive();
    cycles(200).await;
    // Each leaked client would leave its pump task (and its socket) behind.
    settled(baseline + 10).await;
    eprintln!(
        "tasks alive: {baseline} before, {} after 200 connect/disconnect cycles",
        alive()
    );
}
