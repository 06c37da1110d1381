//! TLS-RPT (RFC 8460 §3): the `_smtp._tls` TXT record, which says where a sender reports the TLS failures it
//! met when delivering to a domain. The DNS lookup is the caller's.

use std::fmt;

use super::record::{self, quote, quote_char};

const RECORD_VERSION: &str = "v=TLSRPTv1";

/// A TLS-RPT record: where reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRpt {
    /// The `rua` URIs, in the record's order; never empty. RFC 8460 §3: a sender may report to each, and a
    /// report counts as delivered once one of them took it.
    pub rua: Vec<ReportUri>,
}

/// Where one report goes (RFC 8460 §3 allows these two schemes). Each holds the whole URI as written, scheme
/// included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportUri {
    /// `mailto:tlsrpt@example.com`: a report by mail (RFC 6068), which must be DKIM-signed (RFC 8460 §3).
    Mailto(String),
    /// `https://reports.example.com/v1/tlsrpt`: a report POSTed there.
    Https(String),
}

impl ReportUri {
    /// The URI as written.
    pub fn as_str(&self) -> &str {
        match self {
            ReportUri::Mailto(uri) | ReportUri::Https(uri) => uri,
        }
    }
}

impl fmt::Display for ReportUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read a `_smtp._tls` TXT record (RFC 8460 §3), such as `v=TLSRPTv1; rua=mailto:tlsrpt@example.com`.
/// `v=TLSRPTv1` comes first; `rua` is required: URIs separated by commas (white space around them allowed),
/// each `mailto:` or `https:`. Other fields are ignored if well formed; a field given twice counts the first
/// time only, as RFC 8461 §3.2 says of its sibling record (RFC 8460 says nothing of it).
pub fn parse_tlsrpt_record(txt: &str) -> Result<TlsRpt, String> {
    let mut rua = None;
    for (name, value) in record::fields(txt, RECORD_VERSION)? {
        match name {
            "rua" => {
                if rua.is_none() {
                    rua = Some(report_uris(value)?);
                }
            }
            _ => record::check_extension(name, value)?,
        }
    }
    match rua {
        Some(rua) => Ok(TlsRpt { rua }),
        None => Err(format!("the TLS-RPT record has no rua field (RFC 8460 §3 requires one): {}", quote(txt))),
    }
}

/// The TLS-RPT record among the TXT records of `_smtp._tls.DOMAIN` (each one's strings joined): `None` when
/// no record starts with `v=TLSRPTv1`. RFC 8460 §3: other records are ignored, and when more than one is
/// left, senders assume the domain does not take reports; that is an error here, so the caller can say so.
pub fn select_tlsrpt_record(txts: &[String]) -> Result<Option<TlsRpt>, String> {
    let rule = "RFC 8460 §3 says senders then assume the domain takes no reports";
    match record::select(txts, RECORD_VERSION, "TLS-RPT", rule)? {
        Some(txt) => parse_tlsrpt_record(txt).map(Some),
        None => Ok(None),
    }
}

/// `tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)`.
fn report_uris(value: &str) -> Result<Vec<ReportUri>, String> {
    value.split(',').map(|uri| report_uri(uri.trim_matches(record::is_space))).collect()
}

/// One URI (RFC 3986 characters; RFC 8460 §3 wants `,`, `!` and `;` percent-encoded) with a scheme RFC 8460
/// allows. Schemes are case-insensitive (RFC 3986 §3.1).
fn report_uri(uri: &str) -> Result<ReportUri, String> {
    if uri.is_empty() {
        return Err("the rua field has an empty URI (a stray comma?)".into());
    }
    if let Some(bad) = uri.chars().find(|&character| !is_uri_character(character)) {
        return Err(format!(
            "the rua URI {} holds {}, which a URI must percent-encode here (RFC 3986, RFC 8460 §3)",
            quote(uri),
            quote_char(bad)
        ));
    }
    check_percent_escapes(uri)?;
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(format!("the rua value {} is not a URI: it has no scheme (mailto: or https:)", quote(uri)));
    };
    if scheme.eq_ignore_ascii_case("mailto") {
        // RFC 6068: the address comes before any `?header=value`.
        let address = rest.split('?').next().unwrap_or_default();
        if !address.contains('@') {
            return Err(format!("the rua URI {} has no mail address after mailto:", quote(uri)));
        }
        Ok(ReportUri::Mailto(uri.to_string()))
    } else if scheme.eq_ignore_ascii_case("https") {
        let host = rest.strip_prefix("//").map(|after| after.split(['/', '?', '#']).next().unwrap_or_default());
        if host.is_none_or(str::is_empty) {
            return Err(format!("the rua URI {} has no host after https://", quote(uri)));
        }
        Ok(ReportUri::Https(uri.to_string()))
    } else {
        Err(format!(
            "the rua URI {} has the scheme {}: RFC 8460 §3 allows mailto: and https: only",
            quote(uri),
            quote(scheme)
        ))
    }
}

/// RFC 3986 §2: unreserved, reserved and `%`; less the three RFC 8460 §3 wants encoded in a `rua`.
fn is_uri_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || "-._~:/?#[]@$&'()*+=%".contains(character)
}

/// Each `%` starts an escape of two hex digits (RFC 3986 §2.1).
fn check_percent_escapes(uri: &str) -> Result<(), String> {
    let bytes = uri.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'%' && !(bytes.get(index + 1..index + 3).is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)))
        {
            return Err(format!("the rua URI {} has a `%` not followed by two hex digits", quote(uri)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rua(txt: &str) -> Vec<String> {
        let record = parse_tlsrpt_record(txt).unwrap_or_else(|error| panic!("{txt:?}: {error}"));
        record.rua.iter().map(ReportUri::to_string).collect()
    }

    fn error(txt: &str) -> String {
        parse_tlsrpt_record(txt).expect_err(txt)
    }

    #[test]
    fn records() {
        // The examples of RFC 8460 §3.
        assert_eq!(rua("v=TLSRPTv1;rua=mailto:reports@example.com"), ["mailto:reports@example.com"]);
        assert_eq!(
            rua("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"),
            ["https://reporting.example.com/v1/tlsrpt"]
        );
        // A list, white space around the commas, schemes in any case, query strings and escapes.
        assert_eq!(
            rua("v=TLSRPTv1; rua=mailto:a@example.com ,\tHTTPS://r.example.com:8443/in?x=1&y=%2C , MailTo:b@example.org?subject=tls;"),
            ["mailto:a@example.com", "HTTPS://r.example.com:8443/in?x=1&y=%2C", "MailTo:b@example.org?subject=tls"]
        );
        let parsed = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/").unwrap();
        assert_eq!(
            parsed.rua,
            [ReportUri::Mailto("mailto:a@example.com".into()), ReportUri::Https("https://r.example.com/".into())]
        );
        // Unknown fields are ignored; a repeated field counts the first time.
        assert_eq!(rua("v=TLSRPTv1; ext=1; rua=mailto:a@example.com; rua=ftp://x"), ["mailto:a@example.com"]);
    }

    #[test]
    fn record_errors() {
        assert_eq!(
            error("v=TLSRPTv1; ext=1"),
            "the TLS-RPT record has no rua field (RFC 8460 §3 requires one): \"v=TLSRPTv1; ext=1\""
        );
        assert_eq!(error("v=TLSRPTv1"), "v=TLSRPTv1 is not followed by `;` in \"v=TLSRPTv1\"");
        assert_eq!(
            error("rua=mailto:a@example.com; v=TLSRPTv1"),
            "the record does not start with v=TLSRPTv1: \"rua=mailto:a@example.com; v=TLSRPTv1\""
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=http://r.example.com/"),
            "the rua URI \"http://r.example.com/\" has the scheme \"http\": RFC 8460 §3 allows mailto: and https: only"
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=mailto:a@example.com,ftp://r.example.com/"),
            "the rua URI \"ftp://r.example.com/\" has the scheme \"ftp\": RFC 8460 §3 allows mailto: and https: only"
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=reports@example.com"),
            "the rua value \"reports@example.com\" is not a URI: it has no scheme (mailto: or https:)"
        );
        assert_eq!(error("v=TLSRPTv1; rua="), "the rua field has an empty URI (a stray comma?)");
        assert_eq!(
            error("v=TLSRPTv1; rua=mailto:a@example.com,,https://r.example.com/"),
            "the rua field has an empty URI (a stray comma?)"
        );
        assert_eq!(error("v=TLSRPTv1; rua=mailto:"), "the rua URI \"mailto:\" has no mail address after mailto:");
        assert_eq!(
            error("v=TLSRPTv1; rua=mailto:?to=a@example.com"),
            "the rua URI \"mailto:?to=a@example.com\" has no mail address after mailto:"
        );
        assert_eq!(error("v=TLSRPTv1; rua=https://"), "the rua URI \"https://\" has no host after https://");
        assert_eq!(error("v=TLSRPTv1; rua=https:/x/y"), "the rua URI \"https:/x/y\" has no host after https://");
        assert_eq!(
            error("v=TLSRPTv1; rua=mailto:a!b@example.com"),
            "the rua URI \"mailto:a!b@example.com\" holds \"!\", which a URI must percent-encode here (RFC 3986, RFC 8460 §3)"
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=https://r.example.com/a b"),
            "the rua URI \"https://r.example.com/a b\" holds \" \", which a URI must percent-encode here (RFC 3986, RFC 8460 §3)"
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=https://r.example.com/%2"),
            "the rua URI \"https://r.example.com/%2\" has a `%` not followed by two hex digits"
        );
        assert_eq!(
            error("v=TLSRPTv1; rua=https://r.example.com/%zz"),
            "the rua URI \"https://r.example.com/%zz\" has a `%` not followed by two hex digits"
        );
    }

    #[test]
    fn selecting_the_record() {
        let txts = |records: &[&str]| records.iter().map(|record| record.to_string()).collect::<Vec<_>>();
        assert_eq!(select_tlsrpt_record(&[]), Ok(None));
        assert_eq!(select_tlsrpt_record(&txts(&["v=spf1 -all", "v=TLSRPTv10; rua=mailto:a@b.c"])), Ok(None));
        let one = select_tlsrpt_record(&txts(&["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.com"]));
        assert_eq!(one, Ok(Some(TlsRpt { rua: vec![ReportUri::Mailto("mailto:a@example.com".into())] })));
        assert_eq!(
            select_tlsrpt_record(&txts(&["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1;rua=https://r.example.com/"])),
            Err("two TLS-RPT TXT records (v=TLSRPTv1) where one belongs: RFC 8460 §3 says senders then assume the domain takes no reports".into())
        );
        assert_eq!(
            select_tlsrpt_record(&txts(&["v=TLSRPTv1; rua=gopher://x"])),
            Err("the rua URI \"gopher://x\" has the scheme \"gopher\": RFC 8460 §3 allows mailto: and https: only"
                .into())
        );
    }
}
