//! Backup and restore, export and import of configs — on the manager's own machine only
//! (CONTRACT §11). The logic is the manager's (its local admin): this panel has the platform
//! pick and save files, shows what the manager says would change, and asks it to apply that
//! only when the admin confirms (source `import`; a service changed since the preview is
//! refused by name). Each step is an answer on its way; the panel never waits for one.

mod previews;

use crate::platform::{FileKind, Link, PickedFile};
use crate::tasks::Task;
use crate::widgets::notice::{Notice, notice_ui};
use crate::widgets::style::section_heading;
use alicia_model::backend::LocalAdmin;
use alicia_model::transfer::{ImportOutcome, ImportPreview, RestorePreview};
use egui::Ui;

/// A file picked and sent to the manager to preview: its name and the preview on its way.
type Previewing<T> = Option<(String, Task<Result<T, String>>)>;

/// What restoring a picked backup would do, until the admin confirms or cancels.
struct RestoreChoice {
    /// The file's name.
    path: String,
    preview: RestorePreview,
    /// The admin ticked the broker change.
    broker_accepted: bool,
}

/// The import / export panel's own state.
#[derive(Default)]
pub struct TransferPanel {
    backup_secrets: bool,
    include_secrets: bool,
    /// A file being made (backup or export), then saved.
    making: Option<Making>,
    saving: Option<Saving>,
    picking_backup: Task<Result<Option<PickedFile>, String>>,
    previewing_restore: Previewing<RestorePreview>,
    restore_choice: Option<RestoreChoice>,
    restore: Task<Result<usize, String>>,
    picking_import: Task<Result<Option<PickedFile>, String>>,
    previewing_import: Previewing<ImportPreview>,
    import_choice: Option<(String, ImportPreview)>,
    apply: Task<Vec<ImportOutcome>>,
    message: Option<Notice>,
}

/// A file the manager is making: what it is (for the messages), whether it holds secrets or
/// history (saved privately), and the bytes on their way.
struct Making {
    what: &'static str,
    private: bool,
    task: Task<Result<Vec<u8>, String>>,
}

/// A made file the platform is saving: what it is, and where it went on its way.
struct Saving {
    what: &'static str,
    task: Task<Result<Option<String>, String>>,
}

/// What a backup is called in the panel's state and messages (else: an export).
const BACKUP: &str = "backup";

impl TransferPanel {
    /// Draws the panel (what it offers needs the manager's own machine).
    pub fn ui(&mut self, ui: &mut Ui, link: &Link, read_only: bool) {
        let Some(admin) = link.backend.local() else {
            section_heading(ui, "Backup, restore, import and export");
            ui.label("These are done on the manager's own machine (local only).");
            return;
        };
        self.finish_tasks(link);
        self.backup_ui(ui, link, admin, read_only);
        ui.separator();
        section_heading(ui, "Export");
        ui.horizontal(|ui| {
            ui.checkbox(
                &mut self.include_secrets,
                "Include API keys (the file will hold secrets)",
            );
            if ui
                .add_enabled(!self.busy_making(), egui::Button::new("Export configs…"))
                .clicked()
            {
                let secrets = self.include_secrets;
                let mut task = Task::default();
                task.start(admin.export(secrets));
                self.making = Some(Making {
                    what: "export",
                    private: secrets,
                    task,
                });
            }
        });
        ui.separator();
        section_heading(ui, "Import");
        let picking = self.picking_import.running() || self.previewing_import.is_some();
        if ui
            .add_enabled(!read_only && !picking, egui::Button::new("Import configs…"))
            .clicked()
        {
            self.picking_import
                .start(link.platform.open_file(FileKind::Json));
        }
        notice_ui(ui, self.message.as_ref());
        if let Some(preview) = self.import_ui(ui, read_only) {
            self.apply.start(admin.apply_import(preview));
        }
    }

    fn backup_ui(&mut self, ui: &mut Ui, link: &Link, admin: &dyn LocalAdmin, read_only: bool) {
        section_heading(ui, "Backup and restore");
        ui.label("One file with every config, its history and the settings.");
        ui.horizontal(|ui| {
            ui.checkbox(
                &mut self.backup_secrets,
                "Include secrets (API keys, MQTT password, API token)",
            );
            if ui
                .add_enabled(!self.busy_making(), egui::Button::new("Back up…"))
                .clicked()
            {
                let mut task = Task::default();
                task.start(admin.backup(self.backup_secrets));
                // A backup holds history and settings: saved privately.
                self.making = Some(Making {
                    what: BACKUP,
                    private: true,
                    task,
                });
            }
            let restoring = self.picking_backup.running()
                || self.previewing_restore.is_some()
                || self.restore.running();
            if ui
                .add_enabled(!read_only && !restoring, egui::Button::new("Restore…"))
                .clicked()
            {
                self.picking_backup
                    .start(link.platform.open_file(FileKind::Json));
            }
        });
        if let Some((preview, accepted)) = self.restore_ui(ui, read_only) {
            self.restore.start(admin.apply_restore(preview, accepted));
        }
    }

    /// True while a file is being made or saved.
    fn busy_making(&self) -> bool {
        self.making.is_some() || self.saving.is_some()
    }

    /// Moves each step on when its answer is here.
    fn finish_tasks(&mut self, link: &Link) {
        let Some(admin) = link.backend.local() else {
            return;
        };
        if let Some(making) = self.making.as_mut()
            && let Some(made) = making.task.take()
        {
            let (what, private) = (making.what, making.private);
            self.making = None;
            match made {
                Ok(bytes) => {
                    let name = if what == BACKUP {
                        "alicia-backup.json"
                    } else {
                        "alicia-configs.json"
                    };
                    let mut task = Task::default();
                    task.start(link.platform.save_file(name, bytes, private));
                    self.saving = Some(Saving { what, task });
                }
                Err(error) => self.message = Some(failed_to_make(what, &error)),
            }
        }
        if let Some(saving) = self.saving.as_mut()
            && let Some(saved) = saving.task.take()
        {
            let what = saving.what;
            self.saving = None;
            match saved {
                Ok(Some(path)) => self.message = Some(saved_to(what, &path)),
                Ok(None) => {}
                Err(error) => self.message = Some(failed_to_make(what, &error)),
            }
        }
        match self.picking_backup.take() {
            Some(Ok(Some((path, bytes)))) => {
                let mut task = Task::default();
                task.start(admin.preview_restore(bytes));
                self.previewing_restore = Some((path, task));
            }
            Some(Err(error)) => {
                self.message = Some(Notice::failed(format!("Cannot restore: {error}")));
            }
            _ => {}
        }
        if let Some((path, task)) = self.previewing_restore.as_mut()
            && let Some(previewed) = task.take()
        {
            let path = std::mem::take(path);
            self.previewing_restore = None;
            match previewed {
                Ok(preview) => {
                    self.restore_choice = Some(RestoreChoice {
                        path,
                        preview,
                        broker_accepted: false,
                    });
                    self.message = None;
                }
                Err(error) => {
                    self.message = Some(Notice::failed(format!("Cannot restore: {path}: {error}")));
                }
            }
        }
        match self.restore.take() {
            Some(Ok(changed)) => {
                self.message = Some(Notice::done(format!(
                    "Restored: {changed} service(s) changed (recorded as import). Restored settings take effect at the next start."
                )));
            }
            Some(Err(error)) => {
                self.message = Some(Notice::failed(format!("Not restored: {error}")));
            }
            None => {}
        }
        match self.picking_import.take() {
            Some(Ok(Some((path, bytes)))) => {
                // Every document is validated by the manager, not between two frames.
                let mut task = Task::default();
                task.start(admin.preview_import(bytes));
                self.previewing_import = Some((path, task));
            }
            Some(Err(error)) => self.message = Some(Notice::failed(error)),
            _ => {}
        }
        if let Some((path, task)) = self.previewing_import.as_mut()
            && let Some(previewed) = task.take()
        {
            let path = std::mem::take(path);
            self.previewing_import = None;
            match previewed {
                Ok(preview) => {
                    self.import_choice = Some((path, preview));
                    self.message = None;
                }
                Err(error) => self.message = Some(Notice::failed(format!("{path}: {error}"))),
            }
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

/// "Backed up to …" / "Exported to …".
fn saved_to(what: &str, path: &str) -> Notice {
    if what == BACKUP {
        Notice::done(format!("Backed up to {path}."))
    } else {
        Notice::done(format!("Exported to {path}."))
    }
}

/// "No backup: …" / "Not exported: …".
fn failed_to_make(what: &str, error: &str) -> Notice {
    if what == BACKUP {
        Notice::failed(format!("No backup: {error}"))
    } else {
        Notice::failed(format!("Not exported: {error}"))
    }
}
