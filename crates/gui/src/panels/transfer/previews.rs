//! What a picked import file or backup would change, service by service, with the admin's
//! way to confirm or cancel.

use super::{RestoreChoice, TransferPanel};
use alicia_model::transfer::{ImportKind, ImportPreview, RestoreKind, RestorePreview};
use egui::{RichText, Ui};

impl TransferPanel {
    /// The restore preview; the preview and the broker choice when the admin confirmed.
    pub(super) fn restore_ui(
        &mut self,
        ui: &mut Ui,
        read_only: bool,
    ) -> Option<(RestorePreview, bool)> {
        let mut confirmed = false;
        let mut cancelled = false;
        let choice = self.restore_choice.as_mut()?;
        let RestoreChoice {
            path,
            preview,
            broker_accepted,
        } = choice;
        ui.label(
            RichText::new(format!(
                "Restoring {path} (made {}) would:",
                preview.created
            ))
            .strong(),
        );
        egui::Grid::new("restore-preview")
            .striped(true)
            .num_columns(2)
            .show(ui, |ui| {
                for item in &preview.items {
                    ui.label(&item.service);
                    match item.kind {
                        RestoreKind::New => ui.label("bring it back"),
                        RestoreKind::Changed(n) => ui.label(format!("{n} field(s) change")),
                        RestoreKind::Unchanged => ui.label(RichText::new("unchanged").weak()),
                        RestoreKind::Removed => ui.colored_label(
                            ui.visuals().warn_fg_color,
                            "delete it (not in the backup)",
                        ),
                    };
                    ui.end_row();
                }
            });
        if !preview.secrets_included {
            ui.label("The backup has no secrets: the keys stored now are kept.");
        }
        if let Some(change) = &preview.broker_change {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "It names another MQTT broker: {} (now {}).",
                    change.restored, change.now
                ),
            );
            ui.checkbox(
                broker_accepted,
                if change.password_in_backup {
                    "Use this broker, with the backup's password"
                } else {
                    "Use this broker (the MQTT password stored now is not sent to it)"
                },
            );
        }
        let ready = preview.broker_change.is_none() || *broker_accepted;
        ui.horizontal(|ui| {
            confirmed = ui
                .add_enabled(
                    !read_only && ready,
                    egui::Button::new("Restore this backup"),
                )
                .clicked();
            cancelled = ui.button("Cancel").clicked();
        });
        if cancelled {
            self.restore_choice = None;
        }
        if !confirmed {
            return None;
        }
        let choice = self.restore_choice.take()?;
        Some((choice.preview, choice.broker_accepted))
    }

    /// The import preview; the preview when the admin confirmed it.
    pub(super) fn import_ui(&mut self, ui: &mut Ui, read_only: bool) -> Option<ImportPreview> {
        let (path, preview) = self.import_choice.as_ref()?;
        let mut apply = false;
        let mut cancel = false;
        ui.label(RichText::new(format!("What importing {path} would do:")).strong());
        egui::Grid::new("import-preview")
            .striped(true)
            .num_columns(2)
            .show(ui, |ui| {
                for item in &preview.items {
                    ui.label(&item.service);
                    match &item.kind {
                        ImportKind::New => ui.label("new service"),
                        ImportKind::Changed(n) => ui.label(format!("{n} field(s) change")),
                        ImportKind::Unchanged => ui.label(RichText::new("unchanged").weak()),
                        ImportKind::Invalid(errors) => ui.colored_label(
                            ui.visuals().error_fg_color,
                            format!(
                                "refused: {}",
                                errors
                                    .iter()
                                    .map(|e| format!("{} {}", e.path, e.message))
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            ),
                        ),
                    };
                    ui.end_row();
                }
            });
        let applicable = preview.items.iter().filter(|i| i.applies()).count();
        ui.horizontal(|ui| {
            apply = ui
                .add_enabled(
                    applicable > 0 && !read_only,
                    egui::Button::new(format!("Apply {applicable} change(s)")),
                )
                .clicked();
            cancel = ui.button("Cancel").clicked();
        });
        if cancel {
            self.import_choice = None;
        }
        if !apply {
            return None;
        }
        self.import_choice.take().map(|(_, preview)| preview)
    }
}
