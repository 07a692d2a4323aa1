//! What the editor says beside its form: the stored document changed meanwhile (theirs and
//! mine, Reload), a settings schema waiting to be accepted, the delete confirmation, the watch
//! on the last save, and the conflict view.

use super::{Choice, ConfigEditor, Stage};
use crate::platform::Link;
use crate::view::View;
use crate::widgets::changes::changes_ui;
use crate::widgets::style::destructive_button;
use alicia_model::config::{Difference, Precondition, StoredDocument};
use alicia_model::status::ConfigState;
use egui::{RichText, Ui};

impl ConfigEditor {
    /// The stored document moved under an edit: what they changed beside what I changed, and
    /// the way to drop mine for theirs.
    pub(super) fn changed_meanwhile_ui(&mut self, ui: &mut Ui, view: &View) {
        let Some(stored) = self.stored.as_ref() else {
            return;
        };
        let who = stored.last_change.clone();
        let theirs = stored.their_changes.clone();
        let mut reload = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let deleted = stored.current.is_none();
            let text = if deleted {
                "⚠ Deleted meanwhile. Your edits are kept; saving creates it again.".to_owned()
            } else {
                format!(
                    "⚠ Changed meanwhile by {who}. Your edits are kept; saving will ask which \
                     version to keep."
                )
            };
            ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
            egui::CollapsingHeader::new("Theirs and mine")
                .id_salt("changed-meanwhile")
                .show(ui, |ui| {
                    ui.columns(2, |columns| {
                        columns[0].label(RichText::new("Theirs (stored now)").strong());
                        changes_ui(&mut columns[0], "meanwhile-theirs", &theirs);
                        columns[1].label(RichText::new("Mine (this form)").strong());
                        changes_ui(&mut columns[1], "meanwhile-mine", &self.my_changes());
                    });
                });
            let button = egui::Button::new("Reload (discard mine)");
            if ui
                .add_enabled(!self.form.read_only && !deleted, button)
                .clicked()
            {
                reload = true;
            }
        });
        if reload {
            self.revert(view);
        }
    }

    /// A settings schema the service announced that its stored settings fail (CONTRACT §9):
    /// which fields, and the admin's way to enforce it.
    pub(super) fn pending_schema_ui(&mut self, ui: &mut Ui, link: &Link) {
        let Some(failures) = self.stored.as_ref().and_then(|s| s.pending_schema.clone()) else {
            return;
        };
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(
                RichText::new("The service announced a new settings schema")
                    .strong()
                    .color(ui.visuals().warn_fg_color),
            );
            ui.label(
                "Its stored settings do not pass it, so it is not enforced yet. Fix the settings \
                 and save, then accept it.",
            );
            for failure in &failures {
                ui.label(format!("• {} {}", failure.path, failure.message));
            }
            ui.horizontal(|ui| {
                let accept = ui.add_enabled(
                    !self.form.read_only && !self.accept.running(),
                    egui::Button::new("Accept the new settings schema"),
                );
                if accept.clicked() {
                    self.accept
                        .start(link.backend.accept_schema(self.state.service()));
                }
                if self.accept.running() {
                    ui.spinner();
                }
            });
        });
    }

    pub(super) fn delete_ui(&mut self, ui: &mut Ui, link: &Link) {
        ui.label(
            RichText::new(format!(
                "Delete {}? Its retained config is cleared; the history keeps every revision.",
                self.state.service()
            ))
            .strong(),
        );
        if self.state.is_dirty() {
            // This confirmation is the guard for a delete: say what else goes.
            ui.label(
                RichText::new("Your unsaved changes to it are discarded too.")
                    .color(ui.visuals().warn_fg_color),
            );
        }
        ui.horizontal(|ui| {
            if ui.add(destructive_button(ui, "Delete")).clicked() {
                let precondition = self
                    .state
                    .base_revision()
                    .map_or(Precondition::None, Precondition::Revision);
                self.delete
                    .start(link.backend.delete(self.state.service(), precondition));
            }
            if ui.button("Cancel").clicked() {
                self.stage = Stage::Editing;
            }
            if self.delete.running() {
                ui.spinner();
            }
        });
    }

    /// While the last save is on watch: the seconds left and what the service said so far.
    pub(super) fn watch_ui(&self, ui: &mut Ui, view: &View) {
        let Some(row) = view.service(self.state.service()) else {
            return;
        };
        let Some(until) = &row.watch_until else {
            return;
        };
        let left = crate::clock::seconds_until(until);
        // Applied: the service acknowledged the revision stored now.
        let applied = row.config_state == ConfigState::Applied;
        let state = if applied {
            "the service applied it; watching its health"
        } else {
            "the service has not confirmed yet"
        };
        ui.label(
            RichText::new(format!("⏱ Watching: {left} s — {state}"))
                .color(ui.visuals().warn_fg_color),
        );
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
    }
}

/// Theirs beside mine, when someone else saved meanwhile.
pub(super) fn conflict_ui(
    ui: &mut Ui,
    theirs: Option<&StoredDocument>,
    their_changes: &[Difference],
    my_changes: &[Difference],
) -> Option<Choice> {
    ui.label(
        RichText::new("Someone else saved this service while you were editing.")
            .strong()
            .color(ui.visuals().warn_fg_color),
    );
    ui.columns(2, |columns| {
        columns[0].label(RichText::new("Theirs (stored now)").strong());
        changes_ui(&mut columns[0], "theirs", their_changes);
        columns[1].label(RichText::new("Mine (this form)").strong());
        changes_ui(&mut columns[1], "mine", my_changes);
    });
    let precondition = Precondition::unchanged_since(theirs.map(|t| t.revision));
    let mut choice = None;
    ui.horizontal(|ui| {
        if ui.button("Keep mine (save over theirs)").clicked() {
            choice = Some(Choice::Save(precondition));
        }
        if ui.button("Take theirs (discard mine)").clicked() {
            choice = Some(Choice::TakeTheirs);
        }
    });
    choice
}
