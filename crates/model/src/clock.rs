//! Wall-clock timestamps in the one format the whole app uses: RFC 3339, UTC, milliseconds
//! (the same shape as JavaScript's `Date.prototype.toISOString`, which the seed emits). The
//! model never reads the clock: whoever calls passes `now` in.
//!
//! CONTRACT §6: a time before 1970-01-01 or after 9999-12-31, or not RFC 3339, is no time
//! ([`parse_rfc3339`] says `None`); one more than 60 s ahead on the bus is refused where it
//! arrives ([`is_too_far_ahead`]); and no stored time, however odd, makes the manager fail
//! ([`next_timestamp_after`] never overflows).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Formats an instant as `2026-11-25T21:49:03.123Z`.
pub fn format_rfc3339(instant: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    instant
        .to_offset(UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| instant.unix_timestamp().to_string())
}

/// How far ahead of this machine's clock a time arriving on the bus may be.
pub const FUTURE_TOLERANCE: Duration = Duration::seconds(60);

/// Parses an RFC 3339 timestamp (any offset, any fraction digits) between 1970-01-01 and
/// 9999-12-31; anything else is `None`.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .filter(|at| at.unix_timestamp() >= 0)
}

/// True when `at` is more than [`FUTURE_TOLERANCE`] ahead of `now`.
pub fn is_too_far_ahead(at: OffsetDateTime, now: OffsetDateTime) -> bool {
    at - now > FUTURE_TOLERANCE
}

/// A timestamp after `previous` (when given and parseable), at or after `now`, and different
/// from it.
///
/// `last_updated` identifies a revision in service acks, so two changes to one service within
/// the same millisecond must still get distinct stamps. A `previous` far in the future (a
/// hand-edited file, a backup from a machine with a wrong clock) is not followed: the stamp is
/// now, which differs from it all the same.
pub fn next_timestamp_after(previous: Option<&str>, now: OffsetDateTime) -> String {
    let now_ms = truncate_to_millis(now);
    match previous.and_then(parse_rfc3339).map(truncate_to_millis) {
        Some(prev) if prev >= now_ms && !is_too_far_ahead(prev, now) => prev
            .checked_add(Duration::milliseconds(1))
            .map_or_else(|| format_rfc3339(now_ms), format_rfc3339),
        _ => format_rfc3339(now_ms),
    }
}

fn truncate_to_millis(instant: OffsetDateTime) -> OffsetDateTime {
    let millis = instant.nanosecond() / 1_000_000;
    instant
        .replace_nanosecond(millis * 1_000_000)
        .unwrap_or(instant)
}

/// "UTC" or "UTC+01:00": a zone's name for headings.
pub fn zone_name(offset: UtcOffset) -> String {
    if offset.is_utc() {
        return "UTC".to_owned();
    }
    let (hours, minutes, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!(
        "UTC{sign}{:02}:{:02}",
        hours.unsigned_abs(),
        minutes.unsigned_abs()
    )
}

/// The time of day of an RFC 3339 stamp at `offset`, `14:03:07.123`; `None` when it is no
/// time.
pub fn time_of_day(stamp: &str, offset: UtcOffset) -> Option<String> {
    let format = format_description!("[hour]:[minute]:[second].[subsecond digits:3]");
    parse_rfc3339(stamp)?.to_offset(offset).format(&format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    #[test]
    fn formats_like_javascript_iso_strings() {
        let instant = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(format_rfc3339(instant), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let a = parse_rfc3339("2023-11-14T23:13:20.5+01:00").unwrap();
        let b = parse_rfc3339("2023-11-14T22:13:20.500Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn next_timestamp_is_strictly_increasing() {
        let now = at(1_800_000_000);
        let first = next_timestamp_after(None, now);
        let second = next_timestamp_after(Some(&first), now);
        assert!(parse_rfc3339(&second).unwrap() > parse_rfc3339(&first).unwrap());
        let soon = format_rfc3339(now + Duration::seconds(30));
        let after_soon = next_timestamp_after(Some(&soon), now);
        assert!(parse_rfc3339(&after_soon).unwrap() > parse_rfc3339(&soon).unwrap());
    }

    #[test]
    fn odd_stored_times_never_fail_nor_drag_stamps_along() {
        let now = at(1_800_000_000);
        for stored in [
            "9999-12-31T23:59:59.999Z",
            "2999-01-01T00:00:00.000Z",
            "1969-07-20T20:17:40Z",
            "not a time",
        ] {
            let stamp = next_timestamp_after(Some(stored), now);
            assert_eq!(parse_rfc3339(&stamp), Some(now), "{stored} gave {stamp}");
            assert_ne!(stamp, stored);
        }
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_none());
        assert!(parse_rfc3339("10000-01-01T00:00:00Z").is_none());
        assert!(parse_rfc3339("9999-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn zones_and_times_of_day_read_as_people_read_them() {
        let plus_one = UtcOffset::from_hms(1, 0, 0).unwrap();
        assert_eq!(zone_name(UtcOffset::UTC), "UTC");
        assert_eq!(zone_name(plus_one), "UTC+01:00");
        assert_eq!(
            time_of_day("2023-11-14T22:13:20.123Z", plus_one).as_deref(),
            Some("23:13:20.123")
        );
    }
}
