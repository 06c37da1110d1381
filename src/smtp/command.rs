//! Each SMTP command a client sends, as a type whose `Display` is the exact wire line (without CRLF).

use std::fmt;

/// A command postie sends. Values are validated before they get here (no CR or LF can reach the wire:
/// see `address` and `app`), so `Display` only formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    Ehlo(&'a str),
    /// RFC 2033 §4.1: LMTP's EHLO.
    Lhlo(&'a str),
    Helo(&'a str),
    /// RFC 5321 §4.1.1.2; an empty path is the null sender `<>` used for bounces and probes.
    MailFrom {
        reverse_path: &'a str,
        parameters: Vec<String>,
    },
    RcptTo {
        forward_path: &'a str,
        parameters: Vec<String>,
    },
    Data,
    StartTls,
    Rset,
    Noop,
    Quit,
}

impl fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Ehlo(name) => write!(f, "EHLO {name}"),
            Command::Lhlo(name) => write!(f, "LHLO {name}"),
            Command::Helo(name) => write!(f, "HELO {name}"),
            Command::MailFrom { reverse_path, parameters } => {
                write!(f, "MAIL FROM:<{reverse_path}>")?;
                parameters.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Command::RcptTo { forward_path, parameters } => {
                write!(f, "RCPT TO:<{forward_path}>")?;
                parameters.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Command::Data => f.write_str("DATA"),
            Command::StartTls => f.write_str("STARTTLS"),
            Command::Rset => f.write_str("RSET"),
            Command::Noop => f.write_str("NOOP"),
            Command::Quit => f.write_str("QUIT"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn wire_lines() {
        assert_eq!(Command::Ehlo("client.example.test").to_string(), "EHLO client.example.test");
        assert_eq!(Command::Helo("[127.0.0.1]").to_string(), "HELO [127.0.0.1]");
        let mail = Command::MailFrom { reverse_path: "a@example.test", parameters: vec![] };
        assert_eq!(mail.to_string(), "MAIL FROM:<a@example.test>");
        let null = Command::MailFrom { reverse_path: "", parameters: vec!["SIZE=1200".into()] };
        assert_eq!(null.to_string(), "MAIL FROM:<> SIZE=1200");
        let rcpt = Command::RcptTo { forward_path: "b@example.test", parameters: vec![] };
        assert_eq!(rcpt.to_string(), "RCPT TO:<b@example.test>");
        assert_eq!(Command::Data.to_string(), "DATA");
        assert_eq!(Command::StartTls.to_string(), "STARTTLS");
        assert_eq!(Command::Rset.to_string(), "RSET");
        assert_eq!(Command::Noop.to_string(), "NOOP");
        assert_eq!(Command::Quit.to_string(), "QUIT");
    }
}
