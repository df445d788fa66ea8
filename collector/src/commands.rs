//! Running the plan's commands in parallel workers and storing what they
//! printed. One command is `command::run`; this module schedules them, turns
//! their status into manifest items and writes their output.

use crate::files::outcome_of;
use crate::plan::CmdSpec;
use crate::spool::Kept;
use crate::writer::{store, trim_front, Writer};
use crate::{command, redact, Ctx};
use bundle::{Item, Kind, Outcome};
use std::io;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// One finished command: its item and what it printed.
pub(crate) struct CmdResult {
    pub(crate) item: Item,
    stdout: Option<Kept>,
    stderr: Vec<u8>,
}

/// Start slots: at most `jobs` commands are starting or busy at once, but a
/// command still running after `slow` no longer holds its slot (it is most
/// likely waiting on something that hangs), so wedged tools cannot queue the
/// rest behind them: with every command hanging, all have started within
/// about `commands / jobs * slow`.
struct Slots {
    running: Mutex<Vec<(usize, Instant)>>,
    cv: Condvar,
    jobs: usize,
    slow: Duration,
}

impl Slots {
    fn acquire(&self, i: usize) {
        let mut r = self.running.lock().expect("lock");
        loop {
            let busy = r.iter().filter(|(_, t)| t.elapsed() < self.slow).count();
            if busy < self.jobs {
                r.push((i, Instant::now()));
                return;
            }
            let next = r
                .iter()
                .map(|(_, t)| self.slow.saturating_sub(t.elapsed()))
                .min();
            let wait = next.unwrap_or(self.slow).max(Duration::from_millis(1));
            r = self.cv.wait_timeout(r, wait).expect("lock").0;
        }
    }

    fn release(&self, i: usize) {
        self.running.lock().expect("lock").retain(|(j, _)| *j != i);
        self.cv.notify_all();
    }
}

/// Run every spec (see `Slots`); results come back in plan order.
pub(crate) fn run_all(ctx: &Ctx, specs: &[CmdSpec]) -> Vec<CmdResult> {
    let slots = Slots {
        running: Mutex::new(Vec::new()),
        cv: Condvar::new(),
        jobs: ctx.opts.jobs.max(1),
        slow: (ctx.opts.timeout / 16).max(Duration::from_millis(20)),
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let slots = &slots;
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(s, move || {
                        slots.acquire(i);
                        let r = run_cmd(ctx, spec);
                        slots.release(i);
                        r
                    })
                    .expect("spawn a command thread")
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    })
}

fn skipped(mut item: Item, why: &str) -> CmdResult {
    item.outcome = Outcome::Skipped;
    item.error = Some(why.into());
    CmdResult {
        item,
        stdout: None,
        stderr: Vec::new(),
    }
}

fn run_cmd(ctx: &Ctx, spec: &CmdSpec) -> CmdResult {
    let item = Item::new(
        format!("cmd:{}", spec.id),
        Kind::Command,
        redact_str(&spec.argv.join(" ")),
    );
    if ctx.out_of_time() {
        return skipped(item, "time budget exhausted");
    }
    let cap = ctx.cap(spec.cap);
    let r = |argv: &[String]| {
        command::run(&command::Run {
            argv,
            search: &ctx.opts.search,
            timeout: ctx.opts.timeout,
            cap,
            spool_dir: &ctx.spool_dir,
            name: &spec.id,
            tee: None,
        })
    };
    let mut item = item;
    let mut out = r(&spec.argv);
    if let (command::Status::Missing, Some(alt)) = (&out.status, &spec.alt) {
        if command::which(&alt[0], &ctx.opts.search).is_some() {
            item.source = redact_str(&alt.join(" "));
            out = r(alt);
        }
    }
    record(ctx.opts.timeout, &mut item, &out, &spec.argv[0]);
    CmdResult {
        item,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Turn a command's status into the item's outcome and error.
pub(crate) fn record(timeout: Duration, item: &mut Item, out: &command::Output, program: &str) {
    item.duration_ms = out.duration.as_millis() as u64;
    item.redactions = out.redactions;
    item.source_size = Some(out.stdout_total);
    let stderr_text = String::from_utf8_lossy(&out.stderr).into_owned();
    match &out.status {
        command::Status::Missing => {
            item.outcome = Outcome::Missing;
            item.error = Some(format!("{program} not found on PATH"));
        }
        command::Status::SpawnFailed(e) => {
            item.outcome = outcome_of(e);
            item.error = Some(format!("cannot run: {e}"));
        }
        command::Status::Exited(c) => {
            item.exit_status = Some(*c);
            if *c != 0 {
                item.outcome = Outcome::Failed;
            }
            let lower = stderr_text.to_lowercase();
            if lower.contains("permission denied")
                || lower.contains("insufficient permissions")
                || lower.contains("operation not permitted")
            {
                item.outcome = Outcome::Denied;
            }
        }
        command::Status::Signaled(s) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("killed by signal {s}"));
        }
        command::Status::TimedOut => {
            item.outcome = Outcome::Timeout;
            item.error = Some(format!(
                "killed with its process group after {}s",
                timeout.as_secs_f32()
            ));
        }
    }
    if let Some(e) = &out.spool_error {
        item.outcome = outcome_of(e);
        item.error = Some(format!("spooling the output failed: {e}"));
    } else if out.pipe_held {
        let note = format!(
            "its output pipe was still held open {}s after it ended (a daemon it \
             started?): the output that arrived until then is kept",
            command::GRACE.as_secs_f32()
        );
        item.error = Some(match item.error.take() {
            Some(e) => format!("{e}; {note}"),
            None => note,
        });
    }
    if item.error.is_none() && !stderr_text.trim().is_empty() && item.outcome != Outcome::Ok {
        item.error = Some(stderr_text.lines().take(3).collect::<Vec<_>>().join(" | "));
    }
}

impl CmdResult {
    /// A command run before the collection (`--run`).
    pub(crate) fn new(item: Item, out: command::Output) -> Self {
        CmdResult {
            item,
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }
}

/// Write each command's output into the bundle and return the items.
pub(crate) fn store_all(w: &mut Writer, results: Vec<CmdResult>) -> io::Result<Vec<Item>> {
    let mut items = Vec::with_capacity(results.len());
    for mut r in results {
        let id = r.item.id.trim_start_matches("cmd:").to_string();
        if let Some(kept) = r.stdout.take() {
            if kept.len > 0 || r.item.outcome == Outcome::Ok {
                let keep = w.remaining();
                let kept = if kept.len > keep {
                    trim_front(kept, keep)?
                } else {
                    kept
                };
                store(w, &mut r.item, bundle::command_path(&id, "out"), kept, 0);
            }
        }
        if !r.stderr.is_empty() {
            let n = (r.stderr.len() as u64).min(w.remaining());
            let _ = w.add(
                &bundle::command_path(&id, "err"),
                n,
                &r.stderr[..n as usize],
            );
        }
        items.push(r.item);
    }
    Ok(items)
}

/// A command line as the manifest shows it: secrets redacted.
pub(crate) fn redact_str(s: &str) -> String {
    let mut r = redact::Redactor::new();
    String::from_utf8_lossy(&r.text(s.as_bytes())).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_command_gives_up_its_slot() {
        let slots = Slots {
            running: Mutex::new(Vec::new()),
            cv: Condvar::new(),
            jobs: 2,
            slow: Duration::from_millis(50),
        };
        let t0 = Instant::now();
        let started = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for i in 0..8 {
                let (slots, started) = (&slots, &started);
                s.spawn(move || {
                    slots.acquire(i);
                    started.lock().unwrap().push(t0.elapsed());
                    std::thread::sleep(Duration::from_millis(1000));
                    slots.release(i);
                });
            }
        });
        let last = *started.lock().unwrap().iter().max().unwrap();
        assert!(
            last < Duration::from_millis(500),
            "last start after {last:?}"
        );
    }
}
