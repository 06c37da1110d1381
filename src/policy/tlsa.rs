//! TLSA records (RFC 6698, updated by RFC 7671) as SMTP uses them (RFC 7672): the record as data, whether
//! SMTP may use it, and whether it matches a certificate or a chain. No DNS here: the caller looks the
//! records up, with DNSSEC, and hands over their fields. No signature or name checks either: where a trust
//! anchor matches, the caller verifies the chain below it and the server's name (rustls/webpki); this file
//! only says which certificate is the anchor.

use std::fmt;

use ring::digest;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

/// Certificate usage PKIX-TA(0) (RFC 6698 §2.1.1, names from RFC 7218): a CA that must also pass PKIX.
pub const PKIX_TA: u8 = 0;
/// Certificate usage PKIX-EE(1): the server's certificate, which must also pass PKIX.
pub const PKIX_EE: u8 = 1;
/// Certificate usage DANE-TA(2): a trust anchor of the server's own choosing.
pub const DANE_TA: u8 = 2;
/// Certificate usage DANE-EE(3): the server's certificate or key itself.
pub const DANE_EE: u8 = 3;
/// Selector Cert(0) (RFC 6698 §2.1.2): the whole certificate, DER.
pub const CERT: u8 = 0;
/// Selector SPKI(1): the certificate's SubjectPublicKeyInfo, DER.
pub const SPKI: u8 = 1;
/// Matching type Full(0) (RFC 6698 §2.1.3): the selected bytes themselves.
pub const FULL: u8 = 0;
/// Matching type SHA2-256(1): their SHA-256 digest.
pub const SHA2_256: u8 = 1;
/// Matching type SHA2-512(2): their SHA-512 digest.
pub const SHA2_512: u8 = 2;

/// One TLSA record: the three numbers and the certificate association data (RFC 6698 §2.1). The fields are
/// kept as numbers, whatever their value, so that a record SMTP cannot use can still be shown and explained
/// (see [`Tlsa::usability`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

/// Whether an SMTP client may use a record to authenticate a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usability {
    Usable,
    /// Not usable, and why. RFC 7672 §2.2 and §3.1: unusable records are left out; when none is left, DANE
    /// cannot authenticate the server.
    Unusable(String),
}

impl Tlsa {
    /// A record from its presentation form, as a zone file or `dig` shows it: `3 1 1 0C72AC70…`. The three
    /// numbers are decimal; the data is hex in either case, and may hold white space (RFC 6698 §2.2). The
    /// numbers are not judged here (see [`Tlsa::usability`]); only the syntax is.
    pub fn parse_presentation(text: &str) -> Result<Tlsa, String> {
        let mut words = text.split_ascii_whitespace();
        let mut number = |what: &str| -> Result<u8, String> {
            let word = words.next().ok_or_else(|| {
                format!("the TLSA record has no {what}: write usage, selector, matching type and hex data, as in `3 1 1 0C72…`")
            })?;
            if word.is_empty() || word.len() > 3 || !word.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(format!("the TLSA {what} {} is not a number from 0 to 255", quote(word)));
            }
            word.parse().map_err(|_| format!("the TLSA {what} {word} is not a number from 0 to 255"))
        };
        let usage = number("certificate usage")?;
        let selector = number("selector")?;
        let matching = number("matching type")?;
        let hex: String = words.collect();
        if hex.is_empty() {
            return Err("the TLSA record has no certificate association data (the hex after the three numbers)".into());
        }
        let data = decode_hex(&hex)?;
        Ok(Tlsa { usage, selector, matching, data })
    }

    /// The whole presentation form, data in upper-case hex as `dig` writes it: `3 1 1 0C72AC70…`.
    pub fn presentation(&self) -> String {
        let mut text = format!("{self} ");
        for byte in &self.data {
            text.push_str(&format!("{byte:02X}"));
        }
        text
    }

    /// Whether an SMTP client may use this record (RFC 7672 §3.1), and if not, why.
    pub fn usability(&self) -> Usability {
        let unusable = Usability::Unusable;
        match self.usage {
            // RFC 7672 §3.1.3: there is no agreed set of CAs for SMTP, so PKIX usages are not for SMTP.
            PKIX_TA | PKIX_EE => {
                return unusable(format!("{} is not used for SMTP, RFC 7672 §3.1.3", usage_name(self.usage)));
            }
            DANE_TA | DANE_EE => {}
            other => return unusable(format!("unknown certificate usage {other} (RFC 6698 §2.1.1 defines 0 to 3)")),
        }
        if self.selector > SPKI {
            return unusable(format!("unknown selector {} (RFC 6698 §2.1.2 defines 0 and 1)", self.selector));
        }
        let expected = match self.matching {
            FULL if self.data.is_empty() => {
                return unusable("matching type Full(0) with no data: nothing can match it".into());
            }
            FULL => None,
            SHA2_256 => Some(32),
            SHA2_512 => Some(64),
            other => return unusable(format!("unknown matching type {other} (RFC 6698 §2.1.3 defines 0 to 2)")),
        };
        match expected {
            Some(length) if self.data.len() != length => unusable(format!(
                "matching type {} needs {length} bytes of data, the record has {}",
                matching_name(self.matching),
                self.data.len()
            )),
            _ => Usability::Usable,
        }
    }

    /// Whether this record's data matches a certificate (DER): selector Cert(0) takes the certificate's bytes
    /// as given, SPKI(1) its SubjectPublicKeyInfo; matching type Full(0) compares those bytes, SHA2-256(1) and
    /// SHA2-512(2) their digest. The usage plays no part: [`Tlsa::usability`] judges it. An error means the
    /// comparison could not be made: an unknown selector or matching type, or, for SPKI(1), a certificate
    /// that does not parse.
    pub fn matches(&self, certificate_der: &[u8]) -> Result<bool, String> {
        match self.selector {
            CERT => self.matches_selected(certificate_der),
            SPKI => self.matches_selected(subject_public_key_info(certificate_der)?),
            other => Err(format!("unknown selector {other} (RFC 6698 §2.1.2 defines 0 and 1)")),
        }
    }

    /// Whether the data matches bytes already selected from a certificate.
    fn matches_selected(&self, selected: &[u8]) -> Result<bool, String> {
        match self.matching {
            FULL => Ok(self.data == selected),
            SHA2_256 => Ok(self.data == digest::digest(&digest::SHA256, selected).as_ref()),
            SHA2_512 => Ok(self.data == digest::digest(&digest::SHA512, selected).as_ref()),
            other => Err(format!("unknown matching type {other} (RFC 6698 §2.1.3 defines 0 to 2)")),
        }
    }

    /// The public key of a DANE-TA(2) SPKI(1) Full(0) record: the record then holds a whole trust-anchor key,
    /// which RFC 7671 §5.2.3 lets a server leave out of its chain. `None` for any other record, or when the
    /// data is not one DER SubjectPublicKeyInfo.
    fn trust_anchor_key(&self) -> Option<&[u8]> {
        if (self.usage, self.selector, self.matching) != (DANE_TA, SPKI, FULL) {
            return None;
        }
        match SubjectPublicKeyInfo::from_der(&self.data) {
            Ok((rest, key)) if rest.is_empty() && key.raw.len() == self.data.len() => Some(&self.data),
            _ => None,
        }
    }
}

/// The three numbers as a record is named in a transcript: `3 1 1`. [`Tlsa::presentation`] adds the data.
impl fmt::Display for Tlsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.usage, self.selector, self.matching)
    }
}

/// The RFC 7218 name of a certificate usage, as in `DANE-EE(3)`; `usage(7)` for one with no name.
pub fn usage_name(usage: u8) -> String {
    match usage {
        PKIX_TA => "PKIX-TA(0)".into(),
        PKIX_EE => "PKIX-EE(1)".into(),
        DANE_TA => "DANE-TA(2)".into(),
        DANE_EE => "DANE-EE(3)".into(),
        other => format!("usage({other})"),
    }
}

/// The RFC 7218 name of a matching type, as in `SHA2-256(1)`.
pub fn matching_name(matching: u8) -> String {
    match matching {
        FULL => "Full(0)".into(),
        SHA2_256 => "SHA2-256(1)".into(),
        SHA2_512 => "SHA2-512(2)".into(),
        other => format!("matching({other})"),
    }
}

/// The SubjectPublicKeyInfo of a certificate, DER, as the certificate carries it.
fn subject_public_key_info(certificate_der: &[u8]) -> Result<&[u8], String> {
    match X509Certificate::from_der(certificate_der) {
        Ok((_, certificate)) => Ok(certificate.tbs_certificate.subject_pki.raw),
        Err(error) => Err(format!("the certificate does not parse: {error}")),
    }
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if let Some(bad) = hex.chars().find(|character| !character.is_ascii_hexdigit()) {
        return Err(format!("the TLSA data holds {}, which is not a hex digit", quote(&bad.to_string())));
    }
    if hex.len() % 2 != 0 {
        return Err(format!("the TLSA data has {} hex digits: whole bytes take an even number", hex.len()));
    }
    let bytes = hex.as_bytes();
    Ok(bytes.chunks(2).map(|pair| (digit(pair[0]) << 4) | digit(pair[1])).collect())
}

/// The value of one hex digit, already checked.
fn digit(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte - b'A' + 10,
    }
}

fn quote(text: &str) -> String {
    super::record::quote(text)
}

/// Which records matched which certificate of a chain, and what that means for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainMatch {
    /// Every match of a usable record with a certificate, by depth (0 is the server's own certificate, as
    /// the server sent its chain), then in the order of the records. A DANE-EE(3) record is only compared
    /// with depth 0, a DANE-TA(2) record with every depth.
    pub matches: Vec<Match>,
    /// The records that were not used, with why (see [`Tlsa::usability`]).
    pub unusable: Vec<Unusable>,
    /// Certificates that could not be compared with an SPKI(1) record because they do not parse: depth and
    /// the parser's complaint.
    pub unreadable: Vec<(usize, String)>,
    pub outcome: Outcome,
}

/// One usable record that matched one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The certificate's depth in the chain: 0 is the server's own.
    pub depth: usize,
    /// The record's index in the records given to [`match_chain`].
    pub record: usize,
    pub tlsa: Tlsa,
}

/// `matched 3 1 1 at depth 0`.
impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "matched {} at depth {}", self.tlsa, self.depth)
    }
}

/// A record left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// The record's index in the records given to [`match_chain`].
    pub record: usize,
    pub tlsa: Tlsa,
    pub reason: String,
}

/// What the records say about the server, RFC 7672 §3.1 and §3.2. Record numbers index the records given to
/// [`match_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A DANE-EE(3) record matched the server's own certificate (depth 0): the server is authenticated. The
    /// certificate's names and validity dates are not checked (RFC 7672 §3.1.1): the DNSSEC-signed record
    /// vouches for the key, for as long as its signature is valid.
    EndEntity { record: usize },
    /// A DANE-TA(2) record matched the certificate at `depth` (1 or more), which is therefore the trust
    /// anchor (RFC 7672 §3.1.2). Not yet authenticated: the caller must verify the chain from depth 0 up to
    /// this certificate (signatures, validity dates) and the server's name against the reference identifiers
    /// of RFC 7672 §3.2.2 and §3.2.3. When several certificates matched, this is the one nearest the server's;
    /// [`ChainMatch::matches`] has the others.
    TrustAnchor { depth: usize, record: usize },
    /// No certificate matched, but a DANE-TA(2) SPKI(1) Full(0) record holds a whole public key, which RFC
    /// 7671 §5.2.3 lets a server leave out of its chain: it may have signed the last certificate the server
    /// sent. Not yet authenticated: the caller must check that signature with this key (e.g. as a webpki trust
    /// anchor named after that certificate's issuer), then the chain below it and the name, as for
    /// [`Outcome::TrustAnchor`]. The first such record is named.
    TrustAnchorKey { record: usize },
    /// There were usable records and none matched: authentication failed, and RFC 7672 §2.2 says the mail
    /// must not go to this server.
    NoMatch,
    /// Not one record was usable (or there were none): DANE cannot authenticate this server. RFC 7672 §2.2:
    /// TLS is still required, but unauthenticated.
    NoUsableRecords,
}

/// Compare TLSA records with a server's certificate chain, `chain[0]` being the server's own certificate
/// (DER) and the rest as the server sent them. Only usable records take part (RFC 7672 §3.1); the outcome
/// follows RFC 7672 §3.1.1 (DANE-EE at depth 0 authenticates) before §3.1.2 (DANE-TA at depth 1 or more
/// names the trust anchor).
pub fn match_chain(records: &[Tlsa], chain: &[Vec<u8>]) -> ChainMatch {
    let mut usable = Vec::new();
    let mut unusable = Vec::new();
    for (index, tlsa) in records.iter().enumerate() {
        match tlsa.usability() {
            Usability::Usable => usable.push((index, tlsa)),
            Usability::Unusable(reason) => unusable.push(Unusable { record: index, tlsa: tlsa.clone(), reason }),
        }
    }
    let mut matches = Vec::new();
    let mut unreadable = Vec::new();
    for (depth, certificate) in chain.iter().enumerate() {
        // The key is only read when a record selects it, and only once per certificate.
        let mut key: Option<Result<&[u8], String>> = None;
        for &(index, tlsa) in &usable {
            if tlsa.usage == DANE_EE && depth != 0 {
                continue;
            }
            let selected = match tlsa.selector {
                SPKI => match key.get_or_insert_with(|| subject_public_key_info(certificate)) {
                    Ok(key) => *key,
                    Err(_) => continue,
                },
                _ => certificate.as_slice(),
            };
            if tlsa.matches_selected(selected) == Ok(true) {
                matches.push(Match { depth, record: index, tlsa: tlsa.clone() });
            }
        }
        if let Some(Err(error)) = key {
            unreadable.push((depth, error));
        }
    }
    let outcome = if let Some(found) = matches.iter().find(|found| found.tlsa.usage == DANE_EE) {
        Outcome::EndEntity { record: found.record }
    } else if let Some(found) = matches.iter().find(|found| found.tlsa.usage == DANE_TA && found.depth >= 1) {
        Outcome::TrustAnchor { depth: found.depth, record: found.record }
    } else if let Some(&(index, _)) =
        usable.iter().find(|(_, tlsa)| !chain.is_empty() && tlsa.trust_anchor_key().is_some())
    {
        Outcome::TrustAnchorKey { record: index }
    } else if usable.is_empty() {
        Outcome::NoUsableRecords
    } else {
        Outcome::NoMatch
    };
    ChainMatch { matches, unusable, unreadable, outcome }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, PublicKeyData};

    /// SHA-256 and SHA-512 of "abc" (FIPS 180-2 examples), to check the digests against values found
    /// elsewhere than in the code under test.
    const ABC_SHA256: &str = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
    const ABC_SHA512: &str = "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A\
                              2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F";

    fn record(text: &str) -> Tlsa {
        Tlsa::parse_presentation(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    fn record_for(usage: u8, selector: u8, matching: u8, selected: &[u8]) -> Tlsa {
        let data = match matching {
            FULL => selected.to_vec(),
            SHA2_256 => digest::digest(&digest::SHA256, selected).as_ref().to_vec(),
            _ => digest::digest(&digest::SHA512, selected).as_ref().to_vec(),
        };
        Tlsa { usage, selector, matching, data }
    }

    fn unusable(tlsa: &Tlsa) -> String {
        match tlsa.usability() {
            Usability::Unusable(reason) => reason,
            Usability::Usable => panic!("{} is usable", tlsa.presentation()),
        }
    }

    /// A CA and a server certificate it signed: each certificate's DER and the SubjectPublicKeyInfo of its
    /// key, as rcgen (not the code under test) encodes it.
    struct Chain {
        ca: Vec<u8>,
        ca_key: Vec<u8>,
        server: Vec<u8>,
        server_key: Vec<u8>,
    }

    fn chain() -> Chain {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "postie test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server =
            CertificateParams::new(vec!["mx.example.test".to_string()]).unwrap().signed_by(&server_key, &ca).unwrap();
        Chain {
            ca: ca.der().to_vec(),
            ca_key: ca.key().subject_public_key_info(),
            server: server.der().to_vec(),
            server_key: server_key.subject_public_key_info(),
        }
    }

    #[test]
    fn presentation_form() {
        let tlsa = record(&format!("3 1 1 {}", ABC_SHA256.to_lowercase()));
        assert_eq!((tlsa.usage, tlsa.selector, tlsa.matching), (3, 1, 1));
        assert_eq!(tlsa.data[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(tlsa.to_string(), "3 1 1");
        assert_eq!(tlsa.presentation(), format!("3 1 1 {ABC_SHA256}"));
        // Hex in either case, split by white space anywhere, as zone files and dig split it.
        let spaced = record(&format!("  2\t0 2 {} {}\n", &ABC_SHA512[..7], &ABC_SHA512[7..].to_lowercase()));
        assert_eq!(spaced.presentation(), format!("2 0 2 {ABC_SHA512}"));
        assert_eq!(record(&spaced.presentation()), spaced);
        // The numbers are kept whatever they are; usability judges them.
        assert_eq!(record("255 7 9 00").to_string(), "255 7 9");
        assert_eq!(record("003 1 1 ab").usage, 3);
    }

    #[test]
    fn presentation_errors() {
        let error = |text: &str| Tlsa::parse_presentation(text).expect_err(text);
        assert!(error("").contains("has no certificate usage"), "{}", error(""));
        assert!(error("3 1").contains("has no matching type"), "{}", error("3 1"));
        assert_eq!(
            error("3 1 1"),
            "the TLSA record has no certificate association data (the hex after the three numbers)"
        );
        assert_eq!(error("256 1 1 00"), "the TLSA certificate usage 256 is not a number from 0 to 255");
        assert_eq!(error("+3 1 1 00"), "the TLSA certificate usage \"+3\" is not a number from 0 to 255");
        assert_eq!(error("3 SPKI 1 00"), "the TLSA selector \"SPKI\" is not a number from 0 to 255");
        assert_eq!(error("3 1 -1 00"), "the TLSA matching type \"-1\" is not a number from 0 to 255");
        assert_eq!(error("3 1 1 ABC"), "the TLSA data has 3 hex digits: whole bytes take an even number");
        assert_eq!(error("3 1 1 AB:CD"), "the TLSA data holds \":\", which is not a hex digit");
        assert_eq!(error("3 1 1 0x00"), "the TLSA data holds \"x\", which is not a hex digit");
    }

    #[test]
    fn only_dane_usages_are_usable_for_smtp() {
        assert_eq!(record(&format!("3 1 1 {ABC_SHA256}")).usability(), Usability::Usable);
        assert_eq!(record(&format!("2 0 2 {ABC_SHA512}")).usability(), Usability::Usable);
        assert_eq!(record("3 0 0 30820122").usability(), Usability::Usable);
        assert_eq!(
            unusable(&record(&format!("0 1 1 {ABC_SHA256}"))),
            "PKIX-TA(0) is not used for SMTP, RFC 7672 §3.1.3"
        );
        assert_eq!(
            unusable(&record(&format!("1 1 1 {ABC_SHA256}"))),
            "PKIX-EE(1) is not used for SMTP, RFC 7672 §3.1.3"
        );
        assert_eq!(
            unusable(&record(&format!("4 1 1 {ABC_SHA256}"))),
            "unknown certificate usage 4 (RFC 6698 §2.1.1 defines 0 to 3)"
        );
        assert_eq!(
            unusable(&record(&format!("3 2 1 {ABC_SHA256}"))),
            "unknown selector 2 (RFC 6698 §2.1.2 defines 0 and 1)"
        );
        assert_eq!(
            unusable(&record(&format!("3 1 3 {ABC_SHA256}"))),
            "unknown matching type 3 (RFC 6698 §2.1.3 defines 0 to 2)"
        );
    }

    #[test]
    fn digest_data_must_have_the_digest_length() {
        assert_eq!(
            unusable(&record(&format!("3 1 1 {}", &ABC_SHA256[2..]))),
            "matching type SHA2-256(1) needs 32 bytes of data, the record has 31"
        );
        assert_eq!(
            unusable(&record(&format!("3 1 2 {ABC_SHA256}"))),
            "matching type SHA2-512(2) needs 64 bytes of data, the record has 32"
        );
        assert_eq!(
            unusable(&record(&format!("2 1 1 {ABC_SHA512}"))),
            "matching type SHA2-256(1) needs 32 bytes of data, the record has 64"
        );
        let empty = Tlsa { usage: DANE_EE, selector: CERT, matching: FULL, data: vec![] };
        assert_eq!(unusable(&empty), "matching type Full(0) with no data: nothing can match it");
    }

    #[test]
    fn names_of_usages_and_matching_types() {
        let usages: Vec<String> = (0..=4).map(usage_name).collect();
        assert_eq!(usages, ["PKIX-TA(0)", "PKIX-EE(1)", "DANE-TA(2)", "DANE-EE(3)", "usage(4)"]);
        let matchings: Vec<String> = (0..=3).map(matching_name).collect();
        assert_eq!(matchings, ["Full(0)", "SHA2-256(1)", "SHA2-512(2)", "matching(3)"]);
    }

    #[test]
    fn digests_are_the_standard_ones() {
        // Selector Cert(0) takes the bytes as given, so "abc" stands in for a certificate.
        assert_eq!(record(&format!("3 0 1 {ABC_SHA256}")).matches(b"abc"), Ok(true));
        assert_eq!(record(&format!("3 0 2 {ABC_SHA512}")).matches(b"abc"), Ok(true));
        assert_eq!(record("3 0 0 616263").matches(b"abc"), Ok(true));
        assert_eq!(record(&format!("3 0 1 {ABC_SHA256}")).matches(b"abd"), Ok(false));
        assert_eq!(record(&format!("3 0 2 {ABC_SHA512}")).matches(b"ab"), Ok(false));
        assert_eq!(record("3 0 0 616263").matches(b"abcd"), Ok(false));
    }

    #[test]
    fn the_key_is_the_subject_public_key_info_as_encoded() {
        let chain = chain();
        assert_eq!(subject_public_key_info(&chain.server), Ok(chain.server_key.as_slice()));
        assert_eq!(subject_public_key_info(&chain.ca), Ok(chain.ca_key.as_slice()));
    }

    #[test]
    fn every_selector_and_matching_type_matches_its_own_certificate_only() {
        let chain = chain();
        for selector in [CERT, SPKI] {
            let (own, other) = match selector {
                CERT => (&chain.server, &chain.ca),
                _ => (&chain.server_key, &chain.ca_key),
            };
            for matching in [FULL, SHA2_256, SHA2_512] {
                let tlsa = record_for(DANE_EE, selector, matching, own);
                assert_eq!(tlsa.usability(), Usability::Usable, "{tlsa}");
                assert_eq!(tlsa.matches(&chain.server), Ok(true), "{tlsa}");
                assert_eq!(tlsa.matches(&chain.ca), Ok(false), "{tlsa}");
                let wrong = record_for(DANE_EE, selector, matching, other);
                assert_eq!(wrong.matches(&chain.server), Ok(false), "{wrong}");
                // A single bit changed in the data is a mismatch.
                let mut flipped = tlsa.clone();
                flipped.data[0] ^= 1;
                assert_eq!(flipped.matches(&chain.server), Ok(false), "{flipped}");
            }
        }
    }

    #[test]
    fn matching_errors_name_what_failed() {
        let spki = record(&format!("3 1 1 {ABC_SHA256}"));
        let error = spki.matches(b"not a certificate").unwrap_err();
        assert!(error.starts_with("the certificate does not parse: "), "{error}");
        // Cert(0) needs no parsing: any bytes can be compared.
        assert_eq!(record(&format!("3 0 1 {ABC_SHA256}")).matches(b"not a certificate"), Ok(false));
        let selector = Tlsa { selector: 2, ..spki.clone() };
        assert_eq!(selector.matches(b"abc"), Err("unknown selector 2 (RFC 6698 §2.1.2 defines 0 and 1)".into()));
        let matching = Tlsa { selector: CERT, matching: 7, ..spki };
        assert_eq!(matching.matches(b"abc"), Err("unknown matching type 7 (RFC 6698 §2.1.3 defines 0 to 2)".into()));
    }

    #[test]
    fn dane_ee_at_depth_zero_authenticates() {
        let chain = chain();
        let records = [
            record_for(DANE_EE, SPKI, SHA2_512, &chain.ca_key),
            record_for(DANE_EE, SPKI, SHA2_256, &chain.server_key),
        ];
        let result = match_chain(&records, &[chain.server.clone(), chain.ca.clone()]);
        assert_eq!(result.outcome, Outcome::EndEntity { record: 1 });
        // DANE-EE is compared with the server's certificate only: the first record names the CA's key.
        let shown: Vec<String> = result.matches.iter().map(Match::to_string).collect();
        assert_eq!(shown, ["matched 3 1 1 at depth 0"]);
        assert_eq!(result.matches[0].record, 1);
        assert!(result.unusable.is_empty() && result.unreadable.is_empty());
    }

    #[test]
    fn dane_ee_for_an_issuer_does_not_authenticate() {
        let chain = chain();
        let records = [record_for(DANE_EE, CERT, SHA2_256, &chain.ca)];
        let result = match_chain(&records, &[chain.server.clone(), chain.ca.clone()]);
        assert_eq!(result.outcome, Outcome::NoMatch);
        assert!(result.matches.is_empty());
    }

    #[test]
    fn dane_ta_at_depth_one_is_the_trust_anchor() {
        let chain = chain();
        let certificates = [chain.server.clone(), chain.ca.clone()];
        for tlsa in [
            record_for(DANE_TA, CERT, SHA2_256, &chain.ca),
            record_for(DANE_TA, CERT, FULL, &chain.ca),
            record_for(DANE_TA, SPKI, SHA2_256, &chain.ca_key),
            record_for(DANE_TA, SPKI, SHA2_512, &chain.ca_key),
            record_for(DANE_TA, SPKI, FULL, &chain.ca_key),
        ] {
            let result = match_chain(std::slice::from_ref(&tlsa), &certificates);
            assert_eq!(result.outcome, Outcome::TrustAnchor { depth: 1, record: 0 }, "{tlsa}");
            let shown: Vec<String> = result.matches.iter().map(Match::to_string).collect();
            assert_eq!(shown, [format!("matched {tlsa} at depth 1")]);
        }
    }

    #[test]
    fn dane_ta_matching_the_server_certificate_is_no_trust_anchor() {
        let chain = chain();
        let records = [record_for(DANE_TA, SPKI, SHA2_256, &chain.server_key)];
        let result = match_chain(&records, &[chain.server.clone(), chain.ca.clone()]);
        assert_eq!(result.outcome, Outcome::NoMatch);
        // The match is still shown: it explains what the operator published.
        assert_eq!(result.matches.len(), 1);
        assert_eq!(result.matches[0].to_string(), "matched 2 1 1 at depth 0");
    }

    #[test]
    fn dane_ee_wins_over_dane_ta() {
        let chain = chain();
        let records =
            [record_for(DANE_TA, CERT, SHA2_256, &chain.ca), record_for(DANE_EE, CERT, SHA2_256, &chain.server)];
        let result = match_chain(&records, &[chain.server.clone(), chain.ca.clone()]);
        assert_eq!(result.outcome, Outcome::EndEntity { record: 1 });
        let shown: Vec<String> = result.matches.iter().map(Match::to_string).collect();
        assert_eq!(shown, ["matched 3 0 1 at depth 0", "matched 2 0 1 at depth 1"]);
    }

    #[test]
    fn a_trust_anchor_key_left_out_of_the_chain_is_reported_for_the_caller_to_verify() {
        let chain = chain();
        // The server sends only its own certificate; the record holds the CA's whole key (RFC 7671 §5.2.3).
        let records = [record_for(DANE_TA, SPKI, FULL, &chain.ca_key)];
        let result = match_chain(&records, std::slice::from_ref(&chain.server));
        assert_eq!(result.outcome, Outcome::TrustAnchorKey { record: 0 });
        assert!(result.matches.is_empty());
        // A digest of the key cannot be checked against a signature, and data that is no key is no anchor.
        let digest = [record_for(DANE_TA, SPKI, SHA2_256, &chain.ca_key)];
        assert_eq!(match_chain(&digest, std::slice::from_ref(&chain.server)).outcome, Outcome::NoMatch);
        let garbage = [Tlsa { usage: DANE_TA, selector: SPKI, matching: FULL, data: b"not a key".to_vec() }];
        assert_eq!(match_chain(&garbage, std::slice::from_ref(&chain.server)).outcome, Outcome::NoMatch);
        // Nothing to anchor without a certificate.
        assert_eq!(match_chain(&records, &[]).outcome, Outcome::NoMatch);
    }

    #[test]
    fn unusable_records_are_left_out_and_explained() {
        let chain = chain();
        let records =
            [record_for(PKIX_EE, CERT, SHA2_256, &chain.server), record_for(PKIX_TA, CERT, SHA2_256, &chain.ca)];
        let result = match_chain(&records, &[chain.server.clone(), chain.ca.clone()]);
        assert_eq!(result.outcome, Outcome::NoUsableRecords);
        assert!(result.matches.is_empty());
        let reasons: Vec<(usize, &str)> =
            result.unusable.iter().map(|unusable| (unusable.record, unusable.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (0, "PKIX-EE(1) is not used for SMTP, RFC 7672 §3.1.3"),
                (1, "PKIX-TA(0) is not used for SMTP, RFC 7672 §3.1.3")
            ]
        );
        assert_eq!(match_chain(&[], std::slice::from_ref(&chain.server)).outcome, Outcome::NoUsableRecords);
        // One usable record among unusable ones decides.
        let mut mixed = records.to_vec();
        mixed.push(record_for(DANE_EE, CERT, SHA2_256, &chain.server));
        let result = match_chain(&mixed, std::slice::from_ref(&chain.server));
        assert_eq!(result.outcome, Outcome::EndEntity { record: 2 });
        assert_eq!(result.unusable.len(), 2);
    }

    #[test]
    fn certificates_that_do_not_parse_are_reported_once() {
        let chain = chain();
        let records = [
            record_for(DANE_TA, SPKI, SHA2_256, &chain.ca_key),
            record_for(DANE_TA, SPKI, SHA2_512, &chain.ca_key),
            record_for(DANE_TA, CERT, SHA2_256, &chain.ca),
        ];
        let result = match_chain(&records, &[chain.server.clone(), b"garbage".to_vec(), chain.ca.clone()]);
        assert_eq!(result.unreadable.len(), 1);
        assert_eq!(result.unreadable[0].0, 1);
        assert!(result.unreadable[0].1.starts_with("the certificate does not parse: "), "{:?}", result.unreadable);
        assert_eq!(result.outcome, Outcome::TrustAnchor { depth: 2, record: 0 });
        assert_eq!(result.matches.len(), 3);
    }
}
