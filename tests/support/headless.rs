//! The real binary in headless mode, as a test drives it over REST: started on a broker with
//! its REST server on a free port, read and changed over HTTP, its memory read from `/proc`,
//! killed when dropped.

use serde_json::Value;
use std::path::Path;

/// A headless manager process.
pub struct Headless {
    /// The process.
    pub child: std::process::Child,
    /// `http://127.0.0.1:<port>` of its REST server.
    pub base: String,
    dir: tempfile::TempDir,
}

impl Headless {
    /// Starts one on the broker at `port` (`None`: its embedded broker) in a fresh folder, with
    /// `args`, and waits until its REST server answers.
    pub async fn start(port: Option<u16>, args: &[&str], http: &reqwest::Client) -> Self {
        Self::start_with(port, args, http, |_| {}).await
    }

    /// [`Headless::start`] with the command adjusted by `tweak` (environment, say) and the
    /// folder prepared by it before the start.
    pub async fn start_with(
        port: Option<u16>,
        args: &[&str],
        http: &reqwest::Client,
        tweak: impl FnOnce(&mut std::process::Command),
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        Self::start_in(dir, port, args, http, tweak).await
    }

    /// [`Headless::start_with`] in a folder the test prepared.
    pub async fn start_in(
        dir: tempfile::TempDir,
        port: Option<u16>,
        args: &[&str],
        http: &reqwest::Client,
        tweak: impl FnOnce(&mut std::process::Command),
    ) -> Self {
        let api_port = super::free_port();
        let mut command = super::headless_command(dir.path(), api_port, port);
        command.args(args);
        tweak(&mut command);
        let child = command.spawn().expect("the binary starts");
        let base = format!("http://127.0.0.1:{api_port}");
        super::wait_for_rest(http, &base).await;
        Self { child, base, dir }
    }

    /// `GET path`, as JSON.
    pub async fn get(&self, http: &reqwest::Client, path: &str) -> Value {
        super::get_json(http, &format!("{}{path}", self.base)).await
    }

    /// Its config folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its `config.json`, parsed.
    pub fn stored_configs(&self) -> Value {
        let bytes = std::fs::read(self.dir().join("config.json")).expect("config.json");
        serde_json::from_slice(&bytes).expect("config.json parses")
    }

    /// Its resident memory in bytes, from `/proc/<pid>/status` (`VmRSS`).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
            .expect("a VmRSS line")
    }

    /// Stops it (SIGKILL) and hands back its folder.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("a temp dir");
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
