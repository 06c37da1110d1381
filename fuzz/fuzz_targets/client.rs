//! The whole client state machine, fed arbitrary server bytes split at arbitrary points, with silences and
//! failed handshakes, under settings the first byte chooses. Whatever the server does: the dialogue ends
//! (no livelock), every line written is a whole CRLF-terminated line with no bare CR or LF, nothing is
//! reported delivered unless the message went out, and the password never appears in an event.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::drive::memory::{self, Step};
use postie::smtp::auth::{Mechanism, Secret};
use postie::smtp::codec::Facts;
use postie::smtp::event::Event;
use postie::smtp::settings::{Credentials, Envelope, Settings, Stop, StopPoint, Timeouts, TlsPolicy};

const PASSWORD: &str = "Sesame-0pen";

fn settings(choice: u8) -> Settings {
    let mut settings = Settings::new("client.example.test", "mx.example.test", 25, Timeouts::rfc5321());
    settings.tls = match choice & 3 {
        0 => TlsPolicy::Never,
        1 => TlsPolicy::Opportunistic,
        2 => TlsPolicy::Required,
        _ => TlsPolicy::Implicit,
    };
    settings.pipelining = choice & 4 != 0;
    settings.bdat = choice & 8 != 0;
    if choice & 16 != 0 {
        settings.allow_plaintext_auth = true;
        settings.allow_unverified_auth = true;
        let mechanism = [None, Some(Mechanism::Login), Some(Mechanism::CramMd5), Some(Mechanism::Plain)]
            [usize::from(choice >> 6)];
        settings.credentials = Some(Credentials {
            user: "ada".into(),
            secret: Secret::new(PASSWORD.into()),
            is_token: false,
            mechanism,
            show_secrets: false,
        });
    }
    if choice & 32 != 0 {
        let point = [StopPoint::Banner, StopPoint::Ehlo, StopPoint::Mail, StopPoint::Rcpt][usize::from(choice >> 6)];
        settings.stop = Some(Stop { point, drop: choice & 1 != 0 });
    }
    settings.envelope = Some(Envelope {
        reverse_path: "a@example.test".into(),
        recipients: vec!["b@example.test".into(), "c@example.test".into()],
        facts: Facts { size: 7, lines: 2, ..Facts::default() },
        ..Envelope::default()
    });
    settings
}

/// The server's side: pieces cut at 0xff bytes; a piece that is just 0xfe is a silence, 0xfd a failed
/// handshake.
fn script(bytes: &[u8]) -> Vec<Step> {
    bytes
        .split(|&b| b == 0xff)
        .map(|piece| match piece {
            [0xfe] => Step::Silence,
            [0xfd] => Step::FailHandshake("alert".into()),
            other => Step::Bytes(other.to_vec()),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else { return };
    let run = memory::run(settings(choice), script(rest), b"hi\r\n.x\n");
    assert!(run.finished, "the dialogue never ended");
    let wire = run.written.as_bytes();
    // The content's own lines are normalised by the codec; commands must be whole lines too.
    for (i, &b) in wire.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && wire[i - 1] == b'\r', "a bare LF on the wire: {:?}", run.written);
        }
        if b == b'\r' {
            assert_eq!(wire.get(i + 1), Some(&b'\n'), "a bare CR on the wire: {:?}", run.written);
        }
    }
    assert!(wire.is_empty() || wire.ends_with(b"\r\n"), "a line left unfinished: {:?}", run.written);
    if !run.outcome.message_sent {
        assert!(run.outcome.recipients.iter().all(|r| !r.delivered()), "delivered without sending: {:?}", run.outcome);
    }
    for event in &run.events {
        if let Event::Sent { line, .. } = event {
            assert!(!line.contains(PASSWORD) && !line.contains("U2VzYW1lLTBwZW4="), "a secret in the transcript: {line}");
        }
    }
});
