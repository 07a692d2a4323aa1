//! The guard before an edit is left: whatever would replace or close an editor with unsaved
//! changes (another service, a check's link, a kept draft, New, Duplicate, Close, quitting the
//! window) waits for the admin's Save, Discard or Cancel.

use crate::widgets::a11y;
use crate::widgets::style::{destructive_button, primary_button};
use alicia_model::checks::Check;
use egui::{RichText, Ui};
use serde_json::Value;

/// Where the admin was going when the guard stopped them.
#[derive(Debug, Clone, PartialEq)]
pub enum Leave {
    /// Open another stored service.
    Open(String),
    /// Open a check's service at its field.
    Check(Check),
    /// Open a draft kept from the last session.
    Draft(String),
    /// Open a new, unsaved document (New service, Duplicate).
    Create {
        /// Its name.
        service: String,
        /// The document to start from.
        document: Value,
    },
    /// Close the editor.
    Close,
    /// Quit the app.
    Quit,
}

impl Leave {
    fn describe(&self) -> String {
        match self {
            Self::Open(service) => format!("open {service}"),
            Self::Check(check) => format!("open {}", check.service),
            Self::Draft(service) => format!("open the kept draft of {service}"),
            Self::Create { service, .. } => format!("start {service}"),
            Self::Close => "close the editor".to_owned(),
            Self::Quit => "quit".to_owned(),
        }
    }
}

/// A guard waiting for the admin.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// Where they were going.
    pub then: Leave,
    /// Save was chosen: going on once it is stored.
    pub saving: bool,
}

/// What the admin chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardChoice {
    /// Save the draft, then go on.
    Save,
    /// Drop the draft and go on.
    Discard,
    /// Stay in the editor.
    Cancel,
}

/// The facts the guard shows.
pub struct GuardFacts<'a> {
    /// The service edited.
    pub service: &'a str,
    /// Problems that keep the draft from being saved.
    pub problems: usize,
    /// A save runs.
    pub saving: bool,
}

/// Draws the guard as a modal dialog; returns the admin's choice.
pub fn guard_ui(ctx: &egui::Context, guard: &Guard, facts: &GuardFacts<'_>) -> Option<GuardChoice> {
    let mut choice = None;
    let modal =
        egui::Modal::new(egui::Id::NULL.with("unsaved-changes-guard")).show(ctx, |ui: &mut Ui| {
            ui.set_max_width(460.0);
            ui.label(
                RichText::new(format!("Unsaved changes to {}", facts.service))
                    .strong()
                    .size(17.0),
            );
            ui.label(format!(
                "Save them before you {}, or discard them?",
                guard.then.describe()
            ));
            if facts.problems > 0 {
                ui.label(
                    RichText::new(format!(
                        "{} problem(s) keep them from being saved: Cancel to fix them, or discard.",
                        facts.problems
                    ))
                    .color(ui.visuals().error_fg_color),
                );
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let save = ui.add_enabled(
                    facts.problems == 0 && !facts.saving,
                    primary_button(ui, "Save"),
                );
                // Named apart from the editor's own Save, behind the dialog.
                a11y::set_name(ui, save.id, "Save the changes");
                if save.clicked() {
                    choice = Some(GuardChoice::Save);
                }
                let discard = ui.add_enabled(!facts.saving, destructive_button(ui, "Discard"));
                a11y::set_name(ui, discard.id, "Discard the changes");
                if discard.clicked() {
                    choice = Some(GuardChoice::Discard);
                }
                let cancel = ui.button("Cancel");
                a11y::set_name(ui, cancel.id, "Keep editing");
                if cancel.clicked() {
                    choice = Some(GuardChoice::Cancel);
                }
                if facts.saving {
                    ui.spinner();
                }
            });
        });
    if modal.should_close() && choice.is_none() && !facts.saving {
        // Esc or a click beside the dialog.
        choice = Some(GuardChoice::Cancel);
    }
    choice
}
