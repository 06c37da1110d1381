//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served at
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, and whether an MX host is one the policy allows. The DNS
//! lookup and the HTTPS fetch are the caller's; this file only reads what they bring back.

use std::fmt;

use super::record::{self, quote, quote_char};

/// Largest policy file read, in bytes. RFC 8461 §3.3 lets senders limit the size of the response and
/// suggests 64 kilobytes; a real policy is a few hundred bytes. The caller fetching the file should stop
/// reading past this size; [`parse_policy`] refuses anything larger.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Longest `max_age` a policy may give: one year of 365.25 days, in seconds (RFC 8461 §3.2).
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

const RECORD_VERSION: &str = "v=STSv1";

/// The `_mta-sts` TXT record: it says a policy exists and names its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsRecord {
    /// 1 to 32 letters and digits; it changes whenever the policy does, so a sender knows when to fetch the
    /// policy again (RFC 8461 §3.1).
    pub id: String,
}

/// Read an `_mta-sts` TXT record (RFC 8461 §3.1), such as `v=STSv1; id=20240101T000000;`. `v=STSv1` comes
/// first; `id` is required; other fields are ignored if they are well formed. A field given twice counts
/// the first time only (RFC 8461 §3.2, which speaks of both the TXT record and the policy file). A record of
/// several strings must be joined without spaces first (§3.1).
pub fn parse_sts_record(txt: &str) -> Result<StsRecord, String> {
    let mut id = None;
    for (name, value) in record::fields(txt, RECORD_VERSION)? {
        match name {
            "id" => {
                if id.is_none() {
                    if value.is_empty() || value.len() > 32 || !value.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
                        return Err(format!(
                            "the MTA-STS id {} is not 1 to 32 letters and digits (RFC 8461 §3.1)",
                            quote(value)
                        ));
                    }
                    id = Some(value.to_string());
                }
            }
            _ => record::check_extension(name, value)?,
        }
    }
    match id {
        Some(id) => Ok(StsRecord { id }),
        None => Err(format!("the MTA-STS record has no id field (RFC 8461 §3.1 requires one): {}", quote(txt))),
    }
}

/// The MTA-STS record among the TXT records of `_mta-sts.DOMAIN` (each one's strings joined): `None` when no
/// record starts with `v=STSv1`. RFC 8461 §3.1: other records are ignored, and when more than one record is
/// left, or it is invalid, senders act as if there were no policy; both are errors here, so that the caller
/// can report `sts-policy-invalid` (RFC 8460 §4.3.2.2).
pub fn select_sts_record(txts: &[String]) -> Result<Option<StsRecord>, String> {
    let rule = "RFC 8461 §3.1 says senders treat that as no policy";
    match record::select(txts, RECORD_VERSION, "MTA-STS", rule)? {
        Some(txt) => parse_sts_record(txt).map(Some),
        None => Ok(None),
    }
}

/// What a sender does when the checks of RFC 8461 §4 fail (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Do not deliver to an MX host that fails: not in the policy, no STARTTLS, or a certificate that does not
    /// pass PKIX for its name.
    Enforce,
    /// Deliver anyway, but report the failure (TLS-RPT, RFC 8460).
    Testing,
    /// No policy is in force; a domain publishes this to withdraw one.
    None,
}

impl Mode {
    /// The value as a policy file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An MTA-STS policy file (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// The MX host patterns, as written (`mail.example.com`, `*.example.net`): ASCII names (A-labels), with
    /// no control character or white space. Empty only when the mode is `none`.
    pub mx: Vec<String>,
    /// How long, in seconds, a sender may keep the policy: at most [`MAX_AGE_LIMIT`].
    pub max_age: u32,
    /// Lines that repeated a field other than `mx` and were ignored (RFC 8461 §3.2: the first one counts),
    /// described for a diagnostic, as in `line 5: a second mode, ignored`.
    pub ignored: Vec<String>,
}

impl Policy {
    /// Whether an MX host (as the MX record names it) is one the policy allows (RFC 8461 §4.1): equal to a
    /// pattern, ignoring case and a trailing dot, or, for `*.example.com`, `example.com` with exactly one
    /// label before it: `mx.example.com`, but neither `example.com` nor `a.b.example.com`.
    pub fn matches(&self, mx_host: &str) -> bool {
        self.mx.iter().any(|pattern| pattern_matches(pattern, mx_host))
    }
}

fn pattern_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    match pattern.strip_prefix("*.") {
        Some(parent) => match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest.eq_ignore_ascii_case(parent),
            None => false,
        },
        None => host.eq_ignore_ascii_case(pattern),
    }
}

/// Read a policy file (RFC 8461 §3.2): `key: value` lines ended by CRLF or LF. `version: STSv1`, `mode` and
/// `max_age` are required, and at least one `mx` unless the mode is `none`. Keys and values are
/// case-sensitive. Unknown keys are ignored if well formed; a key other than `mx` given again is ignored
/// (and listed in [`Policy::ignored`]). Blank lines are skipped: the grammar has none, but they carry
/// nothing. Larger than [`MAX_POLICY_BYTES`] is an error.
pub fn parse_policy(text: &str) -> Result<Policy, String> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "the MTA-STS policy is {} bytes, over the limit of {MAX_POLICY_BYTES} (64 KiB, RFC 8461 §3.3)",
            text.len()
        ));
    }
    let mut version_line = None;
    let mut mode: Option<(usize, Mode)> = None;
    let mut max_age: Option<(usize, u32)> = None;
    let mut mx = Vec::new();
    let mut ignored = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_matches(record::is_space).is_empty() {
            continue;
        }
        let at = |message: String| format!("MTA-STS policy line {number}: {message}");
        let (key, value) = policy_line(line).map_err(at)?;
        let earlier = match key {
            "version" => version_line,
            "mode" => mode.map(|(line, _)| line),
            "max_age" => max_age.map(|(line, _)| line),
            _ => None,
        };
        if let Some(line) = earlier {
            ignored.push(format!("line {number}: a second {key} (the first is on line {line}), ignored"));
            continue;
        }
        match key {
            "version" if value != "STSv1" => {
                return Err(at(format!("version {} is not STSv1 (RFC 8461 §3.2)", quote(value))));
            }
            "version" => version_line = Some(number),
            "mode" => mode = Some((number, parse_mode(value).map_err(at)?)),
            "max_age" => max_age = Some((number, parse_max_age(value).map_err(at)?)),
            "mx" => {
                check_mx_pattern(value).map_err(at)?;
                mx.push(value.to_string());
            }
            _ => {}
        }
    }
    if version_line.is_none() {
        return Err("the MTA-STS policy has no version line (RFC 8461 §3.2 requires `version: STSv1`)".into());
    }
    let Some((_, mode)) = mode else {
        return Err("the MTA-STS policy has no mode line (RFC 8461 §3.2 requires enforce, testing or none)".into());
    };
    let Some((_, max_age)) = max_age else {
        return Err("the MTA-STS policy has no max_age line (RFC 8461 §3.2 requires one)".into());
    };
    if mx.is_empty() && mode != Mode::None {
        return Err(format!(
            "the MTA-STS policy has no mx line; RFC 8461 §3.2 requires at least one unless the mode is none, and it is {mode}"
        ));
    }
    Ok(Policy { mode, mx, max_age, ignored })
}

/// One line's key and value: `key ":" *WSP value *WSP`. Any value must be non-empty text with no control
/// character, spaces inside allowed (RFC 8461 §3.2 `sts-policy-ext-value`, UTF-8 included).
fn policy_line(line: &str) -> Result<(&str, &str), String> {
    let Some((key, value)) = line.split_once(':') else {
        return Err(format!("{} is not `key: value`", quote(line)));
    };
    if !record::is_field_name(key) {
        return Err(format!(
            "the key {} is not 1 to 32 letters, digits, `_`, `-` or `.`, starting with a letter or digit",
            quote(key)
        ));
    }
    let value = value.trim_matches(record::is_space);
    if value.is_empty() {
        return Err(format!("{key} has no value"));
    }
    if let Some(bad) = value.chars().find(|character| character.is_control()) {
        return Err(format!("the value of {key} holds {}", quote_char(bad)));
    }
    Ok((key, value))
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    match value {
        "enforce" => Ok(Mode::Enforce),
        "testing" => Ok(Mode::Testing),
        "none" => Ok(Mode::None),
        _ => Err(format!("mode {} is not enforce, testing or none (RFC 8461 §3.2, lower case)", quote(value))),
    }
}

/// `1*10DIGIT`, at most [`MAX_AGE_LIMIT`] (RFC 8461 §3.2).
fn parse_max_age(value: &str) -> Result<u32, String> {
    if value.len() > 10 || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("max_age {} is not a number of seconds (1 to 10 digits)", quote(value)));
    }
    match value.parse::<u64>() {
        Ok(seconds) if seconds <= u64::from(MAX_AGE_LIMIT) => Ok(seconds as u32),
        _ => Err(format!("max_age {value} is over the limit of {MAX_AGE_LIMIT} seconds (one year, RFC 8461 §3.2)")),
    }
}

/// `["*."] Domain` (RFC 8461 §3.2, Domain from RFC 5321 §4.1.2): dot-separated labels of letters, digits and
/// inner hyphens, each at most 63 bytes. Names in A-label form only (§3.2: `xn--…`, not Unicode). One
/// trailing dot is accepted: it names the same host.
fn check_mx_pattern(pattern: &str) -> Result<(), String> {
    let problem = |why: String| Err(format!("mx {} {why}", quote(pattern)));
    if !pattern.is_ascii() {
        return problem("is not ASCII: RFC 8461 §3.2 wants internationalised names as A-labels (xn--…)".into());
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > 253 {
        return problem("is longer than a DNS name (253 bytes)".into());
    }
    for label in name.split('.') {
        let bytes = label.as_bytes();
        if bytes.is_empty() {
            return problem("has an empty label".into());
        }
        if label == "*" {
            return problem("has a `*` other than as its whole first label (`*.example.com`)".into());
        }
        if let Some(&bad) = bytes.iter().find(|&&byte| !byte.is_ascii_alphanumeric() && byte != b'-') {
            return problem(format!("holds {}, not a letter, digit, hyphen or dot", quote_char(char::from(bad))));
        }
        if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
            return problem(format!("has the label {} that starts or ends with a hyphen", quote(label)));
        }
        if bytes.len() > 63 {
            return problem(format!("has a label of {} bytes (at most 63)", bytes.len()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        parse_policy(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    fn policy_error(text: &str) -> String {
        parse_policy(text).expect_err(text)
    }

    fn txts(records: &[&str]) -> Vec<String> {
        records.iter().map(|record| record.to_string()).collect()
    }

    /// The example of RFC 8461 §3.2, with CRLF line endings.
    const EXAMPLE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

    #[test]
    fn records() {
        let id = |txt: &str| parse_sts_record(txt).unwrap_or_else(|error| panic!("{txt:?}: {error}")).id;
        assert_eq!(id("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
        assert_eq!(id("v=STSv1;id=abc"), "abc");
        assert_eq!(id("v=STSv1 ;\tid=A1 ; "), "A1");
        assert_eq!(id(&format!("v=STSv1; id={}", "9".repeat(32))), "9".repeat(32));
        // Unknown fields are ignored; a repeated field counts the first time (RFC 8461 §3.2).
        assert_eq!(id("v=STSv1; ext-1.x=a:b/c; id=1"), "1");
        assert_eq!(id("v=STSv1; id=first; id=second; v=STSv2"), "first");
    }

    #[test]
    fn record_errors() {
        let error = |txt: &str| parse_sts_record(txt).expect_err(txt);
        assert_eq!(error("v=STSv1"), "v=STSv1 is not followed by `;` in \"v=STSv1\"");
        assert_eq!(error("v=STSv1 id=1"), "v=STSv1 is not followed by `;` in \"v=STSv1 id=1\"");
        assert_eq!(error("v=STSv1;"), "no fields after v=STSv1 in \"v=STSv1;\"");
        assert_eq!(error("v=STSv2; id=1"), "the record does not start with v=STSv1: \"v=STSv2; id=1\"");
        assert_eq!(error(" v=STSv1; id=1"), "the record does not start with v=STSv1: \" v=STSv1; id=1\"");
        assert_eq!(error("id=1; v=STSv1"), "the record does not start with v=STSv1: \"id=1; v=STSv1\"");
        assert_eq!(error("v=STSv1; id="), "the MTA-STS id \"\" is not 1 to 32 letters and digits (RFC 8461 §3.1)");
        assert_eq!(
            error(&format!("v=STSv1; id={}", "a".repeat(33))),
            format!("the MTA-STS id \"{}\" is not 1 to 32 letters and digits (RFC 8461 §3.1)", "a".repeat(33))
        );
        assert_eq!(
            error("v=STSv1; id=2024-01-01"),
            "the MTA-STS id \"2024-01-01\" is not 1 to 32 letters and digits (RFC 8461 §3.1)"
        );
        assert_eq!(
            error("v=STSv1; ID=1"),
            "the MTA-STS record has no id field (RFC 8461 §3.1 requires one): \"v=STSv1; ID=1\""
        );
        assert_eq!(error("v=STSv1; id=1;; x=y"), "an empty field (two `;` in a row) in \"v=STSv1; id=1;; x=y\"");
        assert_eq!(error("v=STSv1; id 1"), "the field \"id 1\" has no `=`");
        assert_eq!(
            error("v=STSv1; id=1; _x=1"),
            "the field name \"_x\" is not 1 to 32 letters, digits, `_`, `-` or `.`, starting with a letter or digit"
        );
        assert_eq!(error("v=STSv1; id=1; x="), "the field \"x\" has an empty value");
        assert_eq!(
            error("v=STSv1; id=1; x=a b"),
            "the value of x holds \" \", which this record syntax does not allow"
        );
        assert_eq!(
            error("v=STSv1; id=1; x=a\u{1b}"),
            "the value of x holds \"\\u{1b}\", which this record syntax does not allow"
        );
    }

    #[test]
    fn selecting_the_record() {
        assert_eq!(select_sts_record(&[]), Ok(None));
        // Records of other kinds, and versions that only start like this one, are not MTA-STS records.
        let others = txts(&["v=spf1 -all", "v=STSv10; id=1", "V=STSv1; id=1", "google-site-verification=x"]);
        assert_eq!(select_sts_record(&others), Ok(None));
        let mut one = others.clone();
        one.push("v=STSv1; id=20240101".into());
        assert_eq!(select_sts_record(&one), Ok(Some(StsRecord { id: "20240101".into() })));
        // A broken record of this kind is an error, not silence.
        assert_eq!(
            select_sts_record(&txts(&["v=STSv1 id=1"])),
            Err("v=STSv1 is not followed by `;` in \"v=STSv1 id=1\"".into())
        );
    }

    #[test]
    fn two_records_are_no_policy() {
        let two = txts(&["v=STSv1; id=1", "v=spf1 -all", "v=STSv1; id=2"]);
        assert_eq!(
            select_sts_record(&two),
            Err("two MTA-STS TXT records (v=STSv1) where one belongs: RFC 8461 §3.1 says senders treat that as no policy"
                .into())
        );
        let four = txts(&["v=STSv1; id=1", "v=STSv1; id=1", "v=STSv1; id=1", "v=STSv1"]);
        assert!(select_sts_record(&four).unwrap_err().starts_with("4 MTA-STS TXT records"));
    }

    #[test]
    fn the_example_policy() {
        let parsed = policy(EXAMPLE);
        assert_eq!(parsed.mode, Mode::Enforce);
        assert_eq!(parsed.mx, ["mail.example.com", "*.example.net", "backupmx.example.com"]);
        assert_eq!(parsed.max_age, 604_800);
        assert!(parsed.ignored.is_empty());
        // LF endings, no final line ending, fields in any order.
        assert_eq!(policy(EXAMPLE.replace("\r\n", "\n").trim_end()), parsed);
        let reordered = "max_age: 604800\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmode: enforce\nversion: STSv1";
        assert_eq!(policy(reordered), parsed);
    }

    #[test]
    fn policy_details() {
        let testing = policy("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 0\n");
        assert_eq!((testing.mode, testing.max_age), (Mode::Testing, 0));
        // Mode none needs no mx.
        let none = policy("version: STSv1\nmode: none\nmax_age: 31557600\n");
        assert_eq!((none.mode, none.mx.len(), none.max_age), (Mode::None, 0, MAX_AGE_LIMIT));
        // White space after the colon and at the end of a line, tabs too; blank lines; unknown keys, UTF-8 in
        // their values.
        let loose =
            policy("version:STSv1 \r\n\r\nmode:\t enforce\t\nfuture_key-1.x: caf\u{e9} au lait\nmx:mx.example.com.\nmax_age:  86400\n\n");
        assert_eq!(loose.mode, Mode::Enforce);
        assert_eq!(loose.mx, ["mx.example.com."]);
        assert_eq!(loose.max_age, 86_400);
        assert_eq!(Mode::Enforce.to_string(), "enforce");
        assert_eq!([Mode::Testing.as_str(), Mode::None.as_str()], ["testing", "none"]);
    }

    #[test]
    fn repeated_keys_count_the_first_time() {
        // RFC 8461 §3.2: "all entries except for the first SHALL be ignored", for every field but mx.
        let parsed = policy(
            "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.com\nmax_age: 60\nmax_age: 99999999999\nversion: STSv9\nmx: b.example.com\n",
        );
        assert_eq!(parsed.mode, Mode::Testing);
        assert_eq!(parsed.max_age, 60);
        assert_eq!(parsed.mx, ["a.example.com", "b.example.com"]);
        assert_eq!(
            parsed.ignored,
            [
                "line 3: a second mode (the first is on line 2), ignored",
                "line 6: a second max_age (the first is on line 5), ignored",
                "line 7: a second version (the first is on line 1), ignored",
            ]
        );
    }

    #[test]
    fn required_fields() {
        assert_eq!(
            policy_error("mode: enforce\nmx: mx.example.com\nmax_age: 1\n"),
            "the MTA-STS policy has no version line (RFC 8461 §3.2 requires `version: STSv1`)"
        );
        assert_eq!(
            policy_error("version: STSv1\nmx: mx.example.com\nmax_age: 1\n"),
            "the MTA-STS policy has no mode line (RFC 8461 §3.2 requires enforce, testing or none)"
        );
        assert_eq!(
            policy_error("version: STSv1\nmode: enforce\nmx: mx.example.com\n"),
            "the MTA-STS policy has no max_age line (RFC 8461 §3.2 requires one)"
        );
        for mode in ["enforce", "testing"] {
            assert_eq!(
                policy_error(&format!("version: STSv1\nmode: {mode}\nmax_age: 1\n")),
                format!("the MTA-STS policy has no mx line; RFC 8461 §3.2 requires at least one unless the mode is none, and it is {mode}")
            );
        }
        assert_eq!(
            policy_error(""),
            "the MTA-STS policy has no version line (RFC 8461 §3.2 requires `version: STSv1`)"
        );
    }

    #[test]
    fn field_values() {
        let with = |line: &str| {
            policy_error(&format!("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n{line}\n"))
        };
        assert_eq!(
            policy_error("version: STSv2\nmode: none\nmax_age: 1"),
            "MTA-STS policy line 1: version \"STSv2\" is not STSv1 (RFC 8461 §3.2)"
        );
        assert_eq!(
            policy_error("version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 1"),
            "MTA-STS policy line 2: mode \"Enforce\" is not enforce, testing or none (RFC 8461 §3.2, lower case)"
        );
        let max_age = |value: &str| policy_error(&format!("version: STSv1\nmode: none\nmax_age: {value}"));
        assert_eq!(
            max_age("31557601"),
            "MTA-STS policy line 3: max_age 31557601 is over the limit of 31557600 seconds (one year, RFC 8461 §3.2)"
        );
        assert_eq!(
            max_age("9999999999"),
            "MTA-STS policy line 3: max_age 9999999999 is over the limit of 31557600 seconds (one year, RFC 8461 §3.2)"
        );
        for bad in ["12345678901", "-1", "1e3", "+5", "86400s", "1 000"] {
            assert_eq!(
                max_age(bad),
                format!("MTA-STS policy line 3: max_age \"{bad}\" is not a number of seconds (1 to 10 digits)")
            );
        }
        assert_eq!(with("no colon here"), "MTA-STS policy line 5: \"no colon here\" is not `key: value`");
        assert_eq!(
            with(" mode: none"),
            "MTA-STS policy line 5: the key \" mode\" is not 1 to 32 letters, digits, `_`, `-` or `.`, starting with a letter or digit"
        );
        assert_eq!(with("mode:"), "MTA-STS policy line 5: mode has no value");
        assert_eq!(with("comment: a\u{7}b"), "MTA-STS policy line 5: the value of comment holds \"\\u{7}\"");
        assert_eq!(with("comment: a\rb"), "MTA-STS policy line 5: the value of comment holds \"\\r\"");
    }

    #[test]
    fn mx_patterns() {
        let mx = |pattern: &str| policy_error(&format!("version: STSv1\nmode: enforce\nmx: {pattern}\nmax_age: 1\n"));
        assert_eq!(
            mx("mail_1.example.com"),
            "MTA-STS policy line 3: mx \"mail_1.example.com\" holds \"_\", not a letter, digit, hyphen or dot"
        );
        assert_eq!(
            mx("*.*.example.com"),
            "MTA-STS policy line 3: mx \"*.*.example.com\" has a `*` other than as its whole first label (`*.example.com`)"
        );
        assert_eq!(
            mx("mail.*.example.com"),
            "MTA-STS policy line 3: mx \"mail.*.example.com\" has a `*` other than as its whole first label (`*.example.com`)"
        );
        assert_eq!(
            mx("*mail.example.com"),
            "MTA-STS policy line 3: mx \"*mail.example.com\" holds \"*\", not a letter, digit, hyphen or dot"
        );
        assert_eq!(
            mx("*"),
            "MTA-STS policy line 3: mx \"*\" has a `*` other than as its whole first label (`*.example.com`)"
        );
        assert_eq!(mx("*."), "MTA-STS policy line 3: mx \"*.\" has an empty label");
        assert_eq!(mx("a..example.com"), "MTA-STS policy line 3: mx \"a..example.com\" has an empty label");
        assert_eq!(mx(".example.com"), "MTA-STS policy line 3: mx \".example.com\" has an empty label");
        assert_eq!(
            mx("-mx.example.com"),
            "MTA-STS policy line 3: mx \"-mx.example.com\" has the label \"-mx\" that starts or ends with a hyphen"
        );
        assert_eq!(
            mx("b\u{fc}cher.example"),
            "MTA-STS policy line 3: mx \"b\u{fc}cher.example\" is not ASCII: RFC 8461 §3.2 wants internationalised names as A-labels (xn--…)"
        );
        let long = format!("{}.example.com", "a".repeat(64));
        assert_eq!(
            mx(&long),
            format!("MTA-STS policy line 3: mx {:?}… has a label of 64 bytes (at most 63)", &long[..60])
        );
        let longest = vec!["a".repeat(63); 4].join(".");
        assert_eq!(
            mx(&longest),
            format!("MTA-STS policy line 3: mx {:?}… is longer than a DNS name (253 bytes)", &longest[..60])
        );
        // Good ones: A-labels, digits, inner hyphens, one label, a wildcard over a single label.
        let good = policy("version: STSv1\nmode: enforce\nmx: xn--bcher-kva.example\nmx: 1-2.example\nmx: localhost\nmx: *.com\nmax_age: 1");
        assert_eq!(good.mx.len(), 4);
    }

    #[test]
    fn policy_size_limit() {
        let padding = format!("padding: {}\n", "x".repeat(MAX_POLICY_BYTES));
        let error = policy_error(&format!("{EXAMPLE}{padding}"));
        assert_eq!(
            error,
            format!(
                "the MTA-STS policy is {} bytes, over the limit of 65536 (64 KiB, RFC 8461 §3.3)",
                EXAMPLE.len() + padding.len()
            )
        );
        // Exactly the limit is read.
        let filler = MAX_POLICY_BYTES - EXAMPLE.len() - "padding: \n".len();
        let exact = format!("{EXAMPLE}padding: {}\n", "x".repeat(filler));
        assert_eq!(exact.len(), MAX_POLICY_BYTES);
        assert_eq!(policy(&exact).mode, Mode::Enforce);
    }

    #[test]
    fn mx_host_matching() {
        let parsed = policy("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1");
        for host in ["mail.example.com", "MAIL.Example.COM", "mail.example.com.", "mx.example.net", "MX1.EXAMPLE.NET."]
        {
            assert!(parsed.matches(host), "{host}");
        }
        for host in [
            "example.com",
            "mail.example.com.au",
            "xmail.example.com",
            "a.mail.example.com",
            "example.net",
            "a.b.example.net",
            ".example.net",
            "mx.example.net..",
            "",
            ".",
        ] {
            assert!(!parsed.matches(host), "{host}");
        }
        // A trailing dot on the pattern names the same host.
        let dotted = policy("version: STSv1\nmode: enforce\nmx: mail.example.com.\nmx: *.example.org.\nmax_age: 1");
        assert!(dotted.matches("mail.example.com") && dotted.matches("mx.example.org."));
        // A policy with no mx matches nothing.
        assert!(!policy("version: STSv1\nmode: none\nmax_age: 1").matches("mail.example.com"));
    }
}
