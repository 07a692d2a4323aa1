//! The UI's own copies of live state, fed by core events through the bridge: devices, messages
//! and the message rate. The devices and monitor panels draw from these rather than from the
//! core's registries, so their frames cost the same however busy the broker is, and only the
//! rows on screen are built. The services table, the checks and the health cards draw from the
//! app's copy of the core's overview (tens of rows, rebuilt at most four times a second while
//! health changes); the editor and the history read the store only when the app has heard of
//! a config change.

pub mod devices;
pub mod messages;
pub mod natural;
pub mod rate;
pub mod topic_tree;

pub use devices::{DeviceList, DeviceSort};
pub use messages::MessageList;
pub use rate::RateHistory;
pub use topic_tree::TopicTree;
