//! Which message comes next, and when. Closed loop: as fast as the sessions go. Open loop (`--rate`): message
//! N is due at start + N/rate, whatever happened to the ones before, and its latency counts from then, so a
//! slow server shows up as latency and not as a lower rate (no coordinated omission).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Schedule {
    start: Instant,
    next: AtomicU64,
    count: Option<u64>,
    until: Option<Instant>,
    /// Messages per second, for an open loop.
    rate: Option<f64>,
    /// Ctrl-C, or too many errors: take no new message.
    stop: AtomicBool,
}

/// One message to send: its number and, under `--rate`, when it is due.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    pub sequence: u64,
    pub due: Option<Instant>,
}

impl Schedule {
    pub fn new(count: Option<u64>, duration: Option<Duration>, rate: Option<f64>) -> Schedule {
        let start = Instant::now();
        Schedule {
            start,
            next: AtomicU64::new(0),
            count,
            until: duration.map(|d| start + d),
            rate,
            stop: AtomicBool::new(false),
        }
    }

    /// The next message, waiting for its time under `--rate`; `None` when the run is over.
    pub fn next(&self) -> Option<Ticket> {
        if self.stopped() || self.until.is_some_and(|end| Instant::now() >= end) {
            return None;
        }
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        if self.count.is_some_and(|count| sequence >= count) {
            return None;
        }
        let due = self.rate.map(|rate| self.start + Duration::from_secs_f64(sequence as f64 / rate));
        if let Some(due) = due {
            if self.until.is_some_and(|end| due >= end) {
                return None;
            }
            // Pacing an open loop: the message is not due yet.
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if self.stopped() {
                return None;
            }
        }
        Some(Ticket { sequence, due })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// An open loop (`--rate`): messages wait for their time.
    pub fn paced(&self) -> bool {
        self.rate.is_some()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_ends_the_run() {
        let schedule = Schedule::new(Some(3), None, None);
        let numbers: Vec<u64> = std::iter::from_fn(|| schedule.next()).map(|t| t.sequence).collect();
        assert_eq!(numbers, [0, 1, 2]);
    }

    #[test]
    fn an_open_loop_spaces_the_messages() {
        let schedule = Schedule::new(Some(3), None, Some(100.0));
        let dues: Vec<Instant> = std::iter::from_fn(|| schedule.next()).map(|t| t.due.unwrap()).collect();
        assert_eq!(dues[2] - dues[0], Duration::from_millis(20));
        assert!(Instant::now() >= dues[2]);
    }

    #[test]
    fn stop_ends_it_at_once() {
        let schedule = Schedule::new(None, None, None);
        assert!(schedule.next().is_some());
        schedule.stop();
        assert!(schedule.next().is_none());
    }
}
