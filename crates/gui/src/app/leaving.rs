//! Leaving an edit without losing it: every way out of an editor with unsaved changes goes
//! through the guard (Save / Discard / Cancel), quitting the window included; the open
//! editor's draft and the drafts kept from the last session are written to `drafts.json`
//! and offered back at the next start. A stop signal (SIGTERM) closes without asking: the
//! draft is kept for the next start.

use super::{AliciaApp, EditorView};
use crate::guard::{Guard, GuardChoice, GuardFacts, Leave, guard_ui};
use crate::panels::editor::ConfigEditor;
use crate::panels::history::HistoryPanel;
use crate::widgets::a11y;
use crate::widgets::badge::relative_time;
use crate::widgets::notice::{Notice, notice_ui};
use egui::{RichText, Ui};
use std::time::Duration;

/// The context's flag that a stop signal closes the window.
fn stop_flag() -> egui::Id {
    egui::Id::NULL.with("alicia-stop-signal")
}

/// Notes that a stop signal closes the window: no guard asks then (drafts are kept).
pub fn mark_stopping(ctx: &egui::Context) {
    ctx.data_mut(|data| data.insert_temp(stop_flag(), true));
}

fn stopping(ctx: &egui::Context) -> bool {
    ctx.data(|data| data.get_temp::<bool>(stop_flag()))
        .unwrap_or(false)
}

impl AliciaApp {
    /// Leaves the open editor for `leave`: at once when it has no unsaved changes (or `leave`
    /// opens the service it edits), else after the admin's choice in the guard.
    pub fn leave_editor(&mut self, leave: Leave) {
        let same = matches!(&leave, Leave::Open(service)
            if self.editor.as_ref().is_some_and(|e| e.service() == service));
        let dirty = self.editor.as_ref().is_some_and(ConfigEditor::is_dirty);
        if dirty && !same {
            self.guard = Some(Guard {
                then: leave,
                saving: false,
            });
        } else {
            self.go(leave);
        }
    }

    /// True while the guard waits for the admin.
    pub fn guarded(&self) -> bool {
        self.guard.is_some()
    }

    fn go(&mut self, leave: Leave) {
        match leave {
            Leave::Open(service) => self.open_editor(&service),
            Leave::Check(check) => {
                self.open_editor(&check.service);
                if let Some(editor) = self.editor.as_mut() {
                    editor.point_at(&check.path, &check.message);
                }
            }
            Leave::Draft(service) => {
                if let Some(draft) = self.drafts.take_offered(&service) {
                    self.show(ConfigEditor::restored(&service, &draft));
                }
            }
            Leave::Create { service, document } => {
                self.show(ConfigEditor::new_document(&service, document));
            }
            Leave::Close => self.editor = None,
            Leave::Quit => {
                self.may_close = true;
                self.close_now = true;
            }
        }
    }

    /// Shows `editor` in place of the open one.
    pub(super) fn show(&mut self, editor: ConfigEditor) {
        self.editor = Some(editor);
        self.editor_view = EditorView::Form;
        self.history = HistoryPanel::default();
        self.list_over_editor = false;
    }

    /// The guard, while it waits; a Save chosen goes on once the draft is stored.
    pub(super) fn guard_frame(&mut self, ctx: &egui::Context) {
        if std::mem::take(&mut self.close_now) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let Some(guard) = self.guard.clone() else {
            return;
        };
        let Some(editor) = self.editor.as_mut() else {
            self.guard = None;
            self.go(guard.then);
            return;
        };
        if editor.poll(&self.view) {
            // Deleted meanwhile.
            self.editor = None;
            self.guard = None;
            self.go(guard.then);
            return;
        }
        if guard.saving && !editor.saving() {
            self.guard = None;
            if !editor.is_dirty() {
                self.go(guard.then);
            }
            // Else the save was refused (a conflict, the authority): the editor shows why.
            return;
        }
        let facts = GuardFacts {
            service: editor.service(),
            problems: editor.problems(),
            saving: guard.saving,
        };
        match guard_ui(ctx, &guard, &facts) {
            Some(GuardChoice::Save) => {
                if editor.save_now(&self.link)
                    && let Some(guard) = self.guard.as_mut()
                {
                    guard.saving = true;
                }
            }
            Some(GuardChoice::Discard) => {
                editor.discard(&self.view);
                self.guard = None;
                self.go(guard.then);
            }
            Some(GuardChoice::Cancel) => self.guard = None,
            None => {}
        }
        if guard.saving {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    /// The window's close button: with unsaved changes the guard asks first (a stop signal
    /// closes without asking; the draft is kept for the next start).
    pub(super) fn close_request(&mut self, ctx: &egui::Context) {
        let requested = ctx.input(|i| i.viewport().close_requested());
        if !requested || self.may_close || stopping(ctx) {
            return;
        }
        if self.editor.as_ref().is_some_and(ConfigEditor::is_dirty) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            if self.guard.is_none() {
                self.leave_editor(Leave::Quit);
            }
        }
    }

    /// Hands the open editor's draft to the drafts file when it changed, and writes it.
    pub(super) fn sync_drafts(&mut self, ctx: &egui::Context) {
        let now = self
            .editor
            .as_ref()
            .map(|e| (e.service().to_owned(), e.version()));
        if now != self.drafts_seen {
            self.drafts_seen = now;
            let open = self.editor.as_ref().and_then(|e| {
                e.draft_record()
                    .map(|draft| (e.service().to_owned(), draft))
            });
            self.drafts.set_open(open);
        }
        if self.drafts.poll(self.link.platform.as_ref()) {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    /// Writes the drafts now (the window is closing).
    pub(super) fn keep_drafts(&mut self) {
        self.drafts_seen = None;
        let open = self.editor.as_ref().and_then(|e| {
            e.draft_record()
                .map(|draft| (e.service().to_owned(), draft))
        });
        self.drafts.set_open(open);
        self.drafts.write_now(self.link.platform.as_ref());
    }

    /// The drafts kept from the last session, each with Open and Discard.
    pub(super) fn offered_drafts_ui(&mut self, ui: &mut Ui) {
        if let Some(problem) = &self.drafts.problem {
            notice_ui(ui, Some(&Notice::failed(problem.clone())));
        }
        let offered: Vec<(String, String)> = self
            .drafts
            .offered()
            .iter()
            .map(|(service, draft)| (service.clone(), draft.changed_at.clone()))
            .collect();
        for (service, changed_at) in offered {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "Unsaved draft of {service}, kept from {}",
                        relative_time(ui.ctx(), Some(&changed_at))
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
                let open = ui.button("Open draft");
                a11y::set_name(ui, open.id, format!("Open the draft of {service}"));
                if open.clicked() {
                    self.leave_editor(Leave::Draft(service.clone()));
                }
                let discard = ui.button("Discard draft");
                a11y::set_name(ui, discard.id, format!("Discard the draft of {service}"));
                if discard.clicked() {
                    self.drafts.discard_offered(&service);
                }
            });
        }
    }
}
