//! Views that fit the width they get: a table keeps the columns that fit (by priority, in
//! their order), and below [`NARROW`] a list and its details take the whole width in turn
//! instead of side by side (the kiosk's 800×480 panel).

use egui::Ui;

/// Below this width, details replace their list instead of sitting beside it.
pub const NARROW: f32 = 900.0;

/// True when `ui` is narrower than [`NARROW`].
pub fn is_narrow(ui: &Ui) -> bool {
    ui.available_width() < NARROW
}

/// A table's column: what it is, the width it needs, and how long it is kept as the table
/// narrows (0: always).
#[derive(Debug, Clone, Copy)]
pub struct Fit<T> {
    /// The column.
    pub column: T,
    /// The width it needs.
    pub width: f32,
    /// Lower priorities are kept longer.
    pub priority: u8,
}

/// The columns of `all` that fit `available`, in their order: those of priority 0 always,
/// then by priority until the next does not fit.
pub fn fitting<T: Copy>(available: f32, all: &[Fit<T>]) -> Vec<T> {
    let mut by_priority: Vec<usize> = (0..all.len()).collect();
    by_priority.sort_by_key(|&i| all[i].priority);
    let mut used = 0.0;
    let mut kept = vec![false; all.len()];
    for i in by_priority {
        if all[i].priority > 0 && used + all[i].width > available {
            // The next in priority does not fit: none after it is kept either.
            break;
        }
        used += all[i].width;
        kept[i] = true;
    }
    all.iter()
        .zip(kept)
        .filter_map(|(fit, kept)| kept.then_some(fit.column))
        .collect()
}

/// A column of a table that reflows: its title, its width and whether a mouse may resize it.
pub trait TableColumn: Copy {
    /// Its heading (and the name of its resize handle).
    fn title(self) -> &'static str;
    /// Resizable on the desktop; a finger cannot grab a column's edge.
    fn resizable(self, touch: bool) -> bool;
    /// Its egui_extras column (not the last: that one takes what remains).
    fn spec(self, touch: bool) -> egui_extras::Column;
}

/// A striped, clickable table of `columns` (the last one takes the rest of the width), as
/// tall as its rows.
pub fn table<'a, C: TableColumn>(
    ui: &'a mut Ui,
    id_salt: &str,
    columns: &[C],
) -> egui_extras::TableBuilder<'a> {
    let touch = super::style::touch(ui.ctx());
    let mut table = egui_extras::TableBuilder::new(ui)
        .id_salt(id_salt)
        .striped(true)
        // As tall as its rows: the column rules end with the last one.
        .auto_shrink([false, true])
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .sense(egui::Sense::CLICK);
    for (index, column) in columns.iter().enumerate() {
        table = table.column(if index + 1 == columns.len() {
            egui_extras::Column::remainder()
        } else {
            column.spec(touch)
        });
    }
    table
}

/// Names the resize handles of `columns` for assistive technology.
pub fn name_resize_handles<C: TableColumn>(ui: &Ui, table_id: egui::Id, columns: &[C]) {
    let touch = super::style::touch(ui.ctx());
    let names: Vec<(usize, &str)> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.resizable(touch))
        .map(|(i, c)| (i, c.title()))
        .collect();
    super::a11y::name_resize_handles(ui, table_id, &names);
}

/// A table header's height: a touch target's in the kiosk.
pub fn header_height(ui: &Ui) -> f32 {
    ui.spacing().interact_size.y.max(24.0)
}

/// A "back to the list" button above details shown in place of their list; true when tapped.
pub fn back_button(ui: &mut Ui, to: &str) -> bool {
    let size = egui::vec2(0.0, ui.spacing().interact_size.y.max(32.0));
    ui.add(egui::Button::new(format!("⬅ {to}")).min_size(size))
        .clicked()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_that_fit_are_kept_in_their_order() {
        let all = [
            Fit {
                column: 'a',
                width: 200.0,
                priority: 0,
            },
            Fit {
                column: 'b',
                width: 100.0,
                priority: 3,
            },
            Fit {
                column: 'c',
                width: 100.0,
                priority: 1,
            },
            Fit {
                column: 'd',
                width: 150.0,
                priority: 2,
            },
        ];
        assert_eq!(fitting(1000.0, &all), vec!['a', 'b', 'c', 'd']);
        assert_eq!(fitting(460.0, &all), vec!['a', 'c', 'd']);
        assert_eq!(fitting(320.0, &all), vec!['a', 'c']);
        assert_eq!(fitting(100.0, &all), vec!['a'], "priority 0 stays");
    }
}
