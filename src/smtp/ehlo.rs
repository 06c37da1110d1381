//! What a server offers, read from its EHLO reply (RFC 5321 §4.1.1.1: the first line greets, each further
//! line is a keyword with optional parameters).

use super::reply::Reply;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The name the server gave on the first line of its EHLO reply.
    pub server_name: String,
    /// Each extension keyword (upper case) with its parameters as sent.
    pub extensions: Vec<(String, Vec<String>)>,
}

impl Capabilities {
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut texts = reply.texts().map(|text| String::from_utf8_lossy(text).into_owned());
        let server_name = texts.next().unwrap_or_default().split(' ').next().unwrap_or_default().to_string();
        let extensions = texts
            .filter_map(|line| {
                let mut words = line.split_ascii_whitespace();
                let keyword = words.next()?.to_ascii_uppercase();
                Some((keyword, words.map(str::to_string).collect()))
            })
            .collect();
        Capabilities { server_name, extensions }
    }

    /// The server's name for messages, or "the server" when its EHLO reply gave none.
    pub fn display_name(&self) -> &str {
        if self.server_name.is_empty() {
            "the server"
        } else {
            &self.server_name
        }
    }

    pub fn has(&self, keyword: &str) -> bool {
        self.parameters(keyword).is_some()
    }

    pub fn parameters(&self, keyword: &str) -> Option<&[String]> {
        self.extensions.iter().find(|(k, _)| k.eq_ignore_ascii_case(keyword)).map(|(_, p)| p.as_slice())
    }

    /// RFC 1870: the largest message the server accepts; `None` when SIZE is absent, or present with no
    /// limit (SIZE 0 or no number).
    pub fn size_limit(&self) -> Option<u64> {
        let limit: u64 = self.parameters("SIZE")?.first()?.parse().ok()?;
        (limit > 0).then_some(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    #[test]
    fn postfix_ehlo_reply() {
        let reply = parse_reply(
            "250-mx.postie.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n\
             250-8BITMIME\r\n250 smtputf8\r\n",
        );
        let capabilities = Capabilities::from_ehlo(&reply);
        assert_eq!(capabilities.server_name, "mx.postie.test");
        assert!(capabilities.has("PIPELINING"));
        assert!(capabilities.has("SMTPUTF8"), "keywords are case-insensitive");
        assert!(!capabilities.has("CHUNKING"));
        assert_eq!(capabilities.size_limit(), Some(10_240_000));
        assert_eq!(capabilities.parameters("AUTH").unwrap(), ["PLAIN", "LOGIN"]);
    }

    #[test]
    fn size_without_a_limit() {
        let capabilities = Capabilities::from_ehlo(&parse_reply("250-x\r\n250 SIZE\r\n"));
        assert!(capabilities.has("SIZE"));
        assert_eq!(capabilities.size_limit(), None);
        let zero = Capabilities::from_ehlo(&parse_reply("250-x\r\n250 SIZE 0\r\n"));
        assert_eq!(zero.size_limit(), None);
    }

    #[test]
    fn bare_final_line_is_ignored() {
        // smtp-sink ends its EHLO reply with "250 ".
        let capabilities = Capabilities::from_ehlo(&parse_reply("250-sink\r\n250-PIPELINING\r\n250 \r\n"));
        assert_eq!(capabilities.extensions.len(), 1);
    }
}
