//! `--dns-trust-ad`: trust a validating resolver's AD bit instead of validating in process, as Postfix does
//! (`smtp_dns_support_level = dnssec` with a local validating resolver). hickory's resolver never sets the DO
//! bit, so its answers never carry AD: each query here is one DNS message of hickory-proto's, with DO set, sent
//! over UDP (TCP when the answer is truncated), bounded by the DNS timeout. The resolver must be trusted and
//! near (on this machine): the AD bit itself is not protected on the wire (RFC 6840 §5.8).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hickory_resolver::proto::op::{Edns, Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

/// One answer: the response code, the records of the answer section (no RRSIGs), and the AD bit.
pub struct Answer {
    pub response_code: ResponseCode,
    pub records: Vec<RData>,
    pub authentic: bool,
}

/// The largest UDP answer asked for (the DNS flag day 2020 value), and the largest read over TCP.
const UDP_PAYLOAD: u16 = 1232;

/// Ask `server` for `name` `record_type` with DO set; the answer within `timeout`.
pub fn query(server: SocketAddr, name: &Name, record_type: RecordType, timeout: Duration) -> Result<Answer, String> {
    let deadline = Instant::now() + timeout;
    let mut message = Message::query();
    message.add_query(Query::query(name.clone(), record_type));
    message.metadata.recursion_desired = true;
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true).set_max_payload(UDP_PAYLOAD);
    message.set_edns(edns);
    let bytes = message.to_vec().map_err(|e| e.to_string())?;
    let id = message.metadata.id;
    let mut response = over_udp(server, &bytes, id, deadline)?;
    if response.metadata.truncation {
        response = over_tcp(server, &bytes, id, deadline)?;
    }
    let records =
        response.answers.iter().filter(|r| r.record_type() != RecordType::RRSIG).map(|r| r.data.clone()).collect();
    Ok(Answer { response_code: response.metadata.response_code, records, authentic: response.metadata.authentic_data })
}

fn left(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out".into());
    }
    Ok(left)
}

fn over_udp(server: SocketAddr, bytes: &[u8], id: u16, deadline: Instant) -> Result<Message, String> {
    let local: SocketAddr = if server.is_ipv4() { "0.0.0.0:0".parse().unwrap() } else { "[::]:0".parse().unwrap() };
    let socket = UdpSocket::bind(local).map_err(|e| e.to_string())?;
    // Connected: datagrams from anyone else are dropped by the kernel.
    socket.connect(server).map_err(|e| e.to_string())?;
    socket.send(bytes).map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; usize::from(UDP_PAYLOAD) + 512];
    loop {
        socket.set_read_timeout(Some(left(deadline)?)).map_err(|e| e.to_string())?;
        let n = socket.recv(&mut buffer).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".to_string(),
            _ => e.to_string(),
        })?;
        // Anything that does not parse or answers another query is ignored, as a resolver does.
        if let Ok(answer) = Message::from_vec(&buffer[..n]) {
            if answer.metadata.id == id {
                return Ok(answer);
            }
        }
    }
}

fn over_tcp(server: SocketAddr, bytes: &[u8], id: u16, deadline: Instant) -> Result<Message, String> {
    let mut tcp = TcpStream::connect_timeout(&server, left(deadline)?).map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(left(deadline)?)).map_err(|e| e.to_string())?;
    let length = u16::try_from(bytes.len()).map_err(|_| "query too long")?;
    tcp.write_all(&length.to_be_bytes()).and_then(|()| tcp.write_all(bytes)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(left(deadline)?)).map_err(|e| e.to_string())?;
    let mut prefix = [0u8; 2];
    tcp.read_exact(&mut prefix).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    tcp.read_exact(&mut body).map_err(|e| e.to_string())?;
    let answer = Message::from_vec(&body).map_err(|e| format!("an answer that does not parse: {e}"))?;
    if answer.metadata.id != id {
        return Err("an answer to another query".into());
    }
    Ok(answer)
}
