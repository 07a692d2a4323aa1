//! Backup and restore: the `backup` / `restore` subcommands of the real binary round-trip a
//! wiped folder (same configs, same history, plus the restore's `import` revisions); a
//! backup without secrets restores with the stored keys untouched; an invalid backup
//! changes nothing; a folder in use is not restored under a running manager.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::Core;
use alicia_config_manager::core::backup::{Backup, RestoreKind};
use alicia_config_manager::core::config::{ChangeSource, HistoryEntry, Precondition, read_history};
use serde_json::{Value, json};
use std::path::Path;
use support::{TestBroker, llm_document, start_core};

use support::run_command as run;

fn keyed(service: &str, model: &str, key: &str) -> Value {
    let mut document = llm_document(service, model);
    document["config"]["api_key"] = json!(key);
    document
}

/// Stores `document` as `service`'s config (it is valid).
async fn put(core: &Core, service: &str, document: Value, source: ChangeSource) {
    core.config
        .put(service, document, source, Precondition::None)
        .await
        .expect("a valid document is stored");
}

fn configs(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

fn history(dir: &Path) -> Vec<HistoryEntry> {
    read_history(&dir.join("history.jsonl")).unwrap().entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_wipe_then_restore_gives_back_the_configs_and_history() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    for (service, model) in [("llm-main", "llama3"), ("llm-spare", "mistral")] {
        put(
            &core,
            service,
            keyed(service, model, "sk-secret-1"),
            ChangeSource::Rest,
        )
        .await;
    }
    put(
        &core,
        "llm-main",
        keyed("llm-main", "qwen", "sk-secret-1"),
        ChangeSource::Gui,
    )
    .await;
    runtime.shutdown(&core).await;
    let before_configs = configs(dir.path());
    let before_history = history(dir.path());
    assert!(before_history.len() >= 4);

    let file = tempfile::tempdir().unwrap();
    let backup_file = file.path().join("backup.json");
    let backup_path = backup_file.to_str().unwrap();
    let out = run(&["backup", backup_path, "--include-secrets"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&backup_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // Wipe the folder.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }

    let dry = run(&["restore", backup_path, "--dry-run"], dir.path());
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let printed = String::from_utf8_lossy(&dry.stdout);
    assert!(
        printed.contains("llm-main") && printed.contains("dry run"),
        "{printed}"
    );

    let out = run(&["restore", backup_path], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(configs(dir.path()), before_configs, "the same configs");
    let after = history(dir.path());
    for entry in &before_history {
        assert!(after.contains(entry), "revision {} kept", entry.revision);
    }
    let imports: Vec<&HistoryEntry> = after
        .iter()
        .filter(|e| !before_history.contains(e))
        .collect();
    assert!(!imports.is_empty(), "the restore is recorded");
    assert!(imports.iter().all(|e| e.source == ChangeSource::Import));
    let last_main = after
        .iter()
        .rev()
        .find(|e| e.service == "llm-main")
        .unwrap();
    assert_eq!(
        last_main.document.as_deref(),
        Some(&before_configs["llm-main"])
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("before-restore-")),
        "the replaced files are kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_without_secrets_restores_with_the_stored_keys_untouched() {
    let broker = TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = start_core(dir.path(), broker.port, |_| {}).await;
    put(
        &core,
        "llm-main",
        keyed("llm-main", "llama3", "sk-kept-key"),
        ChangeSource::Rest,
    )
    .await;
    let backup = Backup::of_service(&core.config, &core.settings_file, false).unwrap();
    let bytes = backup.to_bytes();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("sk-kept-key"),
        "no secret in the file"
    );

    // Things change after the backup: a new model, a new service.
    put(
        &core,
        "llm-main",
        keyed("llm-main", "qwen", "sk-kept-key"),
        ChangeSource::Gui,
    )
    .await;
    put(
        &core,
        "llm-new",
        llm_document("llm-new", "phi3"),
        ChangeSource::Gui,
    )
    .await;

    let backup = Backup::parse(&bytes).unwrap();
    let preview = backup.preview(&core.config).unwrap();
    let kind = |service: &str| {
        preview
            .iter()
            .find(|i| i.service == service)
            .map(|i| i.kind.clone())
    };
    assert!(
        matches!(kind("llm-main"), Some(RestoreKind::Changed(1))),
        "{preview:?}"
    );
    assert_eq!(kind("llm-new"), Some(RestoreKind::Removed));
    backup
        .restore(&core.config, &core.settings_file, false)
        .await
        .unwrap();

    let main = core.config.get("llm-main").unwrap();
    assert_eq!(main.document["config"]["model"], "llama3");
    assert_eq!(
        main.document["config"]["api_key"], "sk-kept-key",
        "the stored key stays"
    );
    assert!(core.config.get("llm-new").is_none());
    assert_eq!(
        core.config.history("llm-main")[0].source,
        ChangeSource::Import
    );
    assert_eq!(
        core.config.history("llm-new")[0].source,
        ChangeSource::Import
    );

    // An invalid backup changes nothing.
    let mut broken = backup.clone();
    broken.configs["llm-main"]["config"]["endpoints"][0]["port"] = json!(70000);
    let before = core.config.snapshot();
    let refused = broken
        .restore(&core.config, &core.settings_file, false)
        .await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("/configs/llm-main/config/endpoints/0/port")
    );
    assert_eq!(core.config.snapshot(), before);

    // The CLI does not restore under a running manager.
    let file = dir.path().join("backup.json");
    std::fs::write(&file, &bytes).unwrap();
    let out = run(&["restore", file.to_str().unwrap()], dir.path());
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already uses"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    runtime.shutdown(&core).await;
}
