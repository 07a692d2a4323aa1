//! The GUI's links on the desktop: the core in this process as its backend
//! ([`alicia_core::backend::InProcess`]), and this machine as its platform ([`platform`]).

mod dialogs;
mod drafts_file;
pub mod platform;

pub use drafts_file::DRAFTS_FILE_NAME;
pub use platform::NativePlatform;

use crate::core::Core;
use crate::core::backend::InProcess;
use crate::gui::platform::Link;
use std::sync::Arc;

/// The GUI's link to `core`, running on `runtime`, with this machine as its platform.
pub fn in_process(core: &Core, runtime: &tokio::runtime::Handle) -> Link {
    Link {
        backend: Arc::new(InProcess::new(core.clone(), runtime.clone())),
        platform: Arc::new(NativePlatform::new(
            core.settings_file.clone(),
            &core.settings.config_dir,
            runtime.clone(),
        )),
    }
}
