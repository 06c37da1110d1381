//! The PROXY protocol header (HAProxy's "proxy-protocol.txt", versions 1 and 2): the first bytes on a
//! connection, in clear even before implicit TLS, telling a server behind a load balancer who the client
//! really is. postie sends it to test such servers (Postfix's `smtpd_upstream_proxy_protocol = haproxy`).

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// One text line: `PROXY TCP4 src dst sport dport\r\n`.
    V1,
    /// A binary header with a 12-byte signature.
    V2,
}

/// Who the header says is talking to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: Version,
    pub source: SocketAddr,
    pub destination: SocketAddr,
}

/// proxy-protocol.txt §2.2: the signature that starts every version 2 header.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

impl Header {
    /// Both addresses must be of one family: the header has one family field (§2.1: "TCP4" or "TCP6").
    pub fn new(version: Version, source: SocketAddr, destination: SocketAddr) -> Result<Header, String> {
        if source.is_ipv4() != destination.is_ipv4() {
            return Err(format!(
                "the PROXY source {source} and destination {destination} must both be IPv4 or both IPv6"
            ));
        }
        Ok(Header { version, source, destination })
    }

    /// The exact bytes to send first.
    pub fn bytes(&self) -> Vec<u8> {
        match self.version {
            Version::V1 => {
                let family = if self.source.is_ipv4() { "TCP4" } else { "TCP6" };
                format!(
                    "PROXY {family} {} {} {} {}\r\n",
                    self.source.ip(),
                    self.destination.ip(),
                    self.source.port(),
                    self.destination.port()
                )
                .into_bytes()
            }
            Version::V2 => {
                let mut out = V2_SIGNATURE.to_vec();
                // Version 2 in the high nibble, command PROXY (1) in the low one.
                out.push(0x21);
                let mut addresses = Vec::with_capacity(36);
                let family = match (self.source, self.destination) {
                    (SocketAddr::V4(source), SocketAddr::V4(destination)) => {
                        addresses.extend_from_slice(&source.ip().octets());
                        addresses.extend_from_slice(&destination.ip().octets());
                        0x11 // AF_INET, STREAM
                    }
                    (source, destination) => {
                        addresses.extend_from_slice(&ipv6_octets(source));
                        addresses.extend_from_slice(&ipv6_octets(destination));
                        0x21 // AF_INET6, STREAM
                    }
                };
                addresses.extend_from_slice(&self.source.port().to_be_bytes());
                addresses.extend_from_slice(&self.destination.port().to_be_bytes());
                out.push(family);
                out.extend_from_slice(&(addresses.len() as u16).to_be_bytes());
                out.extend_from_slice(&addresses);
                out
            }
        }
    }

    /// The header as the transcript shows it (version 2 is binary).
    pub fn describe(&self) -> String {
        match self.version {
            Version::V1 => String::from_utf8_lossy(&self.bytes()).trim_end().to_string(),
            Version::V2 => {
                format!("PROXY v2 header ({} bytes): {} -> {}", self.bytes().len(), self.source, self.destination)
            }
        }
    }
}

/// What the user asked for: the destination is the server's address unless given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub version: Version,
    pub source: SocketAddr,
    pub destination: Option<SocketAddr>,
}

impl Spec {
    /// The header for a connection to `peer`.
    pub fn header(&self, peer: Option<SocketAddr>) -> Result<Header, String> {
        let destination = self.destination.or(peer).ok_or(
            "--proxy-protocol needs --proxy-dest ADDRESS:PORT when the server's address is unknown here (a unix \
             socket, or a name a socks5h:// proxy resolves)",
        )?;
        Header::new(self.version, self.source, destination)
    }
}

fn ipv6_octets(address: SocketAddr) -> [u8; 16] {
    match address {
        SocketAddr::V6(v6) => v6.ip().octets(),
        SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped().octets(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn version_1_is_one_line() {
        let header = Header::new(Version::V1, address("203.0.113.7:40000"), address("127.0.0.1:25")).unwrap();
        assert_eq!(header.bytes(), b"PROXY TCP4 203.0.113.7 127.0.0.1 40000 25\r\n");
        let six = Header::new(Version::V1, address("[2001:db8::7]:1"), address("[::1]:25")).unwrap();
        assert_eq!(six.bytes(), b"PROXY TCP6 2001:db8::7 ::1 1 25\r\n");
    }

    #[test]
    fn version_2_is_the_binary_layout() {
        let header = Header::new(Version::V2, address("203.0.113.7:40000"), address("127.0.0.1:25")).unwrap();
        let bytes = header.bytes();
        assert_eq!(&bytes[..12], b"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a");
        assert_eq!(&bytes[12..16], &[0x21, 0x11, 0, 12]);
        assert_eq!(&bytes[16..20], &[203, 0, 113, 7]);
        assert_eq!(&bytes[20..24], &[127, 0, 0, 1]);
        assert_eq!(&bytes[24..], &[0x9c, 0x40, 0, 25]);
        let six = Header::new(Version::V2, address("[2001:db8::7]:1"), address("[::1]:25")).unwrap();
        assert_eq!(six.bytes().len(), 16 + 36);
        assert_eq!(six.bytes()[13], 0x21);
    }

    #[test]
    fn mixed_families_are_refused() {
        let error = Header::new(Version::V1, address("203.0.113.7:1"), address("[::1]:25")).unwrap_err();
        assert!(error.contains("both be IPv4 or both IPv6"), "{error}");
    }
}
