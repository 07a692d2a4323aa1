//! Wall-clock timestamps in the one format the whole app uses: RFC 3339, UTC, milliseconds
//! (the same shape as JavaScript's `Date.prototype.toISOString`, which the seed emits).

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

/// The current time, formatted by [`format_rfc3339`].
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// Parses any RFC 3339 timestamp (any offset, any fraction digits).
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// A timestamp strictly later than `previous` (when given and parseable), at or after now.
///
/// `last_updated` identifies a revision in service acks, so two changes to one service within
/// the same millisecond must still get distinct stamps.
pub fn next_timestamp_after(previous: Option<&str>) -> String {
    let now = OffsetDateTime::now_utc();
    let now_ms = truncate_to_millis(now);
    match previous.and_then(parse_rfc3339) {
        Some(prev) if truncate_to_millis(prev) >= now_ms => {
            format_rfc3339(truncate_to_millis(prev) + Duration::milliseconds(1))
        }
        _ => format_rfc3339(now_ms),
    }
}

fn truncate_to_millis(instant: OffsetDateTime) -> OffsetDateTime {
    let millis = instant.nanosecond() / 1_000_000;
    instant
        .replace_nanosecond(millis * 1_000_000)
        .unwrap_or(instant)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let future = "2999-01-01T00:00:00.000Z";
        assert_eq!(
            next_timestamp_after(Some(future)),
            "2999-01-01T00:00:00.001Z"
        );
        let first = next_timestamp_after(None);
        let second = next_timestamp_after(Some(&first));
        assert!(parse_rfc3339(&second).unwrap() > parse_rfc3339(&first).unwrap());
    }
}
