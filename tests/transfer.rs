//! Import: a service someone changed after the preview is refused by name, never overwritten;
//! the `import` subcommand of the real binary shows what a file would change, changes nothing
//! on `--dry-run` or when a document is invalid, stores each change as `import`, and refuses
//! a folder a manager is running on.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::config::{
    ChangeSource, ConfigError, ConfigPaths, ConfigService, MASK, Precondition, read_history,
};
use alicia_config_manager::core::events::EventBus;
use alicia_config_manager::core::fleet::identity::claim_folder;
use alicia_config_manager::core::transfer::{ImportKind, apply_import, preview_import};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use support::llm;

fn open(dir: &Path) -> ConfigService {
    let (service, writer, _) =
        ConfigService::open(ConfigPaths::in_dir(dir), EventBus::default(), 100).unwrap();
    tokio::spawn(writer.run());
    service
}

async fn put(config: &ConfigService, document: Value) -> u64 {
    let service = document["service_name"].as_str().unwrap().to_owned();
    config
        .put(&service, document, ChangeSource::Rest, Precondition::None)
        .await
        .unwrap()
        .revision
}

#[tokio::test]
async fn an_import_never_overwrites_a_service_changed_after_its_preview() {
    let dir = tempfile::tempdir().unwrap();
    let config = open(dir.path());
    put(
        &config,
        llm("llm-main").model("llama3").api_key("sk-stored").build(),
    )
    .await;
    put(&config, llm("llm-spare").model("phi3").build()).await;

    let file = json!({
        "llm-main": llm("llm-main").model("mistral").api_key(MASK).build(),
        "llm-spare": llm("llm-spare").model("qwen").build(),
        "llm-new": llm("llm-new").model("gemma").build(),
    });
    let items = preview_import(&config, file.to_string().as_bytes()).unwrap();
    let kinds: Vec<(&str, &ImportKind)> = items
        .iter()
        .map(|i| (i.service.as_str(), &i.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("llm-main", &ImportKind::Changed(1)),
            ("llm-spare", &ImportKind::Changed(1)),
            ("llm-new", &ImportKind::New),
        ]
    );

    // Meanwhile another admin changes llm-spare, and someone creates llm-new.
    let theirs = put(&config, llm("llm-spare").model("their-model").build()).await;
    put(&config, llm("llm-new").model("their-new").build()).await;

    let outcomes = apply_import(&config, items).await;
    let results: Vec<(&str, bool)> = outcomes
        .iter()
        .map(|o| (o.service.as_str(), o.result.is_ok()))
        .collect();
    assert_eq!(
        results,
        [("llm-main", true), ("llm-spare", false), ("llm-new", false)]
    );
    assert!(matches!(
        outcomes[1].result,
        Err(ConfigError::Conflict {
            current: Some(revision),
            ..
        }) if revision == theirs
    ));
    assert!(outcomes[1].to_string().contains("llm-spare"));
    assert!(
        outcomes[1]
            .to_string()
            .contains("changed since the preview")
    );
    let stored = |name: &str| config.get(name).unwrap().document;
    assert_eq!(stored("llm-spare")["config"]["model"], "their-model");
    assert_eq!(stored("llm-new")["config"]["model"], "their-new");
    assert_eq!(stored("llm-main")["config"]["model"], "mistral");
    assert_eq!(
        stored("llm-main")["config"]["api_key"],
        "sk-stored",
        "a masked key keeps the stored one"
    );
    assert_eq!(config.history("llm-main")[0].source, ChangeSource::Import);
}

fn import(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("import")
        .chain(args.iter().copied())
        .collect();
    support::run_command(&args, dir)
}

fn stored_configs(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

#[test]
fn the_import_command_previews_checks_and_stores_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("configs.json");
    std::fs::write(
        &good,
        json!({"llm-main": llm("llm-main").model("llama3").build()}).to_string(),
    )
    .unwrap();
    let path = good.to_str().unwrap();

    let dry = import(dir.path(), &[path, "--dry-run"]);
    assert!(dry.status.success(), "{dry:?}");
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        said.contains("llm-main") && said.contains("new service"),
        "{said}"
    );
    assert!(said.contains("dry run"), "{said}");
    assert!(
        stored_configs(dir.path()).get("llm-main").is_none(),
        "a dry run changes nothing"
    );

    let done = import(dir.path(), &[path]);
    assert!(done.status.success(), "{done:?}");
    assert_eq!(
        stored_configs(dir.path())["llm-main"]["config"]["model"],
        "llama3"
    );
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    let entry = history
        .entries
        .iter()
        .rfind(|e| e.service == "llm-main")
        .unwrap();
    assert_eq!(entry.source, ChangeSource::Import);

    let bad = files.path().join("bad.json");
    let mut invalid = llm("llm-spare").build();
    invalid["config"]["endpoints"][0]["port"] = json!(70000);
    std::fs::write(
        &bad,
        json!({"llm-main": llm("llm-main").model("changed").build(), "llm-spare": invalid})
            .to_string(),
    )
    .unwrap();
    let before = std::fs::read(dir.path().join("config.json")).unwrap();
    let refused = import(dir.path(), &[bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains("/config/endpoints/0/port"),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("config.json")).unwrap(),
        before,
        "one invalid document imports nothing"
    );

    let _manager = claim_folder(dir.path()).unwrap();
    let busy = import(dir.path(), &[path]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("already uses"),
        "{busy:?}"
    );
}
