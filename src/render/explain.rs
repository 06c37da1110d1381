//! Replies and capabilities in plain words: the basic reply codes of RFC 5321 §4.2 and the enhanced status
//! codes of RFC 3463 and the IANA "SMTP Enhanced Status Codes" registry. One table, tested.

use crate::smtp::reply::Reply;

/// One line explaining a reply: what its code says, and whether it is temporary or permanent.
pub fn reply(reply: &Reply) -> String {
    let class = match reply.code.0 / 100 {
        2 => "success",
        3 => "go on",
        4 => "temporary failure (retrying later may work)",
        _ => "permanent failure (retrying will not help)",
    };
    // 530 is "authentication required" (RFC 4954) and, with STARTTLS in its text, "must issue a STARTTLS
    // command first" (RFC 3207 §4, as Postfix and others answer a MAIL in clear text).
    let starttls = reply.texts().any(|t| String::from_utf8_lossy(t).to_ascii_uppercase().contains("STARTTLS"));
    let basic = match reply.code.0 {
        530 if starttls => {
            "must issue STARTTLS first (RFC 3207): the server takes no mail over an unencrypted connection"
        }
        code => basic_code(code),
    };
    match reply.enhanced {
        Some(enhanced) => {
            let detail = enhanced_code(enhanced.subject, enhanced.detail)
                .map_or_else(|| subject_class(enhanced.subject).to_string(), str::to_string);
            format!("{} {enhanced}: {class}: {basic}; {detail}", reply.code)
        }
        None => format!("{}: {class}: {basic}", reply.code),
    }
}

/// RFC 5321 §4.2.2 and §4.2.3.
pub fn basic_code(code: u16) -> &'static str {
    match code {
        211 => "system status",
        214 => "help message",
        220 => "service ready",
        221 => "closing the connection",
        235 => "authentication succeeded",
        250 => "requested action completed",
        251 => "user not local; will forward",
        252 => "cannot verify the user, but will accept the message",
        334 => "authentication challenge",
        354 => "start the message; end it with a line holding a single dot",
        421 => "service not available; the server is closing the connection",
        432 => "a password transition is needed",
        450 => "mailbox unavailable (busy or blocked for policy)",
        451 => "local error in processing",
        452 => "insufficient system storage, or too many recipients",
        454 => "temporary authentication or TLS failure",
        455 => "server cannot take the parameters now",
        500 => "syntax error, command unrecognised",
        501 => "syntax error in parameters or arguments",
        502 => "command not implemented",
        503 => "bad sequence of commands",
        504 => "command parameter not implemented",
        521 => "this host does not accept mail",
        530 => "authentication required",
        534 => "authentication mechanism is too weak",
        535 => "authentication credentials invalid",
        538 => "encryption required for this authentication mechanism",
        550 => "mailbox unavailable (not found, no access, or refused for policy)",
        551 => "user not local",
        552 => "exceeded storage allocation (message too large or mailbox full)",
        553 => "mailbox name not allowed",
        554 => "transaction failed (or, as a greeting, no SMTP service here)",
        555 => "MAIL or RCPT parameters not recognised or not implemented",
        556 => "the domain does not accept mail",
        c if c / 100 == 2 => "success",
        c if c / 100 == 3 => "intermediate reply",
        c if c / 100 == 4 => "transient negative completion",
        _ => "permanent negative completion",
    }
}

/// RFC 3463 §3: what the middle number is about.
fn subject_class(subject: u16) -> &'static str {
    match subject {
        0 => "other or undefined status",
        1 => "addressing status",
        2 => "mailbox status",
        3 => "mail system status",
        4 => "network and routing status",
        5 => "mail delivery protocol status",
        6 => "message content or media status",
        7 => "security or policy status",
        _ => "unknown status class",
    }
}

/// RFC 3463 §3.1-3.8 and the IANA registry (RFC 4954, 5248, 7372, 7505, 8689 among others).
pub fn enhanced_code(subject: u16, detail: u16) -> Option<&'static str> {
    Some(match (subject, detail) {
        (0, 0) => "other undefined status",
        (1, 0) => "other address status",
        (1, 1) => "bad destination mailbox address (the mailbox does not exist)",
        (1, 2) => "bad destination system address (the domain does not exist or accepts no mail)",
        (1, 3) => "bad destination mailbox address syntax",
        (1, 4) => "destination mailbox address ambiguous",
        (1, 5) => "destination address valid",
        (1, 6) => "destination mailbox has moved, no forwarding address",
        (1, 7) => "bad sender's mailbox address syntax",
        (1, 8) => "bad sender's system address",
        (1, 9) => "message relayed to a non-compliant mailer",
        (1, 10) => "recipient address has a null MX",
        (2, 0) => "other or undefined mailbox status",
        (2, 1) => "mailbox disabled, not accepting messages",
        (2, 2) => "mailbox full",
        (2, 3) => "message length exceeds the administrative limit",
        (2, 4) => "mailing list expansion problem",
        (3, 0) => "other or undefined mail system status",
        (3, 1) => "mail system full",
        (3, 2) => "system not accepting network messages",
        (3, 3) => "system not capable of selected features",
        (3, 4) => "message too big for the system",
        (3, 5) => "system incorrectly configured",
        (3, 6) => "requested priority was changed",
        (4, 0) => "other or undefined network or routing status",
        (4, 1) => "no answer from host",
        (4, 2) => "bad connection",
        (4, 3) => "directory server failure",
        (4, 4) => "unable to route",
        (4, 5) => "mail system congestion",
        (4, 6) => "routing loop detected",
        (4, 7) => "delivery time expired",
        (5, 0) => "other or undefined protocol status",
        (5, 1) => "invalid command",
        (5, 2) => "syntax error",
        (5, 3) => "too many recipients",
        (5, 4) => "invalid command arguments",
        (5, 5) => "wrong protocol version",
        (5, 6) => "authentication exchange line is too long",
        (6, 0) => "other or undefined media error",
        (6, 1) => "media not supported",
        (6, 2) => "conversion required and prohibited",
        (6, 3) => "conversion required but not supported",
        (6, 4) => "conversion with loss performed",
        (6, 5) => "conversion failed",
        (6, 6) => "message content not available",
        (6, 7) => "non-ASCII addresses not permitted for that sender or recipient (SMTPUTF8 needed)",
        (6, 8) => "UTF-8 string reply is required, but not permitted by the client",
        (6, 9) => "UTF-8 header message cannot be transferred to one or more recipients",
        (7, 0) => "other or undefined security status",
        (7, 1) => "delivery not authorized, message refused (often relay denied or policy)",
        (7, 2) => "mailing list expansion prohibited",
        (7, 3) => "security conversion required but not possible",
        (7, 4) => "security features not supported",
        (7, 5) => "cryptographic failure",
        (7, 6) => "cryptographic algorithm not supported",
        (7, 7) => "message integrity failure",
        (7, 8) => "authentication credentials invalid",
        (7, 9) => "authentication mechanism is too weak",
        (7, 10) => "encryption needed",
        (7, 11) => "encryption required for the requested authentication mechanism",
        (7, 12) => "a password transition is needed",
        (7, 13) => "user account disabled",
        (7, 14) => "trust relationship required",
        (7, 15) => "priority level is too low",
        (7, 16) => "message is too big for the specified priority",
        (7, 17) => "mailbox owner has changed",
        (7, 18) => "domain owner has changed",
        (7, 19) => "RRVS test cannot be completed",
        (7, 20) => "no passing DKIM signature found",
        (7, 21) => "no acceptable DKIM signature found",
        (7, 22) => "no valid author-matched DKIM signature found",
        (7, 23) => "SPF validation failed",
        (7, 24) => "SPF validation error",
        (7, 25) => "reverse DNS validation failed",
        (7, 26) => "multiple authentication checks failed (DMARC, SPF, DKIM)",
        (7, 27) => "sender address has a null MX",
        (7, 28) => "mail flood detected",
        (7, 29) => "ARC validation failure",
        (7, 30) => "REQUIRETLS support required",
        _ => return None,
    })
}

/// What an EHLO keyword offers, in a few words (with its parameters where they matter).
pub fn capability(keyword: &str, parameters: &[String]) -> String {
    match keyword.to_ascii_uppercase().as_str() {
        "SIZE" => match parameters.first().and_then(|p| p.parse::<u64>().ok()) {
            Some(0) | None => "SIZE: announces message sizes; no fixed limit (RFC 1870)".into(),
            Some(limit) => format!("SIZE: messages up to {:.1} MB (RFC 1870)", limit as f64 / 1_000_000.0),
        },
        "PIPELINING" => "PIPELINING: commands may be sent in batches (RFC 2920)".into(),
        "8BITMIME" => "8BITMIME: 8-bit message content accepted (RFC 6152)".into(),
        "SMTPUTF8" => "SMTPUTF8: UTF-8 addresses and headers accepted (RFC 6531)".into(),
        "CHUNKING" => "CHUNKING: BDAT, messages in sized chunks (RFC 3030)".into(),
        "BINARYMIME" => "BINARYMIME: binary content with BDAT (RFC 3030)".into(),
        "DSN" => "DSN: delivery status notifications on request (RFC 3461)".into(),
        "ENHANCEDSTATUSCODES" => "ENHANCEDSTATUSCODES: replies carry x.y.z codes (RFC 2034)".into(),
        "STARTTLS" => "STARTTLS: the session can be encrypted (RFC 3207)".into(),
        "AUTH" => format!(
            "AUTH: login with {} (RFC 4954)",
            if parameters.is_empty() { "no mechanism named".into() } else { parameters.join(", ") }
        ),
        "REQUIRETLS" => "REQUIRETLS: the message can require TLS on every hop (RFC 8689)".into(),
        "VRFY" => "VRFY: addresses can be verified (RFC 5321 §3.5)".into(),
        "EXPN" => "EXPN: mailing lists can be expanded (RFC 5321 §3.5)".into(),
        "ETRN" => "ETRN: a remote queue run can be requested (RFC 1985)".into(),
        "DELIVERBY" => "DELIVERBY: a delivery deadline can be set (RFC 2852)".into(),
        "MT-PRIORITY" => "MT-PRIORITY: message priorities (RFC 6710)".into(),
        "HELP" => "HELP: help text is available".into(),
        other => format!("{other}: an extension postie does not know"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    #[test]
    fn a_530_about_starttls_says_so() {
        let text = reply(&parse_reply("530 5.7.0 Must issue a STARTTLS command first\r\n"));
        assert!(
            text.starts_with("530 5.7.0: permanent failure (retrying will not help): must issue STARTTLS first"),
            "{text}"
        );
        let auth = reply(&parse_reply("530 5.7.0 Authentication required\r\n"));
        assert!(auth.contains("authentication required"), "{auth}");
    }

    #[test]
    fn replies() {
        assert_eq!(
            reply(&parse_reply("550 5.1.1 <x@y>: unknown\r\n")),
            "550 5.1.1: permanent failure (retrying will not help): mailbox unavailable (not found, no access, or \
             refused for policy); bad destination mailbox address (the mailbox does not exist)"
        );
        assert_eq!(
            reply(&parse_reply("454 4.7.1 <x@y>: Relay access denied\r\n")),
            "454 4.7.1: temporary failure (retrying later may work): temporary authentication or TLS failure; delivery \
             not authorized, message refused (often relay denied or policy)"
        );
        assert_eq!(
            reply(&parse_reply("550 5.7.26 DMARC\r\n")),
            "550 5.7.26: permanent failure (retrying will not help): mailbox unavailable (not found, no access, or \
             refused for policy); multiple authentication checks failed (DMARC, SPF, DKIM)"
        );
        assert_eq!(reply(&parse_reply("421 closing\r\n")), "421: temporary failure (retrying later may work): service not available; the server is closing the connection");
        assert!(reply(&parse_reply("550 5.9.99 new\r\n")).ends_with("; unknown status class"));
        assert!(reply(&parse_reply("250 2.0.0 Ok\r\n")).starts_with("250 2.0.0: success: requested action completed"));
    }

    #[test]
    fn every_registry_subject_has_its_detail_zero() {
        for subject in 0..=7 {
            assert!(enhanced_code(subject, 0).is_some(), "{subject}.0");
        }
    }

    #[test]
    fn capabilities() {
        assert_eq!(capability("SIZE", &["10240000".into()]), "SIZE: messages up to 10.2 MB (RFC 1870)");
        assert_eq!(capability("auth", &["PLAIN".into(), "LOGIN".into()]), "AUTH: login with PLAIN, LOGIN (RFC 4954)");
        assert_eq!(capability("X-FOO", &[]), "X-FOO: an extension postie does not know");
    }
}
