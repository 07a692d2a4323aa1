//! The banner a watched change that undid itself leaves (CONTRACT §7): which service, why, the
//! revision that put the old config back, and a way to its history.

use alicia_model::watch::RollbackReason;
use egui::{RichText, Ui};

/// A rollback the admin has not dismissed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledBack {
    /// The service.
    pub service: String,
    /// The rollback's own revision.
    pub revision: u64,
    /// Why.
    pub reason: RollbackReason,
}

/// What the admin asked of the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerAction {
    /// Nothing.
    None,
    /// Show the rollback in the service's history.
    ShowHistory,
    /// Put it away.
    Dismiss,
}

/// The reason in words.
pub fn reason_words(reason: RollbackReason) -> &'static str {
    match reason {
        RollbackReason::Refused => "the service refused it",
        RollbackReason::Unhealthy => "the service turned unhealthy after it",
        RollbackReason::Silent => "the service never confirmed it",
    }
}

/// Draws the banner.
pub fn banner_ui(ui: &mut Ui, rolled_back: &RolledBack) -> BannerAction {
    let mut action = BannerAction::None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "⚠ The change to {} was rolled back: {}. Revision {} put the previous config back.",
                    rolled_back.service,
                    reason_words(rolled_back.reason),
                    rolled_back.revision
                ))
                .strong()
                .color(ui.visuals().warn_fg_color),
            );
            if ui.button("Show in history").clicked() {
                action = BannerAction::ShowHistory;
            }
            if ui.button("Dismiss").clicked() {
                action = BannerAction::Dismiss;
            }
        });
    });
    action
}
