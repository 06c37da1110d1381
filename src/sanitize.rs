//! Making untrusted bytes safe to print.
//!
//! A server's reply is text from a stranger: escape sequences in it could rewrite the user's terminal, and a
//! bare CR could hide a line. Everything that is not printable is shown as an escape, so what the user reads
//! is exactly what was on the wire, and always one line.

use std::fmt::Write;

/// Render `bytes` as one printable line: valid UTF-8 stays as it is except control characters (C0, DEL, C1),
/// Unicode line breaks, bidirectional controls and invisible characters, which become `\xHH` or `\u{HHHH}`;
/// invalid UTF-8 bytes become `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if c == '\t' {
                out.push_str("\\t");
            } else if c.is_control() && (c as u32) < 0x100 {
                let _ = write!(out, "\\x{:02x}", c as u32);
            } else if c.is_control() || is_bidi_control(c) || is_invisible(c) {
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

/// Characters that reorder the text around them (Trojan Source class, Unicode bidi algorithm UAX #9): shown,
/// never obeyed, and never accepted in an address or a name postie sends.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Characters that break a line for Unicode-aware tools, or that have no width and no glyph, so that two
/// different strings look the same or one line reads as two:
/// - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: line breaks to Unicode (and to JavaScript), so a
///   tool that splits on them would see one server line as several;
/// - U+200B ZERO WIDTH SPACE, U+2060..U+2064 (word joiner and the invisible math operators), U+FEFF (byte
///   order mark, zero width no-break space), U+180E MONGOLIAN VOWEL SEPARATOR: nothing on screen;
/// - U+00AD SOFT HYPHEN: invisible except at a line wrap, so `pay\u{ad}pal` reads as `paypal`; a server
///   reply or an address has no use for it, so it is shown too;
/// - U+206A..U+206F (deprecated format controls), U+FFF9..U+FFFB (interlinear annotation) and the tag
///   characters U+E0000..U+E007F, which hide ASCII text inside an apparently empty string.
///
/// U+200C and U+200D (zero width non-joiner and joiner) are left alone: they shape Persian and Indic text and
/// join emoji, and IDNA allows them in domain names in context.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{180e}'
            | '\u{200b}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206a}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn printable_text_is_unchanged() {
        assert_eq!(escape(b"250 2.0.0 Ok: queued as 4F1"), "250 2.0.0 Ok: queued as 4F1");
        assert_eq!(escape("250 caf\u{e9} \u{1F4EC}".as_bytes()), "250 caf\u{e9} \u{1F4EC}");
        // Joiners shape scripts and emoji: kept.
        assert_eq!(escape("\u{1F469}\u{200d}\u{1F4BB} \u{645}\u{6cc}\u{200c}\u{62e}".as_bytes()).chars().count(), 8);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape(b"220 \x1b[2Jhi\r"), "220 \\x1b[2Jhi\\x0d");
        assert_eq!(escape(b"a\tb\x7f\\"), "a\\tb\\x7f\\\\");
        assert_eq!(escape("x\u{85}y".as_bytes()), "x\\x85y");
        assert_eq!(escape("ab\u{202e}cd".as_bytes()), "ab\\u{202e}cd");
    }

    #[test]
    fn unicode_line_breaks_and_invisible_characters_are_escaped() {
        // One server line must stay one line for tools that split on Unicode line breaks.
        assert_eq!(escape("250 a\u{2028}250 b\u{2029}c".as_bytes()), "250 a\\u{2028}250 b\\u{2029}c");
        let cases = [
            ('\u{200b}', "\\u{200b}"),
            ('\u{feff}', "\\u{feff}"),
            ('\u{2060}', "\\u{2060}"),
            ('\u{2064}', "\\u{2064}"),
            ('\u{180e}', "\\u{180e}"),
            ('\u{00ad}', "\\u{00ad}"),
            ('\u{206f}', "\\u{206f}"),
            ('\u{fffb}', "\\u{fffb}"),
            ('\u{e0041}', "\\u{e0041}"),
        ];
        for (c, shown) in cases {
            assert_eq!(escape(format!("a{c}b").as_bytes()), format!("a{shown}b"), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn invalid_utf8_is_escaped_bytewise() {
        assert_eq!(escape(b"caf\xe9 \xff"), "caf\\xe9 \\xff");
    }
}
