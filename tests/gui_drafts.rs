//! Drafts are never lost: every way out of an editor with unsaved changes asks first (Save /
//! Discard / Cancel), quitting the window too; a clean editor follows the stored document
//! (REST, a rollback); an edited one shows theirs and mine and can reload; drafts are kept in
//! the config folder and offered back after a restart. Driven through egui_kittest over a real
//! core on the embedded broker.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::config::{
    ChangeSource, Precondition, ServiceType, new_service_document,
};
use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::desktop::DRAFTS_FILE_NAME;
use alicia_config_manager::gui::GuiOptions;
use egui_kittest::kittest::Queryable;
use gui_support::*;

const GUARD: &str = "Unsaved changes to whisper-service";

fn desktop() -> Gui {
    gui(GuiOptions::default(), SettingsFile::default())
}

/// Types `model` into the open editor's Model field.
fn type_model(gui: &mut Gui, model: &str) {
    text_field(&gui.harness, "Model").set_text_value_accesskit(model);
    gui.frames(3);
    assert!(gui.harness.state().editor().unwrap().is_dirty());
}

fn model_in_form(gui: &Gui) -> String {
    gui.harness.state().editor().unwrap().draft()["config"]["model"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The guard is up; Cancel leaves the editor and its draft as they were.
fn cancel_guard(gui: &mut Gui, way: &str) {
    gui.until(&format!("the guard asks ({way})"), |h, _| {
        has_text(h, GUARD)
    });
    gui.click("Keep editing");
    gui.until("the guard is gone", |h, _| !has_text(h, GUARD));
    let editor = gui.harness.state().editor().unwrap();
    assert_eq!(
        editor.service(),
        "whisper-service",
        "{way}: still the same editor"
    );
    assert_eq!(model_in_form(gui), "typed", "{way}: the draft is kept");
}

#[test]
fn every_way_out_of_an_edited_form_asks_first() {
    let mut gui = desktop();
    gui.runtime
        .block_on(gui.core.config.put(
            "piper-tts",
            new_service_document("piper-tts", ServiceType::Tts),
            ChangeSource::Rest,
            Precondition::None,
        ))
        .unwrap();
    gui.open("whisper-service");
    type_model(&mut gui, "typed");
    gui.until("the row is marked unsaved", |h, _| {
        h.query_by_label("unsaved").is_some()
    });

    // Another service's row.
    gui.until("piper-tts is listed", |h, _| {
        h.query_by_label("piper-tts").is_some()
    });
    gui.click("piper-tts");
    cancel_guard(&mut gui, "another row");
    // Close, and Esc outside a text field.
    gui.click("Close");
    cancel_guard(&mut gui, "Close");
    gui.harness.key_press(egui::Key::Escape);
    gui.frames(2);
    gui.harness.key_press(egui::Key::Escape);
    cancel_guard(&mut gui, "Esc");
    // A check's link (whisper-service has never reported its health).
    gui.until("the checks", |h, _| has_text(h, "Checks: "));
    if gui
        .harness
        .query_by_label_contains("whisper-service/")
        .is_none()
    {
        gui.click_contains("Checks: ");
    }
    gui.until("the check's link", |h, _| {
        h.query_by_label_contains("whisper-service/").is_some()
    });
    gui.harness
        .get_by_label_contains("whisper-service/")
        .click();
    gui.frames(3);
    cancel_guard(&mut gui, "a check's link");
    // New service….
    gui.click("New service…");
    text_field(&gui.harness, "Name").set_text_value_accesskit("new-one");
    gui.frames(2);
    gui.click("Create");
    cancel_guard(&mut gui, "New service");
    // Quitting the window.
    gui.harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    gui.frames(2);
    assert!(gui.harness.state().guarded(), "quitting asks first");
    cancel_guard(&mut gui, "quitting");

    // Discard goes on and drops the draft.
    gui.click("piper-tts");
    gui.until("the guard asks", |h, _| has_text(h, GUARD));
    gui.click("Discard the changes");
    gui.until("piper-tts is open", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.service() == "piper-tts")
    });
    assert_ne!(
        gui.core.config.get("whisper-service").unwrap().document["config"]["model"],
        "typed"
    );

    // Save stores the draft, then goes on.
    gui.harness
        .state_mut()
        .leave_editor(alicia_config_manager::gui::guard::Leave::Open(
            "whisper-service".to_owned(),
        ));
    gui.frames(3);
    type_model(&mut gui, "typed");
    gui.click("piper-tts");
    gui.until("the guard asks", |h, _| has_text(h, GUARD));
    gui.click("Save the changes");
    gui.until("saved, then piper-tts is open", |h, core| {
        h.state()
            .editor()
            .is_some_and(|e| e.service() == "piper-tts")
            && core.config.get("whisper-service").unwrap().document["config"]["model"] == "typed"
    });
}

#[test]
fn a_stop_signal_closes_without_asking() {
    let mut gui = desktop();
    gui.open("whisper-service");
    type_model(&mut gui, "typed");
    alicia_config_manager::gui::app::mark_stopping(&gui.harness.ctx);
    gui.harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    gui.frames(2);
    assert!(
        !gui.harness.state().guarded(),
        "SIGTERM does not wait for a click"
    );
}

#[test]
fn a_clean_editor_follows_the_stored_document_even_after_a_rollback() {
    let mut gui = desktop();
    let first = gui.put_model("model-a");
    gui.open("whisper-service");
    gui.put_model("model-b");
    gui.until("the form shows the new model", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.draft()["config"]["model"] == "model-b" && !e.is_dirty())
    });
    assert!(!has_text(&gui.harness, "Changed meanwhile"));
    gui.click("History");
    let revision = format!("revision {first}");
    gui.until("the revision is listed", |h, _| {
        h.query_by_label(&revision).is_some()
    });
    gui.click(&format!("Restore revision {first}"));
    gui.click("Configuration");
    gui.until("the form shows the rolled-back model", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.draft()["config"]["model"] == "model-a" && !e.is_dirty())
    });
    assert_eq!(
        text_field(&gui.harness, "Model").value().as_deref(),
        Some("model-a")
    );
}

#[test]
fn an_edited_form_shows_theirs_and_mine_and_reloads() {
    let mut gui = desktop();
    gui.open("whisper-service");
    type_model(&mut gui, "typed");
    gui.put_model("theirs");
    gui.until("changed meanwhile", |h, _| has_text(h, "Changed meanwhile"));
    assert_eq!(model_in_form(&gui), "typed", "the draft is kept");
    gui.click("Theirs and mine");
    gui.until("both changes", |h, _| {
        has_text(h, "\"theirs\"") && has_text(h, "\"typed\"")
    });
    gui.click("Reload (discard mine)");
    gui.until("the stored model is in the form", |h, _| {
        h.state()
            .editor()
            .is_some_and(|e| e.draft()["config"]["model"] == "theirs" && !e.is_dirty())
    });
}

#[test]
fn a_draft_is_kept_in_the_config_folder_and_offered_after_a_restart() {
    let mut gui = desktop();
    gui.open("whisper-service");
    type_model(&mut gui, "typed-before-the-crash");
    let file = gui.core.settings.config_dir.join(DRAFTS_FILE_NAME);
    // Written within a second of typing: a crash now would keep it.
    gui.until("the draft is on disk", |_, _| {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("typed-before-the-crash"))
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a draft may hold a key: private");
    }

    // A new window over the same folder (the app restarted).
    gui.harness = window(
        &gui.core,
        gui.runtime.handle(),
        GuiOptions::default(),
        SettingsFile::default(),
    );
    gui.until("the draft is offered", |h, _| {
        h.query_by_label("Open the draft of whisper-service")
            .is_some()
    });
    gui.click("Open the draft of whisper-service");
    gui.until("the draft is back in the form", |h, _| {
        h.state().editor().is_some_and(|e| {
            e.draft()["config"]["model"] == "typed-before-the-crash" && e.is_dirty()
        })
    });
    // Saving it drops it from the file.
    gui.click("Save");
    gui.until("saved and no draft left", |_, core| {
        core.config.get("whisper-service").unwrap().document["config"]["model"]
            == "typed-before-the-crash"
            && !file.exists()
    });
}
