//! The config service's files, in a temp folder: a missing file becomes the seed's default, a
//! broken one is reported and never overwritten, revisions survive a restart and hand edits
//! are recorded, the history is bounded and compacted, and a shutdown stores what was queued
//! then refuses.

mod support;

use alicia_config_manager::core::config::{
    Change, ChangeSource, ConfigError, ConfigPaths, ConfigService, OpenError, Precondition,
};
use alicia_config_manager::core::events::EventBus;
use serde_json::json;
use support::config_store::{document, on_disk, open, open_with_limit};

#[tokio::test]
async fn a_missing_file_becomes_the_seed_default() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _writer, report) =
        ConfigService::open(ConfigPaths::in_dir(dir.path()), EventBus::default(), 100).unwrap();
    assert!(report.created_default);
    let stored = service.get("whisper-service").unwrap();
    assert_eq!(stored.document["config"]["model"], "whisper-1");
    assert_eq!(stored.document["config"]["api_key"], "");
    assert_eq!(
        on_disk(dir.path())["whisper-service"]["service_type"],
        "stt"
    );
    let history = service.history("whisper-service");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].source, ChangeSource::Import);
    #[cfg(unix)]
    for file in ["config.json", "history.jsonl"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[tokio::test]
async fn a_broken_file_is_reported_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let broken = "{\n  \"whisper-service\": {\n    \"enabled\": tru, \"version\": \"1\"\n  }\n}\n";
    std::fs::write(&path, broken).unwrap();
    let Err(error) = ConfigService::open(ConfigPaths::in_dir(dir.path()), EventBus::default(), 100)
    else {
        panic!("a broken file was accepted")
    };
    let OpenError::Load(load) = &error else {
        panic!("{error}")
    };
    let text = load.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("line 3, column 19"), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[tokio::test]
async fn revisions_survive_a_restart_and_hand_edits_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let revision = {
        let service = open(dir.path());
        let committed = service
            .put(
                "ollama",
                document("ollama", "llama3"),
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
            .unwrap();
        service.shutdown().await;
        committed.revision
    };
    let service = open(dir.path());
    assert_eq!(
        service.get("ollama").unwrap().revision,
        revision,
        "ETags stay valid across restarts"
    );
    service.shutdown().await;

    let mut file = on_disk(dir.path());
    file["ollama"]["config"]["model"] = json!("edited-by-hand");
    file.as_object_mut().unwrap().remove("whisper-service");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string_pretty(&file).unwrap(),
    )
    .unwrap();
    let (service, writer, report) =
        ConfigService::open(ConfigPaths::in_dir(dir.path()), EventBus::default(), 100).unwrap();
    tokio::spawn(writer.run());
    assert!(!report.warnings.is_empty());
    let ollama = service.history("ollama");
    assert_eq!(ollama[0].source, ChangeSource::Import);
    assert_eq!(
        ollama[0].document.as_ref().unwrap()["config"]["model"],
        "edited-by-hand"
    );
    assert!(ollama[0].revision > revision);
    let whisper = service.history("whisper-service");
    assert!(
        whisper[0].document.is_none(),
        "a document removed by hand is recorded as deleted"
    );
}

#[tokio::test]
async fn history_is_bounded_and_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let service = open_with_limit(dir.path(), 3);
    for round in 0..6 {
        let mut batch = Vec::new();
        for i in 0..200 {
            let service = service.clone();
            batch.push(tokio::spawn(async move {
                service
                    .put(
                        "ollama",
                        document("ollama", &format!("m{round}-{i}")),
                        ChangeSource::Rest,
                        Precondition::None,
                    )
                    .await
                    .unwrap()
            }));
        }
        for task in batch {
            task.await.unwrap();
        }
    }
    assert_eq!(service.history("ollama").len(), 3);
    let lines = std::fs::read_to_string(dir.path().join("history.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= 1000 + 2 * 4 + 200,
        "the history file was compacted ({lines} lines)"
    );
}

#[tokio::test]
async fn shutdown_stores_what_was_queued_then_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    // Queued at once, in order, before the shutdown request: the writer must store them all.
    let queued: Vec<_> = (0..50)
        .map(|i| {
            let change = Change::Put {
                service: "ollama".to_owned(),
                document: document("ollama", &format!("m{i}")),
                precondition: Precondition::None,
            };
            service.try_submit(change, ChangeSource::Rest).unwrap()
        })
        .collect();
    service.shutdown().await;
    let mut stored_or_refused = Vec::new();
    for answer in queued {
        stored_or_refused.push(answer.await.unwrap_or(Err(ConfigError::Unavailable)));
    }
    let accepted = stored_or_refused.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        accepted, 50,
        "every change queued before the shutdown is stored"
    );
    assert!(
        stored_or_refused
            .iter()
            .all(|r| r.is_ok() || r.as_ref().unwrap_err() == &ConfigError::Unavailable)
    );
    assert_eq!(service.history("ollama").len(), accepted);
    assert!(!service.is_ready());
    assert_eq!(
        service
            .put(
                "ollama",
                document("ollama", "late"),
                ChangeSource::Rest,
                Precondition::None
            )
            .await,
        Err(ConfigError::Unavailable)
    );
    let newest = &service.history("ollama")[0];
    assert_eq!(
        on_disk(dir.path())["ollama"],
        **newest.document.as_ref().unwrap()
    );
    assert_eq!(newest.document.as_ref().unwrap()["config"]["model"], "m49");
}
