//! The one line a panel shows after an action: what happened, in red when it failed.

use egui::{RichText, Ui};

/// A panel's last outcome: the text, and true when it is an error.
pub type Notice = Option<(String, bool)>;

/// Shows `notice`, if any, in the error colour when it is an error.
pub fn notice_ui(ui: &mut Ui, notice: &Notice) {
    if let Some((message, error)) = notice {
        let colour = if *error {
            ui.visuals().error_fg_color
        } else {
            ui.visuals().text_color()
        };
        ui.label(RichText::new(message).color(colour));
    }
}
