//! The config service on real files: validation, revisions, conflicts, history, rollback,
//! masking, reconciliation with hand edits, durability and group commit.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{
    Actor, ActorKind, Change, ChangeSource, ConfigError, ConfigPaths, ConfigService, MASK,
    OpenError, Precondition,
};
use alicia_config_manager::core::events::{CoreEvent, EventBus};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

fn open(dir: &Path) -> ConfigService {
    open_with_limit(dir, 100)
}

fn open_with_limit(dir: &Path, limit: usize) -> ConfigService {
    let (service, writer, _report) =
        ConfigService::open(ConfigPaths::in_dir(dir), EventBus::default(), limit).unwrap();
    tokio::spawn(writer.run());
    service
}

fn document(name: &str, model: &str) -> Value {
    support::llm(name)
        .api_key("sk-live-123")
        .model(model)
        .ip("10.0.0.7")
        .protocol("http")
        .build()
}

fn on_disk(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

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
async fn an_accepted_change_is_on_disk_with_a_revision_and_history() {
    let dir = tempfile::tempdir().unwrap();
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
    assert!(committed.created);
    let document = committed.document.unwrap();
    assert!(document["last_updated"].as_str().unwrap().ends_with('Z'));
    assert_eq!(document["status"], "unknown");
    assert_eq!(on_disk(dir.path())["ollama"], *document);
    let history = service.history("ollama");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].revision, committed.revision);
    assert_eq!(history[0].source, ChangeSource::Rest);

    let second = service
        .put(
            "ollama",
            json!(*document).clone(),
            ChangeSource::Gui,
            Precondition::Revision(committed.revision),
        )
        .await
        .unwrap();
    assert!(second.revision > committed.revision);
    assert!(!second.created);
    let history = service.history("ollama");
    assert_eq!(
        history.iter().map(|e| e.revision).collect::<Vec<_>>(),
        vec![second.revision, committed.revision]
    );
    assert_ne!(
        history[0].last_updated, history[1].last_updated,
        "each revision has its own stamp"
    );
}

#[tokio::test]
async fn invalid_changes_name_every_field_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let before = std::fs::read(dir.path().join("config.json")).unwrap();
    let mut bad = document("ollama", "llama3");
    bad["enabled"] = json!("yes");
    bad["config"]["endpoints"][0]["port"] = json!(99999);
    bad["config"]["surprise"] = json!(1);
    let error = service
        .put("ollama", bad, ChangeSource::Rest, Precondition::None)
        .await
        .unwrap_err();
    let ConfigError::Invalid { details } = error else {
        panic!("{error:?}")
    };
    let paths: Vec<&str> = details.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["/config/endpoints/0/port", "/config/surprise", "/enabled"]
    );
    assert_eq!(
        std::fs::read(dir.path().join("config.json")).unwrap(),
        before
    );
    assert!(service.get("ollama").is_none());
    assert!(service.history("ollama").is_empty());

    let mismatch = service
        .put(
            "ollama",
            document("other-name", "x"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap_err();
    let ConfigError::Invalid { details } = mismatch else {
        panic!()
    };
    assert_eq!(details[0].path, "/service_name");
    let not_an_object = service
        .put("ollama", json!([1]), ChangeSource::Rest, Precondition::None)
        .await
        .unwrap_err();
    assert!(matches!(not_an_object, ConfigError::Invalid { .. }));
}

#[tokio::test]
async fn a_change_based_on_a_stale_revision_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let base = service.get("whisper-service").unwrap().revision;
    let doc = service.get("whisper-service").unwrap().document;
    let mine = service
        .put(
            "whisper-service",
            Value::clone(&doc),
            ChangeSource::Gui,
            Precondition::Revision(base),
        )
        .await
        .unwrap();
    let theirs = service
        .put(
            "whisper-service",
            Value::clone(&doc),
            ChangeSource::Rest,
            Precondition::Revision(base),
        )
        .await
        .unwrap_err();
    assert_eq!(
        theirs,
        ConfigError::Conflict {
            service: "whisper-service".into(),
            current: Some(mine.revision),
            current_last_updated: mine.document.as_ref().unwrap()["last_updated"]
                .as_str()
                .map(str::to_owned),
        }
    );
    let exists = service
        .put(
            "whisper-service",
            Value::clone(&doc),
            ChangeSource::Discovery,
            Precondition::Absent,
        )
        .await
        .unwrap_err();
    assert!(matches!(exists, ConfigError::Conflict { .. }));
}

#[tokio::test]
async fn delete_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let first = service
        .put(
            "ollama",
            document("ollama", "llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    service
        .put(
            "ollama",
            document("ollama", "mistral"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let rolled = service
        .rollback("ollama", first.revision, Actor::of_kind(ActorKind::Rest))
        .await
        .unwrap();
    assert_eq!(
        rolled.document.as_ref().unwrap()["config"]["model"],
        "llama3"
    );
    assert_eq!(service.history("ollama")[0].source, ChangeSource::Rollback);
    assert_eq!(on_disk(dir.path())["ollama"]["config"]["model"], "llama3");

    assert_eq!(
        service
            .rollback("ollama", 9999, Actor::of_kind(ActorKind::Rest))
            .await
            .unwrap_err(),
        ConfigError::RevisionNotFound {
            service: "ollama".into(),
            revision: 9999
        }
    );
    let deleted = service
        .delete("ollama", ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    assert!(deleted.document.is_none());
    assert!(on_disk(dir.path()).get("ollama").is_none());
    assert!(service.history("ollama")[0].document.is_none());
    assert!(matches!(
        service
            .rollback("ollama", deleted.revision, Actor::of_kind(ActorKind::Rest))
            .await,
        Err(ConfigError::RevisionIsDeletion { .. })
    ));
    assert!(matches!(
        service
            .delete("ollama", ChangeSource::Rest, Precondition::None)
            .await,
        Err(ConfigError::NotFound { .. })
    ));
    let back = service
        .rollback("ollama", first.revision, Actor::of_kind(ActorKind::Rest))
        .await
        .unwrap();
    assert!(back.created);
}

#[tokio::test]
async fn a_masked_key_keeps_the_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    service
        .put(
            "ollama",
            document("ollama", "llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();
    let mut masked = document("ollama", "mistral");
    masked["config"]["api_key"] = json!(MASK);
    service
        .put("ollama", masked, ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    let stored = service.get("ollama").unwrap().document;
    assert_eq!(stored["config"]["api_key"], "sk-live-123");
    assert_eq!(stored["config"]["model"], "mistral");
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
async fn every_change_is_announced_once() {
    let dir = tempfile::tempdir().unwrap();
    let events = EventBus::default();
    let mut receiver = events.subscribe();
    let (service, writer, _) =
        ConfigService::open(ConfigPaths::in_dir(dir.path()), events, 100).unwrap();
    tokio::spawn(writer.run());
    let committed = service
        .put(
            "ollama",
            document("ollama", "llama3"),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .unwrap();
    let CoreEvent::ConfigChanged {
        service: name,
        revision,
        source,
    } = receiver.recv().await.unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (name.as_str(), revision, source),
        ("ollama", committed.revision, ChangeSource::Gui)
    );
    assert!(
        service.get("ollama").is_some(),
        "the announced change is stored"
    );
    assert!(receiver.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_are_all_stored_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("svc-{}", i % 10);
            service
                .put(
                    &name,
                    document(&name, &format!("model-{i}")),
                    ChangeSource::Rest,
                    Precondition::None,
                )
                .await
                .unwrap()
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(task.await.unwrap().revision);
    }
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(revisions.len(), 200, "every change has its own revision");
    let file = on_disk(dir.path());
    for i in 0..10 {
        let name = format!("svc-{i}");
        let latest = &service.history(&name)[0];
        assert_eq!(
            file[&name],
            **latest.document.as_ref().unwrap(),
            "{name}: the file holds the newest revision"
        );
        assert_eq!(service.history(&name).len(), 20);
    }
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
async fn announced_settings_schemas_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let schema = json!({
        "type": "object",
        "properties": {"temperature": {"type": "number", "maximum": 2}},
        "additionalProperties": false
    });
    service.announce_schema("ollama", Some(Arc::new(schema)));
    let probe = service.clone();
    support::wait_until("the schema is stored", move || {
        probe.settings_schema("ollama").is_some()
    })
    .await;
    let mut doc = document("ollama", "llama3");
    doc["config"]["settings"] = json!({"temperature": 5, "colour": "red"});
    let paths: Vec<String> = service
        .validate("ollama", &doc)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        paths,
        vec!["/config/settings/colour", "/config/settings/temperature"]
    );
    assert!(
        service
            .put("ollama", doc.clone(), ChangeSource::Gui, Precondition::None)
            .await
            .is_err()
    );
    doc["config"]["settings"] = json!({"temperature": 0.7, "password": "hunter2"});
    assert!(
        !service.validate("ollama", &doc).is_empty(),
        "not allowed yet"
    );
    doc["config"]["settings"] = json!({"temperature": 0.7});
    assert!(service.validate("ollama", &doc).is_empty());
    service
        .put("ollama", doc.clone(), ChangeSource::Gui, Precondition::None)
        .await
        .unwrap();

    // A stricter schema the stored settings fail: pending, the old one still enforced.
    let stricter = json!({
        "type": "object",
        "properties": {
            "temperature": {"type": "number", "maximum": 0.5},
            "password": {"type": "string", "writeOnly": true}
        }
    });
    service.announce_schema("ollama", Some(Arc::new(stricter)));
    let probe = service.clone();
    support::wait_until("the stricter schema waits", move || {
        probe
            .schema_record("ollama")
            .is_some_and(|r| r.pending.is_some())
    })
    .await;
    assert!(
        service
            .secret_paths("ollama")
            .covers("/config/settings/password"),
        "a pending schema's secrets are masked already"
    );
    doc["config"]["settings"] = json!({"temperature": 1.5, "password": "hunter2"});
    assert!(
        !service.validate("ollama", &doc).is_empty(),
        "the enforced one still refuses extra fields"
    );
    service.accept_schema("ollama").await.unwrap();
    assert!(matches!(
        service.accept_schema("ollama").await,
        Err(ConfigError::NoPendingSchema { .. })
    ));
    doc["config"]["settings"] = json!({"temperature": 0.4, "password": "hunter2"});
    service
        .put("ollama", doc.clone(), ChangeSource::Gui, Precondition::None)
        .await
        .unwrap();
    assert_eq!(
        service.mask("ollama", &doc)["config"]["settings"]["password"],
        MASK
    );

    // Stored: a restart enforces it at once.
    service.shutdown().await;
    let reopened = open(dir.path());
    let record = reopened.schema_record("ollama").unwrap();
    assert!(record.enforced.is_some() && record.pending.is_none());
    doc["config"]["settings"] = json!({"temperature": 0.9});
    assert_eq!(
        reopened.validate("ollama", &doc)[0].path,
        "/config/settings/temperature"
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
