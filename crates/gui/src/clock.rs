//! The clock as the GUI reads it — the only place it does (clippy's `disallowed-methods`
//! keeps the rest off `Instant::now` and friends, which panic in a browser): now, from
//! `web-time`, and this machine's zone, handed over at start by whoever read it from the OS.
//! The formats are the model's.

use std::sync::OnceLock;
use time::{OffsetDateTime, UtcOffset};
pub use web_time::Instant;

/// The local offset from UTC, handed over at start.
static LOCAL_OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Sets this machine's offset from UTC for local times (once; UTC until then).
pub fn set_local_offset(offset: UtcOffset) {
    // An error only says it was set already.
    let _ = LOCAL_OFFSET.set(offset);
}

/// The current time.
#[expect(
    clippy::disallowed_methods,
    reason = "the GUI's one clock: web-time is std's natively and the browser's on the web"
)]
pub fn now_utc() -> OffsetDateTime {
    let since = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .unwrap_or_default();
    OffsetDateTime::UNIX_EPOCH + since
}

/// Now, for durations and deadlines.
#[expect(
    clippy::disallowed_methods,
    reason = "the GUI's one clock: web-time is std's natively and the browser's on the web"
)]
pub fn instant() -> Instant {
    Instant::now()
}

/// The current time as the model writes times.
pub fn now_rfc3339() -> String {
    alicia_model::clock::format_rfc3339(now_utc())
}

/// "UTC" or "UTC+01:00": the local zone, for headings.
pub fn local_zone_name() -> String {
    alicia_model::clock::zone_name(local_offset())
}

/// The local time of day of an RFC 3339 stamp, `14:03:07.123`; `None` when it is no time.
pub fn local_time_of_day(stamp: &str) -> Option<String> {
    alicia_model::clock::time_of_day(stamp, local_offset())
}

/// Whole seconds from now until the RFC 3339 stamp `until` (0 when past or no time).
pub fn seconds_until(until: &str) -> i64 {
    alicia_model::clock::parse_rfc3339(until)
        .map(|end| (end - now_utc()).whole_seconds().max(0))
        .unwrap_or(0)
}

fn local_offset() -> UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(UtcOffset::UTC)
}
