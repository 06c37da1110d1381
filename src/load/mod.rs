//! `postie load`: many messages to one server, from concurrent sessions (a thread each, on the client state
//! machine and the blocking driver), closed-loop or at a fixed rate, with per-step latency percentiles.
//! Plain data in (a [`Plan`]), a [`Report`] out; the application parses the flags and renders the report.

pub mod schedule;
pub mod session;
pub mod stats;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use session::{Message, Progress, Target};
pub use stats::{Latency, Stats, Step};

pub struct Plan {
    pub target: Target,
    pub message: Message,
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    /// Messages per second for an open loop.
    pub rate: Option<f64>,
    pub concurrency: u32,
    pub per_connection: u32,
    pub max_errors: Option<u64>,
}

/// What a run came to.
pub struct Report {
    pub stats: Stats,
    pub elapsed: Duration,
    /// Ctrl-C ended it early.
    pub interrupted: bool,
    /// More errors than --max-errors ended it early.
    pub stopped_by_errors: bool,
}

impl Report {
    /// Messages finished per second of the run.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.stats.messages as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Run the plan: `tick` is called about ten times a second with the messages done and errors so far (for a
/// progress bar); `interrupted` (set by Ctrl-C) stops the run cleanly: sessions finish the message under way.
pub fn run(plan: &Plan, interrupted: &AtomicBool, tick: &mut dyn FnMut(u64, u64, Duration)) -> Report {
    let schedule = schedule::Schedule::new(plan.count, plan.duration, plan.rate);
    let progress = Progress::default();
    let mut stats = Stats::new();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..plan.concurrency)
            .map(|_| {
                scope.spawn(|| {
                    session::work(
                        &plan.target,
                        &plan.message,
                        &schedule,
                        plan.per_connection,
                        &progress,
                        plan.max_errors,
                    )
                })
            })
            .collect();
        while workers.iter().any(|worker| !worker.is_finished()) {
            if interrupted.load(Ordering::Relaxed) {
                schedule.stop();
            }
            tick(progress.done.load(Ordering::Relaxed), progress.errors.load(Ordering::Relaxed), started.elapsed());
            std::thread::park_timeout(Duration::from_millis(100));
        }
        for worker in workers {
            match worker.join() {
                Ok(counted) => stats.merge(&counted),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    let elapsed = started.elapsed();
    let interrupted = interrupted.load(Ordering::Relaxed);
    let stopped_by_errors = !interrupted && plan.max_errors.is_some_and(|max| stats.errors() > max);
    Report { stats, elapsed, interrupted, stopped_by_errors }
}
