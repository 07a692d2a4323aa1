//! Portable mode: a copy of the real binary with a `portable` marker beside it, run headless
//! with `HOME` pointing at an empty read-only folder (and no XDG folders), keeps every file
//! it writes — configs, history, instance id, logs, backups — in `alicia-data` beside
//! itself, and writes nothing in the home folder.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{free_port, llm_document, wait_for_rest};

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn portable_command(binary: &Path, home: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("CONFIG_PATH")
        .env_remove("MQTT_BROKER")
        .env_remove("LOG_FILE")
        .env_remove("ERROR_LOG_FILE")
        .env_remove("ALICIA_LOG_DIR")
        .env_remove("LOGS_DIRECTORY")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portable_mode_writes_only_beside_the_executable() {
    let stick = tempfile::tempdir().unwrap();
    let binary = stick.path().join("alicia-config-manager");
    if std::fs::hard_link(support::app_binary(), &binary).is_err() {
        std::fs::copy(support::app_binary(), &binary).unwrap();
    }
    std::fs::write(stick.path().join("portable"), b"").unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o555)).unwrap();

    let api_port = free_port();
    let mut child = portable_command(&binary, home.path())
        .arg("--headless")
        .env("PORT", api_port.to_string())
        .env("MQTT_PORT", free_port().to_string())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{api_port}");
    let http = reqwest::Client::new();
    wait_for_rest(&http, &base).await;
    let answer = http
        .put(format!("{base}/api/config/llm-main"))
        .json(&llm_document("llm-main", "llama3"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let health = support::get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "healthy");
    nix_terminate(&child);
    assert!(child.wait().unwrap().success());

    let backup = portable_command(&binary, home.path())
        .args(["backup", "alicia-data/backup.json"])
        .current_dir(stick.path())
        .status()
        .unwrap();
    assert!(backup.success());

    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        files_under(home.path()),
        Vec::<PathBuf>::new(),
        "nothing in HOME"
    );
    let data = stick.path().join("alicia-data");
    let written = files_under(&data);
    for expected in [
        "config.json",
        "history.jsonl",
        "instance-id",
        "manager.lock",
        "backup.json",
    ] {
        assert!(
            written.contains(&PathBuf::from(expected)),
            "{expected} in {written:?}"
        );
    }
    // The seed's two log files, rotated daily: `combined.log.<date>`, `error.log.<date>`.
    let log_file = |prefix: &str| {
        written
            .iter()
            .find(|path| {
                path.starts_with("logs")
                    && path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("logs/{prefix}* in {written:?}"))
            .clone()
    };
    let combined = log_file("combined.log");
    log_file("error.log");
    let config: Value =
        serde_json::from_slice(&std::fs::read(data.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["llm-main"]["config"]["model"], "llama3");
    let log = std::fs::read_to_string(data.join(combined)).unwrap();
    assert!(
        log.contains("config change stored"),
        "the log is kept there too"
    );
    let mut beside: Vec<String> = std::fs::read_dir(stick.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["alicia-config-manager", "alicia-data", "portable"]);
}

/// Asks the child to stop as systemd would (SIGTERM).
fn nix_terminate(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
