//! The SOCKS5 side of `--proxy`: the reply decoder says how many more bytes it needs and never reads past the
//! reply (what follows is the mail server's), and the proxy URL parser never panics nor lets the password
//! into what it prints.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::net::socks::{parse_choice, parse_reply, Proxy, Reply};

fuzz_target!(|data: &[u8]| {
    // The decoder as the client drives it: feed what it asks for, byte by byte from `data`.
    let mut read = 0;
    loop {
        match parse_reply(&data[..read]) {
            Ok(Reply::NeedMore(more)) => {
                assert!(more > 0, "asks for nothing");
                // RFC 1928 §6: the longest reply is a 255-byte name: 4 + 1 + 255 + 2.
                assert!(read + more <= 262, "asks for {more} more after {read}");
                if read + more > data.len() {
                    break;
                }
                read += more;
            }
            Ok(Reply::Connected { length, .. }) => {
                assert_eq!(length, read, "the reply is exactly what was asked for");
                // The same bytes with more after them: the same reply, the same length.
                let mut longer = data[..read].to_vec();
                longer.extend_from_slice(b"220 mx\r\n");
                assert!(matches!(parse_reply(&longer), Ok(Reply::Connected { length: l, .. }) if l == length));
                break;
            }
            Err(_) => break,
        }
    }
    if data.len() >= 2 {
        let _ = parse_choice([data[0], data[1]], data.len() % 2 == 0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(proxy) = Proxy::parse(text) {
            let shown = format!("{proxy:?} {} {}", proxy.address(), proxy.describe());
            if let Some(credentials) = &proxy.credentials {
                if credentials.has_password() {
                    assert!(shown.contains("<redacted>"), "{shown}");
                }
            }
        }
    }
});
