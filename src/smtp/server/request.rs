//! The server side of a command line: what a client asked for, parsed from the bytes it sent. The client's
//! own commands are `smtp::command` (a type whose `Display` is the wire line); this is the other direction,
//! and it must take any bytes at all, so it returns a reply-worthy problem instead of panicking.
//!
//! RFC 5321 §4.1.1 (the verbs), §4.1.2 (path syntax, parameters), §4.5.3.1.4 (command line length);
//! RFC 3030 (BDAT), RFC 4954 (AUTH), RFC 3207 (STARTTLS), RFC 2033 (LHLO).

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Ehlo(String),
    Helo(String),
    Lhlo(String),
    /// RFC 5321 §4.1.1.2; an empty path is the null sender.
    Mail {
        path: String,
        parameters: Vec<Parameter>,
    },
    Rcpt {
        path: String,
        parameters: Vec<Parameter>,
    },
    Data,
    /// RFC 3030 §2: `BDAT size [LAST]`.
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    StartTls,
    /// RFC 4954 §4: the mechanism, upper-cased, and the initial response if given (`=` is an empty one).
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
    Vrfy,
    Expn,
    Help,
}

/// An ESMTP parameter (`SIZE=1000`, `SMTPUTF8`): the keyword upper-cased, the value as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub keyword: String,
    pub value: Option<String>,
}

/// Why a line is not a command this server takes: each is answered, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// 500: not a verb this server knows.
    Unknown(String),
    /// 501: the verb is known, its arguments are not right.
    Syntax(&'static str),
    /// 500 5.5.2 (RFC 5321 §4.1.1): not text at all.
    NotText,
}

impl Problem {
    /// The reply code and its words.
    pub fn reply(&self) -> (u16, &'static str, String) {
        match self {
            Problem::Unknown(verb) => (500, "5.5.2", format!("command not recognised: {verb}")),
            Problem::Syntax(what) => (501, "5.5.4", format!("syntax error: {what}")),
            Problem::NotText => (500, "5.5.2", "command is not text".into()),
        }
    }
}

/// Parse one command line, without its line ending.
pub fn parse(line: &[u8]) -> Result<Request, Problem> {
    let text = std::str::from_utf8(line).map_err(|_| Problem::NotText)?;
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Problem::NotText);
    }
    let (verb, rest) = match text.find(' ') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let upper = verb.to_ascii_uppercase();
    let shown = || {
        let mut shown: String = verb.chars().take(20).collect();
        if verb.chars().count() > 20 {
            shown.push('…');
        }
        shown
    };
    let rest_trimmed = rest.trim();
    let no_arguments = |request: Request| {
        if rest_trimmed.is_empty() {
            Ok(request)
        } else {
            Err(Problem::Syntax("this command takes no arguments"))
        }
    };
    match upper.as_str() {
        "EHLO" | "HELO" | "LHLO" => {
            let name = rest_trimmed;
            if name.is_empty() || name.contains(' ') {
                return Err(Problem::Syntax("give one domain or address literal"));
            }
            let name = name.to_string();
            Ok(match upper.as_str() {
                "EHLO" => Request::Ehlo(name),
                "HELO" => Request::Helo(name),
                _ => Request::Lhlo(name),
            })
        }
        "MAIL" => {
            let (path, parameters) = path_and_parameters(rest, "FROM:")?;
            Ok(Request::Mail { path, parameters })
        }
        "RCPT" => {
            let (path, parameters) = path_and_parameters(rest, "TO:")?;
            if path.is_empty() {
                return Err(Problem::Syntax("a recipient cannot be the null path <>"));
            }
            Ok(Request::Rcpt { path, parameters })
        }
        "DATA" => no_arguments(Request::Data),
        "BDAT" => {
            let mut words = rest_trimmed.split(' ').filter(|w| !w.is_empty());
            let size = words.next().ok_or(Problem::Syntax("BDAT needs a size"))?;
            if !size.bytes().all(|b| b.is_ascii_digit()) || size.len() > 18 {
                return Err(Problem::Syntax("the BDAT size is not a number"));
            }
            let size: u64 = size.parse().map_err(|_| Problem::Syntax("the BDAT size is not a number"))?;
            let last = match words.next() {
                None => false,
                Some(word) if word.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return Err(Problem::Syntax("after the BDAT size only LAST may follow")),
            };
            if words.next().is_some() {
                return Err(Problem::Syntax("after the BDAT size only LAST may follow"));
            }
            Ok(Request::Bdat { size, last })
        }
        "RSET" => no_arguments(Request::Rset),
        // RFC 5321 §4.1.1.9: NOOP may have a string argument, which is ignored.
        "NOOP" => Ok(Request::Noop),
        "QUIT" => no_arguments(Request::Quit),
        "STARTTLS" => no_arguments(Request::StartTls),
        "AUTH" => {
            let mut words = rest_trimmed.split(' ').filter(|w| !w.is_empty());
            let mechanism = words.next().ok_or(Problem::Syntax("AUTH needs a mechanism"))?.to_ascii_uppercase();
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(Problem::Syntax("AUTH takes a mechanism and at most an initial response"));
            }
            Ok(Request::Auth { mechanism, initial })
        }
        "VRFY" => Ok(Request::Vrfy),
        "EXPN" => Ok(Request::Expn),
        "HELP" => Ok(Request::Help),
        _ => Err(Problem::Unknown(shown())),
    }
}

/// `FROM:<path> PARAM...` (the keyword given). A space after the colon is tolerated (many clients send it,
/// RFC 5321 §4.1.2 does not), the angle brackets are not optional.
fn path_and_parameters(rest: &str, keyword: &str) -> Result<(String, Vec<Parameter>), Problem> {
    let head = rest.get(..keyword.len()).filter(|head| head.eq_ignore_ascii_case(keyword));
    let Some(head) = head else {
        return Err(Problem::Syntax(if keyword == "FROM:" {
            "expected FROM:<address>"
        } else {
            "expected TO:<address>"
        }));
    };
    let after = rest[head.len()..].trim_start();
    let after = after.strip_prefix('<').ok_or(Problem::Syntax("the address must be in angle brackets"))?;
    let close = after.find('>').ok_or(Problem::Syntax("the address must be in angle brackets"))?;
    let mut path = &after[..close];
    // RFC 5321 §4.1.2, appendix C: a source route `@a,@b:` before the mailbox is accepted and ignored.
    if path.starts_with('@') {
        path = path.split_once(':').map(|(_, mailbox)| mailbox).ok_or(Problem::Syntax("a bad source route"))?;
    }
    if path.contains(['<', '>', ' ']) {
        return Err(Problem::Syntax("the address has a space or an angle bracket in it"));
    }
    if !path.is_empty() && !path.contains('@') && !path.eq_ignore_ascii_case("postmaster") {
        return Err(Problem::Syntax("the address has no @domain"));
    }
    let mut parameters = Vec::new();
    for word in after[close + 1..].split(' ').filter(|w| !w.is_empty()) {
        let (keyword, value) = match word.split_once('=') {
            Some((keyword, value)) => (keyword, Some(value.to_string())),
            None => (word, None),
        };
        if keyword.is_empty() || !keyword.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Problem::Syntax("a parameter is not KEYWORD or KEYWORD=VALUE"));
        }
        parameters.push(Parameter { keyword: keyword.to_ascii_uppercase(), value });
    }
    Ok((path.to_string(), parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(keyword: &str, value: Option<&str>) -> Parameter {
        Parameter { keyword: keyword.into(), value: value.map(String::from) }
    }

    #[test]
    fn verbs_are_case_insensitive() {
        assert_eq!(parse(b"ehlo client.example.test"), Ok(Request::Ehlo("client.example.test".into())));
        assert_eq!(parse(b"Helo [127.0.0.1]"), Ok(Request::Helo("[127.0.0.1]".into())));
        assert_eq!(parse(b"LHLO x"), Ok(Request::Lhlo("x".into())));
        assert_eq!(parse(b"quit"), Ok(Request::Quit));
        assert_eq!(parse(b"NOOP anything"), Ok(Request::Noop));
        assert_eq!(parse(b"starttls"), Ok(Request::StartTls));
    }

    #[test]
    fn paths_and_parameters() {
        assert_eq!(
            parse(b"MAIL FROM:<a@example.test> SIZE=100 body=8BITMIME SMTPUTF8"),
            Ok(Request::Mail {
                path: "a@example.test".into(),
                parameters: vec![
                    parameter("SIZE", Some("100")),
                    parameter("BODY", Some("8BITMIME")),
                    parameter("SMTPUTF8", None)
                ]
            })
        );
        assert_eq!(parse(b"MAIL FROM:<>"), Ok(Request::Mail { path: String::new(), parameters: vec![] }));
        assert_eq!(parse(b"mail from: <a@b.test>"), Ok(Request::Mail { path: "a@b.test".into(), parameters: vec![] }));
        assert_eq!(
            parse(b"RCPT TO:<@relay.test:b@c.test> NOTIFY=NEVER"),
            Ok(Request::Rcpt { path: "b@c.test".into(), parameters: vec![parameter("NOTIFY", Some("NEVER"))] })
        );
        assert_eq!(parse(b"RCPT TO:<Postmaster>"), Ok(Request::Rcpt { path: "Postmaster".into(), parameters: vec![] }));
    }

    #[test]
    fn bdat_and_auth() {
        assert_eq!(parse(b"BDAT 100 LAST"), Ok(Request::Bdat { size: 100, last: true }));
        assert_eq!(parse(b"bdat 0"), Ok(Request::Bdat { size: 0, last: false }));
        assert_eq!(
            parse(b"AUTH plain AGFsaWNlAHB3"),
            Ok(Request::Auth { mechanism: "PLAIN".into(), initial: Some("AGFsaWNlAHB3".into()) })
        );
        assert_eq!(parse(b"AUTH LOGIN"), Ok(Request::Auth { mechanism: "LOGIN".into(), initial: None }));
    }

    #[test]
    fn problems() {
        assert_eq!(parse(b"XYZZY"), Err(Problem::Unknown("XYZZY".into())));
        assert_eq!(parse(b"MAIL a@b.test"), Err(Problem::Syntax("expected FROM:<address>")));
        assert_eq!(parse(b"MAIL FROM:a@b.test"), Err(Problem::Syntax("the address must be in angle brackets")));
        assert_eq!(parse(b"RCPT TO:<>"), Err(Problem::Syntax("a recipient cannot be the null path <>")));
        assert_eq!(parse(b"RCPT TO:<nobody>"), Err(Problem::Syntax("the address has no @domain")));
        assert_eq!(parse(b"DATA now"), Err(Problem::Syntax("this command takes no arguments")));
        assert_eq!(parse(b"BDAT x"), Err(Problem::Syntax("the BDAT size is not a number")));
        assert_eq!(parse(b"BDAT 99999999999999999999"), Err(Problem::Syntax("the BDAT size is not a number")));
        assert_eq!(parse(b"EHLO"), Err(Problem::Syntax("give one domain or address literal")));
        assert_eq!(parse(b"\xff\xfe"), Err(Problem::NotText));
        assert_eq!(parse(b"NOOP \x1b[2J"), Err(Problem::NotText));
        assert_eq!(parse(b"MAIL FROM:<a@b.test> S=\x00"), Err(Problem::NotText));
        let long = format!("{}X", "A".repeat(40));
        assert_eq!(parse(long.as_bytes()), Err(Problem::Unknown(format!("{}…", "A".repeat(20)))));
    }
}
