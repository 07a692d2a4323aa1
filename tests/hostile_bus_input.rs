//! Hostile input on the bus, as property tests (proptest): the MQTT message handler for every
//! topic kind of CONTRACT §2 (an authority's and a follower's), and change sets on the bus,
//! fed arbitrary bytes, arbitrary and deeply nested JSON, documents of the right shape with
//! wrong types, huge strings, and odd Unicode in names and topics. Nothing may panic, and a
//! refused input changes nothing.
//!
//! Cases per property: `PROPTEST_CASES` (default 256 in CI; run with 1,000,000 to soak).

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod hostile;
mod support;

use alicia_config_manager::core::config::Snapshot;
use alicia_config_manager::core::fleet::state::{KnownAuthority, RoleState};
use alicia_config_manager::core::fleet::{Fleet, Role};
use alicia_config_manager::core::mqtt::handler::Action;
use hostile::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::handler::HandlerFixture;

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
