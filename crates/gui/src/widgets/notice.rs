//! The one line a panel shows after an action: what happened, in the error colour when it
//! failed.

use egui::{RichText, Ui};

/// What a panel says after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// It worked (or there is news): shown in the text colour.
    Done(String),
    /// It did not: shown in the error colour.
    Failed(String),
}

impl Notice {
    /// A success or news line.
    pub fn done(text: impl Into<String>) -> Self {
        Self::Done(text.into())
    }

    /// A failure line.
    pub fn failed(text: impl Into<String>) -> Self {
        Self::Failed(text.into())
    }

    /// The line's text.
    pub fn text(&self) -> &str {
        match self {
            Self::Done(text) | Self::Failed(text) => text,
        }
    }

    /// True for a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed(_))
    }
}

/// Shows `notice`, if any.
pub fn notice_ui(ui: &mut Ui, notice: Option<&Notice>) {
    if let Some(notice) = notice {
        let colour = if notice.is_failure() {
            ui.visuals().error_fg_color
        } else {
            ui.visuals().text_color()
        };
        ui.label(RichText::new(notice.text()).color(colour));
    }
}
