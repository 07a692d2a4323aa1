//! A service's history, newest first: each retained revision with who made it, when, and its
//! own change against the revision before it (so the bad change is found by reading, not by
//! clicking every row); the current one marked; "Restore this version" on the others makes
//! that revision current again as a new change (a rollback), undone the same way. The
//! revisions are read, and their changes worked out, only when the service or the GUI's view of the
//! configs change — not every frame. A revision stored with a change set (CONTRACT §7) names
//! the set's other services and rolls the whole set back as one.

use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::badge::relative_time;
use crate::widgets::changes::changes_ui;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::style::section_heading;
use alicia_model::backend::HistoryPage;
use alicia_model::change_sets::ChangeSetAnswer;
use alicia_model::config::{Committed, ConfigError, Difference, HistoryEntry, masked_diff};
use egui::{RichText, Ui};
use serde_json::Value;
use std::sync::Arc;

/// One revision as the list shows it.
struct Row {
    entry: Arc<HistoryEntry>,
    /// The services of the change set it belongs to.
    set_members: Vec<String>,
    /// Its change against the revision before it (`None`: the oldest one kept).
    change: Option<Vec<Difference>>,
}

/// What the panel read of one service, at one generation of the GUI's view.
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
    /// The history asked of the backend: for which service, at which generation.
    reading: Option<(String, u64, Task<HistoryPage>)>,
    restore: Task<Result<Committed, ConfigError>>,
    /// The revision current before the last restore, to undo it.
    undo_to: Option<u64>,
    message: Option<Notice>,
    set_rollback: Task<Result<ChangeSetAnswer, ConfigError>>,
    /// A set whose members changed since: offered to roll back anyway.
    force_offer: Option<String>,
}

impl HistoryPanel {
    /// Marks a revision (scrolled to and highlighted).
    pub fn select(&mut self, revision: Option<u64>) {
        self.selected = revision;
    }

    /// Asks for the history again when the service or the GUI's view moved.
    fn refresh(&mut self, link: &Link, view: &View, service: &str) {
        let generation = view.generation;
        let fresh = self
            .read
            .as_ref()
            .is_some_and(|r| r.service == service && r.generation == generation);
        if fresh {
            return;
        }
        let asked = self
            .reading
            .as_ref()
            .is_some_and(|(s, g, _)| s == service && *g == generation);
        if !asked {
            let mut task = Task::default();
            task.start(link.backend.history(service));
            self.reading = Some((service.to_owned(), generation, task));
        }
        let Some(page) = self.reading.as_mut().and_then(|(_, _, task)| task.take()) else {
            return;
        };
        self.reading = None;
        let secrets = view.secret_paths(service);
        let (entries, sets) = (&page.entries, &page.sets);
        let rows = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let change = entries.get(i + 1).map(|before| {
                    let old = before.document.as_deref().unwrap_or(&Value::Null);
                    let new = entry.document.as_deref().unwrap_or(&Value::Null);
                    masked_diff(old, new, &secrets)
                });
                let set_members = entry
                    .change_id
                    .as_deref()
                    .and_then(|id| sets.get(id))
                    .map(|members| members.iter().map(|(service, _)| service.clone()).collect())
                    .unwrap_or_default();
                Row {
                    entry: Arc::clone(entry),
                    set_members,
                    change,
                }
            })
            .collect();
        self.read = Some(Read {
            service: service.to_owned(),
            generation,
            rows,
            current: view.document(service).map(|s| s.revision),
        });
    }

    /// Draws the history of `service`, read again when the GUI's view of the manager moved.
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, view: &View, service: &str, read_only: bool) {
        self.finish(ui);
        self.refresh(link, view, service);
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
                self.start_restore(link, service, to, None);
            }
        }
        if let Some(change_id) = self.force_offer.clone() {
            let force = ui.add_enabled(
                !read_only && !self.set_rollback.running(),
                egui::Button::new("Roll back anyway (undo the later changes too)"),
            );
            if force.clicked() {
                self.start_set_rollback(link, &change_id, true);
            }
        }
        let Some(read) = &self.read else {
            return;
        };
        let mut restore = None;
        let mut set_rollback = None;
        egui::ScrollArea::vertical()
            .id_salt("history-list")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for row in &read.rows {
                    match row_ui(ui, row, read.current, self.selected, read_only) {
                        RowAction::None => {}
                        RowAction::Restore(revision) => restore = Some(revision),
                        RowAction::RollBackSet(change_id) => set_rollback = Some(change_id),
                    }
                    ui.separator();
                }
            });
        if let Some(revision) = restore {
            let before = read.current;
            self.start_restore(link, service, revision, before);
        }
        if let Some(change_id) = set_rollback {
            self.start_set_rollback(link, &change_id, false);
        }
    }

    fn start_set_rollback(&mut self, link: &Link, change_id: &str, force: bool) {
        self.force_offer = None;
        self.undo_to = None;
        self.set_rollback
            .start(link.backend.rollback_set(change_id, force));
    }

    fn start_restore(&mut self, link: &Link, service: &str, revision: u64, undo_to: Option<u64>) {
        self.undo_to = undo_to;
        self.restore.start(link.backend.rollback(service, revision));
    }

    fn finish(&mut self, ui: &Ui) {
        if let Some(result) = self.set_rollback.take() {
            self.message = Some(match result {
                Ok(answer) => Notice::done(format!(
                    "Rolled the change set back: {} service(s) as one new change set.",
                    answer.revisions.len()
                )),
                Err(error) => {
                    if let ConfigError::MembersChanged { change_id, .. } = &error {
                        self.force_offer = Some(change_id.clone());
                    }
                    Notice::failed(format!("Not rolled back: {error}"))
                }
            });
        } else if self.set_rollback.running() {
            ui.ctx().request_repaint();
        }
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

/// What a row asks for.
enum RowAction {
    None,
    Restore(u64),
    RollBackSet(String),
}

/// One revision: its number (marked when current), who and when, its own change, Restore on
/// a revision that is not current, and its change set with the way to roll it back as one.
fn row_ui(
    ui: &mut Ui,
    row: &Row,
    current: Option<u64>,
    selected: Option<u64>,
    read_only: bool,
) -> RowAction {
    let entry = &row.entry;
    let is_current = current == Some(entry.revision);
    let mut restore = RowAction::None;
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
                    restore = RowAction::Restore(entry.revision);
                }
            });
        }
    });
    if let Some(change_id) = &entry.change_id {
        ui.horizontal(|ui| {
            let others: Vec<&str> = row
                .set_members
                .iter()
                .map(String::as_str)
                .filter(|s| *s != entry.service)
                .collect();
            let with = if others.is_empty() {
                "alone".to_owned()
            } else {
                format!("with {}", others.join(", "))
            };
            ui.label(
                RichText::new(format!(
                    "Part of a change set of {} service(s), {with}",
                    row.set_members.len().max(1)
                ))
                .italics(),
            );
            let button = ui.add_enabled(!read_only, egui::Button::new("Roll back the whole set"));
            a11y::set_name(
                ui,
                button.id,
                format!("Roll back the change set of revision {}", entry.revision),
            );
            if button.clicked() {
                restore = RowAction::RollBackSet(change_id.clone());
            }
        });
    }
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
