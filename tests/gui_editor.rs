//! The config editor in the real window, over a real core on the embedded broker: inline
//! errors that block Save until fixed, a live update that never wipes what is typed, a
//! rollback from the history, a check that leads to its field, a pending settings schema
//! accepted, far-future stamps, and the keyboard.

mod gui_support;
mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition, desktop_user};
use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use alicia_config_manager::gui::app::Tab;
use egui_kittest::kittest::Queryable;
use gui_support::*;
use serde_json::{Value, json};
use support::TestClient;

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
