//! The append-only history of accepted changes: `history.jsonl` beside `config.json`, one
//! JSON object per line, fsynced before a change is acknowledged.
//!
//! A crash can tear only the last line (a change that was never acknowledged); such a tail is
//! cut off when the file is opened. A failed append is cut back at once ([`HistoryLog::append`]
//! leaves the file as it was), and so is an append whose change could not be stored after all
//! ([`HistoryLog::cut_back`]). Old revisions beyond the retention limit are dropped by a
//! compaction, an atomic rewrite of the file.

use crate::fsutil::{open_private, set_private, write_atomic};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub use alicia_model::config::history_entry::{HistoryEntry, MAX_REVISION};
pub use alicia_model::config::source::ChangeSource;

/// What was found in an existing history file.
#[derive(Debug, Default)]
pub struct LoadedHistory {
    /// Every readable entry, in file order.
    pub entries: Vec<HistoryEntry>,
    /// Problems found (unreadable lines), for the log.
    pub warnings: Vec<String>,
}

/// The open history file.
#[derive(Debug)]
pub struct HistoryLog {
    path: PathBuf,
    file: File,
    lines: usize,
    /// The file's length after the last entry known to be on disk.
    bytes: u64,
    /// The file was replaced but could not be opened again: reopen before the next append
    /// (never append to the replaced, deleted one).
    stale: bool,
}

/// Where an append started, to cut it back ([`HistoryLog::cut_back`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    lines: usize,
    bytes: u64,
}

impl HistoryLog {
    /// Opens (or creates) the history at `path`, reading what it holds and cutting off a torn
    /// last line left by a crash.
    pub fn open(path: &Path) -> io::Result<(Self, LoadedHistory)> {
        let mut file = open_private(
            path,
            OpenOptions::new().read(true).append(true).create(true),
        )?;
        set_private(&file)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (loaded, good_len) = parse(path, &bytes);
        if good_len < bytes.len() {
            file.set_len(good_len as u64)?;
            file.sync_all()?;
        }
        let lines = loaded.entries.len();
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                lines,
                bytes: good_len as u64,
                stale: false,
            },
            loaded,
        ))
    }

    /// Appends entries and waits until they are on disk; returns where the append started.
    /// When it fails, the file is cut back to where it was (a partly written line would
    /// otherwise make the next acknowledged entry unreadable).
    pub fn append(&mut self, entries: &[HistoryEntry]) -> io::Result<Mark> {
        if self.stale {
            self.reopen()?;
        }
        let mark = Mark {
            lines: self.lines,
            bytes: self.bytes,
        };
        let mut bytes = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut bytes, entry)?;
            bytes.push(b'\n');
        }
        let written = (|| {
            let mut writer = BufWriter::new(&self.file);
            writer.write_all(&bytes)?;
            writer.flush()?;
            drop(writer);
            self.file.sync_data()
        })();
        if let Err(error) = written {
            // Best effort: if even this fails, the torn tail is cut at the next open.
            let _ = self.cut_to(mark);
            return Err(error);
        }
        self.lines += entries.len();
        self.bytes += bytes.len() as u64;
        Ok(mark)
    }

    /// Takes back everything appended since `mark` (the change it recorded could not be
    /// stored after all), durably.
    pub fn cut_back(&mut self, mark: Mark) -> io::Result<()> {
        self.cut_to(mark)?;
        self.lines = mark.lines;
        self.bytes = mark.bytes;
        Ok(())
    }

    fn cut_to(&self, mark: Mark) -> io::Result<()> {
        self.file.set_len(mark.bytes)?;
        self.file.sync_all()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = open_private(&self.path, OpenOptions::new().append(true))?;
        self.bytes = self.file.metadata()?.len();
        self.stale = false;
        Ok(())
    }

    /// Number of entries in the file.
    pub fn len(&self) -> usize {
        self.lines
    }

    /// True when the file holds no entry.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The file's content for `entries` (what [`HistoryLog::rewrite`] writes).
    pub fn render(entries: &[HistoryEntry]) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut bytes, entry)?;
            bytes.push(b'\n');
        }
        Ok(bytes)
    }

    /// Replaces the whole file with `entries` (atomically) and reopens it for appending.
    pub fn rewrite(&mut self, entries: &[HistoryEntry]) -> io::Result<()> {
        write_atomic(&self.path, &Self::render(entries)?)?;
        self.replaced(entries.len())
    }

    /// The file was replaced (by [`HistoryLog::rewrite`], or by a restore writing it with
    /// another file) and now holds `lines` entries: appends go to the new one. Should it not
    /// open, the next append opens it first.
    pub fn replaced(&mut self, lines: usize) -> io::Result<()> {
        self.lines = lines;
        self.stale = true;
        self.reopen()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses the file's bytes; returns the entries and the length of the intact prefix.
/// Reads a history file without changing it (a torn last line is skipped, not cut); a
/// missing file is an empty history.
pub fn read_history(path: &Path) -> io::Result<LoadedHistory> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse(path, &bytes).0),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(LoadedHistory::default()),
        Err(error) => Err(error),
    }
}

fn parse(path: &Path, bytes: &[u8]) -> (LoadedHistory, usize) {
    let mut loaded = LoadedHistory::default();
    let mut offset = 0;
    let mut good_len = 0;
    let mut line_number = 0;
    while offset < bytes.len() {
        line_number += 1;
        let Some(newline) = bytes[offset..].iter().position(|&b| b == b'\n') else {
            loaded.warnings.push(format!(
                "{}: cut off an unfinished last line (line {line_number}) left by an interrupted write",
                path.display()
            ));
            break;
        };
        let line = &bytes[offset..offset + newline];
        offset += newline + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            good_len = offset;
            continue;
        }
        match serde_json::from_slice::<HistoryEntry>(line) {
            Ok(entry) => match entry.problem() {
                None => loaded.entries.push(entry),
                Some(problem) => loaded.warnings.push(format!(
                    "{}: skipped line {line_number}: {problem}",
                    path.display()
                )),
            },
            Err(error) if offset >= bytes.len() => {
                loaded.warnings.push(format!(
                    "{}: cut off an unreadable last line (line {line_number}: {error})",
                    path.display()
                ));
                break;
            }
            Err(error) => loaded.warnings.push(format!(
                "{}: skipped unreadable line {line_number}: {error}",
                path.display()
            )),
        }
        good_len = offset;
    }
    (loaded, good_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn entry(revision: u64) -> HistoryEntry {
        HistoryEntry {
            revision,
            service: "svc".into(),
            last_updated: "2026-01-01T00:00:00.000Z".into(),
            source: ChangeSource::Rest,
            actor: None,
            reason: None,
            change_id: None,
            document: Some(Arc::new(json!({"n": revision}))),
            created: false,
        }
    }

    #[test]
    fn appends_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let (mut log, loaded) = HistoryLog::open(&path).unwrap();
        assert!(loaded.entries.is_empty());
        log.append(&[entry(1), entry(2)]).unwrap();
        log.append(&[entry(3)]).unwrap();
        drop(log);
        let (log, loaded) = HistoryLog::open(&path).unwrap();
        assert_eq!(loaded.entries, vec![entry(1), entry(2), entry(3)]);
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn a_torn_tail_is_cut_and_appending_continues_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let (mut log, _) = HistoryLog::open(&path).unwrap();
        log.append(&[entry(1)]).unwrap();
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"revision\":2,\"serv").unwrap();
        drop(file);
        let (mut log, loaded) = HistoryLog::open(&path).unwrap();
        assert_eq!(loaded.entries, vec![entry(1)]);
        assert_eq!(loaded.warnings.len(), 1);
        log.append(&[entry(2)]).unwrap();
        drop(log);
        let (_, loaded) = HistoryLog::open(&path).unwrap();
        assert_eq!(loaded.entries, vec![entry(1), entry(2)]);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn a_bad_middle_line_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let good = serde_json::to_string(&entry(1)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        let (_, loaded) = HistoryLog::open(&path).unwrap();
        assert_eq!(loaded.entries.len(), 2);
        assert!(
            loaded.warnings[0].contains("line 2"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn rewrite_keeps_only_the_given_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let (mut log, _) = HistoryLog::open(&path).unwrap();
        log.append(&[entry(1), entry(2), entry(3)]).unwrap();
        log.rewrite(&[entry(3)]).unwrap();
        log.append(&[entry(4)]).unwrap();
        drop(log);
        let (_, loaded) = HistoryLog::open(&path).unwrap();
        assert_eq!(loaded.entries, vec![entry(3), entry(4)]);
    }
}
