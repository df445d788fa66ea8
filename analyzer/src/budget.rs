//! Budgets shared by every input of one run: the memory kept for facts and the
//! memory a structured parser may use at once, so that eight small inputs
//! analyzed in parallel cannot add up to gigabytes (issue 9). Per-input time is
//! a deadline checked by the reader; flag arithmetic is checked here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Bytes of small files kept for fact extraction, across all inputs of a run.
pub const KEPT_TOTAL: u64 = 128 << 20;
/// Bytes of structured text (YAML, JSON, TOML) being parsed at once, across inputs.
pub const PARSING_TOTAL: u64 = 4 << 20;
/// Default time one input may take before the rest is skipped and reported.
/// Issue 9 promises 10 s per input; reading stops at this deadline and what
/// follows (facts, rules, the report) needs the rest. A gigabyte of lines the
/// fast path cannot skip (lone CRs, binary, UTF-16) takes 25-35 s to read.
pub const DEFAULT_SECONDS: u64 = 8;

static KEPT: AtomicU64 = AtomicU64::new(0);

/// Bytes reserved from the shared budget; given back when dropped.
#[derive(Debug, Default)]
pub struct Held(u64);

impl Held {
    pub fn bytes(&self) -> u64 {
        self.0
    }

    /// Add `n` bytes to this reservation, if the run's budget has room.
    pub fn grow(&mut self, n: u64) -> bool {
        let mut cur = KEPT.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|v| *v <= KEPT_TOTAL) else {
                return false;
            };
            match KEPT.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    self.0 += n;
                    return true;
                }
                Err(v) => cur = v,
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        KEPT.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// Bytes kept across the run now (for tests and reports).
pub fn kept_now() -> u64 {
    KEPT.load(Ordering::Relaxed)
}

static PARSING: Mutex<u64> = Mutex::new(0);
static PARSED: Condvar = Condvar::new();

/// A permit to parse `n` bytes of structured text; waits while other inputs
/// use the shared parsing budget. A text larger than the whole budget waits
/// until it is alone.
pub struct ParsePermit(u64);

pub fn parse_permit(n: u64) -> ParsePermit {
    let n = n.min(PARSING_TOTAL);
    let mut cur = PARSING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    while *cur > 0 && *cur + n > PARSING_TOTAL {
        cur = PARSED
            .wait(cur)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    *cur += n;
    ParsePermit(n)
}

impl Drop for ParsePermit {
    fn drop(&mut self) {
        let mut cur = PARSING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *cur = cur.saturating_sub(self.0);
        PARSED.notify_all();
    }
}

/// A per-input time limit.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Option<Instant>,
    secs: u64,
}

impl Deadline {
    /// `secs` from now; 0 means no limit.
    pub fn after(secs: u64) -> Deadline {
        Deadline {
            at: (secs > 0)
                .then(|| Instant::now().checked_add(Duration::from_secs(secs)))
                .flatten(),
            secs,
        }
    }

    pub fn none() -> Deadline {
        Deadline { at: None, secs: 0 }
    }

    /// Time left before the deadline; `None` when there is no limit.
    pub fn left(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The budget in seconds this deadline was made with (0: none).
    pub fn secs(&self) -> u64 {
        self.secs
    }

    /// What a step after reading says when it stopped at this deadline:
    /// `what` was not done.
    pub fn cut(&self, what: &str) -> String {
        format!(
            "time budget of {} s for this input used up; {what} (--max-seconds)",
            self.secs
        )
    }

    /// Why reading must stop, once the time is up.
    pub fn passed(&self) -> Option<Exhausted> {
        let at = self.at?;
        (Instant::now() >= at).then_some(Exhausted::Time { secs: self.secs })
    }
}

/// A budget of one input that ran out: what was read so far stands, the
/// rest is reported as not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// More than `limit` bytes decompressed (`--max-mib`).
    Bytes { limit: u64 },
    /// The time budget of `secs` seconds is used up (`--max-seconds`).
    Time { secs: u64 },
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exhausted::Bytes { limit } => write!(
                f,
                "more than {} MiB decompressed; the rest was not read (--max-mib)",
                limit >> 20
            ),
            Exhausted::Time { secs } => write!(
                f,
                "time budget of {secs} s for this input used up; the rest was not read (--max-seconds)"
            ),
        }
    }
}

/// MiB to bytes without wrapping: a huge value means "as much as fits".
pub fn mib(n: u64) -> u64 {
    n.saturating_mul(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mib_does_not_wrap() {
        assert_eq!(mib(8), 8 << 20);
        assert_eq!(mib(u64::MAX), u64::MAX);
        assert_eq!(mib(1 << 44), u64::MAX);
    }

    #[test]
    fn held_is_bounded_and_returned() {
        let before = kept_now();
        let mut h = Held::default();
        assert!(h.grow(1 << 20));
        assert!(!h.grow(KEPT_TOTAL));
        assert_eq!(h.bytes(), 1 << 20);
        drop(h);
        assert!(kept_now() <= before + (1 << 20));
    }

    #[test]
    fn default_deadline_leaves_room_under_the_promise() {
        const { assert!(DEFAULT_SECONDS > 0 && DEFAULT_SECONDS <= 8) };
    }

    #[test]
    fn deadline() {
        assert!(Deadline::after(0).passed().is_none());
        assert!(Deadline::after(100).passed().is_none());
        let d = Deadline {
            at: Some(Instant::now()),
            secs: 1,
        };
        assert_eq!(d.passed(), Some(Exhausted::Time { secs: 1 }));
        assert!(d.passed().unwrap().to_string().contains("time budget"));
    }
}
