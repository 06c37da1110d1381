//! What each kind of sender would do with one MX address, from what postie found there: a DANE-enforcing
//! sender (Postfix `smtp_tls_security_level = dane`), an MTA-STS-enforcing one, and an opportunistic one.
//! DANE takes precedence over MTA-STS where both apply (RFC 8461 §2). Failures are named with TLS-RPT's result
//! types (RFC 8460 §4.3), so what postie prints is what those senders will report.

use crate::policy::report::ResultType;

use super::dane::Dane;

/// What a sender does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Delivers over TLS.
    Deliver,
    /// Delivers, in clear text.
    Plaintext,
    /// Does not deliver to this MX now: it tries again later (or another MX).
    Defer,
}

impl Decision {
    pub fn word(self) -> &'static str {
        match self {
            Decision::Deliver => "delivers",
            Decision::Plaintext => "delivers in clear text",
            Decision::Defer => "defers",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sender {
    Dane,
    MtaSts,
    Opportunistic,
}

impl Sender {
    pub fn name(self) -> &'static str {
        match self {
            Sender::Dane => "DANE sender",
            Sender::MtaSts => "MTA-STS sender",
            Sender::Opportunistic => "opportunistic sender",
        }
    }
}

/// One sender's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub sender: Sender,
    pub decision: Decision,
    /// Which policy decided: "DANE", "MTA-STS enforce", "MTA-STS testing", "none".
    pub policy: &'static str,
    pub why: String,
    /// The TLS-RPT result type a failure is reported as.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "result_name")]
    pub result: Option<ResultType>,
}

fn result_name<S: serde::Serializer>(result: &Option<ResultType>, serializer: S) -> Result<S::Ok, S::Error> {
    match result {
        Some(result) => serializer.serialize_str(result.as_str()),
        None => serializer.serialize_none(),
    }
}

/// The MTA-STS policy as it applies to this MX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StsFor {
    /// No policy, mode none, or a failure a sender without a cached policy treats as none.
    None,
    /// A policy in enforce or testing mode, and whether this MX host matches it.
    Policy { enforce: bool, matches: bool },
}

/// How the TLS handshake went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// The server does not offer STARTTLS.
    NotOffered,
    /// The handshake failed (not about the certificate).
    Failed(String),
    /// The handshake completed: whether the chain verifies for the MX host name under the web PKI (the
    /// failure as its TLS-RPT type and words), and whether it matches the usable TLSA records.
    Done { pkix: Result<(), (ResultType, String)>, dane_match: Option<Result<(), String>> },
}

/// What was found at one MX address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub dane: Dane,
    pub sts: StsFor,
    pub tls: Tls,
}

/// The three senders' verdicts.
pub fn judge(facts: &Facts) -> [Verdict; 3] {
    let dane = dane_sender(facts);
    // RFC 8461 §2: a sender that does both applies DANE where the domain has it.
    let sts = match (&facts.dane, &dane) {
        (Dane::Records { .. } | Dane::Failed { .. }, verdict) => Verdict { sender: Sender::MtaSts, ..verdict.clone() },
        _ => sts_sender(facts),
    };
    [dane, sts, opportunistic(facts, Sender::Opportunistic)]
}

fn verdict(
    sender: Sender,
    decision: Decision,
    policy: &'static str,
    why: impl Into<String>,
    result: Option<ResultType>,
) -> Verdict {
    Verdict { sender, decision, policy, why: why.into(), result }
}

/// A sender that takes TLS when it can and accepts any certificate, or falls back to clear text.
fn opportunistic(facts: &Facts, sender: Sender) -> Verdict {
    match &facts.tls {
        Tls::NotOffered => {
            verdict(sender, Decision::Plaintext, "none", "no STARTTLS", Some(ResultType::StarttlsNotSupported))
        }
        Tls::Failed(why) => verdict(
            sender,
            Decision::Plaintext,
            "none",
            format!("the TLS handshake failed ({why}); it retries in clear text"),
            Some(ResultType::ValidationFailure),
        ),
        Tls::Done { .. } => verdict(sender, Decision::Deliver, "none", "TLS, certificate not checked", None),
    }
}

fn dane_sender(facts: &Facts) -> Verdict {
    let sender = Sender::Dane;
    match &facts.dane {
        Dane::Failed { detail } => verdict(
            sender,
            Decision::Defer,
            "DANE",
            format!("the TLSA lookup failed: {detail}"),
            Some(ResultType::DnssecInvalid),
        ),
        Dane::NotApplicable { .. } | Dane::NoRecords => {
            let mut plain = opportunistic(facts, sender);
            plain.why = format!("{} (no DANE: {})", plain.why, dane_absent(&facts.dane));
            plain
        }
        Dane::Records { usable, .. } => match &facts.tls {
            Tls::NotOffered => verdict(
                sender,
                Decision::Defer,
                "DANE",
                "TLSA records require TLS and the server offers no STARTTLS",
                Some(ResultType::DaneRequired),
            ),
            Tls::Failed(why) => verdict(
                sender,
                Decision::Defer,
                "DANE",
                format!("the TLS handshake failed: {why}"),
                Some(ResultType::ValidationFailure),
            ),
            Tls::Done { .. } if usable.is_empty() => verdict(
                sender,
                Decision::Deliver,
                "DANE",
                "TLS is mandatory, but no TLSA record is usable, so the certificate is not checked (RFC 7672 §2.2)",
                Some(ResultType::TlsaInvalid),
            ),
            Tls::Done { dane_match: Some(Ok(())), .. } => {
                verdict(sender, Decision::Deliver, "DANE", "the certificate matches a TLSA record", None)
            }
            Tls::Done { dane_match, .. } => {
                let why = match dane_match {
                    Some(Err(why)) => why.clone(),
                    _ => "the certificate was not checked against the TLSA records".to_string(),
                };
                verdict(sender, Decision::Defer, "DANE", why, Some(ResultType::ValidationFailure))
            }
        },
    }
}

fn dane_absent(dane: &Dane) -> String {
    match dane {
        Dane::NotApplicable { why } => why.clone(),
        _ => "no TLSA records, securely denied".into(),
    }
}

fn sts_sender(facts: &Facts) -> Verdict {
    let sender = Sender::MtaSts;
    let (enforce, matches) = match facts.sts {
        StsFor::None => {
            let mut plain = opportunistic(facts, sender);
            plain.why = format!("{} (no MTA-STS policy)", plain.why);
            return plain;
        }
        StsFor::Policy { enforce, matches } => (enforce, matches),
    };
    let policy = if enforce { "MTA-STS enforce" } else { "MTA-STS testing" };
    // What would fail under the policy, if anything.
    let failure: Option<(ResultType, String)> = if !matches {
        Some((ResultType::ValidationFailure, "the MX host is not in the policy's mx list (RFC 8461 §4.1)".into()))
    } else {
        match &facts.tls {
            Tls::NotOffered => Some((ResultType::StarttlsNotSupported, "the server offers no STARTTLS".into())),
            Tls::Failed(why) => Some((ResultType::ValidationFailure, format!("the TLS handshake failed: {why}"))),
            Tls::Done { pkix: Err((result, why)), .. } => {
                Some((*result, format!("the certificate does not verify: {why}")))
            }
            Tls::Done { pkix: Ok(()), .. } => None,
        }
    };
    match (failure, enforce) {
        (None, _) => {
            verdict(sender, Decision::Deliver, policy, "the MX matches the policy and its certificate verifies", None)
        }
        (Some((result, why)), true) => verdict(sender, Decision::Defer, policy, why, Some(result)),
        (Some((result, why)), false) => {
            let mut plain = opportunistic(facts, sender);
            plain.policy = policy;
            plain.why = format!("{}; testing mode only reports: {why}", plain.why);
            plain.result = Some(result);
            plain
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tlsa::Tlsa;

    fn tlsa() -> Tlsa {
        Tlsa { usage: 3, selector: 1, matching: 1, data: vec![0; 32] }
    }

    fn done(pkix: Result<(), (ResultType, String)>, dane_match: Option<Result<(), String>>) -> Tls {
        Tls::Done { pkix, dane_match }
    }

    fn decisions(facts: &Facts) -> [Decision; 3] {
        judge(facts).map(|v| v.decision)
    }

    #[test]
    fn a_matching_tlsa_record_delivers_for_every_sender() {
        let facts = Facts {
            dane: Dane::Records { usable: vec![tlsa()], unusable: vec![], aliases: vec![] },
            sts: StsFor::None,
            tls: done(Err((ResultType::CertificateNotTrusted, "unknown issuer".into())), Some(Ok(()))),
        };
        assert_eq!(decisions(&facts), [Decision::Deliver, Decision::Deliver, Decision::Deliver]);
        assert_eq!(judge(&facts)[1].policy, "DANE", "DANE takes precedence over MTA-STS");
    }

    #[test]
    fn a_tlsa_mismatch_defers_dane_and_mta_sts_senders() {
        let facts = Facts {
            dane: Dane::Records { usable: vec![tlsa()], unusable: vec![], aliases: vec![] },
            sts: StsFor::Policy { enforce: true, matches: true },
            tls: done(Ok(()), Some(Err("no TLSA record matches".into()))),
        };
        let verdicts = judge(&facts);
        assert_eq!(verdicts.clone().map(|v| v.decision), [Decision::Defer, Decision::Defer, Decision::Deliver]);
        assert_eq!(verdicts[0].result, Some(ResultType::ValidationFailure));
    }

    #[test]
    fn dane_without_starttls_is_dane_required() {
        let facts = Facts {
            dane: Dane::Records { usable: vec![tlsa()], unusable: vec![], aliases: vec![] },
            sts: StsFor::None,
            tls: Tls::NotOffered,
        };
        let verdicts = judge(&facts);
        assert_eq!(verdicts[0].result, Some(ResultType::DaneRequired));
        assert_eq!(verdicts[2].decision, Decision::Plaintext);
    }

    #[test]
    fn a_failed_tlsa_lookup_defers() {
        let facts = Facts { dane: Dane::Failed { detail: "bogus".into() }, sts: StsFor::None, tls: done(Ok(()), None) };
        assert_eq!(decisions(&facts), [Decision::Defer, Decision::Defer, Decision::Deliver]);
        assert_eq!(judge(&facts)[0].result, Some(ResultType::DnssecInvalid));
    }

    #[test]
    fn insecure_tlsa_is_ignored() {
        let facts = Facts {
            dane: Dane::NotApplicable { why: "unsigned".into() },
            sts: StsFor::None,
            tls: done(Err((ResultType::CertificateNotTrusted, "x".into())), None),
        };
        assert_eq!(decisions(&facts), [Decision::Deliver; 3]);
    }

    #[test]
    fn mta_sts_enforce_and_testing() {
        let mismatch = Facts {
            dane: Dane::NoRecords,
            sts: StsFor::Policy { enforce: true, matches: false },
            tls: done(Ok(()), None),
        };
        assert_eq!(decisions(&mismatch), [Decision::Deliver, Decision::Defer, Decision::Deliver]);
        let expired = Facts {
            dane: Dane::NoRecords,
            sts: StsFor::Policy { enforce: true, matches: true },
            tls: done(Err((ResultType::CertificateExpired, "expired".into())), None),
        };
        assert_eq!(judge(&expired)[1].result, Some(ResultType::CertificateExpired));
        let testing = Facts { sts: StsFor::Policy { enforce: false, matches: false }, ..mismatch };
        let verdict = &judge(&testing)[1];
        assert_eq!((verdict.decision, verdict.policy), (Decision::Deliver, "MTA-STS testing"));
        assert!(verdict.why.contains("testing mode only reports"));
    }
}
