//! Mail addresses from the command line, checked before anything is sent.
//!
//! An address goes into a command line (`RCPT TO:<…>`) and into a header, so a CR or LF in it would let the
//! user (or whoever built the user's arguments) inject commands or headers. Everything that is not a plain
//! `local@domain` is refused here with a message that says what is wrong.

use std::fmt;

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
        let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name).trim();
        check_address(inner)?;
        let name = (!name.is_empty()).then(|| name.to_string());
        return Ok(Mailbox { name, address: inner.to_string() });
    }
    check_address(trimmed)?;
    Ok(Mailbox { name: None, address: trimmed.to_string() })
}

fn reject_controls(input: &str) -> Result<(), String> {
    if input.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a command or header".into());
    }
    if let Some(c) = input.chars().find(|c| c.is_control()) {
        return Err(format!("it contains the control character U+{:04X}", c as u32));
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
        assert!(parse_mailbox("Ada\r\nBcc: x@y <ada@x.test>").is_err());
    }
}
