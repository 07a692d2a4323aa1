//! Trust on the disk (CONTRACT §6), tried against the real binary with crafted files the way a
//! careless admin or a hostile sender of a "backup" would: a backup that names another MQTT
//! broker is shown as such, restored only when confirmed, and never gets the password stored
//! now; a backup whose history holds an impossible revision or a name that is not one is
//! refused whole; a hand-edited `config.json` with such a name stops the start with a clear
//! error, and such history lines are skipped.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::run_command;

const PASSWORD: &str = "the-home-broker-password";

/// A folder with a config and settings that name the home broker with a login.
fn home_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let configs = json!({"llm-main": support::llm_document("llm-main", "llama3")});
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec_pretty(&configs).unwrap(),
    )
    .unwrap();
    let settings = json!({
        "broker": "mqtt://home-broker.lan:1883",
        "mqtt_username": "alicia",
        "mqtt_password": PASSWORD,
    });
    std::fs::write(
        dir.path().join("settings.json"),
        serde_json::to_vec_pretty(&settings).unwrap(),
    )
    .unwrap();
    dir
}

/// A backup of `dir` (no secrets), as JSON to craft.
fn backup_of(dir: &Path) -> Value {
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("backup.json");
    let out = run_command(&["backup", file.to_str().unwrap()], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
}

fn write_backup(backup: &Value) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crafted.json");
    std::fs::write(&file, serde_json::to_vec(backup).unwrap()).unwrap();
    let path = file.to_str().unwrap().to_owned();
    (dir, path)
}

fn settings_of(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap()
}

#[test]
fn a_backup_naming_another_broker_needs_a_confirmation_and_never_gets_the_password() {
    let home = home_folder();
    let mut backup = backup_of(home.path());
    assert!(
        !backup.to_string().contains(PASSWORD),
        "a backup without secrets holds no password"
    );
    backup["settings"]["broker"] = json!("mqtt://collector.evil.example:1883");
    let (_keep, file) = write_backup(&backup);

    let dry = run_command(&["restore", &file, "--dry-run"], home.path());
    let shown = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        shown.contains("another MQTT broker") && shown.contains("collector.evil.example"),
        "the preview shows the broker change: {shown}"
    );
    assert!(!shown.contains(PASSWORD));

    let refused = run_command(&["restore", &file], home.path());
    assert!(!refused.status.success(), "not without a confirmation");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--accept-broker"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(settings_of(home.path())["mqtt_password"], PASSWORD);

    let accepted = run_command(&["restore", &file, "--accept-broker"], home.path());
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let restored = settings_of(home.path());
    assert_eq!(restored["broker"], "mqtt://collector.evil.example:1883");
    assert!(
        restored.get("mqtt_password").is_none(),
        "the stored password is not sent to the backup's broker: {restored}"
    );
    // The replaced settings file is kept beside the other replaced files.
    let kept = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("before-restore-")
        })
        .expect("the replaced files are kept");
    let kept_settings = std::fs::read_to_string(kept.join("settings.json")).unwrap();
    assert!(
        kept_settings.contains("home-broker.lan") && kept_settings.contains(PASSWORD),
        "the old settings.json is kept whole: {kept_settings}"
    );
}

#[test]
fn the_same_broker_keeps_the_stored_password() {
    let home = home_folder();
    let backup = backup_of(home.path());
    let (_keep, file) = write_backup(&backup);
    let out = run_command(&["restore", &file], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(settings_of(home.path())["mqtt_password"], PASSWORD);
}

#[test]
fn a_crafted_history_is_refused_whole() {
    let home = home_folder();
    let clean = backup_of(home.path());
    let entry = json!({
        "revision": 1, "service": "llm-main", "last_updated": "2026-01-01T00:00:00.000Z",
        "source": "rest", "document": clean["configs"]["llm-main"],
    });
    // The clean history and one entry changed by `change`.
    let crafted = |change: &dyn Fn(&mut Value)| {
        let mut backup = clean.clone();
        let mut bad = entry.clone();
        bad["revision"] = json!(2);
        change(&mut bad);
        backup["history"] = json!([entry.clone(), bad]);
        backup
    };
    let cases: [(&str, Value); 4] = [
        (
            "out of range",
            // u64::MAX: the next revision would overflow.
            serde_json::from_str(
                &crafted(&|e| e["revision"] = json!(77))
                    .to_string()
                    .replace("\"revision\":77", "\"revision\":18446744073709551615"),
            )
            .unwrap(),
        ),
        (
            "not a valid service name",
            crafted(&|e| e["service"] = json!("../x")),
        ),
        (
            "not a valid service name",
            crafted(&|e| e["service"] = json!("alicia/config/x/set")),
        ),
        ("appears twice", crafted(&|e| e["revision"] = json!(1))),
    ];
    // The clean one restores.
    let (_keep, file) = write_backup(&crafted(&|_| {}));
    let out = run_command(&["restore", &file, "--dry-run"], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config_before = std::fs::read(home.path().join("config.json")).unwrap();
    for (problem, backup) in cases {
        let (_keep, file) = write_backup(&backup);
        let out = run_command(&["restore", &file], home.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{problem}: refused");
        assert!(
            stderr.contains("/history/") && stderr.contains(problem),
            "{problem}: {stderr}"
        );
        assert_eq!(
            std::fs::read(home.path().join("config.json")).unwrap(),
            config_before,
            "nothing restored"
        );
    }
}

#[test]
fn a_hand_edited_config_with_a_name_that_is_no_name_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut document = support::llm_document("llm-main", "llama3");
    document["service_name"] = json!("a/b");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec(&json!({"a/b": document})).unwrap(),
    )
    .unwrap();
    let before = std::fs::read(dir.path().join("config.json")).unwrap();
    // `backup` reads the folder like a start does.
    let out = run_command(
        &["backup", dir.path().join("b.json").to_str().unwrap()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("\"a/b\" is not a valid service name"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("config.json")).unwrap(),
        before,
        "the file is left as it is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lines_with_impossible_revisions_or_names_are_skipped_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let document = support::llm_document("llm-main", "llama3");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec(&json!({"llm-main": document})).unwrap(),
    )
    .unwrap();
    let line = |revision: &str, service: &str| {
        format!(
            "{{\"revision\":{revision},\"service\":\"{service}\",\"last_updated\":\"2026-01-01T00:00:00.000Z\",\"source\":\"rest\",\"document\":null}}\n"
        )
    };
    let history = line("18446744073709551615", "llm-main") + &line("5", "x/../y");
    std::fs::write(dir.path().join("history.jsonl"), history).unwrap();
    let http = reqwest::Client::new();
    let manager = support::headless::Headless::start_in(dir, None, &[], &http, |_| {}).await;
    let config = manager.get(&http, "/api/config/llm-main").await;
    assert_eq!(config["config"]["model"], "llama3");
    // A change after it still gets an ordinary revision.
    let mut changed = config.clone();
    changed["config"]["model"] = json!("qwen");
    let answer = http
        .put(format!("{}/api/config/llm-main", manager.base))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let history = manager.get(&http, "/api/config/llm-main/history").await;
    let revisions: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["revision"].as_u64().unwrap())
        .collect();
    assert!(
        revisions.iter().all(|r| *r < 1 << 53),
        "no impossible revision: {revisions:?}"
    );
}

#[test]
fn a_login_written_in_the_broker_address_is_a_secret_of_the_backup() {
    let home = home_folder();
    let url_password = "url-password-must-not-leak";
    let settings = json!({"broker": format!("mqtt://alicia:{url_password}@home-broker.lan:1883")});
    std::fs::write(
        home.path().join("settings.json"),
        serde_json::to_vec_pretty(&settings).unwrap(),
    )
    .unwrap();
    let backup = backup_of(home.path());
    assert!(
        !backup.to_string().contains(url_password),
        "a backup without secrets holds no password, even one in the broker's address"
    );
    assert_eq!(
        backup["settings"]["broker"], "mqtt://alicia@home-broker.lan:1883",
        "the address and the user stay"
    );
    // Restored where it was made, the password written in today's address is kept.
    let (_keep, file) = write_backup(&backup);
    let restored = run_command(&["restore", &file], home.path());
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert_eq!(
        settings_of(home.path())["broker"],
        format!("mqtt://alicia:{url_password}@home-broker.lan:1883")
    );
}
