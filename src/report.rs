//! One outcome per recipient, and the exit code the whole set implies.

use crate::error::Exit;
use crate::smtp::error::Phase;
use crate::smtp::reply::Reply;
use crate::smtp::settings::StopPoint;

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A server answered for this recipient: the reply that decided it and the step it answered.
    Replied { phase: Phase, reply: Reply },
    /// The message went out, final dot included, and no reply came: the server may have it.
    Unknown { reason: String },
    /// No server answered: the domain has no route, no host could be reached, or every session broke off.
    /// `tls`: it was TLS that failed (exit 4, as through --server).
    Failed { permanent: bool, tls: bool, reason: String },
}

/// How the session that decided a recipient was protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Verified,
    /// Encrypted, but the certificate did not verify, for this reason.
    Unverified {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    pub recipient: String,
    pub outcome: Outcome,
    /// The host that answered, as `name [address]`.
    pub host: Option<String>,
    pub transport: Option<Transport>,
}

impl RecipientReport {
    pub fn delivered(&self) -> bool {
        matches!(&self.outcome, Outcome::Replied { phase: Phase::EndOfData, reply } if reply.is_positive())
    }

    fn temporary(&self) -> bool {
        match &self.outcome {
            Outcome::Replied { reply, .. } => reply.is_transient(),
            Outcome::Unknown { .. } => false,
            Outcome::Failed { permanent, .. } => !permanent,
        }
    }
}

/// Every recipient of the message and its outcome, in the order they were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub recipients: Vec<RecipientReport>,
    /// The session was ended on purpose here (`--quit-after`, `--drop-after`).
    pub stopped_after: Option<StopPoint>,
}

impl Report {
    /// Recipients that reached the goal: the message delivered, or with a stop point, a positive answer to
    /// the last command sent (the "is this address deliverable?" check of `--quit-after rcpt`).
    pub fn succeeded(&self, recipient: &RecipientReport) -> bool {
        match (self.stopped_after, &recipient.outcome) {
            (None, _) => recipient.delivered(),
            (Some(_), Outcome::Replied { reply, .. }) => reply.is_positive() || reply.code.is_intermediate(),
            (Some(_), _) => false,
        }
    }

    pub fn delivered_count(&self) -> usize {
        self.recipients.iter().filter(|r| self.succeeded(r)).count()
    }

    /// 0 when every recipient has it; `Unknown` when some may have it and nobody can say (a retry could
    /// deliver twice); `Partial` when some do; when none do, temporary if any failure was temporary (a retry
    /// might succeed), otherwise permanent.
    pub fn exit(&self) -> Exit {
        let delivered = self.delivered_count();
        // Also a stop before the transaction: every step up to it succeeded, or there would be an error.
        if delivered == self.recipients.len() {
            Exit::Success
        } else if self.recipients.iter().any(|r| matches!(r.outcome, Outcome::Unknown { .. })) {
            Exit::Unknown
        } else if delivered > 0 {
            Exit::Partial
        } else if self.recipients.iter().any(|r| matches!(r.outcome, Outcome::Failed { tls: true, .. })) {
            Exit::TlsFailure
        } else if self.recipients.iter().any(RecipientReport::temporary) {
            Exit::TempFail
        } else {
            Exit::Unavailable
        }
    }

    pub fn add(&mut self, recipient: &str, outcome: Outcome, host: Option<&str>, transport: Option<Transport>) {
        self.recipients.push(RecipientReport {
            recipient: recipient.to_string(),
            outcome,
            host: host.map(str::to_string),
            transport,
        });
    }

    /// Put the recipients back in the order the user gave them.
    pub fn order_like(&mut self, recipients: &[String]) {
        self.recipients.sort_by_key(|r| recipients.iter().position(|x| *x == r.recipient).unwrap_or(usize::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    fn failed(permanent: bool) -> RecipientReport {
        RecipientReport {
            recipient: "a@x.test".into(),
            outcome: Outcome::Failed { permanent, tls: false, reason: "x".into() },
            host: None,
            transport: None,
        }
    }

    #[test]
    fn exit_codes_of_a_report() {
        let delivered = RecipientReport {
            recipient: "b@x.test".into(),
            outcome: Outcome::Replied { phase: Phase::EndOfData, reply: parse_reply("250 ok\r\n") },
            host: Some("mx".into()),
            transport: None,
        };
        let unknown = RecipientReport {
            recipient: "c@x.test".into(),
            outcome: Outcome::Unknown { reason: "end of data: the server closed the connection".into() },
            host: Some("mx".into()),
            transport: None,
        };
        let report = |recipients: Vec<RecipientReport>| Report { recipients, stopped_after: None };
        assert_eq!(report(vec![delivered.clone()]).exit(), Exit::Success);
        assert_eq!(report(vec![delivered.clone(), failed(true)]).exit(), Exit::Partial);
        assert_eq!(report(vec![failed(true), failed(false)]).exit(), Exit::TempFail);
        assert_eq!(report(vec![failed(true)]).exit(), Exit::Unavailable);
        assert_eq!(report(vec![unknown.clone()]).exit(), Exit::Unknown);
        assert_eq!(report(vec![delivered, unknown]).exit(), Exit::Unknown, "never 'partial, retry the rest'");
    }
}
