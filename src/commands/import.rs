//! `alicia-config-manager import FILE [--dry-run]`: imports configs from a file in
//! `config.json`'s format into a config folder no manager is running on, with the same
//! preview and rules as the desktop app's Import (`core::transfer`).

use super::offline_store::OfflineStore;
use crate::cli::ImportArgs;
use crate::core::transfer::{ImportKind, apply_import, preview_import};
use std::io::Write;
use std::path::Path;

/// Previews the import, prints it, then applies every change (unless `--dry-run`). A file with
/// an invalid document imports nothing: fix the file first.
pub async fn run(config_dir: &Path, args: &ImportArgs, history_limit: usize) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(&args.file)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let store = OfflineStore::open(config_dir, history_limit).await?;
    let outcome = import(&store, args, &bytes).await;
    store.close().await?;
    outcome
}

async fn import(store: &OfflineStore, args: &ImportArgs, bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let items = preview_import(&store.config, bytes)
        .map_err(|error| anyhow::anyhow!("{}: {error}", args.file.display()))?;
    writeln!(out, "importing {}:", args.file.display())?;
    let mut invalid = 0;
    for item in &items {
        let what = match &item.kind {
            ImportKind::New => "new service".to_owned(),
            ImportKind::Changed(n) => format!("{n} field(s) change"),
            ImportKind::Unchanged => "unchanged".to_owned(),
            ImportKind::Invalid(errors) => {
                invalid += 1;
                let errors: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{} {}", e.path, e.message))
                    .collect();
                format!("invalid: {}", errors.join("; "))
            }
        };
        writeln!(out, "  {:<32} {what}", item.service)?;
    }
    anyhow::ensure!(
        invalid == 0,
        "{invalid} document(s) of {} are invalid: nothing was imported",
        args.file.display()
    );
    if args.dry_run {
        writeln!(out, "dry run: nothing changed")?;
        return Ok(());
    }
    let outcomes = apply_import(&store.config, items).await;
    for outcome in &outcomes {
        writeln!(out, "  {outcome}")?;
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    anyhow::ensure!(failed == 0, "{failed} service(s) were not imported");
    writeln!(
        out,
        "imported {} change(s), recorded as `import`",
        outcomes.len()
    )?;
    Ok(())
}
