//! What `talk`, `script` and `smuggle` share: opening the connection from the flags, and the opening moves
//! postie makes for the user (the greeting; with --xclient, EHLO and XCLIENT).

use crate::cli::{ConnectArgs, TlsModeArg};
use crate::drive::manual::{Manual, Setup};
use crate::error::Error;
use crate::event::Sink;
use crate::hostname;
use crate::net::tls::Verify;
use crate::net::wire::ChildHandle;
use crate::smtp::reply::Reply;
use crate::smtp::session::Answer;
use crate::smtp::settings::Timeouts;
use crate::smtp::xclient;

use super::connect::{self, Protocol, Target};
use super::plan;

pub struct Steered {
    pub manual: Manual,
    /// The command behind --pipe.
    pub child: Option<ChildHandle>,
    pub protocol: Protocol,
    /// The name for EHLO/LHLO.
    pub helo: String,
    pub label: String,
}

/// Open the connection `args` describe to `target` (nothing is read yet). `timeouts` unless --timeout.
pub fn connect(
    target: &Target,
    args: &ConnectArgs,
    timeouts: Timeouts,
    implicit: bool,
    sink: &mut dyn Sink,
) -> Result<Steered, Error> {
    let protocol = Protocol::from_args(&args.protocol)?;
    let implicit_tls = implicit || args.tls.tls == Some(TlsModeArg::Implicit);
    let port = args.route.port.unwrap_or(if implicit_tls { 465 } else { protocol.default_port() });
    let tls = plan::tls_client(&args.tls)?;
    let helo = match &args.helo {
        Some(name) => {
            crate::address::check_helo_name(name)
                .map_err(|reason| Error::Usage(format!("invalid --helo: {reason}")))?;
            name.clone()
        }
        None => hostname::fully_qualified().unwrap_or_else(|| "localhost".to_string()),
    };
    let timeouts = args.timeout.map_or(timeouts, Timeouts::uniform);
    let socks = connect::socks(&args.proxy)?;
    let opened = connect::open(target, port, &args.route, socks.as_ref(), sink)?;
    let preamble = protocol.preamble(opened.peer)?;
    let host = target.host();
    let setup = Setup {
        tls,
        tls_name: args
            .tls
            .tls_name
            .clone()
            .unwrap_or_else(|| host.trim_start_matches('[').trim_end_matches(']').to_string()),
        // A dialogue the user steers checks certificates strictly unless told otherwise (-k, --tls-verify).
        verify: Verify::Strict,
        implicit_tls,
        preamble,
    };
    let mut manual = Manual::open(opened.wire, &host, port, timeouts, setup, sink);
    if let Some(answer) = manual.opening_failure(sink) {
        return Err(answer_error(answer, opened.child.as_ref()));
    }
    Ok(Steered { manual, child: opened.child, protocol, helo, label: opened.label })
}

impl Steered {
    /// Read the greeting; with --xclient, say EHLO and XCLIENT and read the new greeting too (`leave_last`:
    /// leave XCLIENT's 220 unread for a script's `expect`). The greeting, or why the session cannot go on.
    pub fn open_session(&mut self, leave_last: bool, sink: &mut dyn Sink) -> Result<Option<Reply>, Error> {
        if self.protocol.xclient.is_empty() && leave_last {
            return Ok(None);
        }
        self.manual.session().await_replies(1);
        let greeting = self.step(sink)?;
        if self.protocol.xclient.is_empty() {
            return Ok(greeting);
        }
        let hello = format!("{} {}", if self.protocol.lmtp { "LHLO" } else { "EHLO" }, self.helo);
        self.manual.session().command(&hello, &hello);
        self.step(sink)?;
        let offered = self.manual.session().capabilities().is_some_and(|c| c.has("XCLIENT"));
        if !offered {
            let host = self.label.clone();
            return Err(Error::Session(crate::smtp::error::Error::XclientNotOffered { host }));
        }
        let line = xclient::command(&self.protocol.xclient);
        if leave_last {
            self.manual.session().command_only(&line);
            self.manual.run(None, sink);
            return Ok(None);
        }
        self.manual.session().command(&line, &line);
        self.step(sink)
    }

    /// Run the step given to the session; its last reply, or the error that ended the connection.
    fn step(&mut self, sink: &mut dyn Sink) -> Result<Option<Reply>, Error> {
        let answer = self.manual.run(None, sink);
        if answer.error.is_some() {
            return Err(answer_error(answer, self.child.as_ref()));
        }
        Ok(answer.last().cloned())
    }
}

/// The error of a failed step, with how a --pipe command ended when it ended early.
pub fn answer_error(answer: Answer, child: Option<&ChildHandle>) -> Error {
    let error = answer.error.unwrap_or(crate::smtp::error::Error::Io {
        phase: crate::smtp::error::Phase::Connect,
        detail: "the connection failed".into(),
    });
    connect::session_error(error, child)
}
