//! `postie send`: carry out the plan, render the events, summarise every recipient.

use std::io::{self, IsTerminal, Write};

use anyhow::Context;

use super::plan::SendPlan;
use super::to_stdout;
use crate::deliver::{self, Outgoing, Recipients};
use crate::error::{Error, Exit};
use crate::event::{Discard, Event, RecipientLine, Sink, Status};
use crate::render::human::HumanTranscript;
use crate::render::json::JsonLines;
use crate::report::{Outcome, Report};
use crate::sanitize::escape;
use crate::smtp::codec::Content;
use crate::smtp::error::Phase;

/// Carry out a send plan: route, connect, run the dialogues, summarise.
pub fn send(plan: &SendPlan) -> anyhow::Result<Exit> {
    if plan.dump {
        return dump(plan);
    }
    let stdout = io::stdout();
    let mut transcript;
    let mut json;
    let mut discard = Discard;
    let sink: &mut dyn Sink = if plan.quiet {
        &mut discard
    } else if plan.output.json {
        json = JsonLines::new(stdout.lock());
        &mut json
    } else {
        // Buffered: the transcript flushes each line itself, except the message's own lines (--show-data).
        transcript =
            HumanTranscript::with_style(io::BufWriter::with_capacity(64 * 1024, stdout.lock()), plan.output.style);
        &mut transcript
    };
    if plan.sender_guessed {
        sink.emit(Event::SenderGuessed { address: plan.reverse_path.clone() });
    }
    if let Some(used) = &plan.oauth {
        sink.emit(Event::OauthToken(used.origin.clone()));
    }
    let outgoing = Outgoing { content: &plan.message, facts: plan.facts };
    let recipients = Recipients { reverse_path: &plan.reverse_path, recipients: &plan.recipients };
    let mut session = plan.session.clone();
    session.progress = progress_bar(plan);
    let report = match (&plan.local, &plan.server) {
        (Some(target), _) => {
            let opened = super::connect::open_local(target, sink)?;
            let result = deliver::via_wire(opened.wire, &opened.label, recipients, &outgoing, &session, sink);
            match result {
                Ok(report) => {
                    if let Some(child) = &opened.child {
                        child.finish(std::time::Duration::from_secs(5));
                    }
                    report
                }
                Err(Error::Session(error)) => {
                    return Err(super::connect::session_error(error, opened.child.as_ref()).into())
                }
                Err(error) => return Err(error.into()),
            }
        }
        (None, Some(server)) => {
            match deliver::via_server(server, &plan.dns, recipients, &outgoing, &session, sink) {
                Ok(report) => report,
                // These name the server already.
                Err(
                    error @ (Error::Connect { .. }
                    | Error::HostUnknown(_)
                    | Error::Dns(_)
                    | Error::Usage(_)
                    | Error::Session(
                        crate::smtp::error::Error::Tls { .. }
                        | crate::smtp::error::Error::StartTlsNotOffered { .. }
                        | crate::smtp::error::Error::AuthNotAttempted(_),
                    )),
                ) => return Err(error.into()),
                Err(error) => {
                    let target = format!("sending through {}:{}", server.host, plan.session.port);
                    return Err(anyhow::Error::new(error).context(target));
                }
            }
        }
        (None, None) => {
            let dns = plan.dns.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
            deliver::via_mx(&dns, &plan.reverse_path, &plan.recipients, &outgoing, &session, sink)
        }
    };
    if let Some(bar) = &session.progress {
        bar.finish_and_clear();
    }
    let mut report = report;
    report.stopped_after = session.stop.map(|stop| stop.point);
    summarise(&report, sink);
    report_failures(&report, &plan.reverse_path);
    Ok(report.exit())
}

/// A progress bar on stderr while a message over 1 MiB goes out, when stderr is a terminal and not quiet.
fn progress_bar(plan: &SendPlan) -> Option<indicatif::ProgressBar> {
    if plan.quiet || plan.facts.size <= 1 << 20 || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(plan.facts.size);
    let style = indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The closing events: every recipient, what became of it and who said so, then the summary.
fn summarise(report: &Report, sink: &mut dyn Sink) {
    for recipient in &report.recipients {
        let (status, phase, reply, reason) = match &recipient.outcome {
            Outcome::Replied { phase, reply } => {
                let status = if report.succeeded(recipient) {
                    if report.stopped_after.is_some() {
                        Status::Accepted
                    } else {
                        Status::Delivered
                    }
                } else if reply.is_transient() {
                    Status::Deferred
                } else {
                    Status::Refused
                };
                (status, Some(*phase), Some(reply.clone()), None)
            }
            Outcome::Unknown { reason } => (Status::Unknown, None, None, Some(reason.clone())),
            Outcome::Failed { permanent: true, reason, .. } => (Status::Failed, None, None, Some(reason.clone())),
            Outcome::Failed { permanent: false, reason, .. } => (Status::Unreachable, None, None, Some(reason.clone())),
        };
        sink.emit(Event::Recipient(RecipientLine {
            recipient: recipient.recipient.clone(),
            status,
            phase,
            host: recipient.host.clone(),
            reply,
            reason,
            transport: recipient.transport.clone(),
        }));
    }
    sink.emit(Event::Summary {
        delivered: report.delivered_count(),
        total: report.recipients.len(),
        exit: report.exit().code(),
        stopped_after: report.stopped_after.map(|point| point.to_string()),
    });
}

/// One stderr line per recipient that did not get the message: scripts and quiet mode see them too. Server
/// text is escaped: stderr is a terminal too.
fn report_failures(report: &Report, reverse_path: &str) {
    let mut stderr = io::stderr().lock();
    for recipient in report.recipients.iter().filter(|r| !report.succeeded(r)) {
        let line = match &recipient.outcome {
            // A refused MAIL FROM is about the sender: say so, and who did not get the message because of it.
            Outcome::Replied { phase: Phase::MailFrom, reply } => format!(
                "MAIL FROM refused the sender <{reverse_path}>, so {} did not get the message: {reply}",
                recipient.recipient
            ),
            Outcome::Replied { phase, reply } => format!("{phase} refused {}: {reply}", recipient.recipient),
            Outcome::Unknown { reason } => format!(
                "{}: the message was sent to {} but no reply came ({reason}); it may have been delivered, so do not \
                 resend it blindly",
                recipient.recipient,
                recipient.host.as_deref().unwrap_or("the server")
            ),
            Outcome::Failed { reason, .. } => format!("{}: {reason}", recipient.recipient),
        };
        let _ = writeln!(stderr, "postie: error: {}", escape(line.as_bytes()));
    }
}

/// `--dump`: the exact message on stdout, the envelope on stderr, nothing sent.
fn dump(plan: &SendPlan) -> anyhow::Result<Exit> {
    if !plan.quiet {
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "* envelope: MAIL FROM:<{}>", plan.reverse_path)?;
        for recipient in &plan.recipients {
            writeln!(stderr, "* envelope: RCPT TO:<{recipient}>")?;
        }
    }
    to_stdout(|out| plan.message.write_to(out)).context("writing the message")?;
    Ok(Exit::Success)
}
