//! `alicia-config-manager backup FILE`: the same backup the desktop app makes, from the
//! command line (cron jobs, moving a kiosk to a new machine).

use crate::cli::BackupArgs;
use crate::core::backup::Backup;
use crate::core::fsutil::write_atomic;
use std::io::Write;
use std::path::Path;

/// Writes a backup of the folder's files (read only: a manager may be running on it). The
/// file is written atomically, mode 0600 (it holds the history, and secrets when asked).
pub fn run(config_dir: &Path, args: &BackupArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let backup = Backup::of_folder(config_dir, args.include_secrets)?;
    write_atomic(&args.file, &backup.to_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    writeln!(
        out,
        "backed up {} config(s) and {} revision(s) of {} to {}{}",
        backup.configs.len(),
        backup.history.len(),
        config_dir.display(),
        args.file.display(),
        if args.include_secrets {
            " (secrets included)"
        } else {
            " (secrets left out)"
        }
    )?;
    Ok(())
}
