//! The report of `postie load`: a table of step latencies and a text histogram for people, one JSON object
//! for machines (its fields are listed in the README and in `postie load --help`).

use std::fmt::Write;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::load::{Report, Step};

/// What the run was asked to do, for the report's first lines.
pub struct Shape<'a> {
    pub run: &'a str,
    pub server: &'a str,
    pub concurrency: u32,
    pub per_connection: u32,
    pub rate: Option<f64>,
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

pub fn text(report: &Report, shape: &Shape<'_>) -> String {
    let stats = &report.stats;
    let mut out = String::new();
    let ended = if report.interrupted {
        " (interrupted: the report so far)"
    } else if report.stopped_by_errors {
        " (stopped: more errors than --max-errors)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "postie load: run {}: {} messages to {} in {:.2} s: {:.0} messages/s{ended}",
        shape.run,
        stats.messages,
        shape.server,
        report.elapsed.as_secs_f64(),
        report.rate()
    );
    let pacing = shape.rate.map(|r| format!(", at {r} messages/s")).unwrap_or_default();
    let _ = writeln!(
        out,
        "  {} sessions, {} at once, up to {} messages each{pacing}",
        stats.sessions, shape.concurrency, shape.per_connection
    );
    let _ = write!(out, "  accepted {}", stats.accepted);
    let refused: u64 = stats.refused.values().sum();
    let _ = write!(out, ", refused {refused}");
    if refused > 0 {
        let codes: Vec<String> = stats.refused.iter().map(|(code, n)| format!("{code}: {n}")).collect();
        let _ = write!(out, " ({})", codes.join(", "));
    }
    let failed: u64 = stats.failed.values().sum();
    let _ = write!(out, ", failed {failed}");
    if failed > 0 {
        let causes: Vec<String> = stats.failed.iter().map(|(cause, n)| format!("{cause}: {n}")).collect();
        let _ = write!(out, " ({})", causes.join(", "));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "  {:<13}{:>8}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}  (ms)",
        "step", "count", "min", "p50", "p90", "p99", "p99.9", "max"
    );
    for step in Step::ALL {
        if let Some(l) = stats.latency(step) {
            let _ = writeln!(
                out,
                "  {:<13}{:>8}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}",
                step.name(),
                l.count,
                ms(l.min),
                ms(l.p50),
                ms(l.p90),
                ms(l.p99),
                ms(l.p999),
                ms(l.max)
            );
        }
    }
    let buckets = stats.buckets(Step::Message, 8);
    let most = buckets.iter().map(|(_, _, n)| *n).max().unwrap_or(0);
    if most > 0 {
        let _ = writeln!(out, "  whole-message latency:");
        for (from, to, count) in buckets {
            let width = (count * 40).div_ceil(most) as usize;
            let _ = writeln!(out, "  {:>10.3} - {:<10.3} ms {:<40} {count}", ms(from), ms(to), "#".repeat(width));
        }
    }
    out
}

pub fn json(report: &Report, shape: &Shape<'_>) -> Value {
    let stats = &report.stats;
    let mut steps = Map::new();
    for step in Step::ALL {
        if let Some(l) = stats.latency(step) {
            steps.insert(
                step.name().into(),
                json!({
                    "count": l.count,
                    "min_ms": ms(l.min),
                    "p50_ms": ms(l.p50),
                    "p90_ms": ms(l.p90),
                    "p99_ms": ms(l.p99),
                    "p999_ms": ms(l.p999),
                    "max_ms": ms(l.max),
                }),
            );
        }
    }
    let refused: Map<String, Value> = stats.refused.iter().map(|(code, n)| (code.to_string(), json!(n))).collect();
    let failed: Map<String, Value> = stats.failed.iter().map(|(cause, n)| (cause.clone(), json!(n))).collect();
    json!({
        "type": "load",
        "run": shape.run,
        "server": shape.server,
        "concurrency": shape.concurrency,
        "per_connection": shape.per_connection,
        "target_rate": shape.rate,
        "messages": stats.messages,
        "accepted": stats.accepted,
        "refused": refused,
        "failed": failed,
        "sessions": stats.sessions,
        "seconds": report.elapsed.as_secs_f64(),
        "rate": report.rate(),
        "interrupted": report.interrupted,
        "stopped_by_errors": report.stopped_by_errors,
        "steps": steps,
    })
}
