//! The checks on values from the command line: whatever passes them holds no byte that could end a command
//! line or a header line early, or start another, and nothing that hides what is sent (bidi controls,
//! invisible characters) gets into an address or the EHLO name.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::address::{check_address, check_helo_name, parse_mailbox};
use postie::message::{check_header_value, parse_header};
use postie::sanitize::{is_bidi_control, is_invisible};
use postie::smtp::auth::check_secret;

/// A control character other than TAB: C0, DEL or C1 (CR, LF and NUL among them).
fn control(c: char) -> bool {
    c.is_control() && c != '\t'
}

fn hidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = parse_header(text) {
        assert!(!header.name.is_empty());
        assert!(header.name.bytes().all(|b| (33..=126).contains(&b) && b != b':'), "{:?}", header.name);
        assert!(!header.value.chars().any(control), "{:?}", header.value);
    }
    if check_header_value(text).is_ok() {
        assert!(!text.chars().any(control), "{text:?}");
    }
    if check_helo_name(text).is_ok() {
        // One word of printable ASCII: nothing to end the EHLO line or add to it.
        assert!(!text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()), "{text:?}");
    }
    if check_address(text).is_ok() {
        // Inside MAIL FROM:<…> and RCPT TO:<…>: no angle bracket or space to end it early.
        assert!(!text.chars().any(|c| hidden(c) || c.is_whitespace() || c == '<' || c == '>'), "{text:?}");
    }
    if let Ok(mailbox) = parse_mailbox(text) {
        assert!(check_address(&mailbox.address).is_ok(), "{mailbox:?}");
        assert!(!mailbox.name.as_deref().unwrap_or_default().chars().any(hidden), "{mailbox:?}");
    }
    if check_secret(text).is_ok() {
        assert!(!text.contains(['\0', '\r', '\n', '\u{1}']), "{text:?}");
    }
});
