//! The result types of a TLS-RPT report (RFC 8460 §4.3): the names a sender gives the failures it met, for
//! reports and for messages that should use the words the recipient's operators will look up.

use std::fmt;

/// One TLS-RPT result type (RFC 8460 §4.3, the IANA "STARTTLS Validation Result Types" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// The MX host did not offer STARTTLS (§4.3.1).
    StarttlsNotSupported,
    /// The certificate does not name the host the policy requires, e.g. no subject alternative name matches
    /// the MX host (§4.3.1).
    CertificateHostMismatch,
    /// The certificate has expired (§4.3.1).
    CertificateExpired,
    /// The certificate does not chain to a trusted anchor, or the chain is broken in another way; a
    /// `failure-reason-code` should say how (§4.3.1).
    CertificateNotTrusted,
    /// Any other failure of the TLS negotiation; a `failure-reason-code` should say which (§4.3.1, §4.3.3).
    ValidationFailure,
    /// DANE: none of the TLSA records was valid (§4.3.2.1).
    TlsaInvalid,
    /// DANE: the resolver returned no valid records, e.g. SERVFAIL for the TLSA lookup (§4.3.2.1).
    DnssecInvalid,
    /// DANE: the sender requires DANE for this domain, but the MX host had no DNSSEC-validated TLSA records
    /// (§4.3.2.1; mandatory DANE is RFC 7672 §6).
    DaneRequired,
    /// MTA-STS: the policy could not be fetched, e.g. an HTTP 4xx or 5xx (§4.3.2.2).
    StsPolicyFetchError,
    /// MTA-STS: the policy (or its TXT record) does not validate (§4.3.2.2).
    StsPolicyInvalid,
    /// MTA-STS: the policy host's certificate did not pass PKIX validation (§4.3.2.2).
    StsWebpkiInvalid,
}

impl ResultType {
    /// Every result type, in the order of RFC 8460 §4.3.
    pub const ALL: [ResultType; 11] = [
        ResultType::StarttlsNotSupported,
        ResultType::CertificateHostMismatch,
        ResultType::CertificateExpired,
        ResultType::CertificateNotTrusted,
        ResultType::ValidationFailure,
        ResultType::TlsaInvalid,
        ResultType::DnssecInvalid,
        ResultType::DaneRequired,
        ResultType::StsPolicyFetchError,
        ResultType::StsPolicyInvalid,
        ResultType::StsWebpkiInvalid,
    ];

    /// The name a report's `result-type` carries.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultType::StarttlsNotSupported => "starttls-not-supported",
            ResultType::CertificateHostMismatch => "certificate-host-mismatch",
            ResultType::CertificateExpired => "certificate-expired",
            ResultType::CertificateNotTrusted => "certificate-not-trusted",
            ResultType::ValidationFailure => "validation-failure",
            ResultType::TlsaInvalid => "tlsa-invalid",
            ResultType::DnssecInvalid => "dnssec-invalid",
            ResultType::DaneRequired => "dane-required",
            ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
            ResultType::StsPolicyInvalid => "sts-policy-invalid",
            ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
        }
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_of_rfc_8460() {
        let names: Vec<&str> = ResultType::ALL.iter().map(|result| result.as_str()).collect();
        assert_eq!(
            names,
            [
                "starttls-not-supported",
                "certificate-host-mismatch",
                "certificate-expired",
                "certificate-not-trusted",
                "validation-failure",
                "tlsa-invalid",
                "dnssec-invalid",
                "dane-required",
                "sts-policy-fetch-error",
                "sts-policy-invalid",
                "sts-webpki-invalid",
            ]
        );
        assert_eq!(ResultType::StsPolicyInvalid.to_string(), "sts-policy-invalid");
    }
}
