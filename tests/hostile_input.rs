//! Hostile input, as property tests (proptest): the MQTT message handler for every topic kind
//! of CONTRACT §2, config validation and storing, and import, fed arbitrary bytes, arbitrary
//! and deeply nested JSON, documents of the right shape with wrong types, huge strings, and
//! odd Unicode in service names, device ids and topics. Nothing may panic, and an input that
//! is refused may change nothing: not the registries, not the store, not the files.
//!
//! Cases per property: `PROPTEST_CASES` (default 256 in CI; run with 1,000,000 to soak).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use alicia_config_manager::core::backup::Backup;
use alicia_config_manager::core::config::{
    Change, ChangeSource, ConfigError, ConfigPaths, ConfigService, Precondition, Snapshot,
};
use alicia_config_manager::core::events::EventBus;
use alicia_config_manager::core::fleet::state::{KnownAuthority, RoleState};
use alicia_config_manager::core::fleet::{Fleet, Role};
use alicia_config_manager::core::mqtt::handler::Action;
use alicia_config_manager::core::settings::SettingsStore;
use alicia_config_manager::core::settings::{BrokerTarget, BrokerUrl, Settings};
use alicia_config_manager::core::transfer::{ImportKind, preview_import};
use alicia_config_manager::core::{Core, CoreRuntime};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::handler::HandlerFixture;

// ---- strategies ------------------------------------------------------------------------------

/// Strings people do not expect: empty, control characters, right-to-left marks, combining
/// marks, emoji, the BOM, NUL, and any Unicode at all.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just("\u{0}".to_owned()),
        Just("\u{feff}svc".to_owned()),
        Just("\u{202e}lanruoj".to_owned()),
        Just("e\u{301}\u{301}\u{301}".to_owned()),
        Just("🦀🔥💬".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("a".repeat(300)),
        prop::collection::vec(prop::char::range('a', 'z'), 1..12)
            .prop_map(|letters| letters.into_iter().collect()),
    ]
}

/// A topic segment: odd text without the separators and wildcards MQTT forbids in names.
fn segment() -> impl Strategy<Value = String> {
    odd_text().prop_map(|s| s.replace(['/', '+', '#'], "_"))
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        odd_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(odd_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A document of the right shape with one field replaced by anything at all.
fn wrong_typed_document() -> impl Strategy<Value = Value> {
    let fields = [
        "/service_name",
        "/service_type",
        "/enabled",
        "/version",
        "/status",
        "/config",
        "/config/api_key",
        "/config/model",
        "/config/endpoints",
        "/config/endpoints/0",
        "/config/endpoints/0/port",
        "/config/endpoints/0/ip",
        "/config/endpoints/0/protocol",
        "/config/settings",
    ];
    (prop::sample::select(fields.to_vec()), json_value()).prop_map(|(field, value)| {
        let mut document = valid_document("svc");
        if let Some(slot) = document.pointer_mut(field) {
            *slot = value;
        }
        document
    })
}

/// JSON nested `depth` levels deep, unclosed half the time.
fn deep_json() -> impl Strategy<Value = Vec<u8>> {
    (1usize..20_000, any::<bool>(), any::<bool>()).prop_map(|(depth, objects, closed)| {
        let (open, close) = if objects {
            ("{\"a\":", "}")
        } else {
            ("[", "]")
        };
        let mut text = open.repeat(depth);
        text.push('1');
        if closed {
            text.push_str(&close.repeat(depth));
        }
        text.into_bytes()
    })
}

/// A payload of any kind.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        wrong_typed_document().prop_map(|v| v.to_string().into_bytes()),
        deep_json(),
        (0usize..2_000_000).prop_map(|n| format!("\"{}\"", "x".repeat(n)).into_bytes()),
        manager_report().prop_map(|v| v.to_string().into_bytes()),
        Just(b"online".to_vec()),
        Just(b"offline".to_vec()),
        Just(Vec::new()),
    ]
}

/// A manager's presence report, well-formed or nearly: any status, id, role and `since`.
fn manager_report() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["healthy", "unhealthy", "unknown", "dead"]),
        odd_text(),
        prop::sample::select(vec!["authority", "follower", "", "king"]),
        prop_oneof![
            Just(json!("2026-01-01T00:00:00Z")),
            Just(json!("2099-12-31T23:59:59Z")),
            odd_text().prop_map(Value::String),
            Just(json!(42)),
        ],
    )
        .prop_map(|(status, id, role, since)| {
            json!({"status": status, "instance_id": id, "role": role, "details": {"since": since}})
        })
}

/// A topic of every kind the manager subscribes to, and some it does not know, with the
/// service or device name in it.
fn topic() -> impl Strategy<Value = (String, String)> {
    let kinds = [
        "alicia/system/health/{}",
        "alicia/system/health/config-manager",
        "alicia/system/health/config-manager/{}",
        "alicia/system/discovery/{}",
        "alicia/system/discovery/request",
        "alicia/config/{}",
        "alicia/config/{}/set",
        "alicia/config/{}/ack",
        "alicia/config/{}/error",
        "alicia/device/{}/state",
        "alicia/device/{}/availability",
        "alicia/device/{}/command",
        "alicia/device/{}/command/result",
        "alicia/{}",
        "{}",
    ];
    (prop::sample::select(kinds.to_vec()), segment())
        .prop_map(|(kind, name)| (kind.replace("{}", &name), name))
}

fn valid_document(service: &str) -> Value {
    support::llm(service)
        .api_key("sk-stored")
        .model("llama3")
        .protocol("http")
        .settings(json!({"temperature": 0.5}))
        .build()
}

fn runner() -> TestRunner {
    // `Config::default()` reads PROPTEST_CASES; without it, 256 cases.
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    })
}

// ---- the MQTT message handler ----------------------------------------------------------------

/// The handler under test, with the parts it changes.
type Handler = HandlerFixture;

/// What a message about `name` could change, compared before and after a refused one: that
/// device and service, the ones seeded before the run, the registries' sizes and the configs.
/// (Not every record: accepted messages keep adding devices, and comparing them all would make
/// a long run quadratic.)
#[derive(Debug, PartialEq)]
struct Observed {
    devices: Vec<Option<Value>>,
    device_counts: (usize, usize),
    health: Vec<Option<String>>,
    configs: Snapshot,
}

impl Handler {
    /// A lone authority's handler.
    fn authority() -> Self {
        HandlerFixture::new(Duration::from_secs(3600), 64, 10)
    }

    /// A handler that follows an authority (`Fleet` with a follower's state).
    fn follower() -> (Self, Fleet) {
        let fleet = Fleet::new(
            "f0110we7".to_owned(),
            RoleState::follower(Some(KnownAuthority {
                instance_id: "a07h0r17y".to_owned(),
                alive: true,
                last_seen: None,
            })),
        );
        (Self::authority().playing(fleet.clone()), fleet)
    }

    fn observe(&self, name: &str) -> Observed {
        let names = [name, "lamp", "whisper-service"];
        Observed {
            devices: names
                .iter()
                .map(|id| {
                    self.devices
                        .get(id)
                        .map(|d| serde_json::to_value(d.as_ref()).unwrap())
                })
                .collect(),
            device_counts: self.devices.counts(),
            health: names
                .iter()
                .map(|service| self.health.get(service).map(|r| format!("{r:?}")))
                .collect(),
            configs: Snapshot::clone(&self.config.snapshot()),
        }
    }
}

#[test]
fn the_message_handler_survives_anything_and_a_refused_message_changes_nothing() {
    let (refused, accepted) = handler_property(&Handler::authority(), |_| Ok(()));
    eprintln!("handler: {refused} messages refused (nothing changed), {accepted} accepted");
}

#[test]
fn a_followers_handler_never_answers_for_the_authority_nor_promotes_itself() {
    let (fixture, fleet) = Handler::follower();
    let (refused, accepted) = handler_property(&fixture, |actions| {
        prop_assert!(
            actions.iter().all(|a| matches!(
                a,
                Action::Mirror { .. }
                    | Action::MirrorDeletion { .. }
                    | Action::PublishPresence
                    | Action::RefuseSet { .. }
            )),
            "a follower asked for an authority's work: {actions:?}"
        );
        prop_assert_eq!(fleet.role(), Role::Follower);
        Ok(())
    });
    eprintln!(
        "follower handler: {refused} messages refused (nothing changed), {accepted} accepted"
    );
}

/// Feeds the handler anything; a refused message must change nothing and ask for no work but
/// a refusal; `every` checks each message's actions too. Returns (refused, accepted).
fn handler_property(
    fixture: &Handler,
    every: impl Fn(&[Action]) -> Result<(), TestCaseError>,
) -> (u64, u64) {
    // Some state for refused messages to leave alone.
    fixture.handler.handle(
        "alicia/device/lamp/state",
        br#"{"name":"Lamp","on":true}"#.to_vec().into(),
        true,
    );
    fixture.handler.handle(
        "alicia/system/health/whisper-service",
        br#"{"status":"healthy"}"#.to_vec().into(),
        true,
    );
    let refused = Cell::new(0u64);
    let accepted = Cell::new(0u64);
    runner()
        .run(
            &(topic(), payload(), any::<bool>()),
            |((topic, name), payload, retained)| {
                let before = fixture.observe(&name);
                let invalid = fixture.counters.invalid.load(Ordering::Relaxed);
                let received = fixture.counters.received.load(Ordering::Relaxed);
                let actions = fixture.handler.handle(&topic, payload.into(), retained);
                prop_assert_eq!(
                    fixture.counters.received.load(Ordering::Relaxed),
                    received + 1
                );
                prop_assert!(fixture.messages.len() <= fixture.messages.capacity());
                every(&actions)?;
                if fixture.counters.invalid.load(Ordering::Relaxed) > invalid {
                    refused.set(refused.get() + 1);
                    prop_assert!(
                        actions.iter().all(|a| matches!(
                            a,
                            // A /set is answered on /error; whatever lands on a topic only
                            // the authority writes (a config, its presence) is published
                            // back over.
                            Action::RefuseSet { .. }
                                | Action::RefuseChangeSet { .. }
                                | Action::RestoreConfig { .. }
                                | Action::PublishPresence
                        )),
                        "a refused message asked for work: {actions:?}"
                    );
                    prop_assert_eq!(fixture.observe(&name), before, "refused on {}", topic);
                } else {
                    accepted.set(accepted.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    let (refused, accepted) = (refused.get(), accepted.get());
    assert!(refused > 0, "the strategies produced no bad input");
    (refused, accepted)
}

// ---- change sets on the bus (CONTRACT §7, §10) -----------------------------------------------

/// A follower's change set, well made or not: request ids of every shape, documents valid,
/// wrong-typed, repeated, not objects, or none, options of any type, actors of any shape.
fn change_set_payload() -> impl Strategy<Value = Vec<u8>> {
    let request_id = prop_oneof![
        Just(Value::String("0123456789abcdef0123456789abcdef".to_owned())),
        odd_text().prop_map(Value::from),
        json_value(),
    ];
    let document = prop_oneof![
        (0usize..4).prop_map(|i| valid_document(&format!("svc-{i}"))),
        wrong_typed_document(),
        json_value(),
    ];
    let documents = prop_oneof![
        3 => (1usize..6).prop_map(|n| Value::Array((0..n).map(|i| valid_document(&format!("ok-{i}"))).collect())),
        2 => prop::collection::vec(document, 0..8).prop_map(Value::Array),
        1 => (0usize..3).prop_map(|n| Value::Array((0..101 + n).map(|i| valid_document(&format!("s{i}"))).collect())),
        1 => json_value(),
    ];
    let watch = prop_oneof![2 => (0u64..700).prop_map(Value::from), 1 => json_value()];
    let allow = prop_oneof![2 => any::<bool>().prop_map(Value::from), 1 => json_value()];
    (
        prop::option::of(request_id),
        prop::option::weighted(0.9, documents),
        prop::option::of(watch),
        prop::option::of(allow),
        prop::option::weighted(0.2, json_value()),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(request_id, documents, watch, allow, actor, raw)| {
            if raw {
                return documents.unwrap_or(Value::Null).to_string().into_bytes();
            }
            let mut body = Map::new();
            for (key, value) in [
                ("request_id", request_id),
                ("documents", documents),
                ("watch", watch),
                ("allow_warnings", allow),
                ("actor", actor),
            ] {
                if let Some(value) = value {
                    body.insert(key.to_owned(), value);
                }
            }
            Value::Object(body).to_string().into_bytes()
        })
}

#[test]
fn change_sets_on_the_bus_are_read_as_rest_reads_them_and_never_do_more() {
    use alicia_config_manager::core::change_sets::ChangeSetRequest;
    let fixture = Handler::authority();
    let counts = RefCell::new((0u64, 0u64));
    runner()
        .run(&change_set_payload(), |payload| {
            let actions =
                fixture
                    .handler
                    .handle("alicia/system/changes/set", payload.clone().into(), false);
            prop_assert!(actions.len() <= 1, "{actions:?}");
            prop_assert!(
                actions.iter().all(|a| matches!(
                    a,
                    Action::SubmitChangeSet { .. } | Action::RefuseChangeSet { .. }
                )),
                "{actions:?}"
            );
            // The bus's reader (documents as text slices) decides as REST's (one JSON tree).
            let from_wire = ChangeSetRequest::from_wire(&payload);
            let from_tree = serde_json::from_slice::<Value>(&payload)
                .ok()
                .filter(Value::is_object)
                .map(ChangeSetRequest::read);
            match (&from_wire, &from_tree) {
                (Ok((_, wire)), Some(Ok(tree))) => {
                    prop_assert_eq!(wire, tree);
                    prop_assert!((1..=100).contains(&wire.documents.len()));
                    prop_assert!(wire.watch.is_none_or(|w| w <= 600));
                    counts.borrow_mut().0 += 1;
                }
                (Err(_), Some(Err(_)) | None) => counts.borrow_mut().1 += 1,
                (wire, tree) => {
                    return Err(TestCaseError::fail(format!(
                        "the readers disagree: bus {wire:?}, REST {tree:?}"
                    )));
                }
            }
            Ok(())
        })
        .unwrap();
    let (read, refused) = *counts.borrow();
    eprintln!("change sets: {read} read, {refused} refused by both readers");
    assert!(read > 0 && refused > 0, "the strategy produced both kinds");
}

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
