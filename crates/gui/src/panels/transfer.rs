//! Import and export of configs, backup and restore (file dialogs; never in the kiosk). The
//! logic is the core's (`core::transfer`, `core::backup`): this panel picks files, shows what
//! the core says would change, and asks the core to apply it only when the admin confirms
//! (source `import`; a service changed since the preview is refused by name).

use crate::tasks::Task;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::style::section_heading;
use alicia_core::Core;
use alicia_core::backup::{Backup, BrokerChange, RestoreItem, RestoreKind};
use alicia_core::transfer::{
    ImportItem, ImportKind, ImportOutcome, apply_import, export_documents, preview_import,
};
use egui::{RichText, Ui};
use std::path::PathBuf;

/// A file the admin picked: its path and bytes (`None`: the dialog was cancelled).
type Picked = Result<Option<(PathBuf, Vec<u8>)>, String>;

/// An import file the admin picked, checked: its path and what importing it would do.
type PickedImport = Result<Option<(PathBuf, Vec<ImportItem>)>, String>;

/// A backup the admin picked, checked, and what restoring it would do.
type PickedBackup = Result<Option<RestorePreview>, String>;

/// What restoring a picked backup would do, until the admin confirms or cancels.
struct RestorePreview {
    path: PathBuf,
    backup: Backup,
    items: Vec<RestoreItem>,
    /// The broker it would point the manager at, when that is another one.
    broker_change: Option<BrokerChange>,
    /// The admin ticked the broker change.
    broker_accepted: bool,
}

/// The import / export panel's own state.
#[derive(Default)]
pub struct TransferPanel {
    backup_secrets: bool,
    backup: Task<Result<Option<PathBuf>, String>>,
    pick_backup: Task<PickedBackup>,
    restore_preview: Option<RestorePreview>,
    restore: Task<Result<usize, String>>,
    include_secrets: bool,
    export: Task<Result<Option<PathBuf>, String>>,
    pick: Task<PickedImport>,
    preview: Option<(PathBuf, Vec<ImportItem>)>,
    apply: Task<Vec<ImportOutcome>>,
    message: Option<Notice>,
}

impl TransferPanel {
    /// Draws the panel.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) {
        self.finish_tasks();
        self.backup_ui(ui, core, runtime, read_only);
        ui.separator();
        section_heading(ui, "Export");
        ui.horizontal(|ui| {
            ui.checkbox(
                &mut self.include_secrets,
                "Include API keys (the file will hold secrets)",
            );
            if ui
                .add_enabled(!self.export.running(), egui::Button::new("Export configs…"))
                .clicked()
            {
                let config = core.config.clone();
                let secret = self.include_secrets;
                self.export.start(runtime, async move {
                    let bytes = serde_json::to_vec_pretty(&export_documents(&config, secret))
                        .unwrap_or_default();
                    save_file("alicia-configs.json", bytes, secret).await
                });
            }
        });
        ui.separator();
        section_heading(ui, "Import");
        if ui
            .add_enabled(
                !read_only && !self.pick.running(),
                egui::Button::new("Import configs…"),
            )
            .clicked()
        {
            let config = core.config.clone();
            self.pick.start(runtime, async move {
                let Some((path, bytes)) = pick_json_file().await? else {
                    return Ok(None);
                };
                // Every document is validated here, on the runtime, not between two frames.
                let items = preview_import(&config, &bytes)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                Ok(Some((path, items)))
            });
        }
        notice_ui(ui, self.message.as_ref());
        let mut apply = false;
        let mut cancel = false;
        if let Some((path, items)) = &self.preview {
            ui.label(
                RichText::new(format!("What importing {} would do:", path.display())).strong(),
            );
            egui::Grid::new("import-preview")
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    for item in items {
                        ui.label(&item.service);
                        match &item.kind {
                            ImportKind::New => ui.label("new service"),
                            ImportKind::Changed(n) => ui.label(format!("{n} field(s) change")),
                            ImportKind::Unchanged => ui.label(RichText::new("unchanged").weak()),
                            ImportKind::Invalid(errors) => ui.colored_label(
                                ui.visuals().error_fg_color,
                                format!(
                                    "refused: {}",
                                    errors
                                        .iter()
                                        .map(|e| format!("{} {}", e.path, e.message))
                                        .collect::<Vec<_>>()
                                        .join("; ")
                                ),
                            ),
                        };
                        ui.end_row();
                    }
                });
            let applicable = items.iter().filter(|i| i.applies()).count();
            ui.horizontal(|ui| {
                apply = ui
                    .add_enabled(
                        applicable > 0 && !read_only,
                        egui::Button::new(format!("Apply {applicable} change(s)")),
                    )
                    .clicked();
                cancel = ui.button("Cancel").clicked();
            });
        }
        if cancel {
            self.preview = None;
        }
        if apply && let Some((_, items)) = self.preview.take() {
            let config = core.config.clone();
            self.apply
                .start(runtime, async move { apply_import(&config, items).await });
        }
    }

    fn backup_ui(
        &mut self,
        ui: &mut Ui,
        core: &Core,
        runtime: &tokio::runtime::Handle,
        read_only: bool,
    ) {
        section_heading(ui, "Backup and restore");
        ui.label("One file with every config, its history and the settings.");
        ui.horizontal(|ui| {
            ui.checkbox(
                &mut self.backup_secrets,
                "Include secrets (API keys, MQTT password, API token)",
            );
            if ui
                .add_enabled(!self.backup.running(), egui::Button::new("Back up…"))
                .clicked()
            {
                let config = core.config.clone();
                let settings = core.settings_file.clone();
                let secrets = self.backup_secrets;
                self.backup.start(runtime, async move {
                    let backup = tokio::task::spawn_blocking(move || {
                        Backup::of_service(&config, &settings, secrets)
                    })
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                    save_file("alicia-backup.json", backup.to_bytes(), true).await
                });
            }
            if ui
                .add_enabled(
                    !read_only && !self.pick_backup.running() && !self.restore.running(),
                    egui::Button::new("Restore…"),
                )
                .clicked()
            {
                let config = core.config.clone();
                let settings = core.settings_file.clone();
                self.pick_backup.start(runtime, async move {
                    let Some((path, bytes)) = pick_json_file().await? else {
                        return Ok(None);
                    };
                    let backup = Backup::parse(&bytes).map_err(|e| e.to_string())?;
                    let items = backup.preview(&config).map_err(|e| e.to_string())?;
                    let current = tokio::task::spawn_blocking(move || settings.load())
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| e.to_string())?;
                    let broker_change = backup.broker_change(&current);
                    Ok(Some(RestorePreview {
                        path,
                        backup,
                        items,
                        broker_change,
                        broker_accepted: false,
                    }))
                });
            }
        });
        let mut confirmed = false;
        let mut cancelled = false;
        if let Some(preview) = &mut self.restore_preview {
            let (backup, items) = (&preview.backup, &preview.items);
            ui.label(
                RichText::new(format!(
                    "Restoring {} (made {}) would:",
                    preview.path.display(),
                    backup.created
                ))
                .strong(),
            );
            egui::Grid::new("restore-preview")
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    for item in items {
                        ui.label(&item.service);
                        match item.kind {
                            RestoreKind::New => ui.label("bring it back"),
                            RestoreKind::Changed(n) => ui.label(format!("{n} field(s) change")),
                            RestoreKind::Unchanged => ui.label(RichText::new("unchanged").weak()),
                            RestoreKind::Removed => ui.colored_label(
                                ui.visuals().warn_fg_color,
                                "delete it (not in the backup)",
                            ),
                        };
                        ui.end_row();
                    }
                });
            if !backup.secrets_included {
                ui.label("The backup has no secrets: the keys stored now are kept.");
            }
            if let Some(change) = &preview.broker_change {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "It names another MQTT broker: {} (now {}).",
                        change.restored, change.now
                    ),
                );
                ui.checkbox(
                    &mut preview.broker_accepted,
                    if change.password_in_backup {
                        "Use this broker, with the backup's password"
                    } else {
                        "Use this broker (the MQTT password stored now is not sent to it)"
                    },
                );
            }
            let ready = preview.broker_change.is_none() || preview.broker_accepted;
            ui.horizontal(|ui| {
                confirmed = ui
                    .add_enabled(
                        !read_only && ready,
                        egui::Button::new("Restore this backup"),
                    )
                    .clicked();
                cancelled = ui.button("Cancel").clicked();
            });
        }
        if cancelled {
            self.restore_preview = None;
        }
        if confirmed && let Some(preview) = self.restore_preview.take() {
            let config = core.config.clone();
            let settings = core.settings_file.clone();
            let accepted = preview.broker_accepted;
            let backup = preview.backup;
            self.restore.start(runtime, async move {
                backup
                    .restore(&config, &settings, accepted)
                    .await
                    .map_err(|e| e.to_string())
            });
        }
    }

    fn finish_tasks(&mut self) {
        match self.backup.take() {
            Some(Ok(Some(path))) => {
                self.message = Some(Notice::done(format!("Backed up to {}.", path.display())))
            }
            Some(Err(error)) => self.message = Some(Notice::failed(format!("No backup: {error}"))),
            _ => {}
        }
        match self.pick_backup.take() {
            Some(Ok(Some(picked))) => {
                self.restore_preview = Some(picked);
                self.message = None;
            }
            Some(Err(error)) => {
                self.message = Some(Notice::failed(format!("Cannot restore: {error}")))
            }
            _ => {}
        }
        match self.restore.take() {
            Some(Ok(changed)) => {
                self.message = Some(Notice::done(format!(
                    "Restored: {changed} service(s) changed (recorded as import). Restored settings take effect at the next start."
                )))
            }
            Some(Err(error)) => {
                self.message = Some(Notice::failed(format!("Not restored: {error}")))
            }
            None => {}
        }
        match self.export.take() {
            Some(Ok(Some(path))) => {
                self.message = Some(Notice::done(format!("Exported to {}.", path.display())))
            }
            Some(Err(error)) => {
                self.message = Some(Notice::failed(format!("Not exported: {error}")))
            }
            _ => {}
        }
        match self.pick.take() {
            Some(Ok(Some(picked))) => {
                self.preview = Some(picked);
                self.message = None;
            }
            Some(Err(error)) => self.message = Some(Notice::failed(error)),
            _ => {}
        }
        if let Some(outcomes) = self.apply.take() {
            let report: Vec<String> = outcomes.iter().map(ToString::to_string).collect();
            let report = report.join(", ");
            self.message = Some(if outcomes.iter().all(|o| o.result.is_ok()) {
                Notice::done(format!("Imported: {report}"))
            } else {
                Notice::failed(format!("Imported with problems: {report}"))
            });
        }
    }
}

/// Asks where to save `bytes` (suggesting `name`) and writes them there — atomically and
/// 0600 when `private` (the file holds secrets or history). `Ok(None)`: cancelled.
async fn save_file(name: &str, bytes: Vec<u8>, private: bool) -> Result<Option<PathBuf>, String> {
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_file_name(name)
        .save_file()
        .await
    else {
        return Ok(None);
    };
    let path = file.path().to_path_buf();
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        if private {
            alicia_core::fsutil::write_atomic(&target, &bytes)
        } else {
            std::fs::write(&target, &bytes)
        }
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path))
}

/// Asks for a JSON file and reads it. `Ok(None)`: cancelled.
async fn pick_json_file() -> Picked {
    let Some(file) = rfd::AsyncFileDialog::new()
        .add_filter("JSON", &["json"])
        .pick_file()
        .await
    else {
        return Ok(None);
    };
    let path = file.path().to_path_buf();
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((path, bytes)))
}
