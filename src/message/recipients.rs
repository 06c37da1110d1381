//! sendmail -t: the recipients a message names in its own header fields, and the message without its Bcc.
//!
//! A Bcc address must never reach the other recipients, so the header section is read exactly as the wire
//! will carry it: line endings are normalised first the way the DATA codec does (a bare CR or a bare LF
//! becomes CRLF, RFC 5321 §2.3.8), then one parser finds the fields, reads the addresses from them and
//! removes the Bcc fields. A header section that cannot be read one way only (a continuation line with no
//! field before it, a field name with a space or a control character in it, a line that is no field) is
//! refused rather than guessed at: any guess could differ from the next reader's.

use std::time::SystemTime;

use mail_builder::headers::address::Address;
use mail_builder::headers::Header;
use mail_parser::parsers::MessageStream;
use mail_parser::HeaderValue;

use crate::address::{check_address, Mailbox};
use crate::sanitize::escape;

/// RFC 5322 §3.6.6 trace fields of a resent message (and Resent-Reply-To, which Postfix counts too).
const RESENT_FIELDS: &[&str] = &[
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-message-id",
    "resent-reply-to",
];

/// Fields that name blind copies: removed before sending (RFC 5322 §3.6.3 and §3.6.6).
const BLIND_FIELDS: &[&str] = &["bcc", "resent-bcc"];

/// sendmail -t: the addresses in the To, Cc and Bcc fields, and the message without its Bcc fields
/// (RFC 5322 §3.6.3: a Bcc field, folded lines included, is removed before sending). As Postfix does, a
/// message with Resent- fields is a resent one, and its recipients are those of Resent-To, Resent-Cc and
/// Resent-Bcc. Bcc and Resent-Bcc are removed either way. The message comes back with CRLF line endings, as
/// it will be sent.
pub fn read_recipients(message: &[u8]) -> Result<(Vec<String>, Vec<u8>), String> {
    let message = normalise(message)?;
    let header = HeaderSection::parse(&message)?;
    let sources: &[&str] =
        if header.is_resent() { &["resent-to", "resent-cc", "resent-bcc"] } else { &["to", "cc", "bcc"] };
    let mut recipients: Vec<String> = Vec::new();
    for field in header.fields.iter().filter(|field| field.is_one_of(sources)) {
        for address in field.addresses(&message)? {
            check_address(&address)
                .map_err(|reason| format!("the header address {address:?} is not usable: {reason}"))?;
            if !recipients.iter().any(|known| known.eq_ignore_ascii_case(&address)) {
                recipients.push(address);
            }
        }
    }
    let mut stripped = Vec::with_capacity(message.len());
    let mut kept_from = 0;
    for field in header.fields.iter().filter(|field| field.is_one_of(BLIND_FIELDS)) {
        stripped.extend_from_slice(&message[kept_from..field.start]);
        kept_from = field.end;
    }
    stripped.extend_from_slice(&message[kept_from..]);
    Ok((recipients, stripped))
}

/// What sendmail adds to a message it is given with -t when the message lacks them: a Date, a Message-ID in
/// `message_id_domain`, and a From with `from` (the -f address) when one is given. They go at the end of the
/// header section; for a resent message they are the Resent- fields (as Postfix's cleanup does). The message
/// comes back with CRLF line endings.
pub fn complete_headers(
    message: &[u8],
    from: Option<&Mailbox>,
    date: SystemTime,
    message_id_domain: &str,
) -> Result<Vec<u8>, String> {
    let message = normalise(message)?;
    let header = HeaderSection::parse(&message)?;
    let prefix = if header.is_resent() { "Resent-" } else { "" };
    let has =
        |name: &str| header.fields.iter().any(|field| field.name.eq_ignore_ascii_case(&format!("{prefix}{name}")));
    let mut added = Vec::new();
    if !has("Date") {
        added.extend_from_slice(format!("{prefix}Date: {}\r\n", super::rfc5322_date(date)).as_bytes());
    }
    if !has("Message-ID") {
        let id = format!("{prefix}Message-ID: <{}@{message_id_domain}>\r\n", super::unique_token(date));
        added.extend_from_slice(id.as_bytes());
    }
    if let Some(from) = from.filter(|_| !has("From")) {
        let name = format!("{prefix}From: ");
        added.extend_from_slice(name.as_bytes());
        Address::new_address(from.name.as_deref(), from.address.as_str()).write_header(&mut added, name.len());
    }
    let mut completed = Vec::with_capacity(message.len() + added.len());
    completed.extend_from_slice(&message[..header.end]);
    completed.extend_from_slice(&added);
    completed.extend_from_slice(&message[header.end..]);
    Ok(completed)
}

/// Where the header section of `message` ends: just after the line break of its first empty line, as the
/// lines are read here and on the wire. `None` when `message` has no empty line yet, or when it might still
/// turn out otherwise: a CR as the very last byte could be the first half of a CRLF. `complete` says that
/// `message` is all there is. Reading -t from a big file needs only the bytes before this point in memory.
pub fn header_section_end(message: &[u8], complete: bool) -> Option<usize> {
    let mut offset = 0;
    for (line, ending) in lines(message) {
        let length = match ending {
            Ending::CrLf => 2,
            Ending::Lf | Ending::Cr => 1,
            Ending::Missing => 0,
        };
        offset += line.len() + length;
        if ending == Ending::Cr && offset == message.len() && !complete {
            return None;
        }
        if line.is_empty() {
            return Some(offset);
        }
    }
    None
}

/// How a line of the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    CrLf,
    Lf,
    /// A CR not followed by LF.
    Cr,
    /// The last line, without a line break.
    Missing,
}

/// The lines of `message` as the DATA codec (`smtp::codec::DotStuffer`) splits them: a line ends at CRLF, at
/// a bare LF and at a bare CR, and a last line without a break is a line too.
fn lines(message: &[u8]) -> impl Iterator<Item = (&[u8], Ending)> {
    let mut rest = message;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(i) = rest.iter().position(|&b| b == b'\r' || b == b'\n') else {
            let line = rest;
            rest = &[];
            return Some((line, Ending::Missing));
        };
        let (ending, length) = match (rest[i], rest.get(i + 1)) {
            (b'\n', _) => (Ending::Lf, 1),
            (_, Some(b'\n')) => (Ending::CrLf, 2),
            _ => (Ending::Cr, 1),
        };
        let line = &rest[..i];
        rest = &rest[i + length..];
        Some((line, ending))
    })
}

/// `message` with every line ending in CRLF: the bytes the wire will carry (before dot-stuffing). A header
/// section that a bare CR ends is refused: either the empty line is a bare CR, or a bare CR ends the line
/// before a line break (`\r\r\n`, a file converted to CRLF twice). On the wire the header section ends
/// there, and the fields after it (a Bcc, say) would be sent as body text for every recipient to read.
fn normalise(message: &[u8]) -> Result<Vec<u8>, String> {
    let mut normalised = Vec::with_capacity(message.len() + message.len() / 32 + 2);
    let mut in_header = true;
    let mut previous = Ending::CrLf;
    for (number, (line, ending)) in lines(message).enumerate() {
        if in_header && line.is_empty() {
            if ending == Ending::Cr || previous == Ending::Cr {
                return Err(format!(
                    "a bare CR (a CR without LF) makes line {} empty, which ends the header section on the wire: \
                     the lines after it would be sent as body text",
                    number + 1
                ));
            }
            in_header = false;
        }
        previous = ending;
        normalised.extend_from_slice(line);
        normalised.extend_from_slice(b"\r\n");
    }
    Ok(normalised)
}

/// One header field in the normalised message: `start..end` is the whole field, continuation lines and the
/// final CRLF included; the value starts after the colon.
#[derive(Debug)]
struct Field {
    name: String,
    start: usize,
    value_start: usize,
    end: usize,
}

impl Field {
    fn is_one_of(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.name.eq_ignore_ascii_case(name))
    }

    /// The addresses in an address-list field (RFC 5322 §3.4), groups included; a mailbox without an address
    /// (`To: bob`) is refused rather than skipped.
    fn addresses(&self, message: &[u8]) -> Result<Vec<String>, String> {
        let value = &message[self.value_start..self.end];
        let parsed = MessageStream::new(value).parse_address();
        let HeaderValue::Address(list) = parsed else {
            return Ok(Vec::new());
        };
        list.iter()
            .map(|mailbox| match (mailbox.address(), mailbox.name.as_deref()) {
                (Some(address), _) => Ok(address.to_string()),
                (None, name) => {
                    Err(format!("the {} field has {:?}, which is not an address", self.name, name.unwrap_or_default()))
                }
            })
            .collect()
    }
}

/// The header section of a normalised message: its fields in order, and where it ends (the offset of the
/// empty line that separates it from the body).
#[derive(Debug)]
struct HeaderSection {
    fields: Vec<Field>,
    end: usize,
}

impl HeaderSection {
    /// RFC 5322 §2.2 and §3.6.8: a field is a name of printable ASCII other than the colon, a colon and a
    /// value; a line that starts with white space continues the field before it (§2.2.3). The obsolete form
    /// with white space before the colon (§4.5) is read as the field of that name.
    fn parse(message: &[u8]) -> Result<HeaderSection, String> {
        let mut fields: Vec<Field> = Vec::new();
        let mut offset = 0;
        for number in 1.. {
            let Some(length) = message[offset..].windows(2).position(|pair| pair == b"\r\n") else {
                return Err("the message has no header section (no empty line after the headers)".into());
            };
            let line = &message[offset..offset + length];
            let next = offset + length + 2;
            if line.is_empty() {
                return Ok(HeaderSection { fields, end: offset });
            }
            if line[0] == b' ' || line[0] == b'\t' {
                let Some(field) = fields.last_mut() else {
                    return Err(format!(
                        "line 1 starts with white space, so it would continue a header field, but there is none \
                         before it: {}",
                        shown(line)
                    ));
                };
                field.end = next;
            } else {
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    return Err(format!(
                        "line {number} is neither a header field (Name: value) nor the empty line that ends the \
                         header section: {}",
                        shown(line)
                    ));
                };
                let name = trim_white_space_end(&line[..colon]);
                if name.is_empty() {
                    return Err(format!("line {number} has no field name before its colon: {}", shown(line)));
                }
                if let Some(&byte) = name.iter().find(|&&b| !(33..=126).contains(&b)) {
                    return Err(format!(
                        "the field name {} on line {number} contains {}; a field name is printable ASCII without \
                         spaces (RFC 5322 §3.6.8)",
                        shown(name),
                        shown(&[byte])
                    ));
                }
                let name = String::from_utf8(name.to_vec()).expect("checked to be printable ASCII");
                fields.push(Field { name, start: offset, value_start: offset + colon + 1, end: next });
            }
            offset = next;
        }
        unreachable!("the loop returns at the end of the header section or of the message")
    }

    fn is_resent(&self) -> bool {
        self.fields.iter().any(|field| field.is_one_of(RESENT_FIELDS))
    }
}

fn trim_white_space_end(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |last| last + 1);
    &bytes[..end]
}

/// Part of an input line for an error message: quoted, escaped, at most 60 bytes.
fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(60)];
    let more = if bytes.len() > cut.len() { "…" } else { "" };
    format!("\"{}{more}\"", escape(cut))
}

#[cfg(test)]
mod tests {
    #[test]
    fn where_the_header_section_ends() {
        assert_eq!(header_section_end(b"A: b\r\n\r\nbody", false), Some(8));
        assert_eq!(header_section_end(b"A: b\n\nbody", false), Some(6));
        assert_eq!(header_section_end(b"A: b\r\n\n", false), Some(7));
        assert_eq!(header_section_end(b"A: b\r\n", false), None);
        // A CR as the last byte may be the start of a CRLF: not yet known.
        assert_eq!(header_section_end(b"A: b\r\n\r", false), None);
        assert_eq!(header_section_end(b"A: b\r\n\r", true), Some(7));
        assert_eq!(header_section_end(b"A: b\r", false), None);
        assert_eq!(header_section_end(b"A: b\r\rx", false), Some(6));
    }

    use std::io::Write;
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::address::parse_mailbox;
    use crate::smtp::codec::DotStuffer;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    /// What the wire carries for `message`, before dot-stuffing.
    fn on_the_wire(message: &[u8]) -> Vec<u8> {
        let mut normaliser = DotStuffer::without_dot_stuffing(Vec::new());
        normaliser.write_all(message).unwrap();
        normaliser.end_content().unwrap();
        normaliser.into_inner()
    }

    /// The header section of what the wire carries, parsed by mail-parser as a receiving MTA would.
    fn received_bcc(message: &[u8]) -> Option<String> {
        let wire = on_the_wire(message);
        let parsed = mail_parser::MessageParser::default().parse_headers(&wire)?;
        parsed.bcc().map(|bcc| format!("{bcc:?}"))
    }

    #[test]
    fn read_recipients_and_strip_bcc() {
        let message = b"From: a@x.test\r\nTo: Bob <bob@example.test>, carol@example.test\r\nBcc: dave@example.test,\r\n  eve@example.test\r\nCc: bob@example.test\r\nSubject: hi\r\n\r\nBcc: not a header\r\n";
        let (recipients, stripped) = read_recipients(message).unwrap();
        assert_eq!(recipients, ["bob@example.test", "carol@example.test", "dave@example.test", "eve@example.test"]);
        assert_eq!(
            text(&stripped),
            "From: a@x.test\r\nTo: Bob <bob@example.test>, carol@example.test\r\nCc: bob@example.test\r\nSubject: hi\r\n\r\nBcc: not a header\r\n"
        );
        assert!(read_recipients(b"no headers at all").is_err());
    }

    #[test]
    fn every_to_cc_and_bcc_field_counts_and_every_bcc_goes() {
        let message =
            b"To: a@x.test\nBCC: b@x.test\nTo: c@x.test\nbcc :d@x.test\nCc: undisclosed-recipients:;\n\nbody\n";
        let (recipients, stripped) = read_recipients(message).unwrap();
        assert_eq!(recipients, ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]);
        assert_eq!(text(&stripped), "To: a@x.test\r\nTo: c@x.test\r\nCc: undisclosed-recipients:;\r\n\r\nbody\r\n");
    }

    #[test]
    fn a_resent_message_goes_to_its_resent_recipients() {
        let message =
            b"Resent-To: r@x.test\r\nResent-Bcc: s@x.test\r\nTo: old@x.test\r\nBcc: hidden@x.test\r\n\r\nb\r\n";
        let (recipients, stripped) = read_recipients(message).unwrap();
        assert_eq!(recipients, ["r@x.test", "s@x.test"]);
        assert_eq!(text(&stripped), "Resent-To: r@x.test\r\nTo: old@x.test\r\n\r\nb\r\n");
    }

    /// Each shape once disclosed a Bcc address (found by fuzzing the -t reader): the fix either reads the
    /// Bcc and removes it, or refuses the message; nothing that is sent carries it.
    #[test]
    fn no_bcc_survives_ambiguous_line_breaks() {
        // (b) A bare CR inside a line: the wire makes it a line break, so "Bcc:" becomes a field.
        let (recipients, stripped) =
            read_recipients(b"To: a@x.test\r\nSubject: hi\rBcc: x@y.test\r\n\r\nbody").unwrap();
        assert_eq!(recipients, ["a@x.test", "x@y.test"]);
        assert_eq!(text(&stripped), "To: a@x.test\r\nSubject: hi\r\n\r\nbody\r\n");
        assert_eq!(received_bcc(&stripped), None);
        // The same with bare LF.
        let (_, stripped) = read_recipients(b"To: a@x.test\r\nSubject: hi\nBcc: x@y.test\r\n\r\nbody").unwrap();
        assert_eq!(text(&stripped), "To: a@x.test\r\nSubject: hi\r\n\r\nbody\r\n");
        // (c) A line that is only a bare CR ends the header section on the wire: refused.
        for message in [&b"To: a@x.test\r\n\rBcc: x@y.test\r\n\r\nbody"[..], b"\rBcc: x@y.test\r\nTo: a@x.test\r\n\r\n"]
        {
            let error = read_recipients(message).unwrap_err();
            assert!(error.contains("bare CR") && error.contains("ends the header section"), "{error}");
        }
        // A bare CR before the CRLF makes an empty line as well (a file converted to CRLF twice): refused.
        let error = read_recipients(b"To: a@x.test\r\r\nBcc: x@y.test\r\r\n\r\r\nb").unwrap_err();
        assert!(error.starts_with("a bare CR (a CR without LF) makes line 2 empty"), "{error}");
        // In the body, bare CRs are the wire's business only.
        let (_, stripped) = read_recipients(b"To: a@x.test\n\nb\r\r\nc\r").unwrap();
        assert_eq!(text(&stripped), "To: a@x.test\r\n\r\nb\r\n\r\nc\r\n");
    }

    #[test]
    fn unreadable_header_sections_are_refused() {
        let cases: &[(&[u8], &str)] = &[
            // (a) A first line that continues nothing.
            (
                b" Bcc: x@y.test\r\nTo: a@x.test\r\n\r\n",
                "line 1 starts with white space, so it would continue a header field, but there is none before it: \" Bcc: x@y.test\"",
            ),
            (b"\tTo: a@x.test\r\n\r\n", "line 1 starts with white space, so it would continue a header field, but there is none before it: \"\\tTo: a@x.test\""),
            // (d) A space inside the field name.
            (
                b"To: a@x.test\r\nB CC: x@y.test\r\n\r\n",
                "the field name \"B CC\" on line 2 contains \" \"; a field name is printable ASCII without spaces (RFC 5322 §3.6.8)",
            ),
            (
                b"To: a@x.test\r\nBcc\x00: x@y.test\r\n\r\n",
                "the field name \"Bcc\\x00\" on line 2 contains \"\\x00\"; a field name is printable ASCII without spaces (RFC 5322 §3.6.8)",
            ),
            (
                "To: a@x.test\r\nB\u{e9}cc: x@y.test\r\n\r\n".as_bytes(),
                "the field name \"B\u{e9}cc\" on line 2 contains \"\\xc3\"; a field name is printable ASCII without spaces (RFC 5322 §3.6.8)",
            ),
            (
                b"To: a@x.test\r\nno colon here\r\n\r\n",
                "line 2 is neither a header field (Name: value) nor the empty line that ends the header section: \"no colon here\"",
            ),
            (b"To: a@x.test\r\n: x\r\n\r\n", "line 2 has no field name before its colon: \": x\""),
            (b"To: bob\r\n\r\n", "the To field has \"bob\", which is not an address"),
            (b"To: a@x.test\r\n", "the message has no header section (no empty line after the headers)"),
        ];
        for (message, expected) in cases {
            assert_eq!(read_recipients(message).unwrap_err(), *expected, "{:?}", String::from_utf8_lossy(message));
        }
    }

    #[test]
    fn bad_addresses_in_fields_say_which() {
        assert_eq!(
            read_recipients(b"To: a@x.test, b@\r\n\r\n").unwrap_err(),
            "the header address \"b@\" is not usable: no domain after the @"
        );
    }

    #[test]
    fn lines_split_as_the_wire_does() {
        let cases: &[&[u8]] = &[
            b"",
            b"a",
            b"a\r",
            b"a\n\rb\r\r\n\n",
            b"\r\r\r",
            b"x\r\n.\ny\r.\rz",
            b"To: a\r\n\r\nbody without end",
            b"\n",
        ];
        for message in cases {
            let ours: Vec<u8> = lines(message).flat_map(|(line, _)| [line, b"\r\n"].concat()).collect();
            assert_eq!(ours, on_the_wire(message), "{:?}", String::from_utf8_lossy(message));
        }
    }

    #[test]
    fn complete_headers_adds_what_is_missing() {
        let date = UNIX_EPOCH + Duration::from_secs(1_795_470_821);
        let from = parse_mailbox("Cron Daemon <cron@example.test>").unwrap();
        let completed =
            complete_headers(b"To: a@x.test\nSubject: s\n\nbody\n", Some(&from), date, "example.test").unwrap();
        let completed = text(&completed);
        let expected_date = format!("Date: {}\r\n", crate::message::rfc5322_date(date));
        assert!(
            completed.starts_with(&format!("To: a@x.test\r\nSubject: s\r\n{expected_date}Message-ID: <1795470821.")),
            "{completed}"
        );
        assert!(
            completed.ends_with("@example.test>\r\nFrom: \"Cron Daemon\" <cron@example.test>\r\n\r\nbody\r\n"),
            "{completed}"
        );

        let complete =
            b"From: me@x.test\r\nDate: Thu, 1 Jan 1970 00:00:00 +0000\r\nmessage-id: <1@x.test>\r\n\r\nb\r\n";
        assert_eq!(complete_headers(complete, Some(&from), date, "example.test").unwrap(), complete);
        // Without -f no From is made up; a resent message gets Resent- fields.
        let resent = complete_headers(b"Resent-To: a@x.test\r\nFrom: o@x.test\r\n\r\n", None, date, "x.test").unwrap();
        let resent = text(&resent);
        assert!(resent.contains("\r\nResent-Date: ") && resent.contains("\r\nResent-Message-ID: <"), "{resent}");
        assert!(!resent.contains("Resent-From"), "{resent}");
        assert!(complete_headers(b" continued\r\n\r\n", None, date, "x.test").is_err());
    }
}
