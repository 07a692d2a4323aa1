//! Tokens and the rate limit (CONTRACT §10), against the real binary: a read token without an
//! admin token stops the start — from the environment and from the settings file — saying why;
//! `/metrics` is never rate-limited (110 scrapes in a row), while a client without a token that
//! used its budget gets 429.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use std::process::Stdio;
use std::time::Duration;
use support::headless::Headless;
use support::{free_port, headless_command};

/// Runs the binary with `tweak` and returns its exit status and what it said, once it stops.
fn start_and_wait(
    tweak: impl FnOnce(&mut std::process::Command, &std::path::Path),
) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = headless_command(dir.path(), free_port(), None);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    tweak(&mut command, dir.path());
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + support::PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            return (status.success(), said);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the manager kept running with a read token alone");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_read_token_alone_is_refused_at_start() {
    let (ok, said) = start_and_wait(|command, _| {
        command.env("ALICIA_API_READ_TOKEN", "reader-only");
    });
    assert!(!ok, "the start is refused");
    assert!(
        said.contains("ALICIA_API_READ_TOKEN") && said.contains("ALICIA_API_TOKEN"),
        "it says why: {said}"
    );
    let (ok, said) = start_and_wait(|_, dir| {
        std::fs::write(
            dir.join("settings.json"),
            r#"{"api_read_token": "reader-from-the-file"}"#,
        )
        .unwrap();
    });
    assert!(!ok, "from the settings file too: {said}");
    assert!(said.contains("ALICIA_API_TOKEN"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_never_rate_limited() {
    let http = reqwest::Client::new();
    let manager = Headless::start_with(None, &[], &http, |command| {
        command
            .env("RATE_LIMIT_MAX", "5")
            .env("RATE_LIMIT_WINDOW_MS", "900000")
            .env("ALICIA_API_TOKEN", "admin-token")
            .env("ALICIA_API_READ_TOKEN", "prometheus-token");
    })
    .await;
    // A client without a token uses its budget on the open health route…
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let answer = http
            .get(format!("{}/api/health", manager.base))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // …and Prometheus scrapes 110 times in a row without a single 429.
    for scrape in 0..110 {
        let answer = http
            .get(format!("{}/metrics", manager.base))
            .bearer_auth("prometheus-token")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "scrape {scrape}");
    }
}
