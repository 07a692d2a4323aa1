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
