//! Dates postie writes: the RFC 5322 Date of a message (local time with its offset) and a UTC calendar day.
//! The calendar is the `time` crate's; only the local offset comes from the C library (see `local_offset`).

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// RFC 5322 §3.3 date-time: `Mon, 23 Nov 2026 21:53:41 +0100` (the day without a leading zero).
const RFC5322: &[BorrowedFormatItem<'_>] = format_description!(
    "[weekday repr:short], [day padding:none] [month repr:short] [year] [hour]:[minute]:[second] \
     [offset_hour sign:mandatory][offset_minute]"
);

const DAY: &[BorrowedFormatItem<'_>] = format_description!("[year]-[month]-[day]");

/// RFC 5322 §3.3 date-time in local time with its offset: `Mon, 23 Nov 2026 21:53:41 +0100`.
pub fn rfc5322_date(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    format_date(seconds, local_offset(seconds))
}

/// `YYYY-MM-DD` of a UTC time in seconds since the epoch (years outside 1..=9999 are clamped to them).
pub fn utc_date(unix_seconds: i64) -> String {
    at(unix_seconds, 0).format(DAY).expect("a day within 1..=9999 formats")
}

/// The instant shown at `offset_seconds` from UTC.
fn format_date(unix_seconds: i64, offset_seconds: i32) -> String {
    let offset = UtcOffset::from_whole_seconds(offset_seconds).unwrap_or(UtcOffset::UTC);
    at(unix_seconds, 86_400).to_offset(offset).format(RFC5322).expect("a date within 1..=9999 formats")
}

/// The instant, clamped to the years the `time` crate represents without its large-dates feature; `margin`
/// seconds are kept free at each end so that an offset applied later stays in range.
fn at(unix_seconds: i64, margin: i64) -> OffsetDateTime {
    const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    OffsetDateTime::from_unix_timestamp(unix_seconds.clamp(FIRST + margin, LAST - margin)).expect("clamped into range")
}

/// The local offset from UTC at that instant, from the C library's `localtime_r`. The `time` crate's own
/// `local-offset` feature refuses to answer once a program has a second thread (on Linux another thread
/// could change the environment while it reads TZ), and postie runs threads; postie never changes its
/// environment, so asking libc is sound here.
fn local_offset(unix_seconds: i64) -> i32 {
    let t = unix_seconds as libc::time_t;
    // SAFETY: a zeroed tm is a valid output buffer; localtime_r fills it or returns null.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let filled = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if filled {
        i32::try_from(tm.tm_gmtoff).unwrap_or(0)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_date(0, 0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(utc_date(1_795_470_821), "2026-11-23");
        assert_eq!(format_date(1_795_470_821, 0), "Mon, 23 Nov 2026 21:53:41 +0000");
        // The same instants as before, given now as UTC seconds and shown at the offset.
        assert_eq!(
            format_date(951_782_400 + 5 * 3600 + 30 * 60, -5 * 3600 - 30 * 60),
            "Tue, 29 Feb 2000 00:00:00 -0530"
        );
        assert_eq!(format_date(4_107_542_400, 3600), "Mon, 1 Mar 2100 01:00:00 +0100");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(253_402_300_799), "9999-12-31", "X.509's 'no expiry' date");
        assert_eq!(utc_date(i64::MAX), "9999-12-31", "clamped, not a panic");
        assert_eq!(utc_date(i64::MIN), "0001-01-01");
        assert_eq!(format_date(i64::MAX, -3600), "Thu, 30 Dec 9999 22:59:59 -0100");
    }

    #[test]
    fn local_dates_end_with_an_offset() {
        let date = rfc5322_date(SystemTime::now());
        let offset = date.rsplit(' ').next().unwrap();
        assert!(offset.len() == 5 && offset.starts_with(['+', '-']), "{date}");
        assert!(offset[1..].bytes().all(|b| b.is_ascii_digit()), "{date}");
    }
}
