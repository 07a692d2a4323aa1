//! The config editor: a form generated from the editable part of the service-config schema
//! (and the service's announced settings schema), validated as the admin types, with inline
//! errors, the pending changes listed live under the form, Save at once with an Undo (a
//! rollback to the revision before), revert, and conflicts shown when the stored revision
//! moved.
//!
//! The draft belongs to the editor ([`EditorState`]): live updates never touch it. A save
//! carries the revision the edit started from; when someone else saved meanwhile, the admin
//! chooses. What the editor shows of the stored document is worked out again only when the
//! GUI's view of the manager moves (its generation), not every frame.

mod notices;
mod saving;
mod stored;

use notices::conflict_ui;
use stored::StoredView;
mod state;

pub use state::EditorState;

use crate::drafts::Draft;
use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::changes::changes_ui;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::schema_form::{FormState, object_form};
use crate::widgets::style::{destructive_button, primary_button};
use alicia_model::backend::HistoryPage;
use alicia_model::config::document::new_endpoint;
use alicia_model::config::{
    Committed, ConfigError, Difference, FieldError, Precondition, ServiceType, StoredDocument,
    editable_schema, masked_diff, prepare_document,
};
use egui::{RichText, Ui};
use serde_json::Value;
use std::collections::HashMap;

/// Seconds a save from the editor is watched unless Settings say otherwise (CONTRACT §7).
pub const GUI_WATCH_SECS: u64 = 60;

/// The height kept under the form for the changes to save.
const PENDING_HEIGHT: f32 = 120.0;

/// What the editor asks of the app after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorOutcome {
    /// Keep it open.
    Stay,
    /// The service was deleted: close it.
    Deleted,
    /// The admin asked to close it (Esc in the form).
    Close,
}

/// What the admin chose in the conflict view.
enum Choice {
    /// Save the draft, if this still holds.
    Save(Precondition),
    /// Drop the draft for the stored document.
    TakeTheirs,
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Editing,
    Conflict {
        theirs: Option<StoredDocument>,
        their_changes: Vec<Difference>,
        my_changes: Vec<Difference>,
    },
    ConfirmDelete,
}

/// An open editor for one service.
pub struct ConfigEditor {
    state: EditorState,
    form: FormState,
    stage: Stage,
    stored: Option<StoredView>,
    save: Task<Result<Committed, ConfigError>>,
    delete: Task<Result<Committed, ConfigError>>,
    accept: Task<Result<(), ConfigError>>,
    undo: Task<Result<Committed, ConfigError>>,
    /// The history read for "who made the stored revision", and the view's generation then.
    reading: Option<(u64, Task<HistoryPage>)>,
    /// After a save over a stored revision: the one Undo brings back.
    undo_to: Option<u64>,
    message: Option<Notice>,
    /// Seconds each save is watched (CONTRACT §7; 0: none).
    pub watch_secs: u64,
}

impl ConfigEditor {
    /// Opens the stored document of `service`.
    pub fn open(view: &View, service: &str) -> Option<Self> {
        let stored = view.document(service)?;
        Some(Self::with(EditorState::open(service, stored)))
    }

    /// Opens a document that is not stored yet (a new service, a duplicate).
    pub fn new_document(service: &str, document: Value) -> Self {
        Self::with(EditorState::new_document(service, document))
    }

    /// Opens an edit kept from an earlier session; when the stored document moved since, the
    /// editor says so and saving asks which version to keep.
    pub fn restored(service: &str, draft: &Draft) -> Self {
        Self::with(EditorState::restore(
            service,
            draft.base_revision,
            draft.base.clone(),
            draft.document.clone(),
        ))
    }

    /// The edit as it would be kept for a later session, when there is one.
    pub fn draft_record(&self) -> Option<Draft> {
        self.state.is_dirty().then(|| Draft {
            base_revision: self.state.base_revision(),
            base: self.state.base().clone(),
            document: self.state.draft().clone(),
            changed_at: crate::clock::now_rfc3339(),
        })
    }

    /// Counts the draft's changes.
    pub fn version(&self) -> u64 {
        self.state.version()
    }

    /// Saves the draft now (the guard's Save); false when it cannot be saved (invalid, or
    /// nothing to save).
    pub fn save_now(&mut self, link: &Link) -> bool {
        if !self.can_save() {
            return false;
        }
        self.start_save(link, self.state.precondition());
        true
    }

    /// True while a save runs.
    pub fn saving(&self) -> bool {
        self.save.running()
    }

    /// How many problems keep the draft from being saved.
    pub fn problems(&self) -> usize {
        self.state.errors().len() + self.form.json_errors.len()
    }

    /// Takes in a finished save, delete or accept without drawing (the guard waits for a save
    /// while another tab may be shown); true when the service was deleted.
    pub fn poll(&mut self, view: &View) -> bool {
        self.finish_tasks(view) == Some(EditorOutcome::Deleted)
    }

    /// Drops the draft for the stored document (the guard's Discard).
    pub fn discard(&mut self, view: &View) {
        self.revert(view);
    }

    fn with(state: EditorState) -> Self {
        Self {
            state,
            form: FormState::default(),
            stage: Stage::Editing,
            stored: None,
            save: Task::default(),
            delete: Task::default(),
            accept: Task::default(),
            undo: Task::default(),
            reading: None,
            undo_to: None,
            message: None,
            watch_secs: GUI_WATCH_SECS,
        }
    }

    /// Points the admin at a field a check found wrong: its message is shown beside the
    /// field and at the top, without blocking Save (it is advice, not a schema error).
    pub fn point_at(&mut self, path: &str, message: &str) {
        self.state.point_at(path, message);
        self.form.focus = Some(path.to_owned());
        self.message = Some(Notice::failed(format!("Check: {message} (field {path})")));
    }

    /// The editor's keys: Ctrl+S saves (an invalid form focuses its first problem instead),
    /// Esc steps back (the conflict and the delete confirmation return to the form; the form
    /// closes, through the app's guard when it has edits).
    fn keys(&mut self, ui: &Ui, link: &Link) -> EditorOutcome {
        let save = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);
        // Esc in a text field only leaves the field.
        let typing = ui.ctx().egui_wants_keyboard_input();
        let (save, escape) = ui.input_mut(|i| {
            (
                i.consume_shortcut(&save),
                !typing && i.consume_key(egui::Modifiers::NONE, egui::Key::Escape),
            )
        });
        if save {
            match &self.stage {
                Stage::Editing if !self.is_valid() => {
                    self.form.reveal_errors();
                    self.form.focus = self.state.errors().first().map(|e| e.path.clone());
                }
                Stage::Editing if self.can_save() => {
                    self.start_save(link, self.state.precondition());
                }
                _ => {}
            }
        }
        if escape {
            match self.stage {
                // With edits, the app asks first (Save / Discard / Cancel).
                Stage::Editing => return EditorOutcome::Close,
                _ => self.stage = Stage::Editing,
            }
        }
        EditorOutcome::Stay
    }

    /// True when Save can be used now.
    fn can_save(&self) -> bool {
        !self.form.read_only && self.is_valid() && self.state.is_dirty() && !self.save.running()
    }

    /// The errors shown beside fields now, by JSON Pointer.
    pub fn field_errors(&self) -> &HashMap<String, Vec<String>> {
        &self.form.errors
    }

    /// The field a check pointed at, if any.
    pub fn pointed_at(&self) -> Option<&str> {
        self.state.pointed_at()
    }

    /// The service edited.
    pub fn service(&self) -> &str {
        self.state.service()
    }

    /// True when the draft differs from what it started from.
    pub fn is_dirty(&self) -> bool {
        self.state.is_dirty()
    }

    /// True when the draft is valid (Save is enabled).
    pub fn is_valid(&self) -> bool {
        self.state.errors().is_empty() && self.form.json_errors.is_empty()
    }

    /// Replaces the value at `pointer` in the draft (for tests and tools); returns false when
    /// there is nothing at that pointer.
    pub fn set(&mut self, pointer: &str, value: Value) -> bool {
        self.state.set(pointer, value)
    }

    /// The draft as edited so far.
    pub fn draft(&self) -> &Value {
        self.state.draft()
    }

    /// Draws the editor over the GUI's `view` of the manager: what it shows of the stored
    /// document is worked out again only when the view moved.
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, view: &View, read_only: bool) -> EditorOutcome {
        self.form.read_only = read_only;
        if read_only {
            // Locked (the kiosk): nothing reveals a secret, and no confirmation opened before
            // the lock stays usable.
            self.form.revealed.clear();
            if self.stage != Stage::Editing {
                self.stage = Stage::Editing;
            }
        }
        self.refresh(link, view);
        if self.state.needs_validation() {
            self.validate(view);
        }
        if let Some(outcome) = self.finish_tasks(view) {
            return outcome;
        }
        if self.keys(ui, link) == EditorOutcome::Close {
            return EditorOutcome::Close;
        }
        self.header_ui(ui, view);
        let choice = match &self.stage {
            Stage::Editing => {
                self.pending_schema_ui(ui, link);
                self.form_ui(ui, link, view);
                None
            }
            Stage::Conflict {
                theirs,
                their_changes,
                my_changes,
            } => conflict_ui(ui, theirs.as_ref(), their_changes, my_changes),
            Stage::ConfirmDelete => {
                self.delete_ui(ui, link);
                None
            }
        };
        match choice {
            Some(Choice::Save(precondition)) => self.start_save(link, precondition),
            Some(Choice::TakeTheirs) => self.revert(view),
            None => {}
        }
        EditorOutcome::Stay
    }

    /// True when the stored document is no longer the one the edit started from.
    fn moved(&self) -> bool {
        let current = self
            .stored
            .as_ref()
            .and_then(|s| s.current.as_ref())
            .map(|s| s.revision);
        current != self.state.base_revision()
    }

    fn header_ui(&mut self, ui: &mut Ui, view: &View) {
        ui.horizontal(|ui| {
            ui.heading(self.state.service());
            match self.state.base_revision() {
                Some(revision) => ui.label(RichText::new(format!("revision {revision}")).weak()),
                None => ui.label(RichText::new("new, not saved yet").italics()),
            };
            if self.state.is_dirty() && self.state.base_revision().is_some() {
                ui.label(RichText::new("• unsaved changes").color(ui.visuals().warn_fg_color));
            }
        });
        if self.moved() && self.stage == Stage::Editing && self.state.is_dirty() {
            self.changed_meanwhile_ui(ui, view);
        }
        self.watch_ui(ui, view);
        notice_ui(ui, self.message.as_ref());
        ui.separator();
    }

    /// The changes from `before` to `after`, secrets masked (the settings schemas' too), for
    /// tables.
    fn masked(&self, before: &Value, after: &Value) -> Vec<Difference> {
        let secrets = self
            .stored
            .as_ref()
            .map(|s| s.secrets.clone())
            .unwrap_or_default();
        masked_diff(before, after, &secrets)
    }

    /// The draft's own changes, secrets masked.
    fn my_changes(&self) -> Vec<Difference> {
        self.masked(self.state.base(), self.state.draft())
    }

    fn form_ui(&mut self, ui: &mut Ui, link: &Link, view: &View) {
        for error in self.state.unplaced_errors() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("⚠ {} {}", error.path, error.message),
            );
        }
        let pending = if self.state.is_dirty() && self.state.base_revision().is_some() {
            self.my_changes()
        } else {
            Vec::new()
        };
        // Reserved whether or not there are changes: Save stays put as they come and go.
        let pending_height = if self.state.base_revision().is_some() {
            PENDING_HEIGHT
        } else {
            0.0
        };
        // New endpoints start from the service's type (type, HTTP, its usual port).
        if let Some(kind) = self
            .state
            .draft()
            .get("service_type")
            .and_then(|t| serde_json::from_value::<ServiceType>(t.clone()).ok())
        {
            self.form
                .row_templates
                .insert("/config/endpoints".to_owned(), new_endpoint(kind));
        }
        egui::ScrollArea::vertical()
            .id_salt("editor-form")
            .max_height(ui.available_height() - 48.0 - pending_height)
            .show(ui, |ui| {
                if object_form(
                    ui,
                    editable_schema(),
                    self.state.draft_mut(),
                    "",
                    &mut self.form,
                ) {
                    self.state.draft_changed();
                    self.message = None;
                    self.undo_to = None;
                }
            });
        ui.separator();
        ui.horizontal(|ui| {
            let can_save = self.can_save();
            if ui
                .add_enabled(can_save, primary_button(ui, "Save"))
                .clicked()
            {
                self.start_save(link, self.state.precondition());
            }
            if let Some(to) = self.undo_to {
                let undo = ui.add_enabled(
                    !self.form.read_only && !self.undo.running(),
                    egui::Button::new("Undo"),
                );
                crate::widgets::a11y::set_name(
                    ui,
                    undo.id,
                    format!("Undo the save (back to revision {to})"),
                );
                if undo.clicked() {
                    self.undo
                        .start(link.backend.rollback(self.state.service(), to));
                }
            }
            if !self.is_valid() {
                // A link: errors of a row just added wait until its fields are left.
                let problems = ui.link(
                    RichText::new(format!(
                        "{} problem(s) to fix",
                        self.state.errors().len() + self.form.json_errors.len()
                    ))
                    .color(ui.visuals().error_fg_color),
                );
                if problems.clicked() {
                    self.form.reveal_errors();
                    self.form.focus = self.state.errors().first().map(|e| e.path.clone());
                }
            }
            let editable = !self.form.read_only && self.state.base_revision().is_some();
            if ui
                .add_enabled(
                    editable && self.state.is_dirty(),
                    egui::Button::new("Revert"),
                )
                .clicked()
            {
                self.revert(view);
            }
            if self.save.running() {
                ui.spinner();
            }
            if self.state.base_revision().is_some() {
                // Set apart from Save, at the far end.
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let delete = destructive_button(ui, "Delete service…");
                    if ui.add_enabled(!self.form.read_only, delete).clicked() {
                        self.stage = Stage::ConfirmDelete;
                    }
                });
            }
        });
        // Under the buttons, in space kept for it: Save stays put as changes come and go.
        if pending_height > 0.0 {
            ui.separator();
            if pending.is_empty() {
                ui.label(RichText::new("No unsaved changes.").weak());
            } else {
                ui.label(RichText::new(format!("Changes to save ({})", pending.len())).strong());
                egui::ScrollArea::vertical()
                    .id_salt("pending-changes")
                    .max_height(pending_height - 40.0)
                    .show(ui, |ui| changes_ui(ui, "pending-changes", &pending));
            }
        }
    }

    fn revert(&mut self, view: &View) {
        self.state.revert(view.document(self.state.service()));
        self.stored = None;
        self.form.reset_draft();
        self.stage = Stage::Editing;
        self.message = None;
    }

    /// Checks the draft by the store's own rule, against what the GUI knows is stored.
    fn validate(&mut self, view: &View) {
        let service = self.state.service();
        let prepared = prepare_document(
            service,
            self.state.draft().clone(),
            view.document(service).map(|s| &*s.document),
            view.schema_record(service),
            crate::clock::now_utc(),
        );
        let errors = match prepared {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid { details }) => details,
            Err(other) => vec![FieldError::new("", other.to_string())],
        };
        self.show_errors(errors);
    }

    /// Shows `errors` beside their fields (with any check's advice) until the draft changes.
    fn show_errors(&mut self, errors: Vec<FieldError>) {
        self.state.set_errors(errors);
        self.form.errors = self.state.messages_by_pointer();
    }
}
