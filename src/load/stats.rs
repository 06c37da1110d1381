//! What a load run counted and measured: messages by result, and the latency of each step as an HDR histogram
//! (microseconds, three significant digits), one per worker, merged at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The steps whose latency is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// TCP connect (and the proxy or implicit-TLS handshake, when there is one).
    Connect,
    /// From connected to the greeting.
    Greeting,
    /// From the greeting to the first reply to EHLO.
    Ehlo,
    /// From the first EHLO's reply to the EHLO after STARTTLS (STARTTLS, the handshake and EHLO again).
    Tls,
    /// The AUTH exchange.
    Auth,
    /// From MAIL (or RSET before it) to the go-ahead for the content (354, or BDAT's start).
    MailToData,
    /// From the last byte of the content to the reply after it.
    EndOfData,
    /// The whole message: from its MAIL (under --rate, from when it was due) to the reply after its content.
    Message,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Connect,
        Step::Greeting,
        Step::Ehlo,
        Step::Tls,
        Step::Auth,
        Step::MailToData,
        Step::EndOfData,
        Step::Message,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Greeting => "greeting",
            Step::Ehlo => "ehlo",
            Step::Tls => "tls",
            Step::Auth => "auth",
            Step::MailToData => "mail-to-data",
            Step::EndOfData => "end-of-data",
            Step::Message => "message",
        }
    }

    fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).expect("every step is in ALL")
    }
}

/// Counters and histograms; a worker keeps its own and they are merged.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Messages begun: each one is accepted, refused or failed.
    pub messages: u64,
    pub accepted: u64,
    /// Refused messages by the reply code that refused them.
    pub refused: BTreeMap<u16, u64>,
    /// Failed messages by cause (a timeout, a closed connection, a connection refused...).
    pub failed: BTreeMap<String, u64>,
    pub sessions: u64,
    steps: Vec<Histogram<u64>>,
}

/// The largest latency recorded: an hour, in microseconds.
const HIGHEST: u64 = 3_600_000_000;

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        let histogram = || Histogram::new_with_bounds(1, HIGHEST, 3).expect("valid bounds");
        Stats {
            messages: 0,
            accepted: 0,
            refused: BTreeMap::new(),
            failed: BTreeMap::new(),
            sessions: 0,
            steps: Step::ALL.iter().map(|_| histogram()).collect(),
        }
    }

    pub fn record(&mut self, step: Step, took: Duration) {
        let micros = (took.as_micros() as u64).clamp(1, HIGHEST);
        self.steps[step.index()].record(micros).expect("clamped into the bounds");
    }

    pub fn errors(&self) -> u64 {
        self.refused.values().sum::<u64>() + self.failed.values().sum::<u64>()
    }

    pub fn refuse(&mut self, code: u16) {
        *self.refused.entry(code).or_default() += 1;
    }

    pub fn fail(&mut self, cause: &str) {
        *self.failed.entry(cause.to_string()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Stats) {
        self.messages += other.messages;
        self.accepted += other.accepted;
        self.sessions += other.sessions;
        for (code, count) in &other.refused {
            *self.refused.entry(*code).or_default() += count;
        }
        for (cause, count) in &other.failed {
            *self.failed.entry(cause.clone()).or_default() += count;
        }
        for (mine, theirs) in self.steps.iter_mut().zip(&other.steps) {
            mine.add(theirs).expect("same bounds");
        }
    }

    /// The latency summary of a step; `None` when it never happened (no TLS, no AUTH).
    pub fn latency(&self, step: Step) -> Option<Latency> {
        let histogram = &self.steps[step.index()];
        if histogram.is_empty() {
            return None;
        }
        let at = |q: f64| Duration::from_micros(histogram.value_at_quantile(q));
        Some(Latency {
            count: histogram.len(),
            min: Duration::from_micros(histogram.min()),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: Duration::from_micros(histogram.max()),
        })
    }

    /// A text histogram's bars: `buckets` ranges between the step's min and max on a log scale, each with its
    /// count.
    pub fn buckets(&self, step: Step, buckets: usize) -> Vec<(Duration, Duration, u64)> {
        let histogram = &self.steps[step.index()];
        if histogram.is_empty() || buckets == 0 {
            return Vec::new();
        }
        let (low, high) = (histogram.min().max(1) as f64, histogram.max().max(1) as f64);
        let ratio = (high / low).max(1.0001).powf(1.0 / buckets as f64);
        let mut out = Vec::new();
        let mut from = low;
        for index in 0..buckets {
            let to = if index + 1 == buckets { high + 1.0 } else { from * ratio };
            let count = histogram.iter_recorded().filter(|v| {
                let value = v.value_iterated_to() as f64;
                value >= from && value < to
            });
            let count: u64 = count.map(|v| v.count_at_value()).sum();
            out.push((Duration::from_micros(from as u64), Duration::from_micros(to as u64), count));
            from = to;
        }
        out
    }
}

/// min/p50/p90/p99/p99.9/max of one step, and how many times it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub count: u64,
    pub min: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_merging() {
        let mut one = Stats::new();
        let mut two = Stats::new();
        for ms in 1..=100 {
            one.record(Step::Message, Duration::from_millis(ms));
        }
        two.record(Step::Message, Duration::from_secs(2));
        two.refuse(550);
        two.fail("timeout");
        one.merge(&two);
        let latency = one.latency(Step::Message).unwrap();
        assert_eq!(latency.count, 101);
        assert_eq!(latency.min, Duration::from_millis(1));
        assert!(latency.p50 >= Duration::from_millis(50) && latency.p50 <= Duration::from_millis(52), "{latency:?}");
        assert!(latency.max >= Duration::from_millis(1999));
        assert_eq!(one.errors(), 2);
        assert_eq!(one.latency(Step::Tls), None);
        let total: u64 = one.buckets(Step::Message, 8).iter().map(|(_, _, n)| n).sum();
        assert_eq!(total, 101);
    }
}
