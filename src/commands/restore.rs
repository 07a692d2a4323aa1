//! `alicia-config-manager restore FILE [--dry-run] [--accept-broker]`: brings a backup back
//! into a config folder no manager is running on. A backup that names another MQTT broker is
//! shown as such and restored only with `--accept-broker`.

use super::offline_store::OfflineStore;
use crate::cli::RestoreArgs;
use crate::core::backup::{Backup, RestoreKind};
use std::io::Write;
use std::path::Path;

/// Restores a backup into the folder: refuses while a manager runs on it, checks everything
/// first, prints what changes, then applies (unless `--dry-run`).
pub async fn run(
    config_dir: &Path,
    args: &RestoreArgs,
    history_limit: usize,
) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(&args.file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let backup = Backup::parse(&bytes)?;
    let store = OfflineStore::open(config_dir, history_limit).await?;
    let outcome = apply(&store, config_dir, &backup, args).await;
    store.close().await?;
    outcome
}

async fn apply(
    store: &OfflineStore,
    config_dir: &Path,
    backup: &Backup,
    args: &RestoreArgs,
) -> anyhow::Result<()> {
    let (config, settings) = (&store.config, &store.settings);
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
    let broker_change = backup.broker_change(&settings.load()?);
    if let Some(change) = &broker_change {
        writeln!(out, "  broker: {change}")?;
    }
    if args.dry_run {
        writeln!(out, "dry run: nothing changed")?;
        return Ok(());
    }
    if broker_change.is_some() && !args.accept_broker {
        anyhow::bail!(
            "nothing restored: the backup names another MQTT broker; run again with --accept-broker to restore it (the MQTT password stored now is not kept)"
        );
    }
    let changed = backup.restore(config, settings, args.accept_broker).await?;
    writeln!(
        out,
        "restored into {}: {changed} service(s) changed, recorded as `import`, and the settings; the replaced files are kept in before-restore-*",
        config_dir.display()
    )?;
    Ok(())
}
