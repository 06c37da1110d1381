//! A driver over scripted bytes in memory, for tests: the server's side is a list of chunks handed over one
//! per read, the handshake succeeds or fails as the script says, and everything the client writes is kept.
//! No sockets, no clock: time stands still, so a read past the script's end is the server closing, or a
//! timeout when the script says so.

use std::time::Instant;

use crate::smtp::client::{Action, Client, Outcome};
use crate::smtp::codec::DotStuffer;
use crate::smtp::event::Event;
use crate::smtp::settings::Settings;

/// What the scripted server does at each read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bytes arrive.
    Bytes(Vec<u8>),
    /// Nothing arrives before the deadline.
    Silence,
    /// The next TLS handshake fails with this text (otherwise handshakes succeed).
    FailHandshake(String),
}

/// `Step::Bytes` from text.
pub fn bytes(text: &str) -> Step {
    Step::Bytes(text.as_bytes().to_vec())
}

/// What a scripted run produced.
#[derive(Debug)]
pub struct Run {
    pub outcome: Outcome,
    /// Everything the client wrote, commands and content alike.
    pub written: String,
    pub events: Vec<Event>,
    /// The handshakes the client asked for.
    pub handshakes: usize,
    /// The client said it was finished (not cut off after 10,000 steps: a client that never ends is a bug).
    pub finished: bool,
}

/// Run a client over `script` with `content` as the message.
pub fn run(settings: Settings, script: Vec<Step>, content: &[u8]) -> Run {
    let mut client = Client::new(settings);
    let mut script = script.into_iter();
    let mut written = Vec::new();
    let mut events = Vec::new();
    let mut handshakes = 0;
    let mut fail_next_handshake = None;
    let now = Instant::now();
    let mut finished = false;
    for _ in 0..10_000 {
        while let Some(event) = client.next_event() {
            events.push(event);
        }
        match client.poll(now) {
            Action::Send { bytes, .. } => written.extend_from_slice(&bytes),
            Action::Receive { .. } => match script.next() {
                Some(Step::Bytes(bytes)) => client.receive(&bytes),
                Some(Step::Silence) => client.timed_out(),
                Some(Step::FailHandshake(text)) => {
                    fail_next_handshake = Some(text);
                    client.receive(&[]);
                }
                None => client.closed(),
            },
            Action::StartTls { .. } => {
                handshakes += 1;
                match fail_next_handshake.take() {
                    Some(text) => client.tls_failed(&text),
                    None => client.tls_established(true),
                }
            }
            Action::SendContent { header, dot_stuffing, trailer, .. } => {
                written.extend_from_slice(&header);
                let mut stuffer = if dot_stuffing {
                    DotStuffer::new(&mut written)
                } else {
                    DotStuffer::without_dot_stuffing(&mut written)
                };
                std::io::Write::write_all(&mut stuffer, content).expect("memory");
                stuffer.end_content().expect("memory");
                let (bytes, lines) = (stuffer.message_bytes(), stuffer.lines());
                written.extend_from_slice(&trailer);
                client.content_sent(bytes, lines);
            }
            Action::Close => {}
            Action::Idle => {
                client.quit();
            }
            Action::Finished => {
                finished = true;
                break;
            }
        }
    }
    while let Some(event) = client.next_event() {
        events.push(event);
    }
    Run {
        outcome: client.outcome(),
        written: String::from_utf8_lossy(&written).into_owned(),
        events,
        handshakes,
        finished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::auth::{Mechanism, Secret};
    use crate::smtp::client::Verdict;
    use crate::smtp::codec::Facts;
    use crate::smtp::error::{AuthBlock, Error, Phase};
    use crate::smtp::event::Note;
    use crate::smtp::settings::{Credentials, Envelope, Stop, StopPoint, Timeouts, TlsPolicy};

    fn settings(recipients: &[&str]) -> Settings {
        let mut settings = Settings::new("client.example.test", "mx.example.test", 25, Timeouts::rfc5321());
        settings.tls = TlsPolicy::Never;
        settings.envelope = Some(Envelope {
            reverse_path: "a@example.test".into(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            facts: Facts { size: 3, lines: 1, ..Facts::default() },
            ..Envelope::default()
        });
        settings
    }

    fn script(chunks: &[&str]) -> Vec<Step> {
        chunks.iter().map(|c| bytes(c)).collect()
    }

    fn replied(run: &Run, index: usize) -> (Phase, String) {
        match &run.outcome.recipients[index].verdict {
            Verdict::Replied { phase, reply } => (*phase, reply.to_string()),
            other => panic!("not replied: {other:?}"),
        }
    }

    const HAPPY: &[&str] = &[
        "220 mx ESMTP\r\n",
        "250-mx\r\n250 8BITMIME\r\n",
        "250 2.1.0 Ok\r\n",
        "250 2.1.5 Ok\r\n",
        "354 go\r\n",
        "250 2.0.0 queued\r\n",
        "221 2.0.0 Bye\r\n",
    ];

    /// A held session: the first message, then RSET and the second in one write (PIPELINING), then QUIT.
    #[test]
    fn a_held_session_sends_two_messages_with_rset_between() {
        use crate::smtp::client::Client;
        let mut settings = settings(&["b@example.test"]);
        settings.hold_session = true;
        let mut client = Client::new(settings.clone());
        let now = Instant::now();
        let mut written = String::new();
        let mut drive = |client: &mut Client, replies: &[&str]| {
            let mut replies = replies.iter();
            loop {
                match client.poll(now) {
                    Action::Send { bytes, .. } => written.push_str(&String::from_utf8_lossy(&bytes)),
                    Action::Receive { .. } => match replies.next() {
                        Some(reply) => client.receive(reply.as_bytes()),
                        None => panic!("the client waits for more than the script has: {written}"),
                    },
                    Action::SendContent { header, trailer, .. } => {
                        written.push_str(&String::from_utf8_lossy(&header));
                        written.push_str("hi\r\n");
                        written.push_str(&String::from_utf8_lossy(&trailer));
                        client.content_sent(4, 1);
                    }
                    Action::Close => {}
                    Action::Idle | Action::Finished => return,
                    other => panic!("unexpected {other:?}"),
                }
            }
        };
        drive(
            &mut client,
            &["220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", "250 queued 1\r\n"],
        );
        assert!(client.is_idle());
        assert!(client.outcome().recipients[0].delivered());
        let second = Envelope { recipients: vec!["c@example.test".into()], ..settings.envelope.clone().unwrap() };
        client.next_transaction(second);
        drive(&mut client, &["250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n", "250 queued 2\r\n"]);
        let outcome = client.outcome();
        assert_eq!(outcome.recipients.len(), 1);
        assert_eq!(outcome.recipients[0].recipient, "c@example.test");
        assert!(outcome.recipients[0].delivered());
        client.quit();
        drive(&mut client, &["221 bye\r\n"]);
        assert_eq!(
            written,
            "EHLO client.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhi\r\n.\r\n\
             RSET\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"
        );
    }

    /// A transaction queued ahead rides behind the final dot (RFC 2920 §3.1): one write ends the first message
    /// and starts the second; each outcome is its own.
    #[test]
    fn a_queued_transaction_rides_behind_the_final_dot() {
        use crate::smtp::client::Client;
        let mut settings = settings(&["b@example.test"]);
        settings.hold_session = true;
        let second = Envelope { recipients: vec!["c@example.test".into()], ..settings.envelope.clone().unwrap() };
        let mut client = Client::new(settings);
        client.queue_transaction(second);
        let now = Instant::now();
        let mut writes: Vec<String> = Vec::new();
        let mut replies = [
            "220 mx\r\n",
            "250-mx\r\n250 PIPELINING\r\n",
            "250 ok\r\n250 ok\r\n354 go\r\n",
            "250 queued 1\r\n250 reset\r\n250 ok\r\n550 no\r\n554 no valid recipients\r\n",
        ]
        .into_iter();
        let mut finished = Vec::new();
        while !client.is_idle() {
            match client.poll(now) {
                Action::Send { bytes, .. } => writes.push(String::from_utf8_lossy(&bytes).into_owned()),
                Action::Receive { .. } => client.receive(replies.next().expect("a reply").as_bytes()),
                Action::SendContent { trailer, .. } => {
                    writes.push(format!("hi\r\n{}", String::from_utf8_lossy(&trailer)));
                    client.content_sent(4, 1);
                }
                Action::Idle => finished.extend(client.take_finished()),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(writes[2], "hi\r\n.\r\nRSET\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n");
        // The replies came in one read: the first outcome waits to be taken.
        finished.extend(std::iter::from_fn(|| client.take_finished()));
        assert_eq!(finished.len(), 1);
        assert!(finished[0].recipients[0].delivered());
        let second = client.transaction();
        assert_eq!(second.recipients[0].recipient, "c@example.test");
        assert!(!second.recipients[0].delivered());
    }

    /// A driver that queues the next transaction whenever one ends keeps every message riding behind the dot
    /// before it, even when the replies to one dot and the next DATA come in one read: the client hands the
    /// driver the finished outcome before it lets the next content go.
    #[test]
    fn every_message_of_a_chain_rides_behind_the_dot_before_it() {
        use crate::smtp::client::Client;
        let mut settings = settings(&["b@example.test"]);
        settings.hold_session = true;
        let envelope = settings.envelope.clone().unwrap();
        let mut client = Client::new(settings);
        client.queue_transaction(envelope.clone());
        let mut left_to_queue = 2;
        let now = Instant::now();
        let mut trailers: Vec<String> = Vec::new();
        let chained = "250 queued\r\n250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n";
        let mut replies =
            ["220 mx\r\n", "250-mx\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", chained, chained, chained]
                .into_iter();
        let mut finished = 0;
        while !client.is_idle() {
            match client.poll(now) {
                Action::Send { .. } => {}
                Action::Receive { .. } => client.receive(replies.next().expect("a reply").as_bytes()),
                Action::SendContent { trailer, .. } => {
                    trailers.push(String::from_utf8_lossy(&trailer).into_owned());
                    client.content_sent(4, 1);
                }
                Action::Idle => {
                    while client.take_finished().is_some() {
                        finished += 1;
                        if left_to_queue > 0 && !client.has_queued() {
                            left_to_queue -= 1;
                            client.queue_transaction(envelope.clone());
                        }
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
            if replies.len() == 0 && trailers.len() == 4 {
                break;
            }
        }
        let chain = ".\r\nRSET\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n";
        assert_eq!(trailers, [chain, chain, chain, ".\r\n"]);
        assert_eq!(finished, 3);
    }

    /// Without PIPELINING, RSET's reply comes before MAIL; a refused recipient ends only the transaction.
    #[test]
    fn a_held_session_without_pipelining_waits_for_rset_and_survives_a_refusal() {
        use crate::smtp::client::Client;
        let mut settings = settings(&["b@example.test"]);
        settings.hold_session = true;
        let mut client = Client::new(settings.clone());
        let now = Instant::now();
        let script = ["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "550 no such user\r\n"];
        let mut replies = script.iter();
        let mut written = String::new();
        while !client.is_idle() {
            match client.poll(now) {
                Action::Send { bytes, .. } => written.push_str(&String::from_utf8_lossy(&bytes)),
                Action::Receive { .. } => client.receive(replies.next().expect("a reply").as_bytes()),
                other => panic!("unexpected {other:?}: {written}"),
            }
        }
        assert!(!client.outcome().recipients[0].delivered());
        client.next_transaction(settings.envelope.clone().unwrap());
        match client.poll(now) {
            Action::Send { bytes, .. } => assert_eq!(bytes, b"RSET\r\n"),
            other => panic!("unexpected {other:?}"),
        }
        client.receive(b"250 reset\r\n");
        match client.poll(now) {
            Action::Send { bytes, .. } => assert_eq!(bytes, b"MAIL FROM:<a@example.test>\r\n"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn whole_dialogue_on_the_wire() {
        let run = run(settings(&["b@example.test"]), script(HAPPY), b"Subject: x\n\n.dot\nend");
        assert_eq!(
            run.written,
            "EHLO client.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n\
             Subject: x\r\n\r\n..dot\r\nend\r\n.\r\nQUIT\r\n"
        );
        assert!(run.outcome.recipients[0].delivered());
        assert_eq!(replied(&run, 0), (Phase::EndOfData, "250 2.0.0 queued".into()));
        assert_eq!(run.outcome.error, None);
        assert!(run.outcome.message_sent);
    }

    #[test]
    fn events_in_order() {
        let run = run(settings(&["b@example.test"]), script(HAPPY), b"hi\n");
        let kinds: Vec<String> = run
            .events
            .iter()
            .map(|e| match e {
                Event::Sent { line, .. } => format!("C {line}"),
                Event::Received { reply, .. } => format!("S {}", reply.code),
                Event::DataSent { bytes, lines, .. } => format!("D {bytes} {lines}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "S 220",
                "C EHLO client.example.test",
                "S 250",
                "C MAIL FROM:<a@example.test>",
                "S 250",
                "C RCPT TO:<b@example.test>",
                "S 250",
                "C DATA",
                "S 354",
                "D 4 1",
                "C .",
                "S 250",
                "C QUIT",
                "S 221"
            ]
        );
    }

    #[test]
    fn ehlo_5xx_falls_back_to_helo() {
        let run = run(
            settings(&["b@x.test"]),
            script(&[
                "220 old\r\n",
                "502 what\r\n",
                "250 old\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ]),
            b"x",
        );
        assert!(run.outcome.recipients[0].delivered());
        assert!(run.written.starts_with("EHLO client.example.test\r\nHELO client.example.test\r\n"));
        assert!(run.events.contains(&Event::Note(Note::HeloFallback)));
    }

    #[test]
    fn greeting_refusals_and_violations() {
        let run1 = run(settings(&["b@x.test"]), script(&["554 5.3.2 no service\r\n", "221 bye\r\n"]), b"x");
        assert_eq!(run1.outcome.error.unwrap().to_string(), "banner refused: 554 5.3.2 no service");
        assert_eq!(run1.written, "QUIT\r\n");
        let run2 = run(settings(&["b@x.test"]), script(&["421 4.3.2 busy\r\n"]), b"x");
        assert!(matches!(run2.outcome.error, Some(Error::Refused { phase: Phase::Banner, .. })));
        assert_eq!(run2.written, "", "no QUIT after a 421: the server is closing");
        // A 250 where the greeting belongs is a violation at once, not a greeting.
        let run3 = run(settings(&["b@x.test"]), script(&["250 hello\r\n"]), b"x");
        assert!(
            matches!(run3.outcome.error, Some(Error::Violation { phase: Phase::Banner, .. })),
            "{:?}",
            run3.outcome
        );
        assert_eq!(run3.written, "");
    }

    #[test]
    fn a_421_at_any_step_ends_without_quit() {
        for (step, replies) in [
            ("EHLO", vec!["220 mx\r\n", "421 4.3.2 closing\r\n"]),
            ("MAIL", vec!["220 mx\r\n", "250 mx\r\n", "421 closing\r\n"]),
            ("RCPT", vec!["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "421 closing\r\n"]),
            ("DATA", vec!["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "421 closing\r\n"]),
        ] {
            let run = run(settings(&["b@x.test"]), script(&replies), b"x");
            assert!(matches!(run.outcome.error, Some(Error::Refused { .. })), "{step}: {:?}", run.outcome);
            assert!(!run.written.contains("QUIT"), "{step}: {}", run.written);
        }
    }

    #[test]
    fn starttls_then_ehlo_again() {
        let mut s = settings(&["b@x.test"]);
        s.tls = TlsPolicy::Opportunistic;
        let run = run(
            s,
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 STARTTLS\r\n",
                "220 go ahead\r\n",
                "250 mx\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ]),
            b"x",
        );
        assert_eq!(run.handshakes, 1);
        assert!(run.written.starts_with("EHLO client.example.test\r\nSTARTTLS\r\nEHLO client.example.test\r\nMAIL"));
        assert!(run.outcome.encrypted && run.outcome.recipients[0].delivered());
        assert!(run.events.iter().any(|e| matches!(e, Event::Sent { line, tls: true } if line.starts_with("MAIL"))));
    }

    #[test]
    fn starttls_refused_injected_and_failed() {
        let mut s = settings(&["b@x.test"]);
        s.tls = TlsPolicy::Opportunistic;
        // Opportunistic TLS goes on in clear text after a 454, as mail servers do; required TLS stops.
        let refused = run(
            s.clone(),
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 STARTTLS\r\n",
                "454 4.7.0 no TLS\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ]),
            b"x",
        );
        assert!(refused.outcome.recipients[0].delivered() && !refused.outcome.encrypted, "{:?}", refused.outcome);
        assert!(refused.events.iter().any(|e| matches!(e, Event::Note(Note::StartTlsRefused { .. }))));
        let mut required = s.clone();
        required.tls = TlsPolicy::Required;
        let refused = run(
            required,
            script(&["220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "454 4.7.0 no TLS\r\n", "221 bye\r\n"]),
            b"x",
        );
        assert!(matches!(refused.outcome.error, Some(Error::Refused { phase: Phase::StartTls, .. })));
        assert!(refused.written.ends_with("STARTTLS\r\nQUIT\r\n"));
        let injected =
            run(s.clone(), script(&["220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go\r\n250 injected\r\n"]), b"x");
        assert!(matches!(injected.outcome.error, Some(Error::Violation { phase: Phase::StartTls, .. })));
        assert_eq!(injected.handshakes, 0);
        let failed = run(
            s.clone(),
            vec![
                bytes("220 mx\r\n"),
                bytes("250-mx\r\n250 STARTTLS\r\n"),
                Step::FailHandshake("alert".into()),
                bytes("220 go\r\n"),
            ],
            b"x",
        );
        assert_eq!(failed.outcome.error, Some(Error::Tls { detail: "alert".into() }));
        assert!(failed.written.ends_with("STARTTLS\r\n"), "no QUIT over a broken handshake: {}", failed.written);
        s.tls = TlsPolicy::Required;
        let missing = run(s, script(&["220 mx\r\n", "250 mx\r\n", "221 bye\r\n"]), b"x");
        assert!(matches!(missing.outcome.error, Some(Error::StartTlsNotOffered { .. })));
        assert!(missing.written.ends_with("EHLO client.example.test\r\nQUIT\r\n"));
    }

    fn with_credentials(mechanism: Option<Mechanism>) -> Settings {
        let mut s = settings(&["b@x.test"]);
        s.allow_plaintext_auth = true;
        s.credentials = Some(Credentials {
            user: "ada".into(),
            secret: Secret::new("secret".into()),
            is_token: false,
            mechanism,
            show_secrets: false,
        });
        s
    }

    #[test]
    fn auth_login_in_several_rounds_is_redacted() {
        let run = run(
            with_credentials(Some(Mechanism::Login)),
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 AUTH LOGIN PLAIN\r\n",
                "334 VXNlcm5hbWU6\r\n",
                "334 UGFzc3dvcmQ6\r\n",
                "235 ok\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
                "250 ok\r\n",
                "221 bye\r\n",
            ]),
            b"x",
        );
        assert!(run.outcome.recipients[0].delivered(), "{:?}", run.outcome);
        assert!(run.written.contains("AUTH LOGIN\r\nYWRh\r\nc2VjcmV0\r\nMAIL"));
        let shown: Vec<&str> = run
            .events
            .iter()
            .filter_map(|e| if let Event::Sent { line, .. } = e { Some(line.as_str()) } else { None })
            .collect();
        assert!(shown.contains(&"<redacted password>") && !shown.iter().any(|l| l.contains("c2VjcmV0")));
    }

    #[test]
    fn auth_refusals_and_blocks() {
        let refused = run(
            with_credentials(None),
            script(&["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", "535 5.7.8 bad\r\n", "221 bye\r\n"]),
            b"x",
        );
        assert!(matches!(refused.outcome.error, Some(Error::AuthRefused { .. })));
        assert!(refused.written.ends_with("QUIT\r\n"));
        let not_offered = run(with_credentials(None), script(&["220 mx\r\n", "250 mx\r\n", "221 bye\r\n"]), b"x");
        assert!(matches!(not_offered.outcome.error, Some(Error::AuthNotAttempted(AuthBlock::NotOffered { .. }))));
        assert!(!not_offered.written.contains("AUTH"), "no AUTH to a server that does not offer it");
        let mut clear = with_credentials(None);
        clear.allow_plaintext_auth = false;
        let unencrypted = run(clear, script(&["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", "221 bye\r\n"]), b"x");
        assert!(matches!(unencrypted.outcome.error, Some(Error::AuthNotAttempted(AuthBlock::Unencrypted { .. }))));
        let endless = run(
            with_credentials(Some(Mechanism::Login)),
            script(&["220 mx\r\n", "250-mx\r\n250 AUTH LOGIN\r\n", "334 a\r\n", "334 b\r\n", "334 c\r\n", "334 d\r\n"]),
            b"x",
        );
        assert!(matches!(endless.outcome.error, Some(Error::Violation { phase: Phase::Auth, .. })));
    }

    #[test]
    fn pipelined_recipients_with_a_refusal_in_the_middle_and_quit_with_the_dot() {
        let run = run(
            settings(&["a@x.test", "nobody@x.test", "c@x.test"]),
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 PIPELINING\r\n",
                "250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n354 go\r\n",
                "250 queued\r\n221 bye\r\n",
            ]),
            b"x",
        );
        assert!(run.written.contains(
            "MAIL FROM:<a@example.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<nobody@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n"
        ));
        assert!(run.written.ends_with("x\r\n.\r\nQUIT\r\n"), "QUIT rides with the dot: {}", run.written);
        assert!(run.outcome.recipients[0].delivered() && run.outcome.recipients[2].delivered());
        assert_eq!(replied(&run, 1), (Phase::RcptTo, "550 5.1.1 unknown".into()));
        assert!(run.events.contains(&Event::Note(Note::Pipelining { commands: 5 })));
    }

    #[test]
    fn a_354_after_every_recipient_was_refused_gets_an_empty_message() {
        let run = run(
            settings(&["a@x.test"]),
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 PIPELINING\r\n",
                "250 ok\r\n550 no\r\n354 go\r\n",
                "554 no valid recipients\r\n",
                "221 bye\r\n",
            ]),
            b"x",
        );
        assert!(run.written.ends_with("DATA\r\n.\r\nQUIT\r\n"), "{}", run.written);
        assert_eq!(replied(&run, 0), (Phase::RcptTo, "550 no".into()));
        assert!(!run.outcome.message_sent);
    }

    #[test]
    fn no_data_when_every_recipient_is_refused() {
        let run = run(
            settings(&["b@x.test", "c@x.test"]),
            script(&["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "450 4.2.0 busy\r\n", "550 no\r\n", "221 bye\r\n"]),
            b"x",
        );
        assert!(!run.written.contains("DATA"));
        assert!(run.written.ends_with("QUIT\r\n"));
        assert!(run.events.contains(&Event::Note(Note::NoRecipientAccepted)));
    }

    #[test]
    fn mail_from_refusal_refuses_everyone() {
        let run = run(
            settings(&["b@x.test", "c@x.test"]),
            script(&["220 mx\r\n", "250 mx\r\n", "553 5.1.8 bad sender\r\n", "221 bye\r\n"]),
            b"x",
        );
        assert_eq!(replied(&run, 1), (Phase::MailFrom, "553 5.1.8 bad sender".into()));
        assert!(!run.written.contains("RCPT"));
    }

    #[test]
    fn bdat_sends_one_chunk() {
        let mut s = settings(&["b@x.test"]);
        s.bdat = true;
        if let Some(envelope) = s.envelope.as_mut() {
            envelope.facts.size = 7;
        }
        let run = run(
            s,
            script(&[
                "220 mx\r\n",
                "250-mx\r\n250 CHUNKING\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "250 queued\r\n",
                "221 bye\r\n",
            ]),
            b"a\r\n.b",
        );
        assert!(run.written.contains("RCPT TO:<b@x.test>\r\nBDAT 7 LAST\r\na\r\n.b\r\nQUIT\r\n"), "{}", run.written);
        assert!(run.outcome.recipients[0].delivered());
    }

    #[test]
    fn every_stop_point() {
        let full = ["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "221 bye\r\n"];
        for (point, drop, ends_with) in [
            (StopPoint::Banner, false, "QUIT\r\n"),
            (StopPoint::Ehlo, false, "EHLO client.example.test\r\nQUIT\r\n"),
            (StopPoint::Tls, false, "EHLO client.example.test\r\nQUIT\r\n"),
            (StopPoint::Auth, false, "EHLO client.example.test\r\nQUIT\r\n"),
            (StopPoint::Mail, false, "MAIL FROM:<a@example.test>\r\nQUIT\r\n"),
            (StopPoint::Rcpt, false, "RCPT TO:<b@x.test>\r\nQUIT\r\n"),
            (StopPoint::Rcpt, true, "RCPT TO:<b@x.test>\r\n"),
            (StopPoint::Data, true, "DATA\r\n"),
        ] {
            let mut s = settings(&["b@x.test"]);
            s.stop = Some(Stop { point, drop });
            let run = run(s, script(&full), b"x");
            assert!(run.written.ends_with(ends_with), "{point:?} {drop}: {}", run.written);
            assert_eq!(run.outcome.stopped, Some(point));
            assert_eq!(run.outcome.error, None, "{point:?}");
            assert_eq!(drop, run.events.contains(&Event::Note(Note::ClosingWithoutQuit)), "{point:?}");
        }
        let mut s = settings(&["b@x.test"]);
        s.stop = Some(Stop { point: StopPoint::Connect, drop: false });
        let run = run(s, script(&["220 mx\r\n", "221 bye\r\n"]), b"x");
        assert_eq!(run.written, "QUIT\r\n");
        assert!(run.outcome.greeting.is_some());
    }

    #[test]
    fn drop_after_data_with_bdat_sends_none_of_the_message() {
        let mut s = settings(&["b@x.test"]);
        s.bdat = true;
        s.stop = Some(Stop { point: StopPoint::Data, drop: true });
        let run = run(s, script(&["220 mx\r\n", "250-mx\r\n250 CHUNKING\r\n", "250 ok\r\n", "250 ok\r\n"]), b"x");
        assert!(!run.written.contains("BDAT") && !run.outcome.message_sent, "{}", run.written);
        assert_eq!(run.outcome.stopped, Some(StopPoint::Data));
    }

    #[test]
    fn a_421_to_auth_is_the_server_closing_not_a_refusal_of_the_credentials() {
        let run = run(
            with_credentials(Some(Mechanism::Plain)),
            script(&["220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", "421 4.3.2 shutting down\r\n"]),
            b"x",
        );
        assert!(matches!(run.outcome.error, Some(Error::Refused { phase: Phase::Auth, .. })), "{:?}", run.outcome);
        assert!(!run.written.contains("QUIT"));
    }

    #[test]
    fn a_timeout_after_a_prompt_greeting_is_a_timeout_not_a_slow_greeting() {
        let run = run(settings(&["b@x.test"]), vec![bytes("220 mx\r\n"), Step::Silence], b"x");
        assert!(matches!(run.outcome.error, Some(Error::Timeout { phase: Phase::Ehlo, .. })), "{:?}", run.outcome);
        assert!(!run.events.iter().any(|e| matches!(e, Event::Note(Note::SlowGreeting { .. }))));
        // A silent greeting gets the note first, then the timeout.
        let silent = super::run(settings(&["b@x.test"]), vec![Step::Silence, Step::Silence], b"x");
        assert!(silent.events.iter().any(|e| matches!(e, Event::Note(Note::SlowGreeting { .. }))));
        assert!(matches!(silent.outcome.error, Some(Error::Timeout { phase: Phase::Banner, .. })));
    }

    #[test]
    fn a_lost_quit_does_not_undo_a_delivery() {
        let run = run(
            settings(&["b@x.test"]),
            script(&["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n"]),
            b"x",
        );
        assert!(run.outcome.recipients[0].delivered());
        assert_eq!(run.outcome.error, None);
        assert!(run.events.iter().any(|e| matches!(e, Event::Note(Note::QuitProblem { .. }))));
    }

    #[test]
    fn after_the_final_dot_a_failure_leaves_the_fate_unknown() {
        for last in [None, Some(Step::Silence), Some(bytes("999 what\r\n"))] {
            let mut steps = script(&["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"]);
            steps.extend(last.clone());
            let run = run(settings(&["b@x.test"]), steps, b"x");
            assert!(run.outcome.message_sent);
            assert!(
                matches!(run.outcome.recipients[0].verdict, Verdict::Unknown { .. }),
                "{last:?}: {:?}",
                run.outcome.recipients[0]
            );
        }
        // Before the dot, a drop is an ordinary failure: nothing was delivered.
        let run = run(settings(&["b@x.test"]), script(&["220 mx\r\n", "250 mx\r\n", "250 ok\r\n"]), b"x");
        assert!(!run.outcome.message_sent);
        assert!(matches!(run.outcome.error, Some(Error::Closed { phase: Phase::RcptTo })));
    }

    #[test]
    fn replies_split_at_every_byte_give_the_same_dialogue() {
        let whole: String = HAPPY.concat();
        let reference = run(settings(&["b@x.test"]), script(HAPPY), b"x");
        let split: Vec<Step> = whole.bytes().map(|b| Step::Bytes(vec![b])).collect();
        let bytewise = run(settings(&["b@x.test"]), split, b"x");
        assert_eq!(bytewise.written, reference.written);
        assert_eq!(bytewise.outcome, reference.outcome);
    }
}
