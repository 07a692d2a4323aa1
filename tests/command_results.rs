//! Commands have results for every client (CONTRACT §9), tried against the real binary on a
//! real broker: a command answered, one failed and one never answered, read over REST (pending,
//! then ok / failed / timeout) and heard over socket.io as `command:result`.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::headless::Headless;
use support::sio::SioClient;
use support::{PATIENCE, TestBroker, TestClient};

async fn send(http: &reqwest::Client, manager: &Headless, command: &str) -> String {
    let answer = http
        .post(format!("{}/api/devices/lamp-1/command", manager.base))
        .json(&json!({"command": command}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let body: Value = answer.json().await.unwrap();
    body["request_id"].as_str().unwrap().to_owned()
}

async fn outcome(http: &reqwest::Client, manager: &Headless, request_id: &str) -> Value {
    manager
        .get(http, &format!("/api/devices/lamp-1/commands/{request_id}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_learns_what_became_of_a_command() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        command.env("ALICIA_COMMAND_TIMEOUT_SECS", "2");
    })
    .await;
    let mut lamp = TestClient::connect(broker.port).await;
    lamp.subscribe("alicia/device/lamp-1/command").await;
    lamp.publish_json("alicia/device/lamp-1/state", &json!({"on": false}), true)
        .await;
    let deadline = Instant::now() + PATIENCE;
    while manager.get(&http, "/api/devices/lamp-1").await["id"] != "lamp-1" {
        assert!(Instant::now() < deadline, "the lamp appears");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut live = SioClient::spawn(&manager.base, &[]);
    live.expect("devices:update", |_| true).await;

    let done = send(&http, &manager, "turn_on").await;
    let refused = send(&http, &manager, "self_destruct").await;
    let unanswered = send(&http, &manager, "sing").await;
    assert_eq!(outcome(&http, &manager, &done).await["status"], "pending");
    let sent = outcome(&http, &manager, &unanswered).await;
    assert_eq!(sent["command"], "sing");
    assert!(sent["sent_at"].as_str().is_some() && sent.get("finished_at").is_none());

    // The lamp answers two of them.
    for _ in 0..3 {
        let command = lamp.expect_on("alicia/device/lamp-1/command").await;
        let command: Value = serde_json::from_slice(&command.payload).unwrap();
        let request_id = command["request_id"].as_str().unwrap();
        let answer = if request_id == done {
            json!({"request_id": request_id, "ok": true})
        } else if request_id == refused {
            json!({"request_id": request_id, "ok": false, "error": "not on my watch"})
        } else {
            continue;
        };
        lamp.publish_json("alicia/device/lamp-1/command/result", &answer, false)
            .await;
    }

    let heard = live
        .expect("command:result", |l| l["data"]["request_id"] == done)
        .await;
    assert_eq!(heard["data"]["status"], "ok");
    let heard = live
        .expect("command:result", |l| l["data"]["request_id"] == refused)
        .await;
    assert_eq!(heard["data"]["status"], "failed");
    assert_eq!(heard["data"]["error"], "not on my watch");
    let heard = live
        .expect("command:result", |l| l["data"]["request_id"] == unanswered)
        .await;
    assert_eq!(heard["data"]["status"], "timeout");

    let ok = outcome(&http, &manager, &done).await;
    assert_eq!(ok["status"], "ok");
    assert!(ok["finished_at"].as_str().is_some());
    assert_eq!(outcome(&http, &manager, &refused).await["status"], "failed");
    let late = outcome(&http, &manager, &unanswered).await;
    assert_eq!(late["status"], "timeout");
    // A late answer changes nothing.
    lamp.publish_json(
        "alicia/device/lamp-1/command/result",
        &json!({"request_id": unanswered, "ok": true}),
        false,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        outcome(&http, &manager, &unanswered).await["status"],
        "timeout"
    );

    for path in [
        "/api/devices/lamp-1/commands/no-such-request".to_owned(),
        format!("/api/devices/lamp-2/commands/{done}"),
    ] {
        let answer = http
            .get(format!("{}{path}", manager.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }
}
