//! The server side of the wire, for `postie catch`: listening sockets, the rustls server configuration (a
//! certificate made in memory with rcgen, or PEM files), and a stream that is plain TCP or TLS, with reads
//! and writes bounded by a timeout. Nothing here knows SMTP.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::PrivateKeyDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::tls::{read_chain, read_key, SetupError};

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// Made now, in memory, for these names (rcgen); never written to disk. Clients must not verify it (`-k`).
    SelfSigned(Vec<String>),
    /// A PEM chain and its PEM private key.
    Files { cert: std::path::PathBuf, key: std::path::PathBuf },
}

/// The rustls server configuration for `source`.
pub fn server_config(source: &CertificateSource) -> Result<Arc<ServerConfig>, SetupError> {
    let (chain, key) = match source {
        CertificateSource::SelfSigned(names) => {
            let made = rcgen::generate_simple_self_signed(names.clone())
                .map_err(|e| SetupError::Invalid(format!("cannot make a self-signed certificate: {e}")))?;
            let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
                .map_err(|e| SetupError::Invalid(format!("the generated key: {e}")))?;
            (vec![made.cert.der().clone()], key)
        }
        CertificateSource::Files { cert, key } => (read_chain(cert)?, read_key(key)?),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| SetupError::Invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| SetupError::Invalid(format!("the certificate and key cannot be used: {e}")))?;
    Ok(Arc::new(config))
}

/// Bind `address`; the error in words.
pub fn bind(address: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(address).map_err(|e| super::io_text(&e))
}

/// A client's connection: plain, or TLS (implicit, or after STARTTLS).
pub enum ServerStream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

/// What a finished handshake agreed on, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed {
    pub version: String,
    pub cipher: String,
}

impl ServerStream {
    /// A new connection with its time limit for each read and write.
    pub fn new(tcp: TcpStream, timeout: Duration) -> io::Result<ServerStream> {
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        Ok(ServerStream::Plain(tcp))
    }

    /// Run the server handshake on a plain stream (implicit TLS, or after the 220 to STARTTLS).
    pub fn start_tls(self, config: Arc<ServerConfig>) -> Result<(ServerStream, Agreed), String> {
        let ServerStream::Plain(mut tcp) = self else { return Err("TLS is already active".into()) };
        let mut connection = ServerConnection::new(config).map_err(|e| e.to_string())?;
        while connection.is_handshaking() {
            connection.complete_io(&mut tcp).map_err(|e| match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "no TLS handshake within the timeout".into(),
                _ => e.to_string(),
            })?;
        }
        let agreed = Agreed {
            version: connection.protocol_version().map_or("?".into(), |v| format!("{v:?}").replace('_', ".")),
            cipher: connection.negotiated_cipher_suite().map_or("?".into(), |s| format!("{:?}", s.suite())),
        };
        Ok((ServerStream::Tls(Box::new(StreamOwned::new(connection, tcp))), agreed))
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            ServerStream::Plain(tcp) => tcp,
            ServerStream::Tls(stream) => &stream.sock,
        }
    }

    /// Close: a TLS close_notify first, then both directions.
    pub fn close(&mut self) {
        if let ServerStream::Tls(stream) = self {
            stream.conn.send_close_notify();
            let _ = stream.conn.complete_io(&mut stream.sock);
        }
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

impl Read for ServerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ServerStream::Plain(tcp) => tcp.read(buf),
            ServerStream::Tls(stream) => match stream.read(buf) {
                // A client that closes without close_notify: the end of its input all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for ServerStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ServerStream::Plain(tcp) => tcp.write(buf),
            ServerStream::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ServerStream::Plain(tcp) => tcp.flush(),
            ServerStream::Tls(stream) => stream.flush(),
        }
    }
}
