//! A manager's lasting identity: the instance id kept in its config folder (so a restarted
//! authority recognises its own retained presence instead of following a ghost of itself), and
//! the lock that keeps two managers from sharing one config folder.

use crate::fsutil::{ensure_private_dir, write_atomic};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The file holding the instance id, in the config folder.
pub const INSTANCE_ID_FILE: &str = "instance-id";
/// The lock file, in the config folder.
pub const LOCK_FILE: &str = "manager.lock";

/// Why the folder could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Another manager runs on this folder.
    #[error(
        "another Alicia Config Manager ({holder}) already uses {dir}; give this one its own \
         folder (CONFIG_PATH or --config-dir, or --portable) — it can follow the running one \
         as a follower on the same broker"
    )]
    InUse {
        /// The folder.
        dir: PathBuf,
        /// Who holds it, as the lock file says.
        holder: String,
    },
    /// The lock or id file could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A claimed config folder: held until dropped (the OS releases it if the process dies).
#[derive(Debug)]
pub struct FolderClaim {
    _lock: File,
    /// The instance id kept in the folder.
    pub instance_id: String,
}

/// Claims `dir` for this process and reads (or creates) its instance id.
pub fn claim_folder(dir: &Path) -> Result<FolderClaim, ClaimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ClaimError::Io { path, source }
    };
    ensure_private_dir(dir).map_err(io(dir))?;
    let lock_path = dir.join(LOCK_FILE);
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // Only for the message: who holds it, when the file says so.
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(ClaimError::InUse {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "pid unknown".to_owned()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(TryLockError::Error(error)) => return Err(io(&lock_path)(error)),
    }
    let note = format!("pid {}", std::process::id());
    lock.set_len(0)
        .and_then(|()| lock.rewind())
        .and_then(|()| lock.write_all(note.as_bytes()))
        .map_err(io(&lock_path))?;
    let instance_id = load_or_create_instance_id(dir).map_err(io(&dir.join(INSTANCE_ID_FILE)))?;
    Ok(FolderClaim {
        _lock: lock,
        instance_id,
    })
}

/// A fresh random instance id: 16 hex digits.
pub fn random_instance_id() -> String {
    crate::random::unique_id()
}

fn load_or_create_instance_id(dir: &Path) -> std::io::Result<String> {
    let path = dir.join(INSTANCE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if is_valid_instance_id(text.trim()) => return Ok(text.trim().to_owned()),
        Ok(_) => {
            tracing::warn!(file = %path.display(), "the instance id file is not an id; writing a new one")
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let id = random_instance_id();
    write_atomic(&path, format!("{id}\n").as_bytes())?;
    Ok(id)
}

/// 1–64 of `0-9a-z-` (it becomes part of a topic level and of the MQTT client id).
fn is_valid_instance_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_lasts_and_the_folder_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = claim_folder(dir.path()).unwrap();
        let again = claim_folder(dir.path());
        match again {
            Err(ClaimError::InUse { holder, .. }) => {
                assert_eq!(holder, format!("pid {}", std::process::id()))
            }
            other => panic!("a second claim must fail, got {other:?}"),
        }
        let id = first.instance_id.clone();
        drop(first);
        let reclaimed = claim_folder(dir.path()).unwrap();
        assert_eq!(reclaimed.instance_id, id);
        assert!(is_valid_instance_id(&id));
    }
}
