//! The driver for dialogues the user steers (`talk`, `script`, `smuggle`): one connection and one
//! [`Session`], each step run through the blocking loop ([`super::blocking::run`]) until the session says it
//! is done. The caller decides the next step from the answer.

use std::sync::Arc;
use std::time::Instant;

use crate::event::{Event, Sink};
use crate::net::stream::Connection;
use crate::net::tls::{Certificates, TlsClient, Verify};
use crate::net::wire::Wire;
use crate::smtp::codec::Content;
use crate::smtp::session::{Answer, Session};
use crate::smtp::settings::Timeouts;

use super::blocking::{self, Conversation, Preamble};

/// How to carry a steered dialogue.
pub struct Setup {
    pub tls: Option<Arc<TlsClient>>,
    pub tls_name: String,
    pub verify: Verify,
    pub implicit_tls: bool,
    pub preamble: Option<Preamble>,
}

pub struct Manual {
    connection: Connection,
    session: Session,
    setup: Setup,
    /// The chain and verdict of the last handshake.
    pub certificates: Option<Certificates>,
}

impl Manual {
    /// Open the dialogue on `wire` (the preamble, and the handshake for implicit TLS); nothing is read yet.
    pub fn open(wire: Wire, host: &str, port: u16, timeouts: Timeouts, setup: Setup, sink: &mut dyn Sink) -> Self {
        let mut session = Session::new(host, port, timeouts, setup.implicit_tls);
        let deadline = Instant::now() + timeouts.other;
        let conversation = conversation(&setup, None);
        let (connection, certificates) =
            blocking::open(wire, &mut session, setup.implicit_tls, deadline, &conversation, sink);
        let mut manual = Manual { connection, session, setup, certificates };
        manual.forward(sink);
        manual
    }

    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Carry out the step just given to the session, with `content` for a step that sends a message.
    pub fn run(&mut self, content: Option<&dyn Content>, sink: &mut dyn Sink) -> Answer {
        let conversation = conversation(&self.setup, content);
        if let Some(certificates) = blocking::run(&mut self.connection, &mut self.session, &conversation, None, sink) {
            self.certificates = Some(certificates);
        }
        self.session.answer()
    }

    /// Events the session made outside a step (an error while opening, say).
    fn forward(&mut self, sink: &mut dyn Sink) {
        while let Some(event) = self.session.next_event() {
            sink.emit(Event::Smtp(event));
        }
    }

    /// Close the connection (politely for TLS).
    pub fn close(&mut self, sink: &mut dyn Sink) {
        if !self.session.is_closed() {
            self.session.close();
            self.run(None, sink);
        }
    }

    /// Whether opening failed (the preamble or the implicit-TLS handshake): the answer that says why.
    pub fn opening_failure(&mut self, sink: &mut dyn Sink) -> Option<Answer> {
        self.session.is_ending().then(|| self.run(None, sink))
    }
}

fn conversation<'c>(setup: &'c Setup, content: Option<&'c dyn Content>) -> Conversation<'c> {
    Conversation {
        tls: setup.tls.as_deref(),
        tls_name: &setup.tls_name,
        verify: setup.verify,
        content,
        show_data: false,
        progress: None,
        preamble: setup.preamble.as_ref(),
        dane: None,
    }
}
