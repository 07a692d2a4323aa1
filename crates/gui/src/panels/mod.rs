//! The panels of the desktop app, one file each.

pub mod change_set;
pub mod checks;
pub mod device_controls;
pub mod devices;
pub mod editor;
pub mod health;
pub mod history;
pub mod monitor;
pub mod rollback_banner;
pub mod server;
pub mod services;
pub mod settings;
pub mod topic_tree;
pub mod transfer;
