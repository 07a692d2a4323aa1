//! Two managers on one broker, each with its real window: the follower shows whom it follows,
//! edits through the authority and shows its refusals and conflicts where they belong, and
//! draws its forms from the stored schema after a restart.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::config::{ActorKind, ChangeSource, desktop_user};
use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::core::{Core, CoreRuntime};
use alicia_config_manager::gui::{AliciaApp, GuiOptions};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::json;
use support::{TestBroker, TestClient, start_core};

impl Gui {
    /// Starts a follower of this window's manager, with a window of its own.
    fn follower(&self) -> FollowerWindow {
        let dir = tempfile::tempdir().unwrap();
        let (core, runtime) =
            self.runtime
                .block_on(start_core(dir.path(), self.broker.port, |s| {
                    s.role = alicia_config_manager::core::fleet::RoleSetting::Follower
                }));
        let harness = window(
            &core,
            self.runtime.handle(),
            GuiOptions::default(),
            SettingsFile::default(),
        );
        FollowerWindow {
            core,
            harness,
            runtime,
            _dir: dir,
        }
    }
}

/// A second manager on the same broker, started as a follower, with its own window.
struct FollowerWindow {
    core: Core,
    harness: Harness<'static, AliciaApp>,
    runtime: CoreRuntime,
    _dir: tempfile::TempDir,
}

#[test]
fn a_follower_shows_which_authority_it_follows() {
    let gui = gui(GuiOptions::default(), SettingsFile::default());
    let mut follower = gui.follower();
    let expected = format!("role: follower of {}", gui.core.fleet.instance_id());
    step_until(
        &mut follower.harness,
        "the top bar names the authority",
        |h| has_text(h, &expected),
    );
    gui.runtime
        .block_on(follower.runtime.shutdown(&follower.core));
}

#[test]
fn a_follower_edits_through_the_authority_and_shows_its_refusal_beside_the_field() {
    let gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    // Only the authority hears this announcement (it is not retained): it alone knows that
    // `beam_size` may not exceed 10.
    let _client = gui.runtime.block_on(async move {
        let client = TestClient::connect(port).await;
        let announcement = json!({
            "service_name": "whisper-service", "service_type": "stt", "version": "1.0.0",
            "settings_schema": {"type": "object", "properties": {"beam_size": {"type": "integer", "maximum": 10}}}
        });
        client
            .publish_json("alicia/system/discovery/whisper-service", &announcement, false)
            .await;
        client
    });
    let authority = gui.core.clone();
    let heard = authority.clone();
    gui.runtime.block_on(support::wait_until(
        "the authority heard the announcement",
        move || heard.config.settings_schema("whisper-service").is_some(),
    ));
    let FollowerWindow {
        core: follower,
        mut harness,
        runtime: follower_runtime,
        _dir,
    } = gui.follower();
    let f = follower.clone();
    step_until(&mut harness, "the follower mirrors and follows", move |h| {
        f.fleet.state().has_live_authority() && h.query_by_label("whisper-service").is_some()
    });
    open_in(&mut harness, "whisper-service");

    // A valid edit lands in the authority's store.
    text_field(&harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.77");
    step_until(&mut harness, "Save is enabled", |h| {
        !locked(&h.get_by_label("Save"))
    });
    harness.get_by_label("Save").click();
    step_until(&mut harness, "the authority's answer", |h| {
        has_text(h, "Saved as revision")
    });
    assert_eq!(
        authority.config.get("whisper-service").unwrap().document["config"]["endpoints"][0]["ip"],
        "10.0.0.77"
    );
    // CONTRACT §9: the authority records who made it, on which manager.
    let stored = authority.config.history("whisper-service")[0].clone();
    assert_eq!(stored.source, ChangeSource::Mqtt);
    let actor = stored.actor();
    assert_eq!(actor.kind, ActorKind::Gui);
    assert_eq!(actor.name, desktop_user().name, "the OS user and host");
    assert_eq!(
        actor.instance_id.as_deref(),
        Some(follower.fleet.instance_id())
    );

    // CONTRACT §9: the authority published the settings schema the service announced to it
    // alone; the follower's form judges the settings with it, beside the field.
    let f = follower.clone();
    step_until(&mut harness, "the follower holds the schema", move |_| {
        f.config.settings_schema("whisper-service").is_some()
    });
    assert!(
        harness
            .state_mut()
            .editor_mut()
            .unwrap()
            .set("/config/settings", json!({"beam_size": 99}))
    );
    step_until(&mut harness, "the refusal beside the field", |h| {
        h.state()
            .editor()
            .unwrap()
            .field_errors()
            .contains_key("/config/settings/beam_size")
    });
    assert!(locked(&harness.get_by_label("Save")), "nothing to send");
    gui.runtime.block_on(follower_runtime.shutdown(&follower));
}

/// CONTRACT §9: a follower sends its edit in the envelope (the `last_updated` it started from,
/// and who made it); when the authority refuses it as based on an old document, the
/// follower's editor shows the conflict as it shows a local one, and "keep mine" sends again
/// from the new base; a refusal the follower could not judge shows beside its field. The authority is a test client here, to hold the race (another edit
/// landing first) still.
#[test]
fn a_followers_edit_refused_as_a_conflict_shows_the_conflict_view() {
    use alicia_config_manager::core::clock::format_rfc3339;
    use alicia_config_manager::core::config::seed_default_document;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let broker = TestBroker::embedded();
    let port = broker.port;
    let (first_revision, newer_revision) = ("2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z");
    let first = seed_default_document(first_revision);
    let mut authority = runtime.block_on(async move {
        let mut authority = TestClient::connect(port).await;
        authority.subscribe("alicia/config/+/set").await;
        let now = format_rfc3339(time::OffsetDateTime::now_utc());
        let presence = json!({"status": "healthy", "timestamp": now, "instance_id": "fake-authority",
            "role": "authority", "details": {"since": now}});
        authority
            .publish_json("alicia/system/health/config-manager", &presence, true)
            .await;
        authority
            .publish_json("alicia/config/whisper-service", &first, true)
            .await;
        authority
    });
    let dir = tempfile::tempdir().unwrap();
    let (follower, follower_runtime) = runtime.block_on(start_core(dir.path(), port, |s| {
        s.role = alicia_config_manager::core::fleet::RoleSetting::Follower
    }));
    let mut harness = window(
        &follower,
        runtime.handle(),
        GuiOptions::default(),
        SettingsFile::default(),
    );
    let f = follower.clone();
    step_until(&mut harness, "the follower mirrors and follows", move |h| {
        f.fleet.state().has_live_authority() && h.query_by_label("whisper-service").is_some()
    });
    open_in(&mut harness, "whisper-service");
    text_field(&harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.99");
    step_until(&mut harness, "Save is enabled", |h| {
        !locked(&h.get_by_label("Save"))
    });
    harness.get_by_label("Save").click();
    harness.step();

    let sent =
        runtime.block_on(authority.expect_json("alicia/config/whisper-service/set", |_| true));
    assert_eq!(sent["base"], first_revision, "{sent}");
    assert_eq!(
        sent["document"]["config"]["endpoints"][0]["ip"],
        "10.0.0.99"
    );
    assert_eq!(sent["actor"]["kind"], "gui");
    assert_eq!(sent["actor"]["instance_id"], follower.fleet.instance_id());
    assert_eq!(
        sent["actor"]["name"].as_str(),
        desktop_user().name.as_deref()
    );

    // Another edit landed first: the authority publishes it, then refuses this one.
    let mut newer = seed_default_document(newer_revision);
    newer["config"]["model"] = json!("large-v3");
    runtime.block_on(async {
        authority
            .publish_json("alicia/config/whisper-service", &newer, true)
            .await;
        authority
            .publish_json(
                "alicia/config/whisper-service/error",
                &json!({"error": "conflict", "current_last_updated": newer_revision, "details": [],
                        "request_id": sent["request_id"]}),
                false,
            )
            .await;
    });
    step_until(&mut harness, "the conflict view", |h| {
        has_text(h, "Someone else saved this service while you were editing.")
    });
    step_until(&mut harness, "their change is listed", |h| {
        has_text(h, "Model")
    });
    harness.get_by_label("Keep mine (save over theirs)").click();
    harness.step();
    let again =
        runtime.block_on(authority.expect_json("alicia/config/whisper-service/set", |_| true));
    assert_eq!(
        again["base"], newer_revision,
        "sent again from the new base"
    );
    assert_eq!(
        again["document"]["config"]["endpoints"][0]["ip"],
        "10.0.0.99"
    );
    runtime.block_on(authority.publish_json(
        "alicia/config/whisper-service/error",
        &json!({"error": "the configuration is invalid", "details": [
            {"path": "/config/endpoints/0/ip", "message": "is not reachable from the authority"}],
            "request_id": again["request_id"]}),
        false,
    ));
    step_until(&mut harness, "the authority's refusal", |h| {
        has_text(h, "The authority refused it")
    });
    assert!(
        harness
            .state()
            .editor()
            .unwrap()
            .field_errors()
            .contains_key("/config/endpoints/0/ip"),
        "the refusal is attached to its field"
    );
    runtime.block_on(follower_runtime.shutdown(&follower));
}

/// CONTRACT §9: settings schemas outlive restarts. A follower that learnt a schema from the
/// authority, restarted where neither the authority nor anything retained is left (a fresh
/// broker), still draws the settings form from it and judges the settings with it.
#[test]
fn a_followers_form_is_drawn_from_the_stored_schema_after_a_restart() {
    let gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let _service = gui.runtime.block_on(async move {
        let client = TestClient::connect(port).await;
        let announcement = json!({
            "service_name": "whisper-service", "service_type": "stt", "version": "1.0.0",
            "settings_schema": {"type": "object", "properties": {
                "temperature": {"type": "number", "maximum": 1, "title": "Sampling temperature"}}}
        });
        client
            .publish_json(
                "alicia/system/discovery/whisper-service",
                &announcement,
                false,
            )
            .await;
        client
    });
    let dir = tempfile::tempdir().unwrap();
    let as_follower = |s: &mut alicia_config_manager::core::settings::Settings| {
        s.role = alicia_config_manager::core::fleet::RoleSetting::Follower;
    };
    let (follower, follower_runtime) =
        gui.runtime
            .block_on(start_core(dir.path(), port, as_follower));
    let f = follower.clone();
    gui.runtime.block_on(support::wait_until(
        "the follower stored the authority's schema and document",
        move || {
            f.config.settings_schema("whisper-service").is_some()
                && f.config.get("whisper-service").is_some()
        },
    ));
    gui.runtime.block_on(follower_runtime.shutdown(&follower));
    drop(follower);

    let fresh = TestBroker::embedded();
    let (follower, follower_runtime) =
        gui.runtime
            .block_on(start_core(dir.path(), fresh.port, as_follower));
    assert!(follower.config.settings_schema("whisper-service").is_some());
    let mut harness = window(
        &follower,
        gui.runtime.handle(),
        GuiOptions::default(),
        SettingsFile::default(),
    );
    open_in(&mut harness, "whisper-service");
    step_until(&mut harness, "the form drawn from the schema", |h| {
        has_text(h, "Sampling temperature")
    });
    assert!(
        harness
            .state_mut()
            .editor_mut()
            .unwrap()
            .set("/config/settings/temperature", json!(3))
    );
    step_until(&mut harness, "the refusal beside the field", |h| {
        h.state()
            .editor()
            .unwrap()
            .field_errors()
            .contains_key("/config/settings/temperature")
    });
    gui.runtime.block_on(follower_runtime.shutdown(&follower));
}
