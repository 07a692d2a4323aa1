//! The checks list above the services table: each finding across services, errors first,
//! with a link that opens the offending service's editor at the field to fix.

use alicia_model::checks::{Check, Severity};
use egui::{RichText, Ui};

/// Rows shown before the list scrolls.
const VISIBLE_HEIGHT: f32 = 150.0;

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Draws the list; returns the check whose link was clicked.
pub fn checks_ui(ui: &mut Ui, checks: &[Check]) -> Option<Check> {
    let errors = checks
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .count();
    let warnings = checks.len() - errors;
    let title = match (errors, warnings) {
        (0, 0) => "Checks: all clear".to_owned(),
        (0, w) => format!("Checks: {}", count(w, "warning")),
        (e, 0) => format!("Checks: {}", count(e, "error")),
        (e, w) => format!("Checks: {}, {}", count(e, "error"), count(w, "warning")),
    };
    let mut clicked = None;
    // Opens by itself when errors appear (it may have been closed while there were none).
    let seen = egui::Id::NULL.with("checks-errors-seen");
    let before = ui.data(|d| d.get_temp::<usize>(seen)).unwrap_or(0);
    ui.data_mut(|d| d.insert_temp(seen, errors));
    egui::CollapsingHeader::new(title)
        .id_salt("checks")
        .default_open(errors > 0)
        .open((errors > before).then_some(true))
        .show(ui, |ui| {
            if checks.is_empty() {
                ui.label("No problems across services: routers, languages, ports, health and acks agree.");
                return;
            }
            egui::ScrollArea::vertical()
                .id_salt("checks-scroll")
                .max_height(VISIBLE_HEIGHT)
                .show(ui, |ui| {
                    for check in checks {
                        ui.horizontal(|ui| {
                            let (mark, colour) = match check.severity {
                                Severity::Error => ("error", ui.visuals().error_fg_color),
                                Severity::Warning => ("warning", ui.visuals().warn_fg_color),
                            };
                            ui.label(RichText::new(mark).color(colour).strong());
                            let target = format!("{}{}", check.service, check.path);
                            // A touch-sized button in the kiosk, a link on the desktop.
                            let link = if crate::widgets::style::touch(ui.ctx()) {
                                ui.add(egui::Button::new(&target).min_size(egui::vec2(
                                    0.0,
                                    ui.spacing().interact_size.y,
                                )))
                            } else {
                                ui.link(&target)
                            };
                            if link.on_hover_text("open this field in the editor").clicked() {
                                clicked = Some(check.clone());
                            }
                            ui.label(&check.message);
                        });
                    }
                });
        });
    clicked
}
