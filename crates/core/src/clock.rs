//! The clock as the core reads it: now, and this machine's zone (read once at start). The
//! formats and rules of times are the model's ([`alicia_model::clock`], re-exported here);
//! this module passes them the time.

pub use alicia_model::clock::{FUTURE_TOLERANCE, format_rfc3339, is_too_far_ahead, parse_rfc3339};
use time::{OffsetDateTime, UtcOffset};

/// This machine's offset from UTC, read once at start ([`remember_local_offset`]).
static LOCAL_OFFSET: std::sync::OnceLock<UtcOffset> = std::sync::OnceLock::new();

/// Reads the local time zone's offset from the OS. Call it first thing in `main`: the `time`
/// crate trusts the OS's answer only while the process has one thread. Without it, local
/// times are UTC. (A change of the zone or of daylight saving time while running is seen at
/// the next start.)
pub fn remember_local_offset() {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    // An error only says it was remembered already.
    let _ = LOCAL_OFFSET.set(offset);
}

/// The local offset remembered at start (UTC when unknown).
pub fn local_offset() -> UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(UtcOffset::UTC)
}

/// "UTC" or "UTC+01:00": the local zone, for headings.
pub fn local_zone_name() -> String {
    alicia_model::clock::zone_name(local_offset())
}

/// The local time of day of an RFC 3339 stamp, `14:03:07.123`; `None` when it is no time.
pub fn local_time_of_day(stamp: &str) -> Option<String> {
    alicia_model::clock::time_of_day(stamp, local_offset())
}

/// The current time, formatted by [`format_rfc3339`].
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// A timestamp after `previous`, at or after now, and different from it
/// ([`alicia_model::clock::next_timestamp_after`] at this moment).
pub fn next_timestamp_after(previous: Option<&str>) -> String {
    alicia_model::clock::next_timestamp_after(previous, OffsetDateTime::now_utc())
}
