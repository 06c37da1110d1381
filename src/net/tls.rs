//! TLS for SMTP: the rustls client configuration (webpki-roots plus the user's CA files, ring), a verifier
//! that records the chain and its verdict, and certificates as data: what each says, and why one was refused,
//! as a typed problem. Running the handshake is the stream's job (see `stream`); deciding when to start TLS is
//! the SMTP client's.
//!
//! One verifier serves every policy: it always runs the full WebPKI check and records what it saw, and only
//! then applies the policy. So `report` and `insecure` can say exactly what was wrong, and `strict` can show
//! the chain it refused.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};
use x509_parser::extensions::GeneralName;

use crate::policy::tlsa::{self, Tlsa};

/// How hard to check the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Abort the handshake when the certificate does not verify.
    Strict,
    /// Complete the handshake, show the chain, say what was wrong, and go on.
    Report,
    /// Go on whatever the certificate says, with a warning: no protection against a server in the middle.
    Insecure,
}

/// A TLS set-up that cannot work: a CA file, client certificate or key that cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The file cannot be opened (missing, unreadable): the caller names it.
    #[error("cannot read {}: {}", .path.display(), super::io_text(.cause))]
    Unreadable { path: std::path::PathBuf, cause: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

/// Fail early, with the I/O error, for a file that cannot be opened.
pub(super) fn readable(path: &Path) -> Result<(), SetupError> {
    std::fs::File::open(path).map(drop).map_err(|cause| SetupError::Unreadable { path: path.to_path_buf(), cause })
}

/// The PEM certificate chain in `path` (`--tls-cert`): at least one certificate.
pub(super) fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    readable(path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<_, _>>())
        .map_err(|e| SetupError::Invalid(format!("--tls-cert {}: {e}", path.display())))?;
    if chain.is_empty() {
        return Err(SetupError::Invalid(format!("--tls-cert {} holds no PEM certificate", path.display())));
    }
    Ok(chain)
}

/// The PEM private key in `path` (`--tls-key`).
pub(super) fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, SetupError> {
    readable(path)?;
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            SetupError::Invalid(format!("--tls-key {} holds no PEM private key", path.display()))
        }
        other => SetupError::Invalid(format!("--tls-key {}: {other}", path.display())),
    })
}

/// Everything needed to make TLS connections, checked and loaded once. Each handshake gets its own verifier
/// (and so its own record of what it saw), so parallel handshakes (`probe`) never mix their verdicts.
#[derive(Debug)]
pub struct TlsClient {
    provider: Arc<rustls::crypto::CryptoProvider>,
    roots: Arc<RootCertStore>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    /// The policy the user chose; `None`: the caller decides per connection (see `connect`).
    pub verify: Option<Verify>,
    /// The system's CA store (`/etc/ssl/certs`, `SSL_CERT_FILE`, `SSL_CERT_DIR`) with the other roots, loaded
    /// the first time a chain does not verify without it: most never need it, and loading costs milliseconds.
    system: Arc<SystemRoots>,
}

/// A verifier that also trusts the system's CA store, made once, when first needed.
struct SystemRoots {
    roots: Arc<RootCertStore>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    verifier: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl fmt::Debug for SystemRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SystemRoots")
    }
}

impl SystemRoots {
    fn verifier(&self) -> Option<Arc<WebPkiServerVerifier>> {
        self.verifier
            .get_or_init(|| {
                let mut roots = (*self.roots).clone();
                let loaded = rustls_native_certs::load_native_certs();
                if loaded.certs.is_empty() {
                    return None;
                }
                // Certificates that cannot be used as roots are skipped, as every TLS client does.
                roots.add_parsable_certificates(loaded.certs);
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone()).build().ok()
            })
            .clone()
    }
}

/// Options from the command line.
pub struct TlsOptions<'a> {
    /// `None`: decided per connection by the caller.
    pub verify: Option<Verify>,
    pub ca_files: &'a [std::path::PathBuf],
    pub client_cert: Option<(&'a Path, &'a Path)>,
    pub min_version_13: bool,
}

impl TlsClient {
    pub fn new(options: &TlsOptions<'_>) -> Result<TlsClient, SetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for path in options.ca_files {
            readable(path)?;
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| SetupError::Invalid(format!("cannot read --ca-file {}: {e}", path.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| SetupError::Invalid(format!("--ca-file {}: {e}", path.display())))?;
            if certificates.is_empty() {
                return Err(SetupError::Invalid(format!("--ca-file {} holds no PEM certificate", path.display())));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|e| {
                    SetupError::Invalid(format!("--ca-file {}: not a usable CA certificate: {e}", path.display()))
                })?;
            }
        }
        static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        let versions: &'static [&'static rustls::SupportedProtocolVersion] =
            if options.min_version_13 { &TLS13_ONLY } else { rustls::ALL_VERSIONS };
        let client_auth = match options.client_cert {
            None => None,
            Some((cert, key)) => {
                // Both files must open before either is parsed, so that a missing key is named first.
                readable(cert)?;
                readable(key)?;
                Some((read_chain(cert)?, Arc::new(read_key(key)?)))
            }
        };
        let roots = Arc::new(roots);
        let system =
            Arc::new(SystemRoots { roots: roots.clone(), provider: provider.clone(), verifier: OnceLock::new() });
        let client = TlsClient { provider, roots, versions, client_auth, verify: options.verify, system };
        // Build one configuration now, so that a bad certificate or key is reported before connecting.
        client.config(Verify::Strict, None)?;
        Ok(client)
    }

    fn config(
        &self,
        policy: Verify,
        dane: Option<Arc<DaneCheck>>,
    ) -> Result<(Arc<ClientConfig>, Arc<RecordingVerifier>), SetupError> {
        let inner = WebPkiServerVerifier::builder_with_provider(self.roots.clone(), self.provider.clone())
            .build()
            .map_err(|e| SetupError::Invalid(format!("cannot set up certificate verification: {e}")))?;
        let verifier = Arc::new(RecordingVerifier {
            inner,
            system: self.system.clone(),
            provider: self.provider.clone(),
            policy,
            dane,
            seen: Mutex::new(None),
        });
        let builder = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(self.versions)
            .map_err(|e| SetupError::Invalid(format!("TLS versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| SetupError::Invalid(format!("--tls-cert/--tls-key: {e}")))?,
        };
        Ok((Arc::new(config), verifier))
    }

    /// A client connection for `host` (checked against the certificate, and sent as SNI when it is a name),
    /// and the recorder that will hold what the verifier saw. `policy` applies unless the user chose one.
    pub fn connect(&self, host: &str, policy: Verify) -> Result<(ClientConnection, Recorder), String> {
        self.connect_with(host, policy, None)
    }

    /// As [`TlsClient::connect`], authenticating the server with DANE (RFC 7672 §3) when `dane` holds the
    /// host's secure TLSA records: they decide, not the web PKI (which is still checked and recorded).
    pub fn connect_with(
        &self,
        host: &str,
        policy: Verify,
        dane: Option<Arc<DaneCheck>>,
    ) -> Result<(ClientConnection, Recorder), String> {
        let name = server_name(host)?;
        let (config, verifier) = self.config(self.verify.unwrap_or(policy), dane).map_err(|e| e.to_string())?;
        let connection = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        Ok((connection, Recorder(verifier)))
    }
}

/// Holds what the verifier saw during one handshake.
pub struct Recorder(Arc<RecordingVerifier>);

impl Recorder {
    /// The chain the server sent and the verdict, with the problem checked against `host` explained.
    pub fn take(&self, host: &str) -> Option<Certificates> {
        let seen = self.0.seen.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let chain: Vec<Certificate> =
            seen.chain.iter().enumerate().map(|(index, der)| Certificate::parse(index, der)).collect();
        let verdict = match &seen.verdict {
            Ok(()) => Verdict::Verified,
            Err(error) => Verdict::Refused(problem(error, chain.first(), host)),
        };
        let dane = seen.dane.map(|(matches, result)| DaneVerdict {
            matches,
            result: result.map_err(|error| problem(&error, chain.first(), host).to_string()),
        });
        Some(Certificates { chain, verdict, dane })
    }
}

/// The session after a handshake: protocol version, cipher suite, key exchange group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionFacts {
    pub version: String,
    pub cipher: String,
    pub group: String,
}

impl SessionFacts {
    pub fn of(connection: &ClientConnection) -> SessionFacts {
        SessionFacts {
            version: connection.protocol_version().map_or("?".into(), |v| format!("{v:?}").replace("TLSv1_", "TLS 1.")),
            cipher: connection.negotiated_cipher_suite().map_or("?".into(), |s| format!("{:?}", s.suite())),
            group: connection.negotiated_key_exchange_group().map_or("?".into(), |g| format!("{:?}", g.name())),
        }
    }
}

/// The chain the server sent and what the checks said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificates {
    pub chain: Vec<Certificate>,
    /// The web PKI's verdict for the host name.
    pub verdict: Verdict,
    /// DANE's, when the handshake was given TLSA records.
    pub dane: Option<DaneVerdict>,
}

impl Certificates {
    /// The server is who it should be: by DANE when TLSA records were given, else by the web PKI.
    pub fn authenticated(&self) -> bool {
        match &self.dane {
            Some(dane) => dane.result.is_ok(),
            None => self.verdict == Verdict::Verified,
        }
    }
}

/// What DANE checks a server's chain against: its usable TLSA records, and the names besides the one
/// connected to that a DANE-TA chain may be issued for (the target of a secure CNAME, RFC 7672 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaneCheck {
    pub records: Vec<Tlsa>,
    pub names: Vec<String>,
}

/// What the TLSA records said of the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DaneVerdict {
    /// Each match, as "matched 3 1 1 at depth 0".
    pub matches: Vec<String>,
    /// Authenticated, or why not.
    pub result: Result<(), String>,
}

/// The certificate check's result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", content = "problem", rename_all = "snake_case")]
pub enum Verdict {
    Verified,
    Refused(Problem),
}

/// Why a certificate does not verify, with what the certificate itself says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Expired {
        days_left: i64,
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    NameMismatch {
        name: String,
        names: Vec<String>,
    },
    UnknownIssuer {
        issuer: String,
    },
    BadSignature,
    NotForServers,
    /// Anything else rustls reports, in its words.
    Other {
        detail: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Expired { days_left, not_after } => {
                write!(f, "certificate {} (on {not_after})", days_phrase(*days_left))
            }
            Problem::NotYetValid { not_before } => write!(f, "certificate is not valid until {not_before}"),
            Problem::NameMismatch { name, names } => {
                write!(f, "name {name} is not in the certificate (it has: {})", names.join(", "))
            }
            Problem::UnknownIssuer { issuer } => {
                write!(f, "issuer not trusted: {issuer} (not in webpki-roots, the system's CA store or any --ca-file)")
            }
            Problem::BadSignature => f.write_str("the certificate's signature is invalid"),
            Problem::NotForServers => f.write_str("the certificate is not meant for a TLS server"),
            Problem::Other { detail } => write!(f, "certificate refused: {detail}"),
        }
    }
}

/// The name checked against the certificate: a DNS name, or an IP address when that is what was used.
fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_string()).map_err(|e| format!("{host:?} cannot be checked against a certificate: {e}"))
}

/// What the verifier saw during the last handshake.
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    verdict: Result<(), rustls::Error>,
    /// With TLSA records: the matches and DANE's verdict.
    dane: Option<(Vec<String>, Result<(), rustls::Error>)>,
}

struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    system: Arc<SystemRoots>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    policy: Verify,
    dane: Option<Arc<DaneCheck>>,
    seen: Mutex<Option<Seen>>,
}

/// Why DANE did not authenticate the server, as a certificate error rustls can carry.
#[derive(Debug)]
struct DaneFailure(String);

impl fmt::Display for DaneFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DaneFailure {}

fn dane_failure(text: impl Into<String>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(DaneFailure(text.into())))))
}

impl RecordingVerifier {
    /// RFC 7672 §3: a DANE-EE match authenticates the server whatever its names and dates; a DANE-TA match
    /// makes that certificate the trust anchor, and the chain below it must verify for the host name; usable
    /// records that match nothing fail; with no usable record, TLS goes on unauthenticated (§2.2).
    fn dane(
        &self,
        check: &DaneCheck,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> (Vec<String>, Result<(), rustls::Error>) {
        let chain: Vec<Vec<u8>> = std::iter::once(end_entity).chain(intermediates).map(|c| c.to_vec()).collect();
        let records = &check.records;
        let found = tlsa::match_chain(records, &chain);
        let matches = found.matches.iter().map(ToString::to_string).collect();
        let result = match found.outcome {
            tlsa::Outcome::EndEntity { .. } | tlsa::Outcome::NoUsableRecords => Ok(()),
            tlsa::Outcome::TrustAnchor { depth, .. } => {
                let mut roots = RootCertStore::empty();
                match roots.add(CertificateDer::from(chain[depth].clone())) {
                    Err(error) => Err(dane_failure(format!("the trust anchor at depth {depth} is unusable: {error}"))),
                    Ok(()) => WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                        .build()
                        .map_err(|error| dane_failure(format!("cannot check the chain to the trust anchor: {error}")))
                        .and_then(|verifier| {
                            let below = &intermediates[..depth.saturating_sub(1)];
                            let verify = |name: &ServerName<'_>| {
                                verifier.verify_server_cert(end_entity, below, name, &[], now).map(|_| ())
                            };
                            // The name connected to, then the other reference identifiers (RFC 7672 §3.2.2).
                            check.names.iter().filter_map(|name| ServerName::try_from(name.as_str()).ok()).fold(
                                verify(server_name),
                                |result, name| match result {
                                    Err(rustls::Error::InvalidCertificate(
                                        CertificateError::NotValidForName
                                        | CertificateError::NotValidForNameContext { .. },
                                    )) => verify(&name),
                                    done => done,
                                },
                            )
                        }),
                }
            }
            tlsa::Outcome::TrustAnchorKey { .. } => Err(dane_failure(
                "only a DANE-TA key that signs outside the chain could match, and postie does not check those",
            )),
            tlsa::Outcome::NoMatch => Err(dane_failure(format!(
                "no TLSA record matches the certificate chain ({} usable record{})",
                records.len() - found.unusable.len(),
                if records.len() - found.unusable.len() == 1 { "" } else { "s" }
            ))),
        };
        (matches, result)
    }
}

impl fmt::Debug for RecordingVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordingVerifier({:?})", self.policy)
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut verdict = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        if matches!(verdict, Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))) {
            // A private or corporate CA installed with update-ca-certificates: ask the system's store too.
            if let Some(system) = self.system.verifier() {
                let again = system.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
                if again.is_ok()
                    || !matches!(again, Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)))
                {
                    verdict = again;
                }
            }
        }
        let chain = std::iter::once(end_entity).chain(intermediates).map(|c| c.clone().into_owned()).collect();
        let recorded = verdict.as_ref().map(|_| ()).map_err(Clone::clone);
        let dane = self.dane.as_ref().map(|check| self.dane(check, end_entity, intermediates, server_name, now));
        // With TLSA records, DANE decides; the web PKI's verdict is kept for the report.
        let decisive = match &dane {
            Some((_, result)) => result.clone(),
            None => recorded.clone(),
        };
        *self.seen.lock().unwrap() = Some(Seen { chain, verdict: recorded, dane });
        match (decisive, self.policy) {
            (Ok(()), _) => Ok(ServerCertVerified::assertion()),
            (Err(error), Verify::Strict) => Err(error),
            (Err(_), Verify::Report | Verify::Insecure) => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// One certificate of the chain, as data. Text fields are the certificate's own (untrusted: escape them
/// where they are shown).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Certificate {
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    /// `YYYY-MM-DD`, UTC.
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    /// The certificate could not be parsed; only its size is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unparsable_bytes: Option<usize>,
}

impl Certificate {
    fn parse(index: usize, der: &[u8]) -> Certificate {
        match parse_summary(der) {
            Some(summary) => Certificate {
                index,
                days_left: summary.days_left(now()),
                subject: summary.subject,
                issuer: summary.issuer,
                names: summary.names,
                not_before: utc_date(summary.not_before),
                not_after: utc_date(summary.not_after),
                unparsable_bytes: None,
            },
            None => Certificate {
                index,
                subject: String::new(),
                issuer: String::new(),
                names: Vec::new(),
                not_before: String::new(),
                not_after: String::new(),
                days_left: 0,
                unparsable_bytes: Some(der.len()),
            },
        }
    }
}

/// What is read of a certificate, with its dates as seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    subject: String,
    issuer: String,
    names: Vec<String>,
    not_before: i64,
    not_after: i64,
}

fn parse_summary(der: &[u8]) -> Option<Summary> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = certificate.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => match bytes.len() {
                    4 => names.push(IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
                    16 => names.push(IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Some(Summary {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        names,
        not_before: certificate.validity().not_before.timestamp(),
        not_after: certificate.validity().not_after.timestamp(),
    })
}

impl Summary {
    /// Whole days from now until the certificate expires, or since it expired (negative): 3.9 days ago is
    /// "3 days ago", as a person counts.
    fn days_left(&self, now: i64) -> i64 {
        days_between(self.not_after, now)
    }
}

fn days_between(not_after: i64, now: i64) -> i64 {
    let seconds = not_after - now;
    if seconds >= 0 {
        seconds / 86_400
    } else {
        -((-seconds) / 86_400) - i64::from((-seconds) % 86_400 != 0 && (-seconds) < 86_400)
    }
}

/// `YYYY-MM-DD` of a UTC time in seconds since the epoch.
fn utc_date(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds).map_or_else(|_| "?".into(), |t| t.date().to_string())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// "expired 3 days ago", "89 days left".
pub fn days_phrase(days: i64) -> String {
    match days {
        d if d < -1 => format!("expired {} days ago", -d),
        -1 => "expired yesterday".into(),
        0 => "expires today".into(),
        1 => "1 day left".into(),
        d => format!("{d} days left"),
    }
}

/// Why a certificate was refused, using what the certificate itself says.
fn problem(error: &rustls::Error, leaf: Option<&Certificate>, host: &str) -> Problem {
    let leaf = leaf.filter(|c| c.unparsable_bytes.is_none());
    let rustls::Error::InvalidCertificate(reason) = error else {
        return Problem::Other { detail: error.to_string() };
    };
    match (reason, leaf) {
        (CertificateError::Expired | CertificateError::ExpiredContext { .. }, Some(leaf)) => {
            Problem::Expired { days_left: leaf.days_left, not_after: leaf.not_after.clone() }
        }
        (CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }, Some(leaf)) => {
            Problem::NotYetValid { not_before: leaf.not_before.clone() }
        }
        (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }, Some(leaf)) => {
            let name = host.trim_start_matches('[').trim_end_matches(']').to_string();
            Problem::NameMismatch { name, names: leaf.names.clone() }
        }
        (CertificateError::UnknownIssuer, Some(leaf)) => Problem::UnknownIssuer { issuer: leaf.issuer.clone() },
        (CertificateError::BadSignature, _) => Problem::BadSignature,
        (CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }, _) => {
            Problem::NotForServers
        }
        (CertificateError::Other(other), _) => Problem::Other { detail: in_words(&other.to_string()) },
        (other, _) => Problem::Other { detail: in_words(&format!("{other:?}")) },
    }
}

/// A verifier's error name (`MaximumPathDepthExceeded`, `Other(OtherError(UnsupportedSignatureAlgorithm))`)
/// as words: "maximum path depth exceeded". Text that is already words is kept.
fn in_words(name: &str) -> String {
    let innermost = name.rsplit('(').next().unwrap_or(name).trim_end_matches(')');
    if innermost.contains(' ') || innermost.is_empty() {
        return name.to_string();
    }
    let mut words = String::new();
    for (i, c) in innermost.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_counted_as_people_count_them() {
        let now = 1_000_000_000;
        assert_eq!(days_between(now + 89 * 86_400 + 80_000, now), 89);
        assert_eq!(days_between(now + 3_600, now), 0);
        assert_eq!(days_between(now - 3_600, now), -1, "expired within the last day: yesterday");
        assert_eq!(days_between(now - 3 * 86_400 - 80_000, now), -3);
        assert_eq!(utc_date(0), "1970-01-01");
    }

    #[test]
    fn verifier_errors_in_words() {
        assert_eq!(in_words("Other(OtherError(MaximumPathDepthExceeded))"), "maximum path depth exceeded");
        assert_eq!(in_words("UnsupportedSignatureAlgorithm"), "unsupported signature algorithm");
        assert_eq!(in_words("the chain is too long"), "the chain is too long");
    }

    #[test]
    fn days() {
        assert_eq!(days_phrase(-3), "expired 3 days ago");
        assert_eq!(days_phrase(-1), "expired yesterday");
        assert_eq!(days_phrase(0), "expires today");
        assert_eq!(days_phrase(90), "90 days left");
    }

    #[test]
    fn names_checked() {
        assert!(matches!(server_name("mx.example.test"), Ok(ServerName::DnsName(_))));
        assert!(matches!(server_name("127.0.0.1"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
    }
}
