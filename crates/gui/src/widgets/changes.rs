//! A table of changes between two documents (from `core::config::diff`): the field as the
//! form titles it ("Endpoint 2 · Model"), before, after, secrets masked. The editor's pending
//! changes, its conflict views and the history show it.

use crate::widgets::json::short;
use crate::widgets::schema_form::field_title;
use alicia_model::config::{Difference, editable_schema};
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
                ui.label(field_title(editable_schema(), &change.pointer));
                ui.label(short(&change.pointer, change.before.as_ref()));
                ui.label(short(&change.pointer, change.after.as_ref()));
                ui.end_row();
            }
        });
}
