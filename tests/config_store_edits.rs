//! The config service's edits, over real files in a temp folder: an accepted change is on
//! disk with its revision and history; invalid changes name every field and change nothing;
//! stale revisions conflict; delete and rollback; masked keys keep the stored one; every
//! change announced once; concurrent changes all stored in order; announced settings schemas
//! enforced.

mod support;

use alicia_config_manager::core::config::{
    Actor, ActorKind, ChangeSource, ConfigError, ConfigPaths, ConfigService, MASK, Precondition,
};
use alicia_config_manager::core::events::{CoreEvent, EventBus};
use serde_json::{Value, json};
use std::sync::Arc;
use support::config_store::{document, on_disk, open};

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
