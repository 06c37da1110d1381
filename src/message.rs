//! Building the RFC 5322 message from flags (with mail-builder), and the pieces of it postie makes itself:
//! a Date in local time with its offset, a Message-ID in the sender's domain, checked custom headers.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

use crate::address::Mailbox;

/// The body of the default test message (as swaks sends one), used when no body is given.
pub const DEFAULT_BODY: &str = "This is a test mailing\n";

/// A header the user gave with `--header 'Name: value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Parse `Name: value`. RFC 5322 §2.2: a field name is printable ASCII except the colon; a value may not
/// contain CR or LF (that would start another header: header injection).
pub fn parse_header(input: &str) -> Result<Header, String> {
    let Some((name, value)) = input.split_once(':') else {
        return Err("it has no colon; write it as 'Name: value'".into());
    };
    if name.is_empty() {
        return Err("the header name before the colon is empty".into());
    }
    if let Some(c) = name.chars().find(|&c| !(c.is_ascii_graphic() && c != ':')) {
        return Err(format!("the header name {name:?} contains {c:?}; names are printable ASCII without spaces"));
    }
    check_header_value(value)?;
    Ok(Header { name: name.to_string(), value: value.trim().to_string() })
}

/// A value that goes into a header must stay on its line.
pub fn check_header_value(value: &str) -> Result<(), String> {
    if value.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a header".into());
    }
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(format!("it contains the control character U+{:04X}", c as u32));
    }
    Ok(())
}

/// Everything the built message is made of.
pub struct Composition<'a> {
    pub from: &'a Mailbox,
    pub to: &'a [Mailbox],
    pub cc: &'a [Mailbox],
    /// `None` gives the default test subject, "test" and the date.
    pub subject: Option<&'a str>,
    /// `None` gives the default test body.
    pub body: Option<&'a [u8]>,
    pub headers: &'a [Header],
    pub date: SystemTime,
    /// The domain the Message-ID is made in: the sender's, so replies and threading stay with it.
    pub message_id_domain: &'a str,
}

/// Build the message. Bcc recipients never appear: they are given to RCPT only.
pub fn compose(c: &Composition<'_>) -> Vec<u8> {
    let overridden = |name: &str| c.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    let date = rfc5322_date(c.date);
    let mut builder = MessageBuilder::new();
    if !overridden("Date") {
        builder = builder.header("Date", Raw::new(date.clone()));
    }
    if !overridden("From") {
        builder = builder.from(address(c.from));
    }
    if !overridden("To") && !c.to.is_empty() {
        builder = builder.to(Address::new_list(c.to.iter().map(address).collect()));
    }
    if !overridden("Cc") && !c.cc.is_empty() {
        builder = builder.cc(Address::new_list(c.cc.iter().map(address).collect()));
    }
    if !overridden("Subject") {
        let subject = c.subject.map_or_else(|| Cow::Owned(format!("test {date}")), Cow::Borrowed);
        builder = builder.subject(Text::new(subject));
    }
    if !overridden("Message-ID") {
        builder = builder.message_id(message_id(c.message_id_domain, c.date));
    }
    for header in c.headers {
        builder = if header.value.is_ascii() {
            builder.header(header.name.clone(), Raw::new(header.value.clone()))
        } else {
            // RFC 2047 encoded words for non-ASCII text.
            builder.header(header.name.clone(), Text::new(header.value.clone()))
        };
    }
    let body = c.body.unwrap_or(DEFAULT_BODY.as_bytes());
    let part = match std::str::from_utf8(body) {
        Ok(text) => MimePart::new("text/plain", BodyPart::Text(text.into())),
        // Not UTF-8: keep the bytes exactly; the transfer encoding carries them, and the charset says that
        // it is unknown rather than claim one (RFC 1428).
        Err(_) => MimePart::new(
            mail_builder::headers::content_type::ContentType::new("text/plain").attribute("charset", "unknown-8bit"),
            BodyPart::Binary(body.into()),
        ),
    };
    let mut message = builder.body(part).write_to_vec().expect("writing to a Vec cannot fail");
    // The wire adds a final line break anyway (RFC 5321 §4.1.1.4); adding it here makes --dump show exactly
    // what goes after DATA.
    if !message.ends_with(b"\r\n") {
        message.extend_from_slice(b"\r\n");
    }
    message
}

fn address(mailbox: &Mailbox) -> Address<'_> {
    Address::new_address(mailbox.name.as_deref(), mailbox.address.as_str())
}

/// `<time.pid.counter@domain>`: unique without a random source, and in the sender's domain (RFC 5322 §3.6.4).
pub fn message_id(domain: &str, now: SystemTime) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.{:06}.{}.{}@{}",
        since_epoch.as_secs(),
        since_epoch.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        domain
    )
}

/// RFC 5322 §3.3 date-time in local time with its offset: `Mon, 23 Nov 2026 21:53:41 +0100`.
pub fn rfc5322_date(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let (local, offset_seconds) = local_time(seconds);
    format_date(local, offset_seconds)
}

/// The local wall-clock time as seconds since the epoch, and the offset from UTC in seconds.
fn local_time(seconds: i64) -> (i64, i64) {
    let t = seconds as libc::time_t;
    // SAFETY: zeroed tm is a valid output buffer; localtime_r fills it or returns null.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let filled = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    let offset = if filled { tm.tm_gmtoff as i64 } else { 0 };
    (seconds + offset, offset)
}

fn format_date(local_seconds: i64, offset_seconds: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = local_seconds.div_euclid(86_400);
    let second_of_day = local_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let offset_minutes = offset_seconds.abs() / 60;
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} {}{:02}{:02}",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        sign,
        offset_minutes / 60,
        offset_minutes % 60
    )
}

/// `YYYY-MM-DD` of a UTC time in seconds since the epoch.
pub fn utc_date(unix_seconds: i64) -> String {
    let (year, month, day) = civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_mailbox;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(format_date(0, 0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(utc_date(1_795_470_821), "2026-11-23");
        assert_eq!(format_date(1_795_470_821, 0), "Mon, 23 Nov 2026 21:53:41 +0000");
        assert_eq!(format_date(951_782_400, -5 * 3600 - 30 * 60), "Tue, 29 Feb 2000 00:00:00 -0530");
        assert_eq!(format_date(4_107_542_400 + 3600, 3600), "Mon, 1 Mar 2100 01:00:00 +0100");
    }

    #[test]
    fn headers() {
        assert_eq!(parse_header("X-Test: hello "), Ok(Header { name: "X-Test".into(), value: "hello".into() }));
        assert_eq!(parse_header("X-Empty:"), Ok(Header { name: "X-Empty".into(), value: String::new() }));
        assert_eq!(parse_header("no colon"), Err("it has no colon; write it as 'Name: value'".into()));
        assert_eq!(parse_header(": v"), Err("the header name before the colon is empty".into()));
        assert_eq!(
            parse_header("X Bad: v"),
            Err("the header name \"X Bad\" contains ' '; names are printable ASCII without spaces".into())
        );
        assert_eq!(
            parse_header("X-A: v\r\nBcc: evil@x.test"),
            Err("it contains a line break (CR or LF), which would inject a header".into())
        );
    }

    fn compose_text(subject: Option<&str>, body: Option<&[u8]>, headers: &[Header]) -> String {
        let from = parse_mailbox("Ada Lovelace <ada@example.test>").unwrap();
        let to = [parse_mailbox("bob@example.test").unwrap()];
        let message = compose(&Composition {
            from: &from,
            to: &to,
            cc: &[],
            subject,
            body,
            headers,
            date: UNIX_EPOCH + Duration::from_secs(1_795_470_821),
            message_id_domain: "example.test",
        });
        String::from_utf8(message).unwrap()
    }

    #[test]
    fn composed_message() {
        let text = compose_text(Some("hi"), Some(b"hello\n"), &[]);
        assert!(compose_text(Some("hi"), Some(b"no newline"), &[]).ends_with("\r\n\r\nno newline\r\n"));
        assert!(compose_text(Some("hi"), Some(b"no newline"), &[]).ends_with("\r\n\r\nno newline\r\n"));
        assert!(text.contains("From: \"Ada Lovelace\" <ada@example.test>\r\n"), "{text}");
        assert!(text.contains("To: <bob@example.test>\r\n") || text.contains("To: bob@example.test\r\n"), "{text}");
        assert!(text.contains("Subject: hi\r\n"));
        assert!(text.contains("@example.test>\r\n"), "Message-ID in the sender's domain: {text}");
        assert!(!text.contains("Bcc"));
        assert!(text.ends_with("\r\n\r\nhello\r\n"), "{text}");
    }

    #[test]
    fn default_subject_and_body() {
        let text = compose_text(None, None, &[]);
        assert!(text.contains("Subject: test "), "{text}");
        assert!(text.ends_with("This is a test mailing\r\n"), "{text}");
    }

    #[test]
    fn user_headers_replace_generated_ones() {
        let headers = [parse_header("Subject: mine").unwrap(), parse_header("X-Trace: 1").unwrap()];
        let text = compose_text(Some("generated"), Some(b"x"), &headers);
        assert!(!text.contains("generated"));
        assert_eq!(text.matches("Subject:").count(), 1);
        assert!(text.contains("Subject: mine\r\n") && text.contains("X-Trace: 1\r\n"), "{text}");
    }

    #[test]
    fn message_ids_are_unique() {
        let now = SystemTime::now();
        assert_ne!(message_id("x.test", now), message_id("x.test", now));
    }
}
