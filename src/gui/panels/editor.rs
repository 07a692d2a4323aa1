//! The config editor: a form generated from the service-config schema (and the service's
//! announced settings schema), validated as the admin types, with inline errors, a review of
//! the change before saving, revert, and conflicts shown when the stored revision moved.
//!
//! The draft belongs to the editor: live updates never touch it. A save carries the revision
//! the edit started from; when someone else saved meanwhile, the admin chooses.

use crate::core::Core;
use crate::core::config::{
    ChangeSource, Committed, ConfigError, Difference, FieldError, Precondition, StoredDocument,
    diff, schema_document,
};
use crate::gui::tasks::Task;
use crate::gui::widgets::json::short;
use crate::gui::widgets::notice::{Notice, notice_ui};
use crate::gui::widgets::schema_form::{FormState, object_form};
use egui::{RichText, Ui};
use serde_json::Value;
use std::collections::HashMap;

/// Fields the manager sets itself: not in the form.
const MANAGED_FIELDS: [&str; 3] = ["service_name", "status", "last_updated"];

/// What the editor asks of the app after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorOutcome {
    /// Keep it open.
    Stay,
    /// The service was deleted: close it.
    Deleted,
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Editing,
    Reviewing(Vec<Difference>),
    Conflict { theirs: Option<StoredDocument> },
    ConfirmDelete,
}

/// An open editor for one service.
pub struct ConfigEditor {
    service: String,
    base_revision: Option<u64>,
    base: Value,
    draft: Value,
    form: FormState,
    errors: Vec<FieldError>,
    notes: Vec<FieldError>,
    validated: bool,
    stage: Stage,
    save: Task<Result<Committed, ConfigError>>,
    delete: Task<Result<Committed, ConfigError>>,
    message: Notice,
}

impl ConfigEditor {
    /// Opens the stored document of `service`.
    pub fn open(core: &Core, service: &str) -> Option<Self> {
        let stored = core.config.get(service)?;
        Some(Self::with_base(
            service,
            Some(stored.revision),
            Value::clone(&stored.document),
        ))
    }

    /// Opens a document that is not stored yet (a new service, a duplicate).
    pub fn new_document(service: &str, document: Value) -> Self {
        let mut editor = Self::with_base(service, None, document.clone());
        editor.base = Value::Null;
        editor.draft = document;
        editor
    }

    fn with_base(service: &str, revision: Option<u64>, document: Value) -> Self {
        Self {
            service: service.to_owned(),
            base_revision: revision,
            base: document.clone(),
            draft: document,
            form: FormState::default(),
            errors: Vec::new(),
            notes: Vec::new(),
            validated: false,
            stage: Stage::Editing,
            save: Task::default(),
            delete: Task::default(),
            message: None,
        }
    }

    /// Points the admin at a field a check found wrong: its message is shown beside the
    /// field and at the top, without blocking Save (it is advice, not a schema error).
    pub fn point_at(&mut self, path: &str, message: &str) {
        self.notes = vec![FieldError::new(path, message)];
        self.message = Some((format!("Check: {message} (field {path})"), true));
        self.validated = false;
    }

    /// The errors shown beside fields now, by JSON Pointer.
    pub fn field_errors(&self) -> &HashMap<String, Vec<String>> {
        &self.form.errors
    }

    /// The field a check pointed at, if any.
    pub fn pointed_at(&self) -> Option<&str> {
        self.notes.first().map(|n| n.path.as_str())
    }

    /// The service edited.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// True when the draft differs from what it started from.
    pub fn is_dirty(&self) -> bool {
        self.base_revision.is_none() || !diff(&self.base, &self.draft).is_empty()
    }

    /// True when the draft is valid (Save is enabled).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.form.json_errors.is_empty()
    }

    /// Draws the editor.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) -> EditorOutcome {
        self.form.read_only = read_only;
        if !self.validated {
            self.validate(core);
        }
        if let Some(outcome) = self.finish_tasks(core) {
            return outcome;
        }
        self.header_ui(ui, core);
        match self.stage.clone() {
            Stage::Editing => self.form_ui(ui, core, runtime),
            Stage::Reviewing(changes) => self.review_ui(ui, &changes, runtime, core),
            Stage::Conflict { theirs } => self.conflict_ui(ui, theirs, runtime, core),
            Stage::ConfirmDelete => self.delete_ui(ui, runtime, core),
        }
        EditorOutcome::Stay
    }

    fn header_ui(&mut self, ui: &mut Ui, core: &Core) {
        ui.horizontal(|ui| {
            ui.heading(&self.service);
            match self.base_revision {
                Some(revision) => ui.label(RichText::new(format!("revision {revision}")).weak()),
                None => ui.label(RichText::new("new, not saved yet").italics()),
            };
            if self.is_dirty() && self.base_revision.is_some() {
                ui.label(RichText::new("• unsaved changes").color(ui.visuals().warn_fg_color));
            }
        });
        let stored = core.config.get(&self.service);
        let moved = match (&stored, self.base_revision) {
            (Some(stored), Some(base)) => stored.revision != base,
            (None, Some(_)) => true,
            (Some(_), None) => true,
            (None, None) => false,
        };
        if moved && self.stage == Stage::Editing {
            let who = core
                .config
                .history(&self.service)
                .first()
                .map(|e| format!("{} (revision {})", e.source.as_str(), e.revision))
                .unwrap_or_default();
            ui.label(
                RichText::new(format!(
                    "⚠ Changed meanwhile by {who}. Your edits are kept; saving will ask which version to keep."
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
        notice_ui(ui, &self.message);
        ui.separator();
    }

    fn form_ui(&mut self, ui: &mut Ui, core: &Core, runtime: &tokio::runtime::Handle) {
        let schema = form_schema();
        if let Some(settings) = core.config.settings_schema(&self.service) {
            self.form.overrides.insert(
                "/config/settings".to_owned(),
                Value::clone(&settings.source),
            );
        }
        let unplaced: Vec<&FieldError> = self
            .errors
            .iter()
            .filter(|e| {
                e.path.is_empty() || MANAGED_FIELDS.iter().any(|f| e.path == format!("/{f}"))
            })
            .collect();
        for error in unplaced {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("⚠ {} {}", error.path, error.message),
            );
        }
        egui::ScrollArea::vertical()
            .id_salt("editor-form")
            .max_height(ui.available_height() - 48.0)
            .show(ui, |ui| {
                if object_form(ui, &schema, &mut self.draft, "", &mut self.form) {
                    self.validated = false;
                    self.message = None;
                }
            });
        ui.separator();
        ui.horizontal(|ui| {
            let can_save =
                !self.form.read_only && self.is_valid() && self.is_dirty() && !self.save.running();
            let save = ui
                .add_enabled(can_save, egui::Button::new(RichText::new("Save…").strong()))
                .on_hover_text("Review the change, then save it");
            if save.clicked() {
                self.stage = Stage::Reviewing(diff(&self.base, &self.draft));
            }
            if !self.is_valid() {
                ui.label(
                    RichText::new(format!(
                        "{} problem(s) to fix",
                        self.errors.len() + self.form.json_errors.len()
                    ))
                    .color(ui.visuals().error_fg_color),
                );
            }
            if ui
                .add_enabled(
                    self.is_dirty() && self.base_revision.is_some() && !self.form.read_only,
                    egui::Button::new("Revert"),
                )
                .clicked()
            {
                self.revert(core);
            }
            if self.base_revision.is_some()
                && ui
                    .add_enabled(!self.form.read_only, egui::Button::new("Delete service…"))
                    .clicked()
            {
                self.stage = Stage::ConfirmDelete;
            }
            if self.save.running() {
                ui.spinner();
            }
        });
        let _ = runtime;
    }

    fn review_ui(
        &mut self,
        ui: &mut Ui,
        changes: &[Difference],
        runtime: &tokio::runtime::Handle,
        core: &Core,
    ) {
        ui.label(RichText::new("Review the change").strong());
        changes_ui(ui, "review", changes);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    !self.save.running(),
                    egui::Button::new(RichText::new("Confirm and save").strong()),
                )
                .clicked()
            {
                let precondition = self
                    .base_revision
                    .map_or(Precondition::Absent, Precondition::Revision);
                self.start_save(core, runtime, precondition);
            }
            if ui.button("Back to the form").clicked() {
                self.stage = Stage::Editing;
            }
            if self.save.running() {
                ui.spinner();
            }
        });
    }

    fn conflict_ui(
        &mut self,
        ui: &mut Ui,
        theirs: Option<StoredDocument>,
        runtime: &tokio::runtime::Handle,
        core: &Core,
    ) {
        ui.label(
            RichText::new("Someone else saved this service while you were editing.")
                .strong()
                .color(ui.visuals().warn_fg_color),
        );
        let their_document = theirs
            .as_ref()
            .map_or(Value::Null, |t| Value::clone(&t.document));
        ui.columns(2, |columns| {
            columns[0].label(RichText::new("Theirs (stored now)").strong());
            changes_ui(
                &mut columns[0],
                "theirs",
                &diff(&self.base, &their_document),
            );
            columns[1].label(RichText::new("Mine (this form)").strong());
            changes_ui(&mut columns[1], "mine", &diff(&self.base, &self.draft));
        });
        ui.horizontal(|ui| {
            if ui.button("Keep mine (save over theirs)").clicked() {
                let precondition = theirs
                    .as_ref()
                    .map_or(Precondition::Absent, |t| Precondition::Revision(t.revision));
                self.start_save(core, runtime, precondition);
            }
            if ui.button("Take theirs (discard mine)").clicked() {
                self.revert(core);
            }
        });
    }

    fn delete_ui(&mut self, ui: &mut Ui, runtime: &tokio::runtime::Handle, core: &Core) {
        ui.label(
            RichText::new(format!(
                "Delete {}? Its retained config is cleared; the history keeps every revision.",
                self.service
            ))
            .strong(),
        );
        ui.horizontal(|ui| {
            if ui
                .button(RichText::new("Delete").color(ui.visuals().error_fg_color))
                .clicked()
            {
                let (core, service, base) =
                    (core.clone(), self.service.clone(), self.base_revision);
                self.delete.start(runtime, async move {
                    let precondition = base.map_or(Precondition::None, Precondition::Revision);
                    core.config
                        .delete(&service, ChangeSource::Gui, precondition)
                        .await
                });
            }
            if ui.button("Cancel").clicked() {
                self.stage = Stage::Editing;
            }
            if self.delete.running() {
                ui.spinner();
            }
        });
    }

    fn start_save(
        &mut self,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        precondition: Precondition,
    ) {
        let (core, service, draft) = (core.clone(), self.service.clone(), self.draft.clone());
        self.save.start(runtime, async move {
            core.config
                .put(&service, draft, ChangeSource::Gui, precondition)
                .await
        });
    }

    fn finish_tasks(&mut self, core: &Core) -> Option<EditorOutcome> {
        if let Some(result) = self.save.take() {
            match result {
                Ok(committed) => {
                    self.base_revision = Some(committed.revision);
                    self.base = committed.document.map_or(Value::Null, |d| Value::clone(&d));
                    self.draft = self.base.clone();
                    self.form.reset_draft();
                    self.stage = Stage::Editing;
                    self.validated = false;
                    self.notes.clear();
                    self.message =
                        Some((format!("Saved as revision {}.", committed.revision), false));
                }
                Err(ConfigError::Conflict { .. }) => {
                    self.stage = Stage::Conflict {
                        theirs: core.config.get(&self.service),
                    };
                }
                Err(ConfigError::Invalid { details }) => {
                    self.show_errors(details);
                    self.stage = Stage::Editing;
                    self.message = Some((
                        "The service's settings schema refused it: see the fields.".to_owned(),
                        true,
                    ));
                }
                Err(ConfigError::RefusedByAuthority { error, details }) => {
                    self.show_errors(details);
                    self.stage = Stage::Editing;
                    self.message = Some((format!("The authority refused it: {error}"), true));
                }
                Err(other) => {
                    self.stage = Stage::Editing;
                    self.message = Some((format!("Not saved: {other}"), true));
                }
            }
        }
        if let Some(result) = self.delete.take() {
            match result {
                Ok(_) => return Some(EditorOutcome::Deleted),
                Err(error) => {
                    self.stage = Stage::Editing;
                    self.message = Some((format!("Not deleted: {error}"), true));
                }
            }
        }
        None
    }

    fn revert(&mut self, core: &Core) {
        if let Some(stored) = core.config.get(&self.service) {
            self.base_revision = Some(stored.revision);
            self.base = Value::clone(&stored.document);
        }
        self.draft = self.base.clone();
        self.form.reset_draft();
        self.stage = Stage::Editing;
        self.validated = false;
        self.message = None;
    }

    fn validate(&mut self, core: &Core) {
        self.show_errors(core.config.validate(&self.service, &self.draft));
        self.validated = true;
    }

    /// Shows `errors` beside their fields (with any check's note) until the draft changes.
    fn show_errors(&mut self, errors: Vec<FieldError>) {
        self.errors = errors;
        let mut by_pointer: HashMap<String, Vec<String>> = HashMap::new();
        for error in self.errors.iter().chain(&self.notes) {
            by_pointer
                .entry(error.path.clone())
                .or_default()
                .push(error.message.clone());
        }
        self.form.errors = by_pointer;
    }

    /// Replaces the value at `pointer` in the draft (for tests and tools); returns false when
    /// there is nothing at that pointer.
    pub fn set(&mut self, pointer: &str, value: Value) -> bool {
        let Some(slot) = self.draft.pointer_mut(pointer) else {
            return false;
        };
        *slot = value;
        self.validated = false;
        true
    }

    /// The draft as edited so far.
    pub fn draft(&self) -> &Value {
        &self.draft
    }
}

/// The service-config schema without the fields the manager sets.
fn form_schema() -> Value {
    let mut schema = schema_document().clone();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for field in MANAGED_FIELDS {
            properties.remove(field);
        }
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| !MANAGED_FIELDS.iter().any(|f| r == f));
    }
    schema
}

/// A table of changes: field, before, after.
pub fn changes_ui(ui: &mut Ui, id: &str, changes: &[Difference]) {
    if changes.is_empty() {
        ui.label(RichText::new("no change").weak());
        return;
    }
    egui::Grid::new(id)
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label(RichText::new("field").strong());
            ui.label(RichText::new("before").strong());
            ui.label(RichText::new("after").strong());
            ui.end_row();
            for change in changes {
                ui.label(RichText::new(&change.pointer).monospace());
                ui.label(short(&change.pointer, change.before.as_ref()));
                ui.label(short(&change.pointer, change.after.as_ref()));
                ui.end_row();
            }
        });
}
