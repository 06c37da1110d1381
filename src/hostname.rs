//! The name this machine gives in EHLO.
//!
//! RFC 5321 §4.1.4: the EHLO argument is the client's fully qualified domain name, or an address literal
//! when it has none. "localhost" is never right: a server that checks the name will distrust it.

use std::ffi::{CStr, CString};
use std::net::IpAddr;

/// The machine's fully qualified domain name, when it has one: the host name if it contains a dot,
/// otherwise the canonical name the resolver gives for it.
pub fn fully_qualified() -> Option<String> {
    let short = host_name()?;
    if is_usable(&short) {
        return Some(short);
    }
    canonical_name(&short).filter(|name| is_usable(name))
}

/// RFC 5321 §4.1.3 address literal for a local address: `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
pub fn address_literal(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("[{v4}]"),
            None => format!("[IPv6:{v6}]"),
        },
    }
}

fn is_usable(name: &str) -> bool {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    lower.contains('.') && lower != "localhost.localdomain" && !lower.starts_with("localhost.")
}

fn host_name() -> Option<String> {
    let name = gethostname::gethostname().into_string().ok()?;
    (!name.is_empty()).then_some(name)
}

fn canonical_name(host: &str) -> Option<String> {
    let node = CString::new(host).ok()?;
    // SAFETY: zeroed addrinfo is a valid "no constraints" hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut result: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: node and hints are valid for the call; on success result points to a list we free below.
    let status = unsafe { libc::getaddrinfo(node.as_ptr(), std::ptr::null(), &hints, &mut result) };
    if status != 0 || result.is_null() {
        return None;
    }
    // SAFETY: result is a valid list from getaddrinfo; ai_canonname is null or a C string in it.
    let name = unsafe {
        let canonical = (*result).ai_canonname;
        let name = (!canonical.is_null()).then(|| CStr::from_ptr(canonical).to_string_lossy().into_owned());
        libc::freeaddrinfo(result);
        name
    };
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(address_literal("127.0.0.1".parse().unwrap()), "[127.0.0.1]");
        assert_eq!(address_literal("::1".parse().unwrap()), "[IPv6:::1]");
        assert_eq!(address_literal("::ffff:192.0.2.7".parse().unwrap()), "[192.0.2.7]");
    }

    #[test]
    fn localhost_is_never_used() {
        assert!(!is_usable("localhost"));
        assert!(!is_usable("localhost.localdomain"));
        assert!(!is_usable("vm"));
        assert!(is_usable("mail.example.test"));
        if let Some(name) = fully_qualified() {
            assert!(name.contains('.') && !name.starts_with("localhost"), "{name}");
        }
    }
}
