//! TLS: the policy (when to encrypt, how hard to verify), the rustls client, the stream that is plain or
//! encrypted, and certificates explained in plain words.
//!
//! One verifier serves every policy: it always runs the full WebPKI check against webpki-roots and the user's
//! CA files, records the chain and the verdict, and only then applies the policy. So `report` and `insecure`
//! can say exactly what was wrong, and `strict` can show the chain it refused.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};
use x509_parser::extensions::GeneralName;

use crate::error::{Error, Phase};
use crate::event::{CertificateInfo, Event, Sink};
use crate::smtp::session::Transport;

/// When to use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only:
    /// an attacker in the path can strip the STARTTLS offer.
    Auto,
    /// STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against
    /// eavesdropping and, with verification, against a server in the middle.
    Required,
    /// Never start TLS. Everything, AUTH included, goes in clear text.
    None,
    /// TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text.
    Implicit,
}

/// How hard to check the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Verify {
    /// Abort the handshake when the certificate does not verify.
    Strict,
    /// Complete the handshake, show the chain, say what was wrong, and go on.
    Report,
    /// Go on whatever the certificate says, with a warning: no protection against a server in the middle.
    Insecure,
}

/// Everything needed to make TLS connections, checked and loaded once. Each handshake gets its own verifier
/// (and so its own record of what it saw), so parallel handshakes (`probe`) never mix their verdicts.
#[derive(Debug)]
pub struct TlsClient {
    provider: Arc<rustls::crypto::CryptoProvider>,
    roots: Arc<RootCertStore>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    pub verify: Verify,
}

/// Options from the command line.
pub struct TlsOptions<'a> {
    pub verify: Verify,
    pub ca_files: &'a [std::path::PathBuf],
    pub client_cert: Option<(&'a Path, &'a Path)>,
    pub min_version_13: bool,
}

impl TlsClient {
    pub fn new(options: &TlsOptions<'_>) -> Result<TlsClient, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for path in options.ca_files {
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::BadInput(format!("cannot read --ca-file {}: {e}", path.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| Error::BadInput(format!("--ca-file {}: {e}", path.display())))?;
            if certificates.is_empty() {
                return Err(Error::BadInput(format!("--ca-file {} holds no PEM certificate", path.display())));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|e| {
                    Error::BadInput(format!("--ca-file {}: not a usable CA certificate: {e}", path.display()))
                })?;
            }
        }
        static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        let versions: &'static [&'static rustls::SupportedProtocolVersion] =
            if options.min_version_13 { &TLS13_ONLY } else { rustls::ALL_VERSIONS };
        let client_auth = match options.client_cert {
            None => None,
            Some((cert, key)) => {
                let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                    .and_then(|iter| iter.collect::<Result<_, _>>())
                    .map_err(|e| Error::BadInput(format!("--tls-cert {}: {e}", cert.display())))?;
                if chain.is_empty() {
                    return Err(Error::BadInput(format!("--tls-cert {} holds no PEM certificate", cert.display())));
                }
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
                    rustls::pki_types::pem::Error::NoItemsFound => {
                        Error::BadInput(format!("--tls-key {} holds no PEM private key", key.display()))
                    }
                    other => Error::BadInput(format!("--tls-key {}: {other}", key.display())),
                })?;
                Some((chain, Arc::new(key)))
            }
        };
        let client = TlsClient { provider, roots: Arc::new(roots), versions, client_auth, verify: options.verify };
        // Build one configuration now, so that a bad certificate or key is reported before connecting.
        client.config()?;
        Ok(client)
    }

    fn config(&self) -> Result<(Arc<ClientConfig>, Arc<RecordingVerifier>), Error> {
        let inner = WebPkiServerVerifier::builder_with_provider(self.roots.clone(), self.provider.clone())
            .build()
            .map_err(|e| Error::BadInput(format!("cannot set up certificate verification: {e}")))?;
        let verifier = Arc::new(RecordingVerifier { inner, policy: self.verify, seen: Mutex::new(None) });
        let builder = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(self.versions)
            .map_err(|e| Error::BadInput(format!("TLS versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| Error::BadInput(format!("--tls-cert/--tls-key: {e}")))?,
        };
        Ok((Arc::new(config), verifier))
    }

    /// Run the handshake over `tcp`, checking the certificate for `host` (sent as SNI when it is a name), and
    /// report the session and the chain.
    pub fn handshake(
        &self,
        tcp: TcpStream,
        host: &str,
        timeout: Duration,
        sink: &mut dyn Sink,
    ) -> Result<TlsStream, Error> {
        let phase = Phase::TlsHandshake;
        let name = server_name(host).map_err(|detail| Error::Tls { detail })?;
        let (config, verifier) = self.config()?;
        let connection = ClientConnection::new(config, name).map_err(|e| Error::Tls { detail: e.to_string() })?;
        tcp.set_read_timeout(Some(timeout))
            .and_then(|()| tcp.set_write_timeout(Some(timeout)))
            .map_err(|cause| Error::Io { phase, cause })?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        let started = std::time::Instant::now();
        while stream.conn.is_handshaking() {
            if let Err(error) = stream.conn.complete_io(&mut stream.sock) {
                // A refused certificate arrives as an I/O error wrapping the rustls error: explain it in full.
                if let Some(seen) = verifier.seen.lock().unwrap().take() {
                    if let Err(refusal) = &seen.verdict {
                        report_chain(&seen.chain, sink);
                        return Err(Error::Tls { detail: format!("{host}: {}", explain(refusal, &seen.chain, host)) });
                    }
                }
                return Err(match error.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout { phase, after: timeout },
                    io::ErrorKind::UnexpectedEof => Error::Closed { phase },
                    _ => Error::Tls {
                        detail: format!("handshake with {host} failed: {}", crate::error::io_text(&error)),
                    },
                });
            }
        }
        let version =
            stream.conn.protocol_version().map_or("?".into(), |v| format!("{v:?}").replace("TLSv1_", "TLS 1."));
        let cipher = stream.conn.negotiated_cipher_suite().map_or("?".into(), |s| format!("{:?}", s.suite()));
        let group = stream.conn.negotiated_key_exchange_group().map_or("?".into(), |g| format!("{:?}", g.name()));
        sink.emit(Event::Step { name: "TLS handshake", duration: started.elapsed() });
        sink.emit(Event::Tls { version, cipher, group });
        let seen = verifier.seen.lock().unwrap().take();
        if let Some(seen) = seen {
            report_chain(&seen.chain, sink);
            match &seen.verdict {
                Ok(()) => sink.emit(Event::Info(format!("certificate verified for {host}"))),
                Err(refusal) => {
                    let why = explain(refusal, &seen.chain, host);
                    sink.emit(Event::Warning(match self.verify {
                        Verify::Report => format!("certificate does not verify: {why} (--tls-verify report: going on)"),
                        _ => format!("certificate does not verify: {why}; going on anyway (--insecure): the connection is not protected against a server in the middle"),
                    }));
                }
            }
        }
        Ok(TlsStream(Box::new(stream)))
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

/// A TLS connection over TCP.
pub struct TlsStream(Box<rustls::StreamOwned<ClientConnection, TcpStream>>);

/// The connection a session talks over: plain until STARTTLS, or TLS from the start.
pub enum Stream {
    Plain(TcpStream),
    Tls(TlsStream),
    /// Only while a handshake is under way, or after it failed.
    Gone,
}

impl Stream {
    /// STARTTLS: turn this plain connection into a TLS one in place (RFC 3207).
    pub fn start_tls(
        &mut self,
        client: &TlsClient,
        host: &str,
        timeout: Duration,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Gone) else {
            return Err(Error::Tls { detail: "TLS is already active".into() });
        };
        *self = Stream::Tls(client.handshake(tcp, host, timeout, sink)?);
        Ok(())
    }

    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(tcp) => Some(tcp),
            Stream::Tls(tls) => Some(&tls.0.sock),
            Stream::Gone => None,
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection was lost during the TLS handshake")
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.0.read(buf),
            Stream::Gone => Err(gone()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.0.write(buf),
            Stream::Gone => Err(gone()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.0.flush(),
            Stream::Gone => Err(gone()),
        }
    }
}

impl Transport for Stream {
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        match self.tcp() {
            Some(tcp) => {
                tcp.set_read_timeout(Some(timeout))?;
                tcp.set_write_timeout(Some(timeout))
            }
            None => Err(gone()),
        }
    }
}

/// What the verifier saw during the last handshake.
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    verdict: Result<(), rustls::Error>,
}

struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    policy: Verify,
    seen: Mutex<Option<Seen>>,
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
        let verdict = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let chain = std::iter::once(end_entity).chain(intermediates).map(|c| c.clone().into_owned()).collect();
        let recorded = verdict.as_ref().map(|_| ()).map_err(Clone::clone);
        *self.seen.lock().unwrap() = Some(Seen { chain, verdict: recorded });
        match (verdict, self.policy) {
            (Ok(verified), _) => Ok(verified),
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

/// One certificate, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
}

impl CertificateSummary {
    pub fn parse(der: &[u8]) -> Option<CertificateSummary> {
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
        Some(CertificateSummary {
            subject: certificate.subject().to_string(),
            issuer: certificate.issuer().to_string(),
            names,
            not_before: certificate.validity().not_before.timestamp(),
            not_after: certificate.validity().not_after.timestamp(),
        })
    }

    /// Whole days from now until the certificate expires, or since it expired (negative): 3.9 days ago
    /// is "3 days ago", as a person counts.
    pub fn days_left(&self, now: i64) -> i64 {
        let seconds = self.not_after - now;
        if seconds >= 0 {
            seconds / 86_400
        } else {
            -((-seconds) / 86_400) - i64::from((-seconds) % 86_400 != 0 && (-seconds) < 86_400)
        }
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// One event per certificate of the chain the server sent.
fn report_chain(chain: &[CertificateDer<'static>], sink: &mut dyn Sink) {
    let now = now();
    for (index, der) in chain.iter().enumerate() {
        match CertificateSummary::parse(der) {
            None => sink.emit(Event::Warning(format!("certificate {index}: cannot be parsed ({} bytes)", der.len()))),
            Some(c) => sink.emit(Event::Certificate(CertificateInfo {
                index,
                days_left: c.days_left(now),
                subject: c.subject,
                issuer: c.issuer,
                names: c.names,
                not_before: crate::message::utc_date(c.not_before),
                not_after: crate::message::utc_date(c.not_after),
            })),
        }
    }
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

/// Why a certificate was refused, in plain words, using what the certificate itself says.
pub fn explain(error: &rustls::Error, chain: &[CertificateDer<'static>], host: &str) -> String {
    let leaf = chain.first().and_then(|der| CertificateSummary::parse(der));
    let now = now();
    let rustls::Error::InvalidCertificate(reason) = error else {
        return error.to_string();
    };
    match (reason, &leaf) {
        (CertificateError::Expired | CertificateError::ExpiredContext { .. }, Some(leaf)) => {
            format!(
                "certificate {} (on {})",
                days_phrase(leaf.days_left(now)),
                crate::message::utc_date(leaf.not_after)
            )
        }
        (CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }, Some(leaf)) => {
            format!("certificate is not valid until {}", crate::message::utc_date(leaf.not_before))
        }
        (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }, Some(leaf)) => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            format!("name {bare} is not in the certificate (it has: {})", leaf.names.join(", "))
        }
        (CertificateError::UnknownIssuer, Some(leaf)) => {
            format!("issuer not trusted: {} (not in webpki-roots or any --ca-file)", leaf.issuer)
        }
        (CertificateError::BadSignature, _) => "the certificate's signature is invalid".into(),
        (CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. }, _) => {
            "the certificate is not meant for a TLS server".into()
        }
        (other, _) => format!("certificate refused: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_counted_as_people_count_them() {
        let certificate = |not_after| CertificateSummary {
            subject: String::new(),
            issuer: String::new(),
            names: vec![],
            not_before: 0,
            not_after,
        };
        let now = 1_000_000_000;
        assert_eq!(certificate(now + 89 * 86_400 + 80_000).days_left(now), 89);
        assert_eq!(certificate(now + 3_600).days_left(now), 0);
        assert_eq!(certificate(now - 3_600).days_left(now), -1, "expired within the last day: yesterday");
        assert_eq!(certificate(now - 3 * 86_400 - 80_000).days_left(now), -3);
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
