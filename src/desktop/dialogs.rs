//! The desktop's file dialogs (the XDG portal on Linux), and the files they name read and
//! written on the runtime — a file holding secrets or history atomically and 0600.

use crate::core::fsutil::write_atomic;
use crate::gui::platform::{FileKind, PickedFile};

/// The dialog's filter for `kind`.
fn dialog(kind: FileKind) -> rfd::AsyncFileDialog {
    match kind {
        FileKind::Json => rfd::AsyncFileDialog::new().add_filter("JSON", &["json"]),
        FileKind::Certificate => {
            rfd::AsyncFileDialog::new().add_filter("PEM certificate", &["pem", "crt"])
        }
    }
}

/// Asks where to save `bytes` (suggesting `name`) and writes them there — atomically and
/// 0600 when `private`. `Ok(None)`: cancelled.
pub async fn save_file(
    name: String,
    bytes: Vec<u8>,
    private: bool,
) -> Result<Option<String>, String> {
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
            write_atomic(&target, &bytes)
        } else {
            std::fs::write(&target, &bytes)
        }
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path.display().to_string()))
}

/// Asks for a file of `kind` and reads it. `Ok(None)`: cancelled.
pub async fn open_file(kind: FileKind) -> Result<Option<PickedFile>, String> {
    let Some(file) = dialog(kind).pick_file().await else {
        return Ok(None);
    };
    let path = file.path().to_path_buf();
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((path.display().to_string(), bytes)))
}

/// Asks for a file of `kind`: its path (`None`: cancelled).
pub async fn pick_path(kind: FileKind) -> Option<String> {
    dialog(kind)
        .pick_file()
        .await
        .map(|file| file.path().display().to_string())
}
