//! The editor's state, apart from its drawing: the document the edit started from, the draft
//! (which live updates never touch), the errors shown beside fields, and whether the draft
//! differs from its base — worked out once per change, not every frame.

use alicia_model::config::{
    Committed, Difference, FieldError, Precondition, StoredDocument, diff, is_managed,
};
use serde_json::Value;
use std::collections::HashMap;

/// One service's edit in progress.
#[derive(Debug, Clone)]
pub struct EditorState {
    service: String,
    base_revision: Option<u64>,
    base: Value,
    draft: Value,
    errors: Vec<FieldError>,
    notes: Vec<FieldError>,
    validated: bool,
    dirty: bool,
    /// Counts the draft's changes (a cheap way to notice one).
    version: u64,
}

impl EditorState {
    /// Editing a stored document.
    pub fn open(service: &str, stored: &StoredDocument) -> Self {
        let document = Value::clone(&stored.document);
        Self::with(service, Some(stored.revision), document.clone(), document)
    }

    /// Going on with an edit kept from an earlier session: its base and its draft.
    pub fn restore(service: &str, base_revision: Option<u64>, base: Value, draft: Value) -> Self {
        Self::with(service, base_revision, base, draft)
    }

    /// Editing a document that is not stored yet (a new service, a duplicate).
    pub fn new_document(service: &str, document: Value) -> Self {
        Self::with(service, None, Value::Null, document)
    }

    fn with(service: &str, base_revision: Option<u64>, base: Value, draft: Value) -> Self {
        let mut state = Self {
            service: service.to_owned(),
            base_revision,
            base,
            draft,
            errors: Vec::new(),
            notes: Vec::new(),
            validated: false,
            dirty: false,
            version: 0,
        };
        state.draft_changed();
        state
    }

    /// The service edited.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The stored revision the edit started from (`None`: a new document).
    pub fn base_revision(&self) -> Option<u64> {
        self.base_revision
    }

    /// The document the edit started from (`null` for a new one).
    pub fn base(&self) -> &Value {
        &self.base
    }

    /// The draft as edited so far.
    pub fn draft(&self) -> &Value {
        &self.draft
    }

    /// The draft, for the form to edit; call [`EditorState::draft_changed`] after a change.
    pub fn draft_mut(&mut self) -> &mut Value {
        &mut self.draft
    }

    /// The draft changed: it needs validating again, and dirtiness is worked out anew.
    pub fn draft_changed(&mut self) {
        self.version += 1;
        self.dirty = self.base_revision.is_none() || !diff(&self.base, &self.draft).is_empty();
        self.validated = false;
    }

    /// Counts the draft's changes: it moves whenever the draft may have changed.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// True when the draft differs from what it started from (always for a new document).
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The changes the draft makes to its base.
    pub fn changes(&self) -> Vec<Difference> {
        diff(&self.base, &self.draft)
    }

    /// What must hold for the draft to be saved over its base.
    pub fn precondition(&self) -> Precondition {
        Precondition::unchanged_since(self.base_revision)
    }

    /// Replaces the value at `pointer` in the draft; false when nothing is there.
    pub fn set(&mut self, pointer: &str, value: Value) -> bool {
        let Some(slot) = self.draft.pointer_mut(pointer) else {
            return false;
        };
        *slot = value;
        self.draft_changed();
        true
    }

    /// True until the draft has been validated since its last change.
    pub fn needs_validation(&self) -> bool {
        !self.validated
    }

    /// The validator's findings for the current draft (or a refusal's, after a save).
    pub fn set_errors(&mut self, errors: Vec<FieldError>) {
        self.errors = errors;
        self.validated = true;
    }

    /// Schema errors of the draft.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Errors the form cannot show beside a field: about the whole document, or a field the
    /// manager sets.
    pub fn unplaced_errors(&self) -> impl Iterator<Item = &FieldError> {
        self.errors
            .iter()
            .filter(|e| e.path.is_empty() || is_managed(&e.path))
    }

    /// A check's advice about a field (shown beside it; it does not block saving).
    pub fn point_at(&mut self, path: &str, message: &str) {
        self.notes = vec![FieldError::new(path, message)];
        self.validated = false;
    }

    /// The field a check pointed at, if any.
    pub fn pointed_at(&self) -> Option<&str> {
        self.notes.first().map(|n| n.path.as_str())
    }

    /// Errors and advice by JSON Pointer, as the form shows them beside the fields.
    pub fn messages_by_pointer(&self) -> HashMap<String, Vec<String>> {
        let mut by_pointer: HashMap<String, Vec<String>> = HashMap::new();
        for error in self.errors.iter().chain(&self.notes) {
            by_pointer
                .entry(error.path.clone())
                .or_default()
                .push(error.message.clone());
        }
        by_pointer
    }

    /// Starts again from `stored` (or from the current base when the service has none now),
    /// dropping the draft.
    pub fn revert(&mut self, stored: Option<&StoredDocument>) {
        if let Some(stored) = stored {
            self.base_revision = Some(stored.revision);
            self.base = Value::clone(&stored.document);
        }
        self.draft = self.base.clone();
        self.draft_changed();
    }

    /// The draft was saved as `committed`: it is the new base.
    pub fn saved(&mut self, committed: &Committed) {
        self.base_revision = Some(committed.revision);
        self.base = committed
            .document
            .as_deref()
            .map_or(Value::Null, Value::clone);
        self.draft = self.base.clone();
        self.notes.clear();
        self.draft_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn stored(model: &str, revision: u64) -> StoredDocument {
        StoredDocument {
            document: Arc::new(json!({"config": {"model": model}, "last_updated": "t"})),
            revision,
        }
    }

    #[test]
    fn dirtiness_follows_the_draft_and_ignores_managed_fields() {
        let mut state = EditorState::open("llm", &stored("a", 3));
        assert!(!state.is_dirty());
        assert!(state.set("/last_updated", json!("later")));
        assert!(!state.is_dirty(), "a managed field is not an edit");
        assert!(state.set("/config/model", json!("b")));
        assert!(state.is_dirty());
        assert_eq!(state.precondition(), Precondition::Revision(3));
        assert_eq!(state.changes()[0].pointer, "/config/model");
        state.revert(Some(&stored("c", 5)));
        assert!(!state.is_dirty());
        assert_eq!(state.draft()["config"]["model"], "c");
        assert_eq!(state.base_revision(), Some(5));
        assert!(!state.set("/nowhere/at/all", json!(1)));
    }

    #[test]
    fn a_new_document_is_dirty_and_must_stay_absent() {
        let state = EditorState::new_document("new", json!({"service_name": "new"}));
        assert!(state.is_dirty());
        assert_eq!(state.precondition(), Precondition::Absent);
    }

    #[test]
    fn errors_and_advice_are_shown_by_pointer() {
        let mut state = EditorState::open("llm", &stored("a", 1));
        state.point_at("/config/model", "no such model");
        state.set_errors(vec![
            FieldError::new("/config/model", "must not be empty"),
            FieldError::new("/status", "is not allowed"),
        ]);
        let by_pointer = state.messages_by_pointer();
        assert_eq!(by_pointer["/config/model"].len(), 2);
        assert_eq!(state.unplaced_errors().count(), 1);
        assert_eq!(state.pointed_at(), Some("/config/model"));
    }
}
