//! Nothing unauthenticated is held large (CONTRACT §10), tried against the real binary with
//! raw engine.io sessions (`tests/js/sio-raw.mjs`): CONNECTs of 15 MiB from clients without a
//! token, in parallel, leave the process small, on loopback and bound to 0.0.0.0 with a
//! token; an `auth` over 4 KiB is refused like a wrong token and its session ends; at most 64
//! sessions that have not joined exist at once, the next handshake gets 503.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::TestBroker;
use support::headless::Headless;

const MIB: u64 = 1024 * 1024;

/// Runs `node tests/js/sio-raw.mjs ARGS…` to its end; its JSON lines.
async fn raw_sessions(args: &[&str]) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/sio-raw.mjs");
    let output = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("node runs (install Node.js and `npm ci` in tests/js; scripts/test does)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("\"done\""),
        "the sessions ran: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The highest RSS seen while `work` runs, sampled every 50 ms.
async fn peak_rss_during<T>(manager: &Headless, work: impl Future<Output = T>) -> (T, u64) {
    let mut work = std::pin::pin!(work);
    let mut peak = manager.rss_bytes();
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            done = &mut work => {
                peak = peak.max(manager.rss_bytes());
                return (done, peak);
            }
            _ = ticks.tick() => peak = peak.max(manager.rss_bytes()),
        }
    }
}

async fn bombed(manager: &Headless, token: Option<&str>) {
    let base = manager.base.clone();
    let before = manager.rss_bytes();
    let mut args = vec!["bomb", base.as_str(), "8", "15728640"];
    if let Some(token) = token {
        args.push(token);
    }
    let (lines, peak) = peak_rss_during(manager, raw_sessions(&args)).await;
    let connected = lines
        .iter()
        .filter(|line| line["outcome"] == "connected")
        .count();
    eprintln!(
        "8 CONNECTs of 15 MiB (token {}): RSS {} MiB before, peak {} MiB",
        token.is_some(),
        before / MIB,
        peak / MIB
    );
    assert_eq!(connected, 0, "no 15 MiB CONNECT gets in: {lines:?}");
    assert!(
        peak < before + 64 * MIB,
        "8 CONNECTs of 15 MiB took the RSS from {} to {} MiB",
        before / MIB,
        peak / MIB
    );
    // The server still serves live clients.
    let lines = raw_sessions(&{
        let mut args = vec!["bomb", base.as_str(), "1", "100"];
        if let Some(token) = token {
            args.push(token);
        }
        args
    })
    .await;
    assert_eq!(lines[0]["outcome"], "connected", "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_bombs_without_a_token_leave_the_process_small_on_loopback() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    bombed(&manager, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_bombs_without_a_token_leave_the_process_small_off_loopback() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        command
            .env("ALICIA_API_BIND", "0.0.0.0")
            .env("ALICIA_API_TOKEN", "bomb-test-token");
    })
    .await;
    let base = manager.base.clone();
    // Without the token: refused, and small.
    let before = manager.rss_bytes();
    let (lines, peak) =
        peak_rss_during(&manager, raw_sessions(&["bomb", &base, "8", "15728640"])).await;
    eprintln!(
        "off loopback, 8 CONNECTs of 15 MiB without a token: RSS {} → peak {} MiB",
        before / MIB,
        peak / MIB
    );
    assert!(lines.iter().all(|line| line["outcome"] != "connected"));
    assert!(peak < before + 64 * MIB, "peak {} MiB", peak / MIB);
    // With it, a normal CONNECT gets in; 15 MiB ones do not, and hold nothing either.
    let lines = raw_sessions(&["bomb", &base, "1", "100", "bomb-test-token"]).await;
    assert_eq!(lines[0]["outcome"], "connected", "{lines:?}");
    let before = manager.rss_bytes();
    let (lines, peak) = peak_rss_during(
        &manager,
        raw_sessions(&["bomb", &base, "8", "15728640", "bomb-test-token"]),
    )
    .await;
    eprintln!(
        "off loopback, 8 CONNECTs of 15 MiB with the token: RSS {} → peak {} MiB",
        before / MIB,
        peak / MIB
    );
    assert!(lines.iter().all(|line| line["outcome"] != "connected"));
    assert!(peak < before + 64 * MIB, "peak {} MiB", peak / MIB);
    let lines = raw_sessions(&["bomb", &base, "1", "100", "wrong"]).await;
    assert_eq!(lines[0]["outcome"], "connect_error", "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_over_4_kib_is_refused_and_its_session_ends() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    // On loopback without a token any CONNECT is let in, but not one with a 5 KiB `auth`.
    let lines = raw_sessions(&["bomb", &manager.base, "1", "5120"]).await;
    assert_eq!(lines[0]["outcome"], "connect_error", "{lines:?}");
    let closed = lines
        .iter()
        .find(|line| line["outcome"] == "closed")
        .expect("the session is closed by the server");
    let after = closed["after"].as_f64().unwrap();
    assert!(
        after < 5.0,
        "the refused session ended {after} s after its CONNECT"
    );
    let small = raw_sessions(&["bomb", &manager.base, "1", "4000"]).await;
    assert_eq!(small[0]["outcome"], "connected", "{small:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_64_sessions_wait_to_join_and_the_next_handshake_gets_503() {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start(Some(broker.port), &[], &http).await;
    let lines = raw_sessions(&["idle", &manager.base, "70"]).await;
    let opened = lines.iter().filter(|l| l["outcome"] == "open").count();
    let refused: Vec<&Value> = lines.iter().filter(|l| l["outcome"] == "refused").collect();
    eprintln!(
        "70 sessions that never join: {opened} opened, {} refused",
        refused.len()
    );
    assert_eq!(opened, 64, "{lines:?}");
    assert_eq!(refused.len(), 6, "{lines:?}");
    assert!(
        refused.iter().all(|line| line["status"] == 503),
        "{refused:?}"
    );
    // Sessions that never join are closed by the connect deadline (3 s).
    let closed_at: Vec<f64> = lines
        .iter()
        .filter(|l| l["outcome"] == "closed")
        .filter_map(|l| l["at"].as_f64())
        .collect();
    assert_eq!(closed_at.len(), 64, "{lines:?}");
    assert!(closed_at.iter().all(|at| *at < 8.0), "{closed_at:?}");
    // Their places are free again.
    let again = raw_sessions(&["bomb", &manager.base, "1", "100"]).await;
    assert_eq!(again[0]["outcome"], "connected", "{again:?}");
}
