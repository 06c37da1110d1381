//! sendmail -t: whatever the message, no Bcc survives. Checked on what the reader returns and on what the
//! wire makes of it (bare CR and bare LF become CRLF), with mail-parser reading it as a receiver would and
//! with a plain line scan of the header section.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use mail_parser::MessageParser;
use postie::message::read_recipients;
use postie::smtp::codec::DotStuffer;

/// What the wire carries for `message`, before dot-stuffing.
fn on_the_wire(message: &[u8]) -> Vec<u8> {
    let mut normaliser = DotStuffer::without_dot_stuffing(Vec::new());
    normaliser.write_all(message).unwrap();
    normaliser.end_content().unwrap();
    normaliser.into_inner()
}

fn is_blind(name: &str) -> bool {
    name.eq_ignore_ascii_case("bcc") || name.eq_ignore_ascii_case("resent-bcc")
}

/// A Bcc field as mail-parser reads the header section.
fn parsed_bcc(message: &[u8]) -> Option<String> {
    let parsed = MessageParser::default().parse_headers(message)?;
    parsed.headers().iter().find(|header| is_blind(header.name())).map(|header| format!("{header:?}"))
}

/// A line of the header section that starts a Bcc field: `Bcc:` or `Resent-Bcc:`, any case, white space
/// allowed before the colon. `message` has CRLF line endings.
fn scanned_bcc(message: &[u8]) -> Option<String> {
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]);
            if is_blind(name.trim_end_matches([' ', '\t'])) {
                return Some(String::from_utf8_lossy(line).into_owned());
            }
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let Ok((recipients, stripped)) = read_recipients(data) else {
        return;
    };
    let wire = on_the_wire(&stripped);
    assert_eq!(parsed_bcc(&stripped), None, "a Bcc field left in {:?}", String::from_utf8_lossy(&stripped));
    assert_eq!(parsed_bcc(&wire), None, "a Bcc field on the wire: {:?}", String::from_utf8_lossy(&wire));
    assert_eq!(scanned_bcc(&wire), None, "a Bcc line on the wire: {:?}", String::from_utf8_lossy(&wire));
    // What -t returns is what the wire sends: line endings already normalised.
    assert_eq!(wire, stripped, "the wire would change the message");
    for recipient in &recipients {
        assert!(postie::address::check_address(recipient).is_ok(), "{recipient:?}");
    }
});
