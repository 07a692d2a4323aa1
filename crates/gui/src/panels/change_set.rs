//! The change-set editor (CONTRACT §7): several services changed as one. The admin ticks
//! services in the table (or asks for the household's language in Settings), then sets what
//! they share — the language, enabled, an endpoint's host. Before Apply it shows each
//! service's change and what the checks across services would newly find; Apply stores every
//! member as one set, watched for the GUI's watch (Settings › Safe apply).

use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::a11y;
use crate::widgets::json::short;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::schema_form::field_title;
use crate::widgets::style::{primary_button, section_heading};
use alicia_model::change_sets::{ChangeSetAnswer, ChangeSetRequest, SetPreview, SharedFields};
use alicia_model::checks::Severity;
use alicia_model::config::{ConfigError, Difference, editable_schema, masked_diff};
use egui::{RichText, Ui};
use serde_json::Value;

/// One shared field: whether it is changed, and to what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Field<T> {
    on: bool,
    value: T,
}

/// What the members are to share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Shared {
    language: Field<String>,
    enabled: Field<bool>,
    host: Field<String>,
}

impl Shared {
    /// The fields ticked, as the model's rule takes them.
    fn fields(&self) -> SharedFields {
        SharedFields {
            language: self.language.on.then(|| self.language.value.clone()),
            enabled: self.enabled.on.then_some(self.enabled.value),
            host: self.host.on.then(|| self.host.value.clone()),
        }
    }

    fn any(&self) -> bool {
        self.fields().any()
    }
}

/// The set worked out for the fields as they are.
struct Worked {
    shared: Shared,
    /// The services asked for (to know when to work it out again).
    asked: Vec<String>,
    /// Those configured, in order: the set's members.
    members: Vec<String>,
    documents: Vec<Value>,
    changes: Vec<(String, Vec<Difference>)>,
    /// What the checks would find, once the backend answered.
    preview: Option<SetPreview>,
    previewing: Task<SetPreview>,
}

/// The change-set editor's state; open while `members` is not empty.
#[derive(Default)]
pub struct ChangeSetPanel {
    members: Vec<String>,
    shared: Shared,
    worked: Option<Worked>,
    allow_warnings: bool,
    apply: Task<Result<ChangeSetAnswer, ConfigError>>,
    message: Option<Notice>,
}

/// What the editor asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    /// Still editing (or closed).
    Stay,
    /// The set was stored: clear the table's selection.
    Applied,
}

impl ChangeSetPanel {
    /// Opens the editor on `members`; `language` pre-sets the shared language (the
    /// household's).
    pub fn open(&mut self, members: Vec<String>, language: Option<String>) {
        self.members = members;
        self.shared = Shared::default();
        if let Some(language) = language {
            self.shared.language = Field {
                on: true,
                value: language,
            };
        }
        self.worked = None;
        self.allow_warnings = false;
        self.message = None;
    }

    /// True while it is open.
    pub fn is_open(&self) -> bool {
        !self.members.is_empty()
    }

    /// The services it changes.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// Draws the editor (nothing when closed).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        link: &Link,
        view: &View,
        watch_secs: u64,
        read_only: bool,
    ) -> ChangeSetOutcome {
        let outcome = self.finish(ui);
        if !self.is_open() {
            notice_ui(ui, self.message.as_ref());
            return outcome;
        }
        let mut close = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                section_heading(
                    ui,
                    format!("Change {} services together", self.members.len()),
                );
                ui.label(RichText::new(self.members.join(", ")).weak());
            });
            self.fields_ui(ui);
            self.work_out(link, view);
            self.preview_ui(ui);
            notice_ui(ui, self.message.as_ref());
            ui.horizontal(|ui| {
                let ready = self.ready() && !read_only && !self.apply.running();
                let watch = if watch_secs > 0 {
                    format!("Apply as one (watch {watch_secs} s)")
                } else {
                    "Apply as one".to_owned()
                };
                let apply = ui.add_enabled(ready, primary_button(ui, &watch));
                a11y::set_name(ui, apply.id, "Apply the change set");
                if apply.clicked() {
                    self.start_apply(link, watch_secs);
                }
                if self.apply.running() {
                    ui.spinner();
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.members.clear();
            self.message = None;
        }
        outcome
    }

    fn fields_ui(&mut self, ui: &mut Ui) {
        let shared = &mut self.shared;
        egui::Grid::new("change-set-fields")
            .num_columns(2)
            .show(ui, |ui| {
                ui.checkbox(&mut shared.language.on, "Language");
                let field = ui.add_enabled(
                    shared.language.on,
                    egui::TextEdit::singleline(&mut shared.language.value)
                        .hint_text("e.g. de or en-US")
                        .desired_width(160.0),
                );
                a11y::set_name(ui, field.id, "Shared language");
                ui.end_row();
                ui.checkbox(&mut shared.enabled.on, "Enabled");
                let field = ui.add_enabled(
                    shared.enabled.on,
                    egui::Checkbox::new(&mut shared.enabled.value, "on"),
                );
                a11y::set_name(ui, field.id, "Shared enabled");
                ui.end_row();
                ui.checkbox(&mut shared.host.on, "Endpoint host");
                let field = ui.add_enabled(
                    shared.host.on,
                    egui::TextEdit::singleline(&mut shared.host.value)
                        .hint_text("e.g. 192.168.1.20")
                        .desired_width(160.0),
                );
                a11y::set_name(ui, field.id, "Shared endpoint host");
                ui.end_row();
            });
    }

    /// Works the set out again when the fields changed (not every frame).
    fn work_out(&mut self, link: &Link, view: &View) {
        let fresh = self
            .worked
            .as_ref()
            .is_some_and(|w| w.shared == self.shared && w.asked == self.members);
        if fresh {
            if let Some(worked) = self.worked.as_mut()
                && let Some(preview) = worked.previewing.take()
            {
                worked.preview = Some(preview);
            }
            return;
        }
        let fields = self.shared.fields();
        let mut documents = Vec::new();
        let mut changes = Vec::new();
        let mut members = Vec::new();
        for service in &self.members {
            let Some(stored) = view.document(service) else {
                continue;
            };
            members.push(service.clone());
            let document = fields.apply_to(&stored.document);
            let difference = masked_diff(&stored.document, &document, &view.secret_paths(service));
            changes.push((service.clone(), difference));
            documents.push(document);
        }
        let mut previewing = Task::default();
        let preview = if fields.any() {
            previewing.start(link.backend.preview_set(documents.clone()));
            previewing.take()
        } else {
            Some(SetPreview::default())
        };
        self.worked = Some(Worked {
            shared: self.shared.clone(),
            asked: self.members.clone(),
            members,
            documents,
            changes,
            preview,
            previewing,
        });
    }

    /// The change per service, then what the checks would newly find.
    fn preview_ui(&mut self, ui: &mut Ui) {
        let Some(worked) = &self.worked else {
            return;
        };
        if !self.shared.any() {
            ui.label(RichText::new("Tick what the services are to share.").weak());
            return;
        }
        ui.add_space(4.0);
        ui.label(RichText::new("What changes").strong());
        egui::ScrollArea::vertical()
            .id_salt("change-set-preview")
            .max_height(220.0)
            .show(ui, |ui| changes_grid_ui(ui, &worked.changes));
        ui.add_space(4.0);
        let Some(preview) = &worked.preview else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Running the checks across services…");
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
            return;
        };
        for problem in &preview.invalid {
            let member = member_of(&problem.path, &worked.members);
            ui.label(
                RichText::new(format!("✖ {member}: {}", problem.message))
                    .color(ui.visuals().error_fg_color),
            );
        }
        if preview.findings.is_empty() {
            ui.label("Checks across services: nothing new.");
        }
        for finding in &preview.findings {
            let (mark, color) = match finding.severity {
                Severity::Error => ("✖ new error", ui.visuals().error_fg_color),
                Severity::Warning => ("⚠ new warning", ui.visuals().warn_fg_color),
            };
            ui.label(RichText::new(format!("{mark}: {}", finding.message)).color(color));
        }
        let warnings = preview.new_warnings();
        if warnings > 0 && !preview.has_new_errors() {
            ui.checkbox(
                &mut self.allow_warnings,
                format!("Apply despite {warnings} new warning(s)"),
            );
        }
    }

    /// True when the set can be applied as it stands.
    fn ready(&self) -> bool {
        self.worked.as_ref().is_some_and(|w| {
            w.preview.as_ref().is_some_and(|preview| {
                self.shared.any()
                    && !w.documents.is_empty()
                    && w.changes.iter().any(|(_, c)| !c.is_empty())
                    && preview.invalid.is_empty()
                    && !preview.has_new_errors()
                    && (preview.new_warnings() == 0 || self.allow_warnings)
            })
        })
    }

    fn start_apply(&mut self, link: &Link, watch_secs: u64) {
        let Some(worked) = &self.worked else {
            return;
        };
        let request = ChangeSetRequest {
            documents: worked.documents.clone(),
            watch: Some(watch_secs),
            allow_warnings: self.allow_warnings,
        };
        self.message = None;
        self.apply.start(link.backend.apply_set(request));
    }

    fn finish(&mut self, ui: &Ui) -> ChangeSetOutcome {
        let Some(result) = self.apply.take() else {
            if self.apply.running() {
                ui.ctx().request_repaint();
            }
            return ChangeSetOutcome::Stay;
        };
        match result {
            Ok(answer) => {
                self.message = Some(Notice::done(format!(
                    "Applied {} services as one change set ({}).",
                    answer.revisions.len(),
                    answer.change_id
                )));
                self.members.clear();
                ChangeSetOutcome::Applied
            }
            Err(error) => {
                self.message = Some(Notice::failed(format!("Not applied: {error}")));
                ChangeSetOutcome::Stay
            }
        }
    }
}

/// Every member's change in one grid: service, field (as the form titles it), before, after.
fn changes_grid_ui(ui: &mut Ui, changes: &[(String, Vec<Difference>)]) {
    egui::Grid::new("change-set-changes")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for title in ["service", "field", "before", "after"] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for (service, differences) in changes {
                if differences.is_empty() {
                    ui.label(service);
                    ui.label(RichText::new("no change").weak());
                    ui.end_row();
                }
                for (i, change) in differences.iter().enumerate() {
                    ui.label(if i == 0 { service.as_str() } else { "" });
                    ui.label(field_title(editable_schema(), &change.pointer));
                    ui.label(short(&change.pointer, change.before.as_ref()));
                    ui.label(short(&change.pointer, change.after.as_ref()));
                    ui.end_row();
                }
            }
        });
}

/// The service a `/documents/<index>/…` path is about.
fn member_of<'a>(path: &str, members: &'a [String]) -> &'a str {
    path.strip_prefix("/documents/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|index| index.parse::<usize>().ok())
        .and_then(|index| members.get(index))
        .map_or("the set", String::as_str)
}
