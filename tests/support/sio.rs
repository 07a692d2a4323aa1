//! The npm `socket.io-client` (a client this project did not write), run by node from
//! `tests/js`, printing each event as a JSON line.

use super::PATIENCE;
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running socket.io client.
pub struct SioClient {
    child: Child,
    lines: mpsc::Receiver<Value>,
    backlog: std::collections::VecDeque<Value>,
}

impl SioClient {
    /// Starts `node tests/js/sio-client.mjs URL ARGS…` (run `npm ci` in tests/js first:
    /// scripts/test does).
    pub fn spawn(url: &str, args: &[&str]) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/sio-client.mjs");
        let modules = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/node_modules");
        assert!(
            std::path::Path::new(modules).exists(),
            "tests/js/node_modules is missing: run `npm ci` in tests/js (scripts/test does)"
        );
        let mut child = Command::new("node")
            .arg(script)
            .arg(url)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (install Node.js)");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel(100_000);
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && tx.send(value).await.is_err()
                {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            backlog: Default::default(),
        }
    }

    /// The first line (received or to come) whose `event` is `event` and which satisfies
    /// `accept`; other lines stay for later expectations, so the order of events between
    /// expectations does not matter.
    pub async fn expect(&mut self, event: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let matches = |line: &Value| line["event"] == event && accept(line);
        if let Some(at) = self.backlog.iter().position(matches) {
            return self.backlog.remove(at).unwrap();
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) if matches(&line) => return line,
                Ok(Some(line)) => self.backlog.push_back(line),
                Ok(None) => panic!("the socket.io client exited while waiting for {event}"),
                Err(_) => panic!("timed out waiting for the socket.io event {event}"),
            }
        }
    }

    /// Every line received so far and not yet expected (without waiting).
    pub fn drain(&mut self) -> Vec<Value> {
        let mut lines: Vec<Value> = self.backlog.drain(..).collect();
        lines.extend(std::iter::from_fn(|| self.lines.try_recv().ok()));
        lines
    }
}

impl Drop for SioClient {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
