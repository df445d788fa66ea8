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
use std::sync::Mutex;

/// One finished command: its item and what it printed.
pub(crate) struct CmdResult {
    pub(crate) item: Item,
    stdout: Option<Kept>,
    stderr: Vec<u8>,
}

/// Run every spec with `jobs` workers; results come back in plan order.
pub(crate) fn run_all(ctx: &Ctx, specs: &[CmdSpec]) -> Vec<CmdResult> {
    let slots: Vec<Mutex<Option<CmdResult>>> = specs.iter().map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..ctx.opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("lock");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(spec) = specs.get(i) else { break };
                let r = run_cmd(ctx, spec);
                *slots[i].lock().expect("lock") = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|s| s.into_inner().expect("lock"))
        .collect()
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
    record(ctx, &mut item, &out, &spec.argv[0]);
    CmdResult {
        item,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Turn a command's status into the item's outcome and error.
pub(crate) fn record(ctx: &Ctx, item: &mut Item, out: &command::Output, program: &str) {
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
                ctx.opts.timeout.as_secs_f32()
            ));
        }
    }
    if item.error.is_none() && !stderr_text.trim().is_empty() && item.outcome != Outcome::Ok {
        item.error = Some(stderr_text.lines().take(3).collect::<Vec<_>>().join(" | "));
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
