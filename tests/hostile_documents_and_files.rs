//! Hostile documents and files, as property tests (proptest): config validation and storing,
//! a follower's mirror, a crafted backup restored, and an import previewed — fed arbitrary and
//! wrongly typed documents and bytes. Nothing may panic, and what is refused changes nothing:
//! not the store, not the files.
//!
//! Cases per property: `PROPTEST_CASES` (default 256 in CI; run with 1,000,000 to soak).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod hostile;
mod support;

use alicia_config_manager::core::backup::Backup;
use alicia_config_manager::core::config::{
    Change, ChangeSource, ConfigError, ConfigPaths, ConfigService, Precondition, Snapshot,
};
use alicia_config_manager::core::events::EventBus;
use alicia_config_manager::core::settings::SettingsStore;
use alicia_config_manager::core::settings::{BrokerTarget, BrokerUrl, Settings};
use alicia_config_manager::core::transfer::{ImportKind, preview_import};
use alicia_config_manager::core::{Core, CoreRuntime};
use hostile::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};

// ---- config validation and the store ---------------------------------------------------------

#[test]
fn config_validation_and_storing_refuse_cleanly_and_keep_the_files() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = RefCell::new(Store::open(&runtime));
    let service_and_document = prop_oneof![
        (Just("svc".to_owned()), wrong_typed_document()),
        (Just("svc".to_owned()), json_value()),
        segment().prop_map(|name| {
            let document = valid_document(&name);
            (name, document)
        }),
    ];
    let refused = Cell::new(0u64);
    let stored = Cell::new(0u64);
    let cases = Cell::new(0u64);
    runner()
        .run(&service_and_document, |(service, document)| {
            cases.set(cases.get() + 1);
            if cases.get().is_multiple_of(STORE_RENEWAL) {
                // Every new service leaves its history behind (bounded per service, not in
                // number of services): a fresh store keeps the files — read whole by every
                // case — small, so a long run stays linear.
                *store.borrow_mut() = Store::open(&runtime);
            }
            let store = store.borrow();
            let (config, paths) = (&store.config, &store.paths);
            let snapshot = config.snapshot();
            let file = std::fs::read(&paths.config_file).unwrap();
            let history = std::fs::read(&paths.history_file).unwrap_or_default();
            let problems = config.validate(&service, &document);
            let outcome = runtime.block_on(config.put(
                &service,
                document.clone(),
                ChangeSource::Rest,
                Precondition::None,
            ));
            match outcome {
                Err(error) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!problems.is_empty() || !error.to_string().is_empty());
                    prop_assert_eq!(&*config.snapshot(), &*snapshot);
                    prop_assert!(std::fs::read(&paths.config_file).unwrap() == file);
                    prop_assert!(std::fs::read(&paths.history_file).unwrap_or_default() == history);
                }
                Ok(_) => {
                    stored.set(stored.get() + 1);
                    prop_assert!(problems.is_empty(), "validate refused what put stored");
                    let kept = config.get(&service).ok_or_else(|| {
                        TestCaseError::fail(format!("{service:?} was stored but is not there"))
                    })?;
                    prop_assert_eq!(&kept.document["config"], &document["config"]);
                    // Back to the known state for the next case.
                    if service == "svc" {
                        store.store_known_svc(&runtime);
                    } else {
                        runtime
                            .block_on(config.delete(
                                &service,
                                ChangeSource::Rest,
                                Precondition::None,
                            ))
                            .unwrap();
                    }
                }
            }
            let on_disk: Value =
                serde_json::from_slice(&std::fs::read(&paths.config_file).unwrap()).unwrap();
            prop_assert!(on_disk.is_object(), "config.json always parses");
            Ok(())
        })
        .unwrap();
    let (refused, stored) = (refused.get(), stored.get());
    eprintln!("store: {refused} documents refused (files untouched), {stored} stored");
    assert!(refused > 0 && stored > 0, "both kinds of input were tried");
}

// ---- a follower's mirror -----------------------------------------------------------------------

#[test]
fn a_followers_mirror_stores_only_valid_documents() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = RefCell::new(Store::open(&runtime));
    // Whatever arrives on the authority's topic: documents of every shape, for the service of
    // the topic or not, and valid ones.
    let mirrored = prop_oneof![
        (Just("svc".to_owned()), wrong_typed_document()),
        (Just("svc".to_owned()), json_value()),
        (segment(), segment()).prop_map(|(topic, name)| (topic, valid_document(&name))),
        segment().prop_map(|name| {
            let document = valid_document(&name);
            (name, document)
        }),
    ];
    let (refused, stored, cases) = (Cell::new(0u64), Cell::new(0u64), Cell::new(0u64));
    runner()
        .run(&mirrored, |(service, document)| {
            cases.set(cases.get() + 1);
            if cases.get().is_multiple_of(STORE_RENEWAL) {
                *store.borrow_mut() = Store::open(&runtime);
            }
            let store = store.borrow();
            let (config, paths) = (&store.config, &store.paths);
            let snapshot = config.snapshot();
            let file = std::fs::read(&paths.config_file).unwrap();
            let problems = config.validate(&service, &document);
            let outcome = runtime.block_on(config.submit(
                Change::Mirror {
                    service: service.clone(),
                    document: Some(document.clone()),
                },
                ChangeSource::Mqtt,
            ));
            match outcome {
                Ok(_) => {
                    stored.set(stored.get() + 1);
                    prop_assert!(problems.is_empty(), "mirrored an invalid document");
                    let kept = config.get(&service).unwrap();
                    prop_assert_eq!(&*kept.document, &document, "mirrored as published");
                    if service != "svc" {
                        runtime
                            .block_on(config.submit(
                                Change::Mirror {
                                    service: service.clone(),
                                    document: None,
                                },
                                ChangeSource::Mqtt,
                            ))
                            .unwrap();
                    } else {
                        store.store_known_svc(&runtime);
                    }
                }
                Err(ConfigError::Unchanged) => {}
                Err(error) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(matches!(error, ConfigError::Invalid { .. }), "{error}");
                    prop_assert_eq!(&*config.snapshot(), &*snapshot);
                    prop_assert!(std::fs::read(&paths.config_file).unwrap() == file);
                }
            }
            Ok(())
        })
        .unwrap();
    let (refused, stored) = (refused.get(), stored.get());
    eprintln!("mirror: {refused} documents refused (store untouched), {stored} mirrored");
    assert!(refused > 0 && stored > 0, "both kinds of input were tried");
}

// ---- restore -------------------------------------------------------------------------------------

/// A backup's JSON with crafted parts: configs of any shape, history entries with any
/// revision, name and document, and settings of any shape.
fn crafted_backup() -> impl Strategy<Value = Vec<u8>> {
    let entry = (
        prop_oneof![any::<u64>(), 1..20u64],
        prop_oneof![segment(), odd_text(), Just("svc".to_owned())],
        prop_oneof![Just(Value::Null), json_value(), Just(valid_document("svc"))],
    )
        .prop_map(|(revision, service, document)| {
            json!({
                "revision": revision, "service": service,
                "last_updated": "2026-01-01T00:00:00.000Z", "source": "rest",
                "document": document,
            })
        });
    let configs = prop::collection::btree_map(
        prop_oneof![segment(), odd_text()],
        prop_oneof![
            wrong_typed_document(),
            json_value(),
            Just(valid_document("svc"))
        ],
        0..4,
    );
    let settings = prop_oneof![
        Just(json!({})),
        Just(json!({"broker": "mqtt://elsewhere.example:1883"})),
        json_value(),
    ];
    let shaped = (configs, prop::collection::vec(entry, 0..5), settings).prop_map(
        |(configs, history, settings)| {
            json!({
                "format": "alicia-config-manager-backup", "version": 1,
                "created": "2026-01-01T00:00:00.000Z", "secrets_included": false,
                "configs": Value::Object(configs.into_iter().collect()),
                "history": history, "settings": settings,
            })
            .to_string()
            .into_bytes()
        },
    );
    prop_oneof![
        4 => shaped,
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => deep_json(),
    ]
}

#[test]
fn a_crafted_backup_is_restored_whole_or_not_at_all() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = RefCell::new(Store::open(&runtime));
    let (unreadable, refused, restored, cases) = (
        Cell::new(0u64),
        Cell::new(0u64),
        Cell::new(0u64),
        Cell::new(0u64),
    );
    runner()
        .run(&crafted_backup(), |bytes| {
            cases.set(cases.get() + 1);
            if cases.get().is_multiple_of(STORE_RENEWAL) {
                *store.borrow_mut() = Store::open(&runtime);
            }
            let store = store.borrow();
            let Ok(backup) = Backup::parse(&bytes) else {
                unreadable.set(unreadable.get() + 1);
                return Ok(());
            };
            let (config, paths) = (&store.config, &store.paths);
            let settings = SettingsStore::new(paths.config_file.with_file_name("settings.json"));
            let snapshot = config.snapshot();
            let file = std::fs::read(&paths.config_file).unwrap();
            let history = std::fs::read(&paths.history_file).unwrap_or_default();
            let previewed = backup.preview(config);
            let outcome = runtime.block_on(backup.restore(config, &settings, true));
            match (previewed, outcome) {
                (Err(_), Err(_)) => {
                    refused.set(refused.get() + 1);
                    prop_assert_eq!(&*config.snapshot(), &*snapshot);
                    prop_assert!(std::fs::read(&paths.config_file).unwrap() == file);
                    prop_assert!(std::fs::read(&paths.history_file).unwrap_or_default() == history);
                }
                (Ok(_), Ok(_)) => {
                    restored.set(restored.get() + 1);
                    let now = config.snapshot();
                    prop_assert_eq!(
                        now.documents.keys().collect::<Vec<_>>(),
                        backup.configs.keys().collect::<Vec<_>>()
                    );
                    for entry in config.all_history() {
                        prop_assert!(entry.problem().is_none(), "{:?}", entry.problem());
                    }
                    // Back to the known state for the next case.
                    for name in now.documents.keys() {
                        runtime
                            .block_on(config.delete(name, ChangeSource::Rest, Precondition::None))
                            .unwrap();
                    }
                    store.store_known_svc(&runtime);
                }
                (previewed, outcome) => {
                    return Err(TestCaseError::fail(format!(
                        "the preview said {:?}, the restore {:?}",
                        previewed.map(|items| items.len()),
                        outcome.map_err(|e| e.to_string())
                    )));
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "restore: {} files unreadable, {} backups refused (store untouched), {} restored",
        unreadable.get(),
        refused.get(),
        restored.get()
    );
    assert!(refused.get() > 0, "crafted backups were tried");
}

/// Cases between two fresh stores in the store property.
const STORE_RENEWAL: u64 = 5_000;

/// A config store in a temp folder, holding the known `svc` document.
struct Store {
    config: ConfigService,
    paths: ConfigPaths,
    _dir: tempfile::TempDir,
}

impl Store {
    fn open(runtime: &tokio::runtime::Runtime) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::in_dir(dir.path());
        // A short history keeps the files small: every case reads both to prove them untouched.
        let (config, writer, _) =
            ConfigService::open(paths.clone(), EventBus::default(), 10).unwrap();
        runtime.spawn(writer.run());
        let store = Self {
            config,
            paths,
            _dir: dir,
        };
        store.store_known_svc(runtime);
        store
    }

    /// The known state every case starts from.
    fn store_known_svc(&self, runtime: &tokio::runtime::Runtime) {
        runtime
            .block_on(self.config.put(
                "svc",
                valid_document("svc"),
                ChangeSource::Rest,
                Precondition::None,
            ))
            .unwrap();
    }
}

// ---- import ----------------------------------------------------------------------------------

fn core_without_broker(
    dir: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
) -> (Core, CoreRuntime) {
    let mut settings = Settings::defaults_in(dir);
    // A broker that is not there: the core keeps trying, which import does not need.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    settings.broker = BrokerTarget::External(BrokerUrl {
        tls: false,
        host: "127.0.0.1".into(),
        port,
    });
    runtime.block_on(Core::start(settings)).unwrap()
}

#[test]
fn import_previews_anything_without_touching_the_store() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (core, _core_runtime) = core_without_broker(dir.path(), &runtime);
    let file = core.config.paths().config_file.clone();
    let before = Snapshot::clone(&core.config.snapshot());
    let bytes_before = std::fs::read(&file).unwrap();

    let import_file = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        deep_json(),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::btree_map(
            segment(),
            prop_oneof![wrong_typed_document(), json_value()],
            0..6
        )
        .prop_map(|m| Value::Object(m.into_iter().collect())
            .to_string()
            .into_bytes()),
    ];
    let unreadable = Cell::new(0u64);
    let invalid_documents = Cell::new(0u64);
    runner()
        .run(&import_file, |bytes| {
            match preview_import(&core.config, &bytes) {
                Err(message) => {
                    unreadable.set(unreadable.get() + 1);
                    prop_assert!(!message.is_empty());
                }
                Ok(items) => {
                    for item in &items {
                        if let ImportKind::Invalid(errors) = &item.kind {
                            invalid_documents.set(invalid_documents.get() + 1);
                            prop_assert!(!errors.is_empty());
                        }
                    }
                }
            }
            prop_assert_eq!(&*core.config.snapshot(), &before);
            prop_assert!(std::fs::read(&file).unwrap() == bytes_before);
            Ok(())
        })
        .unwrap();
    let (unreadable, invalid_documents) = (unreadable.get(), invalid_documents.get());
    eprintln!(
        "import: {unreadable} files refused whole, {invalid_documents} documents refused; store untouched"
    );
}
