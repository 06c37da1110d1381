//! An address or mailbox that postie accepts goes into From and To of a message built as postie builds it
//! (mail-builder), and a MIME parser (mail-parser, as a receiver would) reads the same address and name
//! back.

#![no_main]

use std::time::UNIX_EPOCH;

use libfuzzer_sys::fuzz_target;
use mail_parser::MessageParser;
use postie::address::{check_address, parse_mailbox, Mailbox};
use postie::message::{compose, Composition};

fn composition(mailbox: &Mailbox) -> Composition {
    Composition {
        from: mailbox.clone(),
        to: vec![mailbox.clone()],
        cc: vec![],
        reply_to: vec![],
        subject: Some("fuzz".into()),
        body: Some(b"body\n".to_vec()),
        html: None,
        attachments: vec![],
        headers: vec![],
        date: UNIX_EPOCH,
        message_id_domain: "example.test".into(),
        unique: "1.2.3".into(),
    }
}

fn round_trip(mailbox: &Mailbox) {
    // A name the user wrote with RFC 2047 encoded-word syntax in it (`=?utf-8?q?Ada?=`) is sent as written,
    // and a receiver decodes it, even inside quotes (mail-parser, and many mail readers, do): that is what
    // the user asked for, so such names are not expected to read back unchanged.
    if mailbox.name.as_deref().unwrap_or_default().contains("=?") {
        return;
    }
    let message = compose(&composition(mailbox));
    let parsed = MessageParser::default().parse(&message).expect("a built message parses");
    for (field, list) in [("From", parsed.from()), ("To", parsed.to())] {
        let list = list.unwrap_or_else(|| panic!("no {field} in {:?}", String::from_utf8_lossy(&message)));
        let read: Vec<_> = list.iter().collect();
        assert_eq!(read.len(), 1, "{field}: {read:?} from {:?}", String::from_utf8_lossy(&message));
        assert_eq!(read[0].address(), Some(mailbox.address.as_str()), "{field} address");
        assert_eq!(read[0].name(), mailbox.name.as_deref(), "{field} name");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if check_address(text).is_ok() {
        round_trip(&Mailbox { name: None, address: text.to_string() });
    }
    if let Ok(mailbox) = parse_mailbox(text) {
        round_trip(&mailbox);
    }
});
