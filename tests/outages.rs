//! Broker outages, against the real binary and a real Mosquitto: Mosquitto is stopped and
//! started again and again while configs are edited over REST. After every return the
//! manager must be connected again within 5 s, must not have spun the CPU while the broker was
//! away, must have its subscriptions back, and must have re-published every retained config
//! (Mosquitto runs without persistence, so a restart forgets them all), including the edit
//! made during the outage.
//!
//! Outages: `ALICIA_OUTAGES` (default 5). Needs Mosquitto (skipped without it, unless
//! `ALICIA_REQUIRE_MOSQUITTO=1`).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::{PATIENCE, TestBroker, TestClient};

/// The broker must be back in use within this long after it returns.
const RECONNECT_WITHIN: Duration = Duration::from_secs(5);
/// CPU the manager may use while the broker is away, as a share of one core.
const AWAY_CPU_SHARE: f64 = 0.05;

/// The manager under test; killed when the test ends, however it ends.
struct Manager {
    child: Child,
    api: String,
    http: reqwest::Client,
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Manager {
    fn start(config_dir: &std::path::Path, broker_port: u16) -> Self {
        let api_port = support::free_port();
        let child = support::headless_command(config_dir, api_port, Some(broker_port))
            .spawn()
            .expect("the app starts");
        Self {
            child,
            api: format!("http://127.0.0.1:{api_port}"),
            http: reqwest::Client::new(),
        }
    }

    /// `services.mqtt` of `/api/health`, or `None` while the server does not answer.
    async fn mqtt_connected(&self) -> Option<bool> {
        let answer = self
            .http
            .get(format!("{}/api/health", self.api))
            .send()
            .await
            .ok()?;
        let health: Value = answer.json().await.ok()?;
        health["services"]["mqtt"].as_bool()
    }

    /// Waits until `/api/health` reports the broker link as `connected`; returns how long.
    async fn wait_for_mqtt(&self, connected: bool) -> Duration {
        let started = Instant::now();
        while self.mqtt_connected().await != Some(connected) {
            assert!(
                started.elapsed() < PATIENCE,
                "the manager never reported mqtt = {connected}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        started.elapsed()
    }

    async fn put(&self, service: &str, document: &Value) {
        let answer = self
            .http
            .put(format!("{}/api/config/{service}", self.api))
            .json(document)
            .send()
            .await
            .expect("the REST server answers");
        assert!(
            answer.status().is_success(),
            "PUT {service} refused: {}",
            answer.status()
        );
    }

    async fn device_known(&self, id: &str) -> bool {
        self.http
            .get(format!("{}/api/devices/{id}", self.api))
            .send()
            .await
            .is_ok_and(|a| a.status() == 200)
    }

    async fn stored_services(&self) -> Vec<String> {
        let all = support::get_json(&self.http, &format!("{}/api/config", self.api)).await;
        all.as_object()
            .expect("GET /api/config is an object of documents")
            .keys()
            .cloned()
            .collect()
    }

    /// CPU seconds (user + system) the process has used.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks / clock_ticks_per_second()
    }
}

fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outage_ends_with_everything_back_and_nothing_lost() {
    let outages: usize = std::env::var("ALICIA_OUTAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let Some(mut broker) = TestBroker::mosquitto() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::start(dir.path(), broker.port);
    manager.wait_for_mqtt(true).await;
    for n in 0..3 {
        manager
            .put(
                &format!("steady-{n}"),
                &support::llm_document(&format!("steady-{n}"), "base"),
            )
            .await;
    }

    let mut slowest_reconnect = Duration::ZERO;
    let mut busiest_away = 0.0f64;
    for outage in 0..outages {
        broker.stop();
        manager.wait_for_mqtt(false).await;

        // Away: edits are stored (and acknowledged) while the manager waits without spinning.
        let model = format!("edited-during-outage-{outage}");
        manager
            .put("outage-edit", &support::llm_document("outage-edit", &model))
            .await;
        let cpu_before = manager.cpu_seconds();
        let window = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let share = (manager.cpu_seconds() - cpu_before) / window.elapsed().as_secs_f64();
        busiest_away = busiest_away.max(share);
        assert!(
            share < AWAY_CPU_SHARE,
            "outage {outage}: {:.1} % of a core while the broker was away: a busy loop",
            share * 100.0
        );

        broker.restart();
        let reconnected = manager.wait_for_mqtt(true).await;
        slowest_reconnect = slowest_reconnect.max(reconnected);
        assert!(
            reconnected < RECONNECT_WITHIN,
            "outage {outage}: reconnected {reconnected:?} after the broker returned"
        );

        // Every stored config is retained again (the restarted broker forgot them all), and the
        // edit made while it was away is what it holds: a newcomer subscribing now gets them.
        let stored = manager.stored_services().await;
        assert!(stored.len() >= 5, "the store holds the test's services");
        let deadline = Instant::now() + PATIENCE;
        let watcher = loop {
            let mut newcomer = TestClient::connect(broker.port).await;
            newcomer.subscribe("alicia/config/+").await;
            let mut missing = stored.clone();
            for publish in newcomer.drain_for(Duration::from_millis(300)).await {
                let service = publish.topic.trim_start_matches("alicia/config/");
                let document: Value = serde_json::from_slice(&publish.payload).unwrap();
                let current =
                    service != "outage-edit" || document["config"]["model"] == model.as_str();
                if publish.retain && current {
                    missing.retain(|s| s != service);
                }
            }
            if missing.is_empty() {
                break newcomer;
            }
            assert!(
                Instant::now() < deadline,
                "outage {outage}: never re-published as retained: {missing:?}"
            );
        };

        // Subscriptions are back: a device heard now is known.
        let device = format!("after-outage-{outage}");
        watcher
            .publish_json(
                &format!("alicia/device/{device}/state"),
                &json!({"on": true}),
                false,
            )
            .await;
        let deadline = Instant::now() + PATIENCE;
        while !manager.device_known(&device).await {
            assert!(
                Instant::now() < deadline,
                "outage {outage}: the device topics were not subscribed again"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    eprintln!(
        "{outages} outages: slowest reconnect {slowest_reconnect:?} after the broker returned; \
         at most {:.2} % of a core while it was away",
        busiest_away * 100.0
    );
}
