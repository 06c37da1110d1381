//! Mail addresses from the command line, checked before anything is sent.
//!
//! An address goes into a command line (`RCPT TO:<…>`) and into a header, so a CR or LF in it would let the
//! user (or whoever built the user's arguments) inject commands or headers. Everything that is not a plain
//! `local@domain` is refused here with a message that says what is wrong. Bidirectional controls and
//! invisible characters are refused too: with them an address is not the one it looks like.
//!
//! The name given in EHLO is checked here as well ([`check_helo_name`]).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::sanitize::{is_bidi_control, is_invisible};

/// An address with an optional display name: `Ada Lovelace <ada@example.test>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// The domain part, after the last `@`.
    pub fn domain(&self) -> &str {
        domain_of(&self.address)
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// Parse `address`, `<address>` or `Display Name <address>`.
pub fn parse_mailbox(input: &str) -> Result<Mailbox, String> {
    reject_controls(input)?;
    let trimmed = input.trim();
    if let Some(open) = trimmed.rfind('<') {
        let Some(inner) = trimmed[open + 1..].strip_suffix('>') else {
            return Err("a '<' without a closing '>' at the end".into());
        };
        let name = trimmed[..open].trim();
        let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => unquote(quoted),
            None => name.to_string(),
        };
        let name = name.trim();
        check_address(inner)?;
        let name = (!name.is_empty()).then(|| name.to_string());
        return Ok(Mailbox { name, address: inner.to_string() });
    }
    check_address(trimmed)?;
    Ok(Mailbox { name: None, address: trimmed.to_string() })
}

/// RFC 5322 §3.2.4: inside a quoted string a backslash makes the next character literal (`\"`, `\\`).
fn unquote(quoted: &str) -> String {
    let mut text = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        text.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    text
}

fn reject_controls(input: &str) -> Result<(), String> {
    if input.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a command or header".into());
    }
    reject_hidden(input)
}

/// Control characters, bidirectional controls and invisible characters: each makes what is sent differ
/// from what the user sees.
fn reject_hidden(input: &str) -> Result<(), String> {
    if let Some(c) = input.chars().find(|c| c.is_control()) {
        return Err(format!("it contains the control character U+{:04X}", c as u32));
    }
    if let Some(c) = input.chars().find(|&c| is_bidi_control(c)) {
        return Err(format!(
            "it contains U+{:04X}, a bidirectional control character, which changes the order in which the text \
             around it is shown",
            c as u32
        ));
    }
    if let Some(c) = input.chars().find(|&c| is_invisible(c)) {
        return Err(format!("it contains U+{:04X}, an invisible character, so it is not what it looks like", c as u32));
    }
    Ok(())
}

/// RFC 5321 §4.1.2 Mailbox = Local-part "@" Domain, limited to what a command-line user means: a dot-atom
/// local part (RFC 5322 §3.2.3; UTF-8 allowed for SMTPUTF8) and a domain name or address literal.
pub fn check_address(address: &str) -> Result<(), String> {
    reject_controls(address)?;
    if address.is_empty() {
        return Err("it is empty".into());
    }
    if address.contains(char::is_whitespace) {
        return Err("it contains a space".into());
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err("it has no @".into());
    };
    if local.is_empty() {
        return Err("nothing before the @".into());
    }
    if domain.is_empty() {
        return Err("no domain after the @".into());
    }
    // RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
    if local.len() > 64 {
        return Err(format!("the part before the @ is {} bytes long; the limit is 64", local.len()));
    }
    if domain.len() > 255 {
        return Err(format!("the domain is {} bytes long; the limit is 255", domain.len()));
    }
    let atom_char = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    if local.starts_with('"') {
        return Err("quoted local parts are not supported".into());
    }
    if let Some(c) = local.chars().find(|&c| !atom_char(c) && c != '.') {
        return Err(format!("the character {c:?} is not allowed before the @"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before the @ has a misplaced dot".into());
    }
    // RFC 2047 §5 forbids encoded words in an address, but many mail readers decode them there anyway and
    // show another address than the one mail goes to (the "Mailsploit" spoofing). Found by fuzzing.
    if local.contains("=?") {
        return Err("the part before the @ contains '=?', which mail readers may decode as an encoded word \
                    (RFC 2047) and show as a different address"
            .into());
    }
    check_domain(domain)
}

fn check_domain(domain: &str) -> Result<(), String> {
    if domain.starts_with('[') {
        let literal = domain
            .strip_prefix('[')
            .and_then(|d| d.strip_suffix(']'))
            .ok_or_else(|| "an address literal must end with ']'".to_string())?;
        let valid = match literal.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => literal.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        return if valid { Ok(()) } else { Err(format!("[{literal}] is not an IPv4 or IPv6: address literal")) };
    }
    for label in domain.strip_suffix('.').unwrap_or(domain).split('.') {
        if label.is_empty() {
            return Err(format!("the domain {domain:?} has an empty label"));
        }
        if let Some(c) = label.chars().find(|&c| !(c.is_alphanumeric() || c == '-' || c == '_' || !c.is_ascii())) {
            return Err(format!("the character {c:?} is not allowed in a domain"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the domain label {label:?} starts or ends with a hyphen"));
        }
    }
    Ok(())
}

/// RFC 5321 §4.1.1.1 and §4.1.3: the EHLO argument is a domain name (labels of letters, digits and hyphens,
/// §4.1.2; an internationalised name in its ASCII form, A-labels, RFC 5890) or an address literal, `[IPv4]`
/// or `[IPv6:…]`. It goes on a command line, so nothing else is let through.
pub fn check_helo_name(name: &str) -> Result<(), String> {
    if name.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a command".into());
    }
    reject_hidden(name)?;
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.contains(char::is_whitespace) {
        return Err("it contains a space".into());
    }
    if let Some(literal) = name.strip_prefix('[') {
        let inner = literal.strip_suffix(']').ok_or("an address literal must end with ']'")?;
        let valid = match inner.get(..5).filter(|tag| tag.eq_ignore_ascii_case("IPv6:")) {
            Some(_) => inner[5..].parse::<Ipv6Addr>().is_ok(),
            None => inner.parse::<Ipv4Addr>().is_ok(),
        };
        return if valid {
            Ok(())
        } else {
            Err(format!("[{inner}] is not an address literal: write [192.0.2.1] or [IPv6:2001:db8::1]"))
        };
    }
    if !name.is_ascii() {
        return Err(match idna::domain_to_ascii_strict(name) {
            Ok(ascii) => format!("it is not ASCII; EHLO takes an internationalised name in its ASCII form: {ascii}"),
            Err(_) => "it is not ASCII, and not a valid internationalised domain name either".into(),
        });
    }
    if name.parse::<Ipv4Addr>().is_ok() {
        return Err(format!("an IP address is given as an address literal, in brackets: [{name}]"));
    }
    if name.parse::<Ipv6Addr>().is_ok() {
        return Err(format!("an IPv6 address is given as an address literal: [IPv6:{name}]"));
    }
    if name.ends_with('.') {
        return Err("it ends with a dot; give the name without it".into());
    }
    // RFC 1035 §2.3.4: 255 octets in the wire form, which is two more than the text.
    if name.len() > 253 {
        return Err(format!("it is {} characters long; a domain name has at most 253", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row, or a dot at the start)".into());
        }
        if label.len() > 63 {
            return Err(format!("the label {label:?} is {} characters long; the limit is 63", label.len()));
        }
        if let Some(c) = label.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-')) {
            return Err(format!("the character {c:?} is not allowed in a domain name (letters, digits and hyphens)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label {label:?} starts or ends with a hyphen"));
        }
        if label.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("xn--"))
            && idna::domain_to_unicode(label).1.is_err()
        {
            return Err(format!("the label {label:?} is not a valid internationalised name (A-label)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_named_forms() {
        assert_eq!(
            parse_mailbox("bob@example.test").unwrap(),
            Mailbox { name: None, address: "bob@example.test".into() }
        );
        assert_eq!(parse_mailbox(" <bob@example.test> ").unwrap().address, "bob@example.test");
        let named = parse_mailbox("Ada Lovelace <ada@example.test>").unwrap();
        assert_eq!(named.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(named.to_string(), "Ada Lovelace <ada@example.test>");
        assert_eq!(parse_mailbox("\"Lovelace, Ada\" <ada@x.test>").unwrap().name.as_deref(), Some("Lovelace, Ada"));
        // Quoted pairs are the characters they quote (a backslash stays only when it was quoted itself).
        let quoted = parse_mailbox(r#""Doe, \"JJ\" J\\ohn" <j@x.test>"#).unwrap();
        assert_eq!(quoted.name.as_deref(), Some(r#"Doe, "JJ" J\ohn"#));
        assert_eq!(named.domain(), "example.test");
    }

    #[test]
    fn accepted_addresses() {
        for address in [
            "a@b",
            "first.last+tag@sub.example.test",
            "x@[127.0.0.1]",
            "x@[IPv6:::1]",
            "j\u{f6}rg@b\u{fc}cher.test",
            "o'brien@x.test",
        ] {
            assert_eq!(check_address(address), Ok(()), "{address}");
        }
    }

    #[test]
    fn refused_addresses_say_why() {
        let cases = [
            ("bob", "it has no @"),
            ("bob smith@x.test", "it contains a space"),
            (
                "bob@x.test\r\nRCPT TO:<evil@x.test>",
                "it contains a line break (CR or LF), which would inject a command or header",
            ),
            ("bob@x.test\n", "it contains a line break (CR or LF), which would inject a command or header"),
            ("bob@x\u{0}", "it contains the control character U+0000"),
            ("@x.test", "nothing before the @"),
            ("bob@", "no domain after the @"),
            ("a..b@x.test", "the part before the @ has a misplaced dot"),
            ("a<b@x.test", "the character '<' is not allowed before the @"),
            ("a@x..test", "the domain \"x..test\" has an empty label"),
            ("a@x_y!.test", "the character '!' is not allowed in a domain"),
            ("a@-x.test", "the domain label \"-x\" starts or ends with a hyphen"),
            ("a@[1.2.3]", "[1.2.3] is not an IPv4 or IPv6: address literal"),
            ("\"a b\"@x.test", "it contains a space"),
            ("\"ab\"@x.test", "quoted local parts are not supported"),
            (
                "=?utf-8?q?ceo=40bank.test?=@x.test",
                "the part before the @ contains '=?', which mail readers may decode as an encoded word (RFC 2047) and \
                 show as a different address",
            ),
            ("", "it is empty"),
        ];
        for (address, reason) in cases {
            assert_eq!(check_address(address), Err(reason.to_string()), "{address:?}");
        }
        assert_eq!(
            check_address(&format!("{}@x.test", "a".repeat(65))),
            Err("the part before the @ is 65 bytes long; the limit is 64".into())
        );
        assert_eq!(parse_mailbox("Ada <ada@x.test"), Err("a '<' without a closing '>' at the end".into()));
        assert_eq!(
            check_address("bob@x.test\u{2028}"),
            Err("it contains U+2028, an invisible character, so it is not what it looks like".into())
        );
        assert!(parse_mailbox("Ada\r\nBcc: x@y <ada@x.test>").is_err());
    }

    #[test]
    fn hidden_characters_are_refused() {
        let bidi = |c: u32| {
            format!(
                "it contains U+{c:04X}, a bidirectional control character, which changes the order in which the \
                 text around it is shown"
            )
        };
        let invisible =
            |c: u32| format!("it contains U+{c:04X}, an invisible character, so it is not what it looks like");
        let cases = [
            ("moc.elpmaxe\u{202e}@bob", bidi(0x202E)),
            ("bob@exa\u{2066}mple.test", bidi(0x2066)),
            ("bob\u{200f}@x.test", bidi(0x200F)),
            ("bob@x\u{61c}.test", bidi(0x61C)),
            ("pay\u{200b}pal@x.test", invisible(0x200B)),
            ("bob@pay\u{ad}pal.test", invisible(0xAD)),
            ("\u{feff}bob@x.test", invisible(0xFEFF)),
            ("bob@x.test\u{e0041}", invisible(0xE0041)),
        ];
        for (address, reason) in &cases {
            assert_eq!(check_address(address).as_ref(), Err(reason), "{address:?}");
            assert_eq!(parse_mailbox(&format!("Bob <{address}>")).as_ref(), Err(reason), "{address:?}");
        }
        // The display name is checked too.
        assert_eq!(parse_mailbox("Bob \u{202e}evil <bob@x.test>"), Err(bidi(0x202E)));
        // Joiners are part of some scripts' spelling (and allowed by IDNA in context).
        assert_eq!(check_address("a@\u{0915}\u{094d}\u{200d}x.test"), Ok(()));
    }

    #[test]
    fn helo_names() {
        for name in [
            "mail.example.test",
            "localhost",
            "a-b.c1.test",
            "123.example.test",
            "xn--bcher-kva.test",
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
            "[ipv6:::1]",
            "MX.Example.TEST",
        ] {
            assert_eq!(check_helo_name(name), Ok(()), "{name}");
        }
        let cases = [
            ("mx\r\nMAIL FROM:<a@x>", "it contains a line break (CR or LF), which would inject a command".to_string()),
            ("mx\u{0}", "it contains the control character U+0000".into()),
            ("mx\u{85}", "it contains the control character U+0085".into()),
            ("mx.\u{202e}tset", "it contains U+202E, a bidirectional control character, which changes the order in which the text around it is shown".into()),
            ("mx\u{200b}.test", "it contains U+200B, an invisible character, so it is not what it looks like".into()),
            ("", "it is empty".into()),
            ("mx test", "it contains a space".into()),
            ("b\u{fc}cher.test", "it is not ASCII; EHLO takes an internationalised name in its ASCII form: xn--bcher-kva.test".into()),
            ("\u{fffd}.test", "it is not ASCII, and not a valid internationalised domain name either".into()),
            ("192.0.2.1", "an IP address is given as an address literal, in brackets: [192.0.2.1]".into()),
            ("2001:db8::1", "an IPv6 address is given as an address literal: [IPv6:2001:db8::1]".into()),
            ("[192.0.2.1", "an address literal must end with ']'".into()),
            ("[2001:db8::1]", "[2001:db8::1] is not an address literal: write [192.0.2.1] or [IPv6:2001:db8::1]".into()),
            ("[IPv6:192.0.2.1]", "[IPv6:192.0.2.1] is not an address literal: write [192.0.2.1] or [IPv6:2001:db8::1]".into()),
            ("[x-tag:abc]", "[x-tag:abc] is not an address literal: write [192.0.2.1] or [IPv6:2001:db8::1]".into()),
            ("mx.example.test.", "it ends with a dot; give the name without it".into()),
            ("mx..test", "it has an empty label (two dots in a row, or a dot at the start)".into()),
            (".mx.test", "it has an empty label (two dots in a row, or a dot at the start)".into()),
            ("mx_1.test", "the character '_' is not allowed in a domain name (letters, digits and hyphens)".into()),
            ("mx:25", "the character ':' is not allowed in a domain name (letters, digits and hyphens)".into()),
            ("-mx.test", "the label \"-mx\" starts or ends with a hyphen".into()),
            ("xn--zz.test", "the label \"xn--zz\" is not a valid internationalised name (A-label)".into()),
        ];
        for (name, reason) in cases {
            assert_eq!(check_helo_name(name), Err(reason), "{name:?}");
        }
        let long_label = "a".repeat(64);
        assert_eq!(
            check_helo_name(&format!("{long_label}.test")),
            Err(format!("the label {long_label:?} is 64 characters long; the limit is 63"))
        );
        let long_name = ["a".repeat(63).as_str(); 4].join(".") + ".test";
        assert_eq!(check_helo_name(&long_name), Err("it is 260 characters long; a domain name has at most 253".into()));
    }
}
