//! The REST routes of CONTRACT §3: each handler a few lines over a core method.

pub mod changes;
pub mod config;
pub mod devices;
pub mod health;
pub mod settings_schema;
pub mod system;

use super::auth::Access;
use alicia_core::Core;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The running core every handler calls.
    pub core: Core,
    /// The access rule (for `/api/system`'s `auth_required`).
    pub access: Access,
}
