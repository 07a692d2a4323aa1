//! Settings every face reads: the REST server's settings and their rules, the broker's address,
//! the role, and the settings file's contents.

pub mod api;
pub mod broker;
pub mod file;
pub mod role;
