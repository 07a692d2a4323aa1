//! The real desktop app, driven through its accessibility tree with egui_kittest, over a real
//! core connected to the embedded broker: editing with inline errors, saving, devices and
//! commands, live updates that never wipe a draft, the kiosk lock, rollback, and rendered
//! snapshots of every panel.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::config::{
    ActorKind, ChangeSource, Committed, Precondition, desktop_user,
};
use alicia_config_manager::core::mqtt::payloads::HealthStatus;
use alicia_config_manager::core::settings::{SettingsFile, SettingsFileIo};
use alicia_config_manager::core::{Core, CoreRuntime};
use alicia_config_manager::gui::app::Tab;
use alicia_config_manager::gui::{AliciaApp, GuiOptions};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, SnapshotOptions};
use gui_support::*;
use serde_json::{Value, json};
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

    /// Stores `document` as whisper-service's config, as a REST client would.
    fn store_by_rest(&self, document: Value) -> Committed {
        self.runtime
            .block_on(self.core.config.put(
                "whisper-service",
                document,
                ChangeSource::Rest,
                Precondition::None,
            ))
            .unwrap()
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
fn an_invalid_field_shows_its_error_blocks_save_and_a_fix_saves_and_publishes() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.open("whisper-service");
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("");
    gui.frames(3);
    gui.until("the field's error shows", |h, _| {
        has_text(h, "must not be empty")
    });
    assert!(
        locked(&gui.harness.get_by_label("Save")),
        "Save is disabled while invalid"
    );

    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.99");
    gui.frames(3);
    gui.until("the error is gone", |h, _| {
        !has_text(h, "must not be empty")
    });
    assert!(!locked(&gui.harness.get_by_label("Save")));
    gui.until("the pending change is listed", |h, _| {
        has_text(h, "Changes to save (1)")
    });
    gui.click("Save");
    gui.until("the change is stored", |_, core| {
        core.config
            .get("whisper-service")
            .is_some_and(|s| s.document["config"]["endpoints"][0]["ip"] == "10.0.0.99")
    });
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(gui.dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(
        on_disk["whisper-service"]["config"]["endpoints"][0]["ip"],
        "10.0.0.99"
    );
    assert_eq!(
        gui.core.config.history("whisper-service")[0].source,
        ChangeSource::Gui
    );
    let port = gui.broker.port;
    let retained = gui.runtime.block_on(async move {
        let mut late = TestClient::connect(port).await;
        late.subscribe("alicia/config/whisper-service").await;
        late.expect_json("alicia/config/whisper-service", |d| {
            d["config"]["endpoints"][0]["ip"] == "10.0.0.99"
        })
        .await
    });
    assert_eq!(
        retained["config"]["endpoints"][0]["ip"], "10.0.0.99",
        "published retained"
    );
    gui.until("the saved revision is shown", |h, _| {
        has_text(h, "Saved as revision")
    });
}

#[test]
fn a_device_appears_in_the_table_and_a_command_round_trips() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let mut device = gui.runtime.block_on(async move {
        let mut device = TestClient::connect(port).await;
        device.subscribe("alicia/device/+/command").await;
        device
            .publish_json(
                "alicia/device/desk-lamp/state",
                &json!({"name": "Desk lamp", "type": "light", "room": "office", "on": false}),
                true,
            )
            .await;
        device
            .publish(
                "alicia/device/desk-lamp/availability",
                b"online".to_vec(),
                true,
            )
            .await;
        device
    });
    gui.harness.state_mut().tab = Tab::Devices;
    gui.until("the lamp is in the table", |h, _| {
        h.query_by_label("Desk lamp (desk-lamp)").is_some()
    });
    // ↓ selects the first device (the keyboard's way in).
    gui.harness.key_press(egui::Key::ArrowDown);
    gui.until("its details show", |h, _| h.query_by_label("On").is_some());
    // The lamp reports `on`: its quick control sends turn_on.
    gui.click("On");
    let command = gui
        .runtime
        .block_on(device.expect_json("alicia/device/desk-lamp/command", |_| true));
    assert_eq!(command["command"], "turn_on");
    let result = json!({"request_id": command["request_id"], "ok": true});
    gui.runtime.block_on(device.publish_json(
        "alicia/device/desk-lamp/command/result",
        &result,
        false,
    ));
    gui.until("the result is shown", |h, _| {
        has_text(h, "the device did it")
    });

    // Forgotten from the details, after a confirmation.
    gui.click("Forget device…");
    assert!(
        gui.core.devices.get("desk-lamp").is_some(),
        "not before confirming"
    );
    gui.click("Forget");
    gui.until(
        "the lamp is gone from the registry and the table",
        |h, core| {
            core.devices.get("desk-lamp").is_none()
                && h.query_by_label("Desk lamp (desk-lamp)").is_none()
        },
    );
}

#[test]
fn a_live_update_never_wipes_what_is_being_typed() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.open("whisper-service");
    let model = gui.harness.get_all_by_label("Model").next().unwrap();
    model.set_text_value_accesskit("typed-but-not-saved");
    gui.frames(3);
    let core = gui.core.clone();
    let mut document = (*core.config.get("whisper-service").unwrap().document).clone();
    document["version"] = json!("9.9.9");
    gui.store_by_rest(document);
    gui.until("the editor says it changed meanwhile", |h, _| {
        has_text(h, "Changed meanwhile")
    });
    gui.frames(10);
    let typed = gui
        .harness
        .get_all_by_label("Model")
        .next()
        .unwrap()
        .value();
    assert_eq!(typed.as_deref(), Some("typed-but-not-saved"));
    assert_eq!(
        gui.harness.state().editor().unwrap().draft()["config"]["model"],
        "typed-but-not-saved"
    );
}

#[test]
fn the_kiosk_pin_set_in_settings_is_stored_hashed() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Settings;
    gui.frames(3);
    // Letters are refused: the kiosk's keypad has none.
    gui.harness
        .get_by_label("New PIN")
        .set_text_value_accesskit("abcd");
    gui.harness
        .get_by_label("Again")
        .set_text_value_accesskit("abcd");
    gui.frames(2);
    assert!(locked(&gui.harness.get_by_label("Set PIN")));
    assert!(has_text(&gui.harness, "digits only"));
    gui.harness
        .get_by_label("New PIN")
        .set_text_value_accesskit("97531");
    gui.harness
        .get_by_label("Again")
        .set_text_value_accesskit("97531");
    gui.frames(2);
    gui.click("Set PIN");
    let file = gui.core.settings.settings_file();
    gui.until("the settings file holds the PIN's hash", |_, _| {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains("kiosk_pin_hash"))
    });
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("97531"), "the PIN itself is never written");
    let stored: Value = serde_json::from_str(&text).unwrap();
    let hash = stored["kiosk_pin_hash"].as_str().unwrap();
    assert!(hash.starts_with("$argon2"), "an Argon2 hash: {hash}");
    assert!(alicia_config_manager::core::kiosk_pin::verify_pin(
        "97531", hash
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the settings file is private");
    }
}

#[test]
fn a_revision_is_rolled_back_from_history() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let core = gui.core.clone();
    let mut document = (*core.config.get("whisper-service").unwrap().document).clone();
    document["config"]["model"] = json!("model-a");
    let first = gui.store_by_rest(document.clone());
    document["config"]["model"] = json!("model-b");
    gui.store_by_rest(document);
    gui.open("whisper-service");
    gui.click("History");
    let revision = format!("revision {}", first.revision);
    gui.until("the revision is listed", |h, _| {
        h.query_by_label(&revision).is_some()
    });
    gui.until("its own change is shown", |h, _| has_text(h, "\"model-a\""));
    gui.click(&format!("Restore revision {}", first.revision));
    gui.until("the old model is current again", |_, core| {
        core.config
            .get("whisper-service")
            .is_some_and(|s| s.document["config"]["model"] == "model-a")
    });
    let rollback = gui.core.config.history("whisper-service")[0].clone();
    assert_eq!(rollback.source, ChangeSource::Rollback);
    assert_eq!(
        rollback.actor(),
        desktop_user(),
        "asked for by the desktop's user"
    );
    // The History list says who made each revision.
    let by_whom = desktop_user().describe();
    gui.until("the list names the user", |h, _| has_text(h, &by_whom));
}

#[test]
fn every_panel_renders_as_in_its_snapshot() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    // The client stays connected until the end: dropping it could lose queued publishes.
    let _fleet = gui.runtime.block_on(async move {
        let fleet = TestClient::connect(port).await;
        for (id, name, kind, room) in [
            ("kitchen-light", "Kitchen light", "light", "kitchen"),
            ("hall-thermostat", "Hall thermostat", "thermostat", "hall"),
            ("office-speaker", "Office speaker", "speaker", "office"),
        ] {
            let state = json!({"name": name, "type": kind, "room": room, "on": true});
            fleet
                .publish_json(&format!("alicia/device/{id}/state"), &state, true)
                .await;
            fleet
                .publish(
                    &format!("alicia/device/{id}/availability"),
                    b"online".to_vec(),
                    true,
                )
                .await;
        }
        let health = json!({"status": "healthy", "version": "1.0.0"});
        fleet
            .publish_json("alicia/system/health/whisper-service", &health, false)
            .await;
        fleet
    });
    gui.until("the fleet is seen", |_, core| {
        core.devices.counts() == (3, 3)
            && core.shown_status("whisper-service") == Some(HealthStatus::Healthy)
    });
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    // Live text (times, the random broker port) differs between runs: a few hundred pixels.
    let options = SnapshotOptions::new().max_failed_pixels(4000);
    for (theme, suffix) in [
        (egui::ThemePreference::Dark, ""),
        (egui::ThemePreference::Light, "-light"),
    ] {
        gui.harness.ctx.set_theme(theme);
        for (tab, name) in [
            (Tab::Services, "services"),
            (Tab::Devices, "devices"),
            (Tab::Health, "health"),
            (Tab::Monitor, "monitor"),
            (Tab::Server, "server"),
            (Tab::Settings, "settings"),
        ] {
            gui.harness.state_mut().tab = tab;
            gui.frames(4);
            if tab == Tab::Monitor && suffix.is_empty() {
                // The manager's own echoes (presence, config) may arrive twice from rumqttd
                // (live and retained when the subscription races them): show the fleet's
                // only.
                let filter = gui.harness.get_by_label("Topic filter");
                filter.focus();
                filter.type_text("alicia/device/#");
                gui.frames(4);
            }
            gui.harness
                .snapshot_options(format!("{name}{suffix}"), &options);
        }
        gui.harness.state_mut().tab = Tab::Services;
        if suffix.is_empty() {
            gui.open("whisper-service");
        }
        gui.frames(4);
        gui.harness
            .snapshot_options(format!("editor{suffix}"), &options);
    }
}

#[test]
fn a_check_links_to_the_field_it_is_about() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let mut router = json!({
        "service_name": "voice-router",
        "service_type": "voice_router",
        "enabled": true,
        "version": "0.9.0",
        "config": {
            "endpoints": [{"type": "http", "ip": "127.0.0.1", "port": 8700}],
            "settings": {"stt_service": "ghost", "tts_service": "whisper-service", "llm_service": "whisper-service"}
        }
    });
    router["config"]["language"] = json!("en");
    gui.runtime
        .block_on(gui.core.config.put(
            "voice-router",
            router,
            ChangeSource::Rest,
            Precondition::None,
        ))
        .unwrap();
    gui.until("the checks list counts the errors", |h, _| {
        has_text(h, "Checks: 3 errors")
    });
    // The list opened by itself when the errors appeared.
    gui.until("the check's link", |h, _| {
        h.query_by_label("voice-router/config/settings/stt_service")
            .is_some()
    });
    gui.click("voice-router/config/settings/stt_service");
    gui.until("the editor opens at the field", |h, _| {
        h.state().editor().is_some_and(|e| {
            e.service() == "voice-router" && e.pointed_at() == Some("/config/settings/stt_service")
        })
    });
    assert!(has_text(
        &gui.harness,
        "Check: voice router voice-router uses stt service ghost"
    ));
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
fn the_role_at_start_is_chosen_in_settings() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Settings;
    gui.frames(3);
    assert!(has_text(&gui.harness, "Now: authority"));
    gui.click("Role at start: Follower");
    let file = gui.core.settings.settings_file();
    gui.until("the settings file asks for a follower", |_, _| {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains("\"role\": \"follower\""))
    });
    assert!(has_text(
        &gui.harness,
        "The role applies from the next start."
    ));
    let reread = SettingsFile::load(&file).unwrap();
    assert_eq!(
        reread.role,
        Some(alicia_config_manager::core::fleet::RoleSetting::Follower)
    );
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

/// The token the Server panel generates comes from the OS generator: with fastrand's
/// generator, the same generator state gave the same token (whoever could set or learn it
/// could guess the token).
#[test]
fn the_generated_api_token_does_not_follow_a_seeded_generator() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.harness.state_mut().tab = Tab::Server;
    gui.frames(3);
    // "Start server" stores the settings (token included) at once; this window's core has no
    // server supervisor, so nothing binds and the button stays.
    let file = gui.core.settings.settings_file();
    let stored_token = move || -> Option<String> {
        let text = std::fs::read_to_string(&file).ok()?;
        let settings: Value = serde_json::from_str(&text).ok()?;
        settings["api_token"].as_str().map(str::to_owned)
    };
    fastrand::seed(7);
    gui.click("Generate");
    gui.click("Start server");
    let probe = stored_token.clone();
    gui.until("the first token is stored", |_, _| probe().is_some());
    let first = stored_token().unwrap();
    assert_eq!(first.len(), 48, "24 random bytes, in hex");

    fastrand::seed(7);
    gui.click("Generate");
    gui.click("Start server");
    let probe = stored_token.clone();
    gui.until("the second token is stored, another one", |_, _| {
        probe().is_some_and(|token| token != first)
    });
}

/// CONTRACT §6: a stored time the manager cannot follow (year 9999, from a crafted backup or a
/// hand-edited file) never crashes the app: the service opens, validates and saves.
#[test]
fn a_service_stamped_in_year_9999_opens_validates_and_saves() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let mut document = gui.core.config.get("whisper-service").unwrap().document;
    std::sync::Arc::make_mut(&mut document)["last_updated"] = json!("9999-12-31T23:59:59.999Z");
    let restore = alicia_config_manager::core::config::Restore {
        documents: [("whisper-service".to_owned(), (*document).clone())].into(),
        history: Vec::new(),
    };
    gui.runtime
        .block_on(gui.core.config.restore(restore))
        .unwrap();
    gui.open("whisper-service");
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.42");
    gui.frames(3);
    gui.until("the pending change is listed", |h, _| {
        has_text(h, "Changes to save (1)")
    });
    gui.click("Save");
    gui.until("the change is stored, stamped now", |_, core| {
        core.config.get("whisper-service").is_some_and(|s| {
            s.document["config"]["endpoints"][0]["ip"] == "10.0.0.42"
                && s.document["last_updated"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("20"))
        })
    });
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

/// CONTRACT §9: a settings schema the stored settings fail waits; the editor names the failing
/// field, and after the fix is saved the admin accepts it there.
#[test]
fn a_pending_settings_schema_is_accepted_in_the_editor() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let _service = gui.runtime.block_on(async move {
        let client = TestClient::connect(port).await;
        let announcement = json!({
            "service_name": "whisper-service", "service_type": "stt", "version": "1.0.0",
            "settings_schema": {"type": "object", "properties": {
                "timeout": {"type": "integer", "maximum": 10}}}
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
    gui.until("the schema waits (the stored timeout is 30)", |_, core| {
        core.config
            .schema_record("whisper-service")
            .is_some_and(|r| r.pending.is_some())
    });
    gui.open("whisper-service");
    gui.until("the editor names the failing field", |h, _| {
        has_text(h, "The service announced a new settings schema")
            && has_text(h, "/config/settings/timeout")
    });
    assert!(
        gui.harness
            .state_mut()
            .editor_mut()
            .unwrap()
            .set("/config/settings/timeout", json!(8))
    );
    gui.frames(3);
    gui.click("Save");
    gui.until("saved", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["settings"]["timeout"] == 8
    });
    gui.click("Accept the new settings schema");
    gui.until("the schema is enforced", |h, core| {
        core.config
            .schema_record("whisper-service")
            .is_some_and(|r| r.pending.is_none() && r.enforced.is_some())
            && has_text(h, "The new settings schema is enforced.")
    });
}

#[test]
fn every_panel_is_named_for_assistive_technology() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    let port = gui.broker.port;
    let _device = gui.runtime.block_on(async move {
        let device = TestClient::connect(port).await;
        device
            .publish_json(
                "alicia/device/desk-lamp/state",
                &json!({"name": "Desk lamp", "on": true}),
                true,
            )
            .await;
        device
    });
    gui.until("the lamp is known", |_, core| {
        core.devices.get("desk-lamp").is_some()
    });
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    let mut found = Vec::new();
    let panels = [
        (Tab::Services, "services"),
        (Tab::Devices, "devices"),
        (Tab::Health, "health"),
        (Tab::Monitor, "monitor"),
        (Tab::Server, "server"),
        (Tab::Settings, "settings"),
    ];
    for (theme, (tab, name)) in [egui::ThemePreference::Dark, egui::ThemePreference::Light]
        .into_iter()
        .flat_map(|theme| panels.into_iter().map(move |panel| (theme, panel)))
    {
        gui.harness.ctx.set_theme(theme);
        gui.harness.state_mut().tab = tab;
        gui.frames(4);
        if tab == Tab::Devices && gui.harness.query_by_label("Toggle").is_none() {
            gui.click("Desk lamp (desk-lamp)");
        }
        if matches!(tab, Tab::Services | Tab::Devices | Tab::Monitor) {
            let roles: Vec<egui::accesskit::Role> = gui
                .harness
                .root()
                .query_all(egui_kittest::kittest::By::new())
                .map(|node| node.accesskit_node().role())
                .collect();
            assert!(
                roles.contains(&egui::accesskit::Role::ColumnHeader)
                    && roles.contains(&egui::accesskit::Role::Cell),
                "{name}: the table tells its headers and cells"
            );
        }
        for problem in accessibility_problems(&gui.harness) {
            found.push(format!("{name}: {problem}"));
        }
    }
    gui.harness.state_mut().tab = Tab::Services;
    gui.open("whisper-service");
    gui.frames(4);
    for problem in accessibility_problems(&gui.harness) {
        found.push(format!("editor: {problem}"));
    }
    gui.click("History");
    gui.frames(4);
    for problem in accessibility_problems(&gui.harness) {
        found.push(format!("history: {problem}"));
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The keyboard: Ctrl+F focuses the filter; in the editor Ctrl+S on an invalid form focuses
/// its first problem, on a valid one saves; Esc closes the form.
#[test]
fn the_editor_and_the_tables_answer_the_keyboard() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.until("the services are listed", |h, _| {
        h.query_by_label("whisper-service").is_some()
    });
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    gui.frames(2);
    assert!(gui.harness.get_by_label("Filter").is_focused(), "Ctrl+F");
    gui.harness.key_press(egui::Key::Escape);
    gui.frames(2);
    // ↓ moves through the rows, Enter opens the one with focus.
    gui.harness.key_press(egui::Key::ArrowDown);
    gui.frames(2);
    gui.harness.key_press(egui::Key::ArrowDown);
    gui.frames(2);
    assert!(
        gui.harness.get_by_label("whisper-service").is_focused(),
        "↓↓"
    );
    gui.harness.key_press(egui::Key::Enter);
    gui.until("Enter opens it", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.service() == "whisper-service")
    });
    gui.frames(2);
    gui.harness.key_press(egui::Key::Escape);
    gui.until("Esc closes it", |h, _| h.state().editor().is_none());
    // In the Monitor, ↓ selects the newest message and shows it whole.
    gui.harness.state_mut().tab = Tab::Monitor;
    gui.until("messages are listed", |h, _| has_text(h, "alicia/"));
    gui.harness.key_press(egui::Key::ArrowDown);
    gui.until("the message shows", |h, _| {
        h.query_by_label("The message (JSON)").is_some()
    });
    gui.harness.state_mut().tab = Tab::Services;
    gui.frames(2);

    gui.open("whisper-service");
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("");
    gui.frames(3);
    text_field(&gui.harness, "Endpoint 1 · Model").focus();
    gui.frames(2);
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    gui.frames(3);
    assert!(
        text_field(&gui.harness, "Endpoint 1 · Address").is_focused(),
        "the first problem is focused"
    );
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.9");
    gui.frames(3);
    gui.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    gui.until("saved", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["endpoints"][0]["ip"]
            == "10.0.0.9"
    });
    gui.frames(3);
    gui.harness.key_press(egui::Key::Escape);
    gui.until("the editor closed", |h, _| h.state().editor().is_none());
}

/// The states a panel passes through, rendered (README's pictures come from this run too):
/// an invalid field, the pending changes, a conflict, the delete confirmation, the new-service dialog,
/// a device with its command's result, the history and a running server.
#[test]
fn every_state_renders_as_in_its_snapshot() {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    gui.runtime
        .spawn(alicia_config_manager::api::server::supervise(
            gui.core.clone(),
        ));
    let port = gui.broker.port;
    let mut lamp = gui.runtime.block_on(async move {
        let mut lamp = TestClient::connect(port).await;
        lamp.subscribe("alicia/device/+/command").await;
        let state = json!({"name": "Desk lamp", "type": "light", "room": "office", "on": false});
        lamp.publish_json("alicia/device/desk-lamp/state", &state, true)
            .await;
        lamp.publish(
            "alicia/device/desk-lamp/availability",
            b"online".to_vec(),
            true,
        )
        .await;
        lamp
    });
    let options = SnapshotOptions::new().max_failed_pixels(4000);

    gui.open("whisper-service");
    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("");
    gui.until("the error shows", |h, _| has_text(h, "problem(s) to fix"));
    gui.harness
        .snapshot_options("state-invalid-field", &options);

    text_field(&gui.harness, "Endpoint 1 · Address").set_text_value_accesskit("10.0.0.42");
    gui.frames(3);
    gui.until("the pending change is listed", |h, _| {
        has_text(h, "Changes to save (1)")
    });
    gui.harness.snapshot_options("state-pending", &options);

    let mut theirs = (*gui.core.config.get("whisper-service").unwrap().document).clone();
    theirs["config"]["model"] = json!("large-v3");
    gui.store_by_rest(theirs);
    gui.until("changed meanwhile", |h, _| has_text(h, "Changed meanwhile"));
    gui.click("Save");
    gui.until("the conflict", |h, _| {
        has_text(h, "Someone else saved this service while you were editing.")
    });
    gui.harness.snapshot_options("state-conflict", &options);
    gui.click("Take theirs (discard mine)");
    gui.frames(3);
    gui.click("Delete service…");
    gui.until("the confirmation", |h, _| {
        h.query_by_label("Delete").is_some()
    });
    gui.harness.snapshot_options("state-delete", &options);
    gui.harness.key_press(egui::Key::Escape);
    gui.frames(3);
    gui.click("History");
    gui.frames(4);
    gui.harness.snapshot_options("history", &options);
    gui.click("Close");
    gui.frames(3);

    gui.click("New service…");
    gui.frames(4);
    gui.harness.snapshot_options("state-new-service", &options);
    gui.click("Cancel");
    gui.frames(3);

    gui.harness.state_mut().tab = Tab::Devices;
    gui.until("the lamp is listed", |h, _| {
        h.query_by_label("Desk lamp (desk-lamp)").is_some()
    });
    gui.click("Desk lamp (desk-lamp)");
    gui.until("its details", |h, _| h.query_by_label("On").is_some());
    // The lamp reports `on`: its quick control sends turn_on.
    gui.click("On");
    let command = gui
        .runtime
        .block_on(lamp.expect_json("alicia/device/desk-lamp/command", |_| true));
    let result = json!({"request_id": command["request_id"], "ok": true});
    gui.runtime.block_on(lamp.publish_json(
        "alicia/device/desk-lamp/command/result",
        &result,
        false,
    ));
    gui.until("the result", |h, _| has_text(h, "the device did it"));
    gui.harness
        .snapshot_options("state-device-result", &options);

    // At twice the size (a UI scale of 2.0): the layout reflows, nothing is cut off.
    gui.harness.state_mut().tab = Tab::Services;
    gui.harness.ctx.set_zoom_factor(2.0);
    gui.open("whisper-service");
    gui.frames(4);
    gui.harness.snapshot_options("state-ui-scale-2", &options);
    gui.click("Close");
    gui.harness.ctx.set_zoom_factor(1.0);
    gui.frames(3);

    gui.harness.state_mut().tab = Tab::Server;
    gui.frames(3);
    text_field(&gui.harness, "Port").set_text_value_accesskit(&support::free_port().to_string());
    gui.frames(2);
    gui.click("Start server");
    gui.until("the server runs", |_, core| {
        matches!(
            core.api.status(),
            alicia_config_manager::core::api_switch::ApiStatus::Running { .. }
        )
    });
    gui.frames(4);
    gui.harness
        .snapshot_options("state-server-running", &options);
}
