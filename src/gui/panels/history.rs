//! A service's history: every retained revision with its source and time, a diff of the
//! selected one against the current document, and rollback (which makes the old revision a
//! new change). The revisions are read, and the diff worked out, only when the service, the
//! selection or the core's configs change — not every frame.

use crate::core::Core;
use crate::core::config::{
    Actor, Committed, ConfigError, Difference, HistoryEntry, diff, mask_differences,
};
use crate::gui::tasks::Task;
use crate::gui::widgets::badge::relative_time;
use crate::gui::widgets::changes::changes_ui;
use crate::gui::widgets::notice::{Notice, notice_ui};
use egui::{RichText, Ui};
use serde_json::Value;
use std::sync::Arc;

/// What the panel read of one service, at one config generation.
struct Read {
    service: String,
    generation: u64,
    entries: Vec<Arc<HistoryEntry>>,
    current: Value,
    /// The selected revision's changes up to the current document.
    compared: Option<(u64, Vec<Difference>)>,
    /// The secret fields the service's settings schemas declare (masked in the changes).
    secrets: Vec<String>,
}

/// The history panel's own state.
#[derive(Default)]
pub struct HistoryPanel {
    selected: Option<u64>,
    confirm: Option<u64>,
    read: Option<Read>,
    rollback: Task<Result<Committed, ConfigError>>,
    message: Option<Notice>,
}

impl HistoryPanel {
    /// Selects a revision to compare with the current document.
    pub fn select(&mut self, revision: Option<u64>) {
        self.selected = revision;
        self.confirm = None;
    }

    /// Reads the history again when the service or the core's configs changed.
    fn refresh(&mut self, core: &Core, service: &str, generation: u64) {
        let fresh = self
            .read
            .as_ref()
            .is_some_and(|r| r.service == service && r.generation == generation);
        if !fresh {
            self.read = Some(Read {
                service: service.to_owned(),
                generation,
                entries: core.config.history(service),
                current: core
                    .config
                    .get(service)
                    .map_or(Value::Null, |s| Value::clone(&s.document)),
                compared: None,
                secrets: core.config.secret_pointers(service),
            });
        }
        let (Some(read), Some(selected)) = (self.read.as_mut(), self.selected) else {
            return;
        };
        if read.compared.as_ref().is_some_and(|(r, _)| *r == selected) {
            return;
        }
        read.compared = read
            .entries
            .iter()
            .find(|e| e.revision == selected)
            .map(|entry| {
                let old = entry.document.as_deref().unwrap_or(&Value::Null);
                let mut changes = diff(old, &read.current);
                mask_differences(&mut changes, &read.secrets);
                (selected, changes)
            });
    }

    /// Draws the history of `service`; `generation` counts the core's config changes seen by
    /// the app.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        service: &str,
        read_only: bool,
        generation: u64,
    ) {
        if read_only {
            // Locked: a confirmation opened before the lock is gone.
            self.confirm = None;
        }
        if let Some(result) = self.rollback.take() {
            self.message = Some(match result {
                Ok(committed) => {
                    Notice::done(format!("Rolled back: now revision {}.", committed.revision))
                }
                Err(error) => Notice::failed(format!("Not rolled back: {error}")),
            });
            self.selected = None;
        }
        self.refresh(core, service, generation);
        notice_ui(ui, self.message.as_ref());
        let Some(read) = &self.read else {
            return;
        };
        let mut clicked = None;
        egui::ScrollArea::vertical()
            .id_salt("history-list")
            .max_height(220.0)
            .show(ui, |ui| {
                egui::Grid::new("history-grid")
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        for entry in &read.entries {
                            let label = format!("revision {}", entry.revision);
                            if ui
                                .selectable_label(self.selected == Some(entry.revision), label)
                                .clicked()
                            {
                                clicked = Some(entry.revision);
                            }
                            ui.label(format!(
                                "{} via {}",
                                entry.actor().describe(),
                                entry.source.as_str()
                            ));
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
            if clicked.is_some() {
                self.select(clicked);
            }
            return;
        };
        let Some(entry) = read.entries.iter().find(|e| e.revision == selected) else {
            self.select(clicked);
            return;
        };
        ui.separator();
        ui.label(
            RichText::new(format!("From revision {selected} to the current document")).strong(),
        );
        if let Some((_, changes)) = &read.compared {
            changes_ui(ui, "history-diff", changes);
        }
        if entry.document.is_none() {
            ui.label(RichText::new("This revision deleted the service.").italics());
            if clicked.is_some() {
                self.select(clicked);
            }
            return;
        }
        ui.horizontal(|ui| match self.confirm {
            Some(revision) if revision == selected => {
                ui.label(format!("Make revision {selected} current again?"));
                if ui.button("Roll back").clicked() {
                    let (core, service) = (core.clone(), service.to_owned());
                    self.rollback.start(runtime, async move {
                        core.config
                            .rollback(&service, selected, Actor::desktop_user())
                            .await
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
        if clicked.is_some() {
            self.select(clicked);
        }
    }
}
