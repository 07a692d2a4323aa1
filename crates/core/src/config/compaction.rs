//! Keeping the history file to what is retained: rewritten when it holds many more lines
//! than the retained revisions.

use super::history::HistoryLog;
use super::rules::{Histories, compaction_due, retained_entries};

/// Rewrites the history file with only the retained entries when [`compaction_due`].
pub(super) fn compact_if_large(log: &mut HistoryLog, history: &Histories) -> std::io::Result<()> {
    if compaction_due(log.len(), history) {
        log.rewrite(&retained_entries(history))
    } else {
        Ok(())
    }
}
