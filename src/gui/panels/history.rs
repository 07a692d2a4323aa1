//! A service's history, newest first: each retained revision with who made it, when, and its
//! own change against the revision before it (so the bad change is found by reading, not by
//! clicking every row); the current one marked; "Restore this version" on the others makes
//! that revision current again as a new change (a rollback), undone the same way. The
//! revisions are read, and their changes worked out, only when the service or the core's
//! configs change — not every frame.

use crate::core::Core;
use crate::core::config::{
    Actor, Committed, ConfigError, Difference, HistoryEntry, diff, mask_differences,
};
use crate::gui::tasks::Task;
use crate::gui::widgets::a11y;
use crate::gui::widgets::badge::relative_time;
use crate::gui::widgets::changes::changes_ui;
use crate::gui::widgets::notice::{Notice, notice_ui};
use crate::gui::widgets::style::section_heading;
use egui::{RichText, Ui};
use serde_json::Value;
use std::sync::Arc;

/// One revision as the list shows it.
struct Row {
    entry: Arc<HistoryEntry>,
    /// Its change against the revision before it (`None`: the oldest one kept).
    change: Option<Vec<Difference>>,
}

/// What the panel read of one service, at one config generation.
struct Read {
    service: String,
    generation: u64,
    rows: Vec<Row>,
    /// The stored revision now.
    current: Option<u64>,
}

/// The history panel's own state.
#[derive(Default)]
pub struct HistoryPanel {
    selected: Option<u64>,
    read: Option<Read>,
    restore: Task<Result<Committed, ConfigError>>,
    /// The revision current before the last restore, to undo it.
    undo_to: Option<u64>,
    message: Option<Notice>,
}

impl HistoryPanel {
    /// Marks a revision (scrolled to and highlighted).
    pub fn select(&mut self, revision: Option<u64>) {
        self.selected = revision;
    }

    /// Reads the history again when the service or the core's configs changed.
    fn refresh(&mut self, core: &Core, service: &str, generation: u64) {
        let fresh = self
            .read
            .as_ref()
            .is_some_and(|r| r.service == service && r.generation == generation);
        if fresh {
            return;
        }
        let entries = core.config.history(service);
        let secrets = core.config.secret_pointers(service);
        let rows = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let change = entries.get(i + 1).map(|before| {
                    let old = before.document.as_deref().unwrap_or(&Value::Null);
                    let new = entry.document.as_deref().unwrap_or(&Value::Null);
                    let mut changes = diff(old, new);
                    mask_differences(&mut changes, &secrets);
                    changes
                });
                Row {
                    entry: Arc::clone(entry),
                    change,
                }
            })
            .collect();
        self.read = Some(Read {
            service: service.to_owned(),
            generation,
            rows,
            current: core.config.get(service).map(|s| s.revision),
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
        self.finish(ui);
        self.refresh(core, service, generation);
        notice_ui(ui, self.message.as_ref());
        if let Some(to) = self.undo_to {
            let undo = ui.add_enabled(
                !read_only && !self.restore.running(),
                egui::Button::new("Undo"),
            );
            a11y::set_name(
                ui,
                undo.id,
                format!("Undo the restore (back to revision {to})"),
            );
            if undo.clicked() {
                self.start_restore(core, runtime, service, to, None);
            }
        }
        let Some(read) = &self.read else {
            return;
        };
        let mut restore = None;
        egui::ScrollArea::vertical()
            .id_salt("history-list")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for row in &read.rows {
                    if let Some(revision) = row_ui(ui, row, read.current, self.selected, read_only)
                    {
                        restore = Some(revision);
                    }
                    ui.separator();
                }
            });
        if let Some(revision) = restore {
            let before = read.current;
            self.start_restore(core, runtime, service, revision, before);
        }
    }

    fn start_restore(
        &mut self,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        service: &str,
        revision: u64,
        undo_to: Option<u64>,
    ) {
        let (core, service) = (core.clone(), service.to_owned());
        self.undo_to = undo_to;
        self.restore.start(runtime, async move {
            core.config
                .rollback(&service, revision, Actor::desktop_user())
                .await
        });
    }

    fn finish(&mut self, ui: &Ui) {
        let Some(result) = self.restore.take() else {
            if self.restore.running() {
                ui.ctx().request_repaint();
            }
            return;
        };
        self.message = Some(match result {
            Ok(committed) => Notice::done(format!(
                "Restored: the service is now revision {}.",
                committed.revision
            )),
            Err(error) => {
                self.undo_to = None;
                Notice::failed(format!("Not restored: {error}"))
            }
        });
    }
}

/// One revision: its number (marked when current), who and when, its own change, and Restore
/// on a revision that is not current. Returns the revision to restore when asked.
fn row_ui(
    ui: &mut Ui,
    row: &Row,
    current: Option<u64>,
    selected: Option<u64>,
    read_only: bool,
) -> Option<u64> {
    let entry = &row.entry;
    let is_current = current == Some(entry.revision);
    let mut restore = None;
    ui.horizontal(|ui| {
        let title = format!("revision {}", entry.revision);
        let heading = section_heading(ui, title);
        if selected == Some(entry.revision) {
            heading.highlight();
        }
        if is_current {
            ui.label(
                RichText::new("current")
                    .strong()
                    .color(ui.visuals().selection.stroke.color),
            );
        }
        ui.label(format!(
            "{} via {} · {} ({})",
            entry.actor().describe(),
            entry.source.as_str(),
            relative_time(ui.ctx(), Some(&entry.last_updated)),
            entry.last_updated
        ));
        if let Some(reason) = &entry.reason {
            // A watched change the manager undid (CONTRACT §7).
            ui.label(
                RichText::new(format!("undone by itself: {reason}"))
                    .color(ui.visuals().warn_fg_color),
            );
        }
        if !is_current && entry.document.is_some() {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let button = ui.add_enabled(!read_only, egui::Button::new("Restore this version"));
                a11y::set_name(
                    ui,
                    button.id,
                    format!("Restore revision {}", entry.revision),
                );
                if button.clicked() {
                    restore = Some(entry.revision);
                }
            });
        }
    });
    match (&row.change, &entry.document) {
        (_, None) => {
            ui.label(RichText::new("Deleted the service.").italics());
        }
        (None, Some(_)) => {
            ui.label(RichText::new("The oldest revision kept.").weak());
        }
        (Some(changes), Some(_)) => {
            changes_ui(ui, &format!("history-change-{}", entry.revision), changes);
        }
    }
    restore
}
