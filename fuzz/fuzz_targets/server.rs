//! The server session (`postie catch`) and its command parser, fed arbitrary client bytes in arbitrary
//! pieces: it never panics, every reply it writes is a well-formed SMTP reply (postie's own reply parser
//! reads it back, code 2xx to 5xx), the replies up to STARTTLS do not depend on how the input was cut, and a
//! message it hands over is no larger than the limit.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use postie::smtp::reply::ReplyParser;
use postie::smtp::server::request;
use postie::smtp::server::{Action, AuthPolicy, Session, Settings};

#[path = "split.rs"]
mod split;

const LIMIT: u64 = 2048;

fn run(settings: &Arc<Settings>, pieces: &[&[u8]]) -> Vec<u8> {
    let mut session = Session::new(settings.clone(), false);
    let mut out = Vec::new();
    let drive = |session: &mut Session, out: &mut Vec<u8>| {
        while let Some(action) = session.poll() {
            match action {
                Action::Reply { bytes, .. } => out.extend_from_slice(&bytes),
                Action::StartTls => session.tls_started(),
                Action::Deliver(message) => {
                    assert!(message.content.len() as u64 <= LIMIT);
                    assert!(!message.recipients.is_empty());
                    session.stored(Ok(()));
                }
                Action::Close => {}
            }
        }
    };
    drive(&mut session, &mut out);
    for piece in pieces {
        session.feed(piece);
        drive(&mut session, &mut out);
    }
    session.client_closed();
    drive(&mut session, &mut out);
    assert!(session.is_closed());
    out
}

fuzz_target!(|data: &[u8]| {
    let (pieces, payload) = split::pieces(data);
    for line in payload.split(|&b| b == b'\n') {
        let _ = request::parse(line);
    }
    let settings = Arc::new(Settings {
        starttls: true,
        auth: Some(AuthPolicy::Any),
        max_message: LIMIT,
        max_line: 512,
        ..Settings::default()
    });
    let whole = run(&settings, &[payload]);
    let split = run(&settings, &pieces);
    // Up to STARTTLS the replies cannot depend on how the input was cut. After it they may, rightly: what came
    // in the same read as STARTTLS is discarded (RFC 3207 §5), what came after the handshake is not.
    let ready = b"220 2.0.0 Ready to start TLS\r\n";
    let upto = |out: &[u8]| -> usize {
        out.windows(ready.len()).position(|w| w == ready).map_or(out.len(), |at| at + ready.len())
    };
    assert_eq!(&whole[..upto(&whole)], &split[..upto(&split)], "the replies depend on how the input was cut");
    let mut parser = ReplyParser::new();
    parser.feed(&whole);
    while let Some(reply) = parser.next_reply().expect("every reply is well-formed") {
        assert!((200..600).contains(&reply.code.0), "{reply}");
    }
    assert_eq!(parser.buffered(), 0, "a reply was left unfinished");
});
