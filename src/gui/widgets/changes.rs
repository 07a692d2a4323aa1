//! A table of changes between two documents (from `core::config::diff`): field, before,
//! after, secrets masked. The editor's review and conflict views and the history show it.

use crate::core::config::Difference;
use crate::gui::widgets::json::short;
use egui::{RichText, Ui};

/// Draws `changes` as a grid with the id `id` ("no change" when there is none).
pub fn changes_ui(ui: &mut Ui, id: &str, changes: &[Difference]) {
    if changes.is_empty() {
        ui.label(RichText::new("no change").weak());
        return;
    }
    egui::Grid::new(id)
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label(RichText::new("field").strong());
            ui.label(RichText::new("before").strong());
            ui.label(RichText::new("after").strong());
            ui.end_row();
            for change in changes {
                ui.label(RichText::new(&change.pointer).monospace());
                ui.label(short(&change.pointer, change.before.as_ref()));
                ui.label(short(&change.pointer, change.after.as_ref()));
                ui.end_row();
            }
        });
}
