//! The kiosk: the home server's own display, usually a small touch panel with no keyboard.
//! Its lock (read-only until the PIN, typed on a full-screen keypad), its one-line header and
//! its overview of the fleet, read from across the room.

pub mod header;
pub mod keypad;
pub mod lock;
pub mod overview;

pub use lock::KioskLock;
