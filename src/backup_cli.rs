//! `alicia-config-manager backup FILE` and `restore FILE`: the same backups the desktop app
//! makes, from the command line (cron jobs, moving a kiosk to a new machine).

use crate::cli::{BackupArgs, RestoreArgs};
use crate::core::backup::{Backup, RestoreKind};
use crate::core::config::{ConfigPaths, ConfigService};
use crate::core::events::EventBus;
use crate::core::fleet::identity::claim_folder;
use crate::core::fsutil::write_atomic;
use std::io::Write;
use std::path::Path;

/// Writes a backup of the folder's files (read only: a manager may be running on it). The
/// file is written atomically, mode 0600 (it holds the history, and secrets when asked).
pub fn backup(config_dir: &Path, args: &BackupArgs) -> anyhow::Result<()> {
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

/// Restores a backup into the folder: refuses while a manager runs on it, checks everything
/// first, prints what changes, then applies (unless `--dry-run`).
pub async fn restore(
    config_dir: &Path,
    args: &RestoreArgs,
    history_limit: usize,
) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(&args.file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let backup = Backup::parse(&bytes)?;
    let dir = config_dir.to_path_buf();
    let claim = tokio::task::spawn_blocking(move || claim_folder(&dir)).await??;
    let paths = ConfigPaths::in_dir(config_dir);
    let (config, writer, _) = tokio::task::spawn_blocking(move || {
        ConfigService::open(paths, EventBus::default(), history_limit)
    })
    .await??;
    let writer = tokio::spawn(writer.run());
    let outcome = apply(&config, config_dir, &backup, args.dry_run).await;
    config.shutdown().await;
    let _ = writer.await;
    drop(claim);
    outcome
}

async fn apply(
    config: &ConfigService,
    config_dir: &Path,
    backup: &Backup,
    dry_run: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let items = backup.preview(config)?;
    writeln!(
        out,
        "backup of {} ({} config(s), {} revision(s), secrets {}):",
        backup.created,
        backup.configs.len(),
        backup.history.len(),
        if backup.secrets_included {
            "included"
        } else {
            "left out: the keys stored now are kept"
        }
    )?;
    for item in &items {
        let what = match item.kind {
            RestoreKind::New => "new".to_owned(),
            RestoreKind::Changed(n) => format!("{n} field(s) change"),
            RestoreKind::Unchanged => "unchanged".to_owned(),
            RestoreKind::Removed => "removed (not in the backup)".to_owned(),
        };
        writeln!(out, "  {:<32} {what}", item.service)?;
    }
    if dry_run {
        writeln!(out, "dry run: nothing changed")?;
        return Ok(());
    }
    let changed = backup.restore(config, config_dir).await?;
    writeln!(
        out,
        "restored into {}: {changed} service(s) changed, recorded as `import`, and the settings; the replaced files are kept in before-restore-*",
        config_dir.display()
    )?;
    Ok(())
}
