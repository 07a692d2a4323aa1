//! Change sets in the desktop app (CONTRACT §7): services ticked in the table change together
//! — the change per service and the checks shown before Apply — and are stored as one set;
//! the history names the set and rolls it back as one; Settings › Household language opens
//! the editor on every service with a language. egui_kittest over a real core on the embedded
//! broker.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod gui_support;
mod support;

use alicia_config_manager::core::config::{ChangeSource, Precondition};
use alicia_config_manager::core::settings::SettingsFile;
use alicia_config_manager::gui::GuiOptions;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use gui_support::*;
use serde_json::{Value, json};

/// The app over a core holding whisper-service (en) and two LLM services.
fn app() -> Gui {
    let mut gui = gui(GuiOptions::default(), SettingsFile::default());
    for (service, ip) in [("llm-a", "10.0.0.1"), ("llm-b", "10.0.0.2")] {
        let mut document = support::llm(service).ip(ip).model("m").build();
        document["config"]["language"] = json!("en");
        gui.runtime
            .block_on(gui.core.config.put(
                service,
                document,
                ChangeSource::Rest,
                Precondition::None,
            ))
            .unwrap();
    }
    gui.until("the services are listed", |h, _| {
        h.query_by_label("Select llm-b for a change set").is_some()
    });
    gui
}

/// Ticks the checkbox named `name`.
fn tick(gui: &mut Gui, name: &str) {
    gui.harness
        .get_all_by_label(name)
        .find(|n| n.accesskit_node().role() == Role::CheckBox)
        .unwrap_or_else(|| panic!("a checkbox named {name}"))
        .click();
    gui.frames(3);
}

fn language(gui: &Gui, service: &str) -> Value {
    gui.core.config.get(service).unwrap().document["config"]["language"].clone()
}

#[test]
fn ticked_services_change_together_and_roll_back_as_one() {
    let mut gui = app();
    tick(&mut gui, "Select llm-a for a change set");
    tick(&mut gui, "Select llm-b for a change set");
    gui.until("two are selected", |h, _| has_text(h, "2 selected"));
    gui.click("Change together…");
    gui.until("the change-set editor opens", |h, _| {
        has_text(h, "Change 2 services together")
    });
    tick(&mut gui, "Language");
    text_field(&gui.harness, "Shared language").set_text_value_accesskit("de");
    gui.frames(3);
    gui.until("each service's change and the checks are shown", |h, _| {
        has_text(h, "before")
            && has_text(h, "\"de\"")
            && has_text(h, "Checks across services: nothing new.")
    });
    gui.harness.snapshot_options(
        "state-change-set",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(4000),
    );
    gui.click("Apply the change set");
    gui.until("both services speak German", |_, core| {
        ["llm-a", "llm-b"]
            .iter()
            .all(|s| core.config.get(s).unwrap().document["config"]["language"] == "de")
    });
    let a = gui.core.config.history("llm-a")[0].change_id.clone();
    assert!(a.is_some() && a == gui.core.config.history("llm-b")[0].change_id.clone());
    gui.until("it says so and the selection is cleared", |h, _| {
        has_text(h, "Applied 2 services as one change set") && !has_text(h, "2 selected")
    });
    assert!(
        gui.core.safe_apply.watching("llm-a"),
        "watched for the GUI's watch"
    );

    // The history names the set and rolls it back as one.
    gui.open("llm-a");
    gui.click("History");
    gui.until("the set is named", |h, _| {
        has_text(h, "Part of a change set of 2 service(s), with llm-b")
    });
    let revision = gui.core.config.get("llm-a").unwrap().revision;
    gui.click(&format!("Roll back the change set of revision {revision}"));
    gui.until("both are back to English", |_, core| {
        ["llm-a", "llm-b"]
            .iter()
            .all(|s| core.config.get(s).unwrap().document["config"]["language"] == "en")
    });
    gui.until("it says so", |h, _| {
        has_text(h, "Rolled the change set back")
    });
}

#[test]
fn a_change_that_would_break_the_checks_cannot_be_applied() {
    let mut gui = app();
    tick(&mut gui, "Select llm-a for a change set");
    tick(&mut gui, "Select llm-b for a change set");
    gui.click("Change together…");
    // One host for both: they would listen on the same address and port.
    tick(&mut gui, "Endpoint host");
    text_field(&gui.harness, "Shared endpoint host").set_text_value_accesskit("10.0.0.9");
    gui.frames(3);
    gui.until("the new error is shown", |h, _| {
        has_text(h, "✖ new error") && has_text(h, "10.0.0.9:11434")
    });
    let apply = gui.harness.get_by_label("Apply the change set");
    assert!(locked(&apply), "Apply refuses a set the checks refuse");
    assert_eq!(
        gui.core.config.get("llm-a").unwrap().document["config"]["endpoints"][0]["ip"],
        "10.0.0.1"
    );
}

#[test]
fn the_household_language_is_reviewed_then_applied_everywhere() {
    let mut gui = app();
    gui.click("Settings");
    text_field(&gui.harness, "Language").set_text_value_accesskit("fr");
    gui.frames(3);
    gui.click("Review the change…");
    gui.until(
        "the editor opens on every service with a language",
        |h, _| has_text(h, "Change 3 services together"),
    );
    gui.until("the preview is shown", |h, _| has_text(h, "\"fr\""));
    gui.click("Apply the change set");
    gui.until("every service speaks French", |_, core| {
        ["llm-a", "llm-b", "whisper-service"]
            .iter()
            .all(|s| core.config.get(s).unwrap().document["config"]["language"] == "fr")
    });
    assert_eq!(language(&gui, "whisper-service"), "fr");
}
