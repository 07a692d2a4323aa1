//! The UI's own copies of live state, fed by core events through the bridge: devices, messages
//! and the message rate. The devices, monitor and health panels draw from these rather than
//! from the core's registries, so those frames cost the same however busy the broker is, and
//! only the rows on screen are built. (The services table and the editor read the core's
//! lock-free config snapshot and cached overview instead: tens of rows, rebuilt on change.)

pub mod devices;
pub mod messages;
pub mod rate;

pub use devices::{DeviceList, DeviceSort};
pub use messages::MessageList;
pub use rate::RateHistory;
