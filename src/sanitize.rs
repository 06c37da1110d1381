//! Making untrusted bytes safe to print.
//!
//! A server's reply is text from a stranger: escape sequences in it could rewrite the user's terminal, and a
//! bare CR could hide a line. Everything that is not printable is shown as an escape, so what the user reads
//! is exactly what was on the wire, and always one line.

use std::fmt::Write;

/// Render `bytes` as one printable line: valid UTF-8 stays as it is except control characters (C0, DEL, C1)
/// and bidirectional overrides, which become `\xHH` or `\u{HHHH}`; invalid UTF-8 bytes become `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if c == '\t' {
                out.push_str("\\t");
            } else if c.is_control() {
                if (c as u32) < 0x100 {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                } else {
                    let _ = write!(out, "\\u{{{:04x}}}", c as u32);
                }
            } else if is_bidi_control(c) {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Characters that reorder the text around them (Trojan Source class); shown, never obeyed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn printable_text_is_unchanged() {
        assert_eq!(escape(b"250 2.0.0 Ok: queued as 4F1"), "250 2.0.0 Ok: queued as 4F1");
        assert_eq!(escape("250 caf\u{e9} \u{1F4EC}".as_bytes()), "250 caf\u{e9} \u{1F4EC}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape(b"220 \x1b[2Jhi\r"), "220 \\x1b[2Jhi\\x0d");
        assert_eq!(escape(b"a\tb\x7f\\"), "a\\tb\\x7f\\\\");
        assert_eq!(escape("x\u{85}y".as_bytes()), "x\\x85y");
        assert_eq!(escape("ab\u{202e}cd".as_bytes()), "ab\\u{202e}cd");
    }

    #[test]
    fn invalid_utf8_is_escaped_bytewise() {
        assert_eq!(escape(b"caf\xe9 \xff"), "caf\\xe9 \\xff");
    }
}
