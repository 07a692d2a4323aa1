//! Names for assistive technology: what a screen reader says for a widget whatever its visible
//! text ("Endpoint 2 · Model" for a field shown as "Model" in the second endpoint's row), and
//! names for what egui_extras' tables draw without one (their column-resize handles).

use egui::{Id, Ui};

/// Gives the widget `id` the accessible name `name`.
pub fn set_name(ui: &Ui, id: Id, name: impl Into<String>) {
    let name = name.into();
    ui.ctx()
        .accesskit_node_builder(id, |node| node.set_label(name));
}

/// Marks the widget `id` as one that must be filled in (shown as " *" beside its label).
pub fn set_required(ui: &Ui, id: Id) {
    ui.ctx()
        .accesskit_node_builder(id, |node| node.set_required());
}

/// Ctrl+F (⌘F) focuses `filter`, the panel's search box.
pub fn find_shortcut(ui: &Ui, filter: &egui::Response) {
    let find = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::F);
    if ui.input_mut(|i| i.consume_shortcut(&find)) {
        filter.request_focus();
    }
}

/// ↑/↓ in a table of `rows` rows whose current row `at` finds (asked only when a key was
/// pressed): the row to move to (the first when none is current), or `None` when neither key
/// was pressed, the table is empty, or a text field has the keys.
pub fn arrow_step(ui: &Ui, rows: usize, at: impl FnOnce() -> Option<usize>) -> Option<usize> {
    if rows == 0 || ui.ctx().egui_wants_keyboard_input() {
        return None;
    }
    let (up, down) = ui.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
            i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
        )
    });
    if !(up || down) {
        return None;
    }
    Some(match at() {
        None => 0,
        Some(index) if down => (index + 1).min(rows - 1),
        Some(index) => index.saturating_sub(1),
    })
}

/// The id egui_extras gives a table's column-resize handle: call before building the table
/// with `id_salt`, in the same `Ui`.
pub fn table_state_id(ui: &Ui, id_salt: &str) -> Id {
    ui.scope_id().with(egui::IdSalt::new(id_salt))
}

/// Names the resize handles of a table's resizable columns, given by index (see
/// [`table_state_id`]): "Resize the <column> column".
pub fn name_resize_handles(ui: &Ui, state_id: Id, columns: &[(usize, &str)]) {
    for (index, column) in columns {
        let id = state_id.with("resize_column").with(*index);
        if ui.ctx().has_accesskit_node(id) {
            set_name(ui, id, format!("Resize the {column} column"));
        }
    }
}

/// A table's body cell, told to assistive technology as a cell (egui_extras has no roles of
/// its own).
pub fn cell(row: &mut egui_extras::TableRow<'_, '_>, add_contents: impl FnOnce(&mut Ui)) {
    let (_, response) = row.col(add_contents);
    set_role(&response, egui::accesskit::Role::Cell);
}

/// A table's column heading, told to assistive technology as one.
pub fn column_header(row: &mut egui_extras::TableRow<'_, '_>, add_contents: impl FnOnce(&mut Ui)) {
    let (_, response) = row.col(add_contents);
    set_role(&response, egui::accesskit::Role::ColumnHeader);
}

fn set_role(response: &egui::Response, role: egui::accesskit::Role) {
    response
        .ctx
        .accesskit_node_builder(response.id, |node| node.set_role(role));
}
