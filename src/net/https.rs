//! What the HTTPS clients (MTA-STS policies, OAuth token endpoints) share: which CAs to trust.

use std::path::PathBuf;
use std::sync::Arc;

/// The CAs to trust for an HTTPS host: with `--ca-file`, only the certificates in those files; without, the
/// web PKI roots.
pub fn root_certs(ca_files: &[PathBuf]) -> Result<ureq::tls::RootCerts, String> {
    if ca_files.is_empty() {
        return Ok(ureq::tls::RootCerts::WebPki);
    }
    let mut certificates = Vec::new();
    for path in ca_files {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read --ca-file {}: {e}", path.display()))?;
        for certificate in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(certificate)) = certificate {
                certificates.push(certificate.to_owned());
            }
        }
    }
    Ok(ureq::tls::RootCerts::Specific(Arc::new(certificates)))
}

/// Whether ureq's error is rustls refusing the server's certificate (ureq reports it as an I/O error
/// wrapping rustls's, or as rustls's own).
pub fn certificate_refused(error: &ureq::Error) -> Option<String> {
    match error {
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(problem)) => Some(format!("{problem:?}")),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .filter(|error| matches!(error, rustls::Error::InvalidCertificate(_)))
            .map(ToString::to_string),
        _ => None,
    }
}
