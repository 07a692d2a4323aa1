//! A service's history: every retained revision with its source and time, a diff against the
//! current document, and rollback (which makes the old revision a new change).

use crate::core::Core;
use crate::core::config::{Committed, ConfigError, diff};
use crate::gui::panels::editor::changes_ui;
use crate::gui::tasks::Task;
use crate::gui::widgets::badge::relative_time;
use crate::gui::widgets::notice::{Notice, notice_ui};
use egui::{RichText, Ui};
use serde_json::Value;

/// The history panel's own state.
#[derive(Default)]
pub struct HistoryPanel {
    selected: Option<u64>,
    confirm: Option<u64>,
    rollback: Task<Result<Committed, ConfigError>>,
    message: Notice,
}

impl HistoryPanel {
    /// Selects a revision to compare with the current document.
    pub fn select(&mut self, revision: Option<u64>) {
        self.selected = revision;
        self.confirm = None;
    }

    /// Draws the history of `service`.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        service: &str,
        read_only: bool,
    ) {
        if let Some(result) = self.rollback.take() {
            self.message = Some(match result {
                Ok(committed) => (
                    format!("Rolled back: now revision {}.", committed.revision),
                    false,
                ),
                Err(error) => (format!("Not rolled back: {error}"), true),
            });
            self.selected = None;
        }
        notice_ui(ui, &self.message);
        let entries = core.config.history(service);
        let current = core
            .config
            .get(service)
            .map_or(Value::Null, |s| Value::clone(&s.document));
        egui::ScrollArea::vertical()
            .id_salt("history-list")
            .max_height(220.0)
            .show(ui, |ui| {
                egui::Grid::new("history-grid")
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        for entry in &entries {
                            let label = format!("revision {}", entry.revision);
                            if ui
                                .selectable_label(self.selected == Some(entry.revision), label)
                                .clicked()
                            {
                                self.selected = Some(entry.revision);
                                self.confirm = None;
                            }
                            ui.label(entry.source.as_str());
                            ui.label(format!(
                                "{} ({})",
                                relative_time(ui.ctx(), Some(&entry.last_updated)),
                                &entry.last_updated
                            ));
                            ui.end_row();
                        }
                    });
            });
        let Some(selected) = self.selected else {
            ui.label(RichText::new("Select a revision to compare it with the current one.").weak());
            return;
        };
        let Some(entry) = entries.iter().find(|e| e.revision == selected) else {
            return;
        };
        ui.separator();
        let old = entry.document.as_deref().cloned().unwrap_or(Value::Null);
        ui.label(
            RichText::new(format!("From revision {selected} to the current document")).strong(),
        );
        changes_ui(ui, "history-diff", &diff(&old, &current));
        if entry.document.is_none() {
            ui.label(RichText::new("This revision deleted the service.").italics());
            return;
        }
        ui.horizontal(|ui| match self.confirm {
            Some(revision) if revision == selected => {
                ui.label(format!("Make revision {selected} current again?"));
                if ui.button("Roll back").clicked() {
                    let (core, service) = (core.clone(), service.to_owned());
                    self.rollback.start(runtime, async move {
                        core.config.rollback(&service, selected).await
                    });
                    self.confirm = None;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm = None;
                }
            }
            _ => {
                if ui
                    .add_enabled(
                        !read_only,
                        egui::Button::new(format!("Roll back to revision {selected}…")),
                    )
                    .clicked()
                {
                    self.confirm = Some(selected);
                }
                if self.rollback.running() {
                    ui.spinner();
                }
            }
        });
    }
}
