//! What the editor shows of the stored service — the document, who made it, its settings
//! schemas and what they fail, what moved under the edit — worked out again only when the
//! GUI's view of the manager moved. "Who made it" is the backend's history, asked for then.

use super::{ConfigEditor, Stage};
use crate::platform::Link;
use crate::tasks::Task;
use crate::view::View;
use crate::widgets::notice::Notice;
use alicia_model::backend::HistoryPage;
use alicia_model::config::{
    Difference, FieldError, SchemaRecord, SecretPaths, StoredDocument, masked_diff,
    pending_failures,
};
use serde_json::Value;
use std::sync::Arc;

/// What the editor last worked out of the stored service, and at which generation of the
/// GUI's view.
pub(super) struct StoredView {
    generation: u64,
    pub(super) current: Option<StoredDocument>,
    /// "rest (revision 7)": who made the stored revision.
    pub(super) last_change: String,
    settings_schema: Option<Arc<Value>>,
    /// Where the stored settings fail a settings schema pending acceptance (`None`: none
    /// pending).
    pub(super) pending_schema: Option<Vec<FieldError>>,
    /// The secret fields the service's settings schemas declare (masked in tables).
    pub(super) secrets: SecretPaths,
    /// What the stored document changed since the edit's base, when it moved.
    pub(super) their_changes: Vec<Difference>,
}

impl ConfigEditor {
    /// Works out the stored view again when the GUI's view moved since: asks the backend for
    /// the history (who made the stored revision) and takes the rest from the view.
    pub(super) fn refresh(&mut self, link: &Link, view: &View) {
        let generation = view.generation;
        if self
            .stored
            .as_ref()
            .is_some_and(|s| s.generation == generation)
        {
            return;
        }
        let asked = self
            .reading
            .as_ref()
            .is_some_and(|(asked, _)| *asked == generation);
        if !asked {
            let mut task = Task::default();
            task.start(link.backend.history(self.state.service()));
            self.reading = Some((generation, task));
        }
        let Some(page) = self.reading.as_mut().and_then(|(_, task)| task.take()) else {
            return;
        };
        self.reading = None;
        if self.view_is_behind(view, &page) {
            // The GUI's view has not caught up with this editor's own save yet: what it holds
            // is older than the base, not someone else's change. Read again when it moves.
            return;
        }
        self.take_stored(view, &page);
    }

    /// True while the view holds an older revision than the edit's base (the answer to a
    /// save can arrive before the update carrying the document): no revision newer than the
    /// base is known, in the view or in the history.
    fn view_is_behind(&self, view: &View, page: &HistoryPage) -> bool {
        let Some(base) = self.state.base_revision() else {
            return false;
        };
        match view.document(self.state.service()) {
            Some(current) => current.revision < base,
            // Gone from the view: deleted (a history entry after the base says so), or not
            // there yet.
            None => page
                .entries
                .first()
                .is_none_or(|newest| newest.revision <= base),
        }
    }

    fn take_stored(&mut self, view: &View, page: &HistoryPage) {
        let service = self.state.service().to_owned();
        let service = service.as_str();
        let current = view.document(service).cloned();
        let made = current
            .as_ref()
            .and_then(|c| page.entries.iter().find(|e| e.revision == c.revision))
            .or(page.entries.first());
        let last_change = made
            .map(|e| format!("{} (revision {})", e.actor().describe(), e.revision))
            .unwrap_or_default();
        let record = view.schema_record(service).cloned();
        let settings_schema = record
            .as_ref()
            .and_then(|r| r.enforced.as_ref())
            .map(|schema| Arc::clone(&schema.source));
        let changed_schema = match (&self.stored, &settings_schema) {
            (Some(old), new) => {
                old.settings_schema.as_ref().map(Arc::as_ptr) != new.as_ref().map(Arc::as_ptr)
            }
            (None, _) => true,
        };
        if changed_schema {
            match &settings_schema {
                Some(schema) => {
                    self.form
                        .overrides
                        .insert("/config/settings".to_owned(), Value::clone(schema));
                }
                None => {
                    self.form.overrides.remove("/config/settings");
                }
            }
            self.state.draft_changed();
        }
        let moved = current.as_ref().map(|c| c.revision) != self.state.base_revision();
        if moved
            && self.stage == Stage::Editing
            && !self.state.is_dirty()
            && let Some(stored) = current.as_ref()
        {
            // No edits: follow the stored document (another admin, REST, a rollback).
            self.state.revert(Some(stored));
            self.form.reset_draft();
            self.message = Some(Notice::done(format!(
                "Updated to revision {} by {last_change}.",
                stored.revision
            )));
        }
        let secrets = record
            .as_ref()
            .map(SchemaRecord::secret_paths)
            .unwrap_or_default();
        let moved = current.as_ref().map(|c| c.revision) != self.state.base_revision();
        let their_changes = if moved && self.state.base_revision().is_some() {
            let theirs = current
                .as_ref()
                .map_or(Value::Null, |c| Value::clone(&c.document));
            masked_diff(self.state.base(), &theirs, &secrets)
        } else {
            Vec::new()
        };
        let pending_schema = record.as_ref().filter(|r| r.pending.is_some()).map(|r| {
            current
                .as_ref()
                .map(|c| pending_failures(r, &c.document))
                .unwrap_or_default()
        });
        self.stored = Some(StoredView {
            generation: view.generation,
            current,
            last_change,
            settings_schema,
            pending_schema,
            secrets,
            their_changes,
        });
    }
}
