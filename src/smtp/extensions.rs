//! The ESMTP extensions postie uses, chosen from what the server offers and what the message needs:
//! SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461). A pure function, so every
//! combination is a table test.

use super::codec::Facts;
use super::ehlo::Capabilities;
use super::error::{Error, Missing};

/// Delivery status notification requests (RFC 3461), as the user gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// `NEVER`, or a comma list of `SUCCESS`, `FAILURE`, `DELAY`.
    pub notify: Option<String>,
    /// `FULL` or `HDRS`.
    pub ret: Option<String>,
    pub envid: Option<String>,
}

impl Dsn {
    pub fn is_empty(&self) -> bool {
        self.notify.is_none() && self.ret.is_none() && self.envid.is_none()
    }
}

/// Check `--notify`: `never`, or any of `success`, `failure`, `delay` joined by commas (RFC 3461 §4.1).
pub fn parse_notify(text: &str) -> Result<String, String> {
    let words: Vec<String> = text.split(',').map(|w| w.trim().to_ascii_uppercase()).collect();
    if words == ["NEVER"] {
        return Ok("NEVER".into());
    }
    for word in &words {
        if !matches!(word.as_str(), "SUCCESS" | "FAILURE" | "DELAY") {
            return Err(format!("{word:?} is not one of never, success, failure, delay (never stands alone)"));
        }
    }
    Ok(words.join(","))
}

/// Check `--envid`: printable ASCII, at most 100 characters (RFC 3461 §4.4).
pub fn check_envid(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > 100 || !text.bytes().all(|b| (33..=126).contains(&b)) {
        return Err("it must be 1 to 100 printable ASCII characters without spaces".into());
    }
    Ok(())
}

/// RFC 3461 §4: xtext, `+HH` for `+`, `=` and anything outside printable ASCII.
pub fn xtext(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if (33..=126).contains(&b) && b != b'+' && b != b'=' {
                (b as char).to_string()
            } else {
                format!("+{b:02X}")
            }
        })
        .collect()
}

/// The parameters for MAIL FROM and for each RCPT TO, and notes on what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parameters {
    pub mail: Vec<String>,
    pub rcpt: Vec<Vec<String>>,
    /// DSN was asked for and the server does not offer it: the DSN parameters are left out.
    pub dsn_ignored: bool,
}

pub fn parameters(
    capabilities: &Capabilities,
    facts: &Facts,
    reverse_path: &str,
    recipients: &[String],
    dsn: &Dsn,
) -> Result<Parameters, Error> {
    let mut parameters = Parameters::default();
    let server = capabilities.display_name().to_string();
    if let Some(limit) = capabilities.size_limit() {
        if facts.size > limit {
            return Err(Error::MessageTooLarge { size: facts.size, limit });
        }
    }
    if capabilities.has("SIZE") {
        parameters.mail.push(format!("SIZE={}", facts.size));
    }
    // SMTPUTF8 first: a UTF-8 address also makes the headers 8-bit, and the address is the cause to name.
    let utf8_address =
        std::iter::once(reverse_path).chain(recipients.iter().map(String::as_str)).find(|a| !a.is_ascii());
    if utf8_address.is_some() || facts.eight_bit_headers {
        if !capabilities.has("SMTPUTF8") {
            let address = utf8_address.map(str::to_string);
            return Err(Error::Unsupported(Missing::Smtputf8 { address, server }));
        }
        parameters.mail.push("SMTPUTF8".into());
    }
    if facts.eight_bit {
        if !capabilities.has("8BITMIME") {
            return Err(Error::Unsupported(Missing::EightBitMime { server }));
        }
        parameters.mail.push("BODY=8BITMIME".into());
    }
    let use_dsn = !dsn.is_empty() && capabilities.has("DSN");
    parameters.dsn_ignored = !dsn.is_empty() && !use_dsn;
    if use_dsn {
        if let Some(ret) = &dsn.ret {
            parameters.mail.push(format!("RET={ret}"));
        }
        if let Some(envid) = &dsn.envid {
            parameters.mail.push(format!("ENVID={}", xtext(envid)));
        }
    }
    for recipient in recipients {
        let mut rcpt = Vec::new();
        if use_dsn {
            if let Some(notify) = &dsn.notify {
                rcpt.push(format!("NOTIFY={notify}"));
            }
            // ORCPT keeps the address as given; an address with UTF-8 has no rfc822 xtext form.
            if recipient.is_ascii() {
                rcpt.push(format!("ORCPT=rfc822;{}", xtext(recipient)));
            }
        }
        parameters.rcpt.push(rcpt);
    }
    Ok(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    fn capabilities(lines: &[&str]) -> Capabilities {
        let mut reply = String::from("250-mx.test\r\n");
        for (i, line) in lines.iter().enumerate() {
            reply.push_str(&format!("250{}{line}\r\n", if i + 1 == lines.len() { ' ' } else { '-' }));
        }
        if lines.is_empty() {
            reply = "250 mx.test\r\n".into();
        }
        Capabilities::from_ehlo(&parse_reply(&reply))
    }

    fn facts(size: u64, eight_bit: bool) -> Facts {
        Facts { size, lines: 1, eight_bit, eight_bit_headers: false }
    }

    #[test]
    fn nothing_offered_nothing_sent() {
        let p = parameters(&capabilities(&[]), &facts(10, false), "a@x.test", &["b@x.test".into()], &Dsn::default())
            .unwrap();
        assert_eq!(p, Parameters { mail: vec![], rcpt: vec![vec![]], dsn_ignored: false });
    }

    #[test]
    fn size_and_8bitmime() {
        let caps = capabilities(&["SIZE 1000", "8BITMIME"]);
        let p = parameters(&caps, &facts(999, true), "a@x.test", &["b@x.test".into()], &Dsn::default()).unwrap();
        assert_eq!(p.mail, ["SIZE=999", "BODY=8BITMIME"]);
        let error = parameters(&caps, &facts(1001, false), "a@x.test", &[], &Dsn::default()).unwrap_err();
        assert_eq!(error.to_string(), "the message is 1001 bytes and the server accepts at most 1000 (SIZE, RFC 1870)");
    }

    #[test]
    fn eight_bit_without_8bitmime_is_refused() {
        let error =
            parameters(&capabilities(&["SIZE"]), &facts(5, true), "a@x.test", &[], &Dsn::default()).unwrap_err();
        assert!(
            error.to_string().starts_with("the message has 8-bit content and mx.test does not offer 8BITMIME"),
            "{error}"
        );
    }

    #[test]
    fn smtputf8() {
        let recipients = vec!["jörg@x.test".to_string()];
        let p = parameters(&capabilities(&["SMTPUTF8"]), &facts(5, false), "a@x.test", &recipients, &Dsn::default())
            .unwrap();
        assert_eq!(p.mail, ["SMTPUTF8"]);
        let error =
            parameters(&capabilities(&["8BITMIME"]), &facts(5, false), "a@x.test", &recipients, &Dsn::default())
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the address jörg@x.test needs SMTPUTF8 (RFC 6531), which mx.test does not offer"
        );
    }

    #[test]
    fn dsn_parameters() {
        let dsn =
            Dsn { notify: Some("SUCCESS,FAILURE".into()), ret: Some("HDRS".into()), envid: Some("id+1=x".into()) };
        let p = parameters(&capabilities(&["DSN"]), &facts(5, false), "a@x.test", &["b@x.test".into()], &dsn).unwrap();
        assert_eq!(p.mail, ["RET=HDRS", "ENVID=id+2B1+3Dx"]);
        assert_eq!(p.rcpt, [vec!["NOTIFY=SUCCESS,FAILURE".to_string(), "ORCPT=rfc822;b@x.test".to_string()]]);
        let without = parameters(&capabilities(&[]), &facts(5, false), "a@x.test", &["b@x.test".into()], &dsn).unwrap();
        assert_eq!(without.rcpt, [Vec::<String>::new()]);
        assert!(without.dsn_ignored);
    }

    #[test]
    fn notify_values() {
        assert_eq!(parse_notify("success, failure").unwrap(), "SUCCESS,FAILURE");
        assert_eq!(parse_notify("never").unwrap(), "NEVER");
        assert!(parse_notify("never,success").is_err());
        assert!(parse_notify("sometimes").is_err());
        assert!(check_envid("a b").is_err());
        assert!(check_envid("abc-123").is_ok());
    }
}
