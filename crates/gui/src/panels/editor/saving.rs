//! Saving, deleting, accepting a schema and undoing, as answers from the backend: each
//! answer turned into what the editor shows (a conflict, errors beside fields, an outcome
//! unknown).

use super::*;

impl ConfigEditor {
    pub(super) fn start_save(&mut self, link: &Link, precondition: Precondition) {
        // Put on watch: undone by itself if the service refuses it, turns unhealthy or (one
        // that confirms its configs) stays silent.
        self.save.start(link.backend.put(
            self.state.service(),
            self.state.draft().clone(),
            precondition,
            self.watch_secs,
        ));
    }

    pub(super) fn finish_tasks(&mut self, view: &View) -> Option<EditorOutcome> {
        if let Some(result) = self.save.take() {
            match result {
                Ok(committed) => {
                    self.undo_to = self.state.base_revision();
                    self.state.saved(&committed);
                    self.stored = None;
                    self.form.reset_draft();
                    self.stage = Stage::Editing;
                    self.message = Some(Notice::done(match self.undo_to {
                        Some(before) => format!(
                            "Saved as revision {}. Undo brings back revision {before}.",
                            committed.revision
                        ),
                        None => format!("Saved as revision {}.", committed.revision),
                    }));
                }
                Err(ConfigError::Conflict { .. }) => {
                    // What the GUI knows is stored now (the conflict's answer may be ahead of
                    // it by a frame: the form follows when the document arrives).
                    let theirs = view.document(self.state.service()).cloned();
                    let their_document = theirs
                        .as_ref()
                        .map_or(Value::Null, |t| Value::clone(&t.document));
                    self.stage = Stage::Conflict {
                        their_changes: self.masked(self.state.base(), &their_document),
                        my_changes: self.my_changes(),
                        theirs,
                    };
                }
                Err(ConfigError::Invalid { details }) => {
                    self.show_errors(details);
                    self.stage = Stage::Editing;
                    self.message = Some(Notice::failed(
                        "The service's settings schema refused it: see the fields.",
                    ));
                }
                Err(ConfigError::RefusedByAuthority { error, details }) => {
                    self.show_errors(details);
                    self.stage = Stage::Editing;
                    self.message =
                        Some(Notice::failed(format!("The authority refused it: {error}")));
                }
                Err(ConfigError::NoAnswer { secs, .. }) => {
                    // CONTRACT §10: the change may have landed; what is stored is read again.
                    self.stored = None;
                    self.stage = Stage::Editing;
                    self.message = Some(Notice::failed(format!(
                        "Outcome unknown: the authority did not answer within {secs} s. The stored document is shown as the authority has it now: if it holds your change, it landed."
                    )));
                }
                Err(other) => {
                    self.stage = Stage::Editing;
                    self.message = Some(Notice::failed(format!("Not saved: {other}")));
                }
            }
        }
        if let Some(result) = self.undo.take() {
            self.undo_to = None;
            self.stored = None;
            self.message = Some(match result {
                Ok(committed) => {
                    // The form follows the stored document by itself (it has no edits).
                    Notice::done(format!(
                        "Undone: revision {} restores it.",
                        committed.revision
                    ))
                }
                Err(error) => Notice::failed(format!("Not undone: {error}")),
            });
        }
        if let Some(result) = self.accept.take() {
            self.stored = None;
            self.message = Some(match result {
                Ok(()) => Notice::done("The new settings schema is enforced."),
                Err(error) => Notice::failed(format!("Not accepted: {error}")),
            });
        }
        if let Some(result) = self.delete.take() {
            match result {
                Ok(_) => return Some(EditorOutcome::Deleted),
                Err(error) => {
                    self.stage = Stage::Editing;
                    self.message = Some(Notice::failed(format!("Not deleted: {error}")));
                }
            }
        }
        None
    }
}
