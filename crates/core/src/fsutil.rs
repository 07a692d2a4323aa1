//! Durable file writes: private (0600) files, written atomically (a temp file of its own in
//! the same folder, fsync, rename, fsync the folder) so a crash leaves the old file or the new
//! one, and two writers at once each replace the file whole.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) if missing; new folders are private (0700) on Unix.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens `path` for writing with mode 0600 (on Unix), with the given options.
pub fn open_private(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Replaces `path` with `contents` atomically and durably; the file ends up with mode 0600.
/// Each call writes a temp file with a unique name (removed again if anything fails), so
/// concurrent writers never share one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    ensure_private_dir(&dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .tempfile_in(&dir)?;
    set_private(temp.as_file())?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|error| error.error)?;
    sync_dir(&dir)
}

/// Replaces several files at once, as nearly together as a file system allows: every new
/// content is written and fsynced to a temp file first (so a full disk refuses them all and
/// changes nothing), then each is renamed over its file (renames need no space) and the
/// folders are fsynced.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> io::Result<()> {
    let mut ready = Vec::with_capacity(files.len());
    for (path, contents) in files {
        let dir = parent_dir(path);
        ensure_private_dir(&dir)?;
        let mut temp = tempfile::Builder::new()
            .prefix(&temp_prefix(path))
            .tempfile_in(&dir)?;
        set_private(temp.as_file())?;
        temp.write_all(contents)?;
        temp.as_file().sync_all()?;
        ready.push((temp, *path, dir));
    }
    let mut dirs = Vec::new();
    for (temp, path, dir) in ready {
        temp.persist(path).map_err(|error| error.error)?;
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// True when an I/O error says the disk (or the user's quota) is full.
pub fn is_disk_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) || matches!(error.raw_os_error(), Some(28 | 122))
}

/// Removes temp files that an interrupted [`write_atomic`] of `path` left behind; returns
/// how many it removed.
pub fn remove_stale_temp_files(path: &Path) -> usize {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return 0;
    };
    let prefix = temp_prefix(Path::new(&name));
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
        .filter(|entry| fs::remove_file(entry.path()).is_ok())
        .count()
}

/// Flushes a folder's entries (a rename inside it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Makes an existing file private (0600), e.g. one created by an older version or by hand.
pub fn set_private(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The name every temp file of `path` starts with.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    format!(".{name}.tmp-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_leave_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("config.json");
        write_atomic(&path, b"{\"a\":1}").unwrap();
        write_atomic(&path, b"{\"a\":2}").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":2}");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);
    }

    /// Writers of one file at once (two tasks saving the settings) each replace it whole: with
    /// one temp file name per process they wrote into each other's temp file and one rename
    /// failed (or the file came out torn).
    #[test]
    fn concurrent_writers_never_fail_nor_tear_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let writers: Vec<_> = (0..4u8)
            .map(|writer| {
                let path = path.clone();
                std::thread::Builder::new()
                    .name(format!("writer-{writer}"))
                    .spawn(move || {
                        let contents = vec![b'a' + writer; 64 * 1024];
                        for _ in 0..50 {
                            write_atomic(&path, &contents).expect("every write succeeds");
                        }
                    })
                    .unwrap()
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let written = fs::read(&path).unwrap();
        assert_eq!(written.len(), 64 * 1024);
        assert!(
            written.iter().all(|b| *b == written[0]),
            "one writer's bytes only"
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(dir.path().join(".config.json.tmp-123"), "torn").unwrap();
        fs::write(dir.path().join("other.json"), "{}").unwrap();
        assert_eq!(remove_stale_temp_files(&path), 1);
        assert!(dir.path().join("other.json").exists());
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
