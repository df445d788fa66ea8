//! Running one external command: looked up on the search path, in its own
//! process group, killed with that whole group at its deadline. Standard output
//! streams through the redactor into a spool; standard error is kept short.

use crate::redact::{self, Redactor};
use crate::spool::{Kept, Spool};
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const STDERR_CAP: usize = 64 * 1024;

pub enum Status {
    /// Not found on the search path.
    Missing,
    /// Could not be started (permission, exec format).
    SpawnFailed(io::Error),
    Exited(i32),
    Signaled(i32),
    TimedOut,
}

pub struct Output {
    pub status: Status,
    pub stdout: Option<Kept>,
    pub stdout_total: u64,
    pub stderr: Vec<u8>,
    pub redactions: u64,
    pub duration: Duration,
    pub program: Option<PathBuf>,
    /// The output pipe was still held open `GRACE` after the command ended
    /// (a daemon it left behind): what arrived until then is kept.
    pub pipe_held: bool,
    /// Spooling the output failed (ENOSPC, EIO): named here, output dropped.
    pub spool_error: Option<io::Error>,
}

/// Find `name` in `dirs` the way a shell does.
pub fn which(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// How long output is still read after the command exited or was killed.
pub const GRACE: Duration = Duration::from_secs(1);

/// Where `--run` copies the command's output as it arrives.
pub type Tee<'a> = &'a (dyn Fn(&[u8]) + Sync);

pub struct Run<'a> {
    pub argv: &'a [String],
    pub search: &'a [PathBuf],
    pub timeout: Duration,
    pub cap: u64,
    pub spool_dir: &'a Path,
    pub name: &'a str,
    /// `--run`: standard error goes into the spool too, everything is copied
    /// to `tee` as it arrives, and standard input is the collector's.
    pub tee: Option<Tee<'a>>,
}

impl<'a> Run<'a> {
    pub fn new(
        argv: &'a [String],
        search: &'a [PathBuf],
        timeout: Duration,
        spool_dir: &'a Path,
        name: &'a str,
    ) -> Self {
        Run {
            argv,
            search,
            timeout,
            cap: 64 * 1024,
            spool_dir,
            name,
            tee: None,
        }
    }
}

enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
    Eof,
}

/// Read `src` in chunks into the channel until end of file.
fn reader(mut src: impl Read + Send + 'static, tx: mpsc::Sender<Chunk>, out: bool) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let c = buf[..n].to_vec();
                    if tx
                        .send(if out { Chunk::Out(c) } else { Chunk::Err(c) })
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(Chunk::Eof);
    });
}

fn command(r: &Run, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(&r.argv[1..])
        .stdin(if r.tee.is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .env("PAGER", "cat")
        .env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_COLORS", "0")
        .process_group(0);
    if r.tee.is_none() {
        cmd.env("PATH", std::env::join_paths(r.search).unwrap_or_default());
    }
    cmd
}

/// Where a running command's output goes.
struct Sink<'a> {
    r: &'a Run<'a>,
    spool: Spool,
    stderr: Vec<u8>,
    error: Option<io::Error>,
    open: usize,
}

impl Sink<'_> {
    fn take(&mut self, c: Chunk) {
        match c {
            Chunk::Eof => self.open -= 1,
            Chunk::Out(b) => self.spooled(&b),
            Chunk::Err(b) if self.r.tee.is_some() => self.spooled(&b),
            Chunk::Err(b) => {
                let room = STDERR_CAP.saturating_sub(self.stderr.len());
                self.stderr.extend_from_slice(&b[..b.len().min(room)]);
            }
        }
    }

    /// Into the spool; after a write error the rest is drained and dropped so
    /// the command does not die of SIGPIPE.
    fn spooled(&mut self, b: &[u8]) {
        if let Some(tee) = self.r.tee {
            tee(b);
        }
        if self.error.is_none() {
            if let Err(e) = self.spool.write_all(b) {
                self.error = Some(e);
            }
        }
    }

    /// Take chunks until both pipes ended or `until` passed.
    fn drain(&mut self, rx: &mpsc::Receiver<Chunk>, until: Instant) {
        while self.open > 0 {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(c) => self.take(c),
                Err(_) => break,
            }
        }
    }
}

/// Wait for the child, taking its output meanwhile; kill its group at the deadline.
fn wait(
    child: &mut std::process::Child,
    sink: &mut Sink,
    rx: &mpsc::Receiver<Chunk>,
    deadline: Instant,
) -> Option<std::process::ExitStatus> {
    let mut poll = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            stop(child);
            return None;
        }
        if sink.open > 0 {
            sink.drain(rx, Instant::now() + poll);
        } else {
            std::thread::sleep(poll); // both pipes closed, the command runs on
        }
        poll = (poll * 2).min(Duration::from_millis(20));
    }
}

/// Kill what the command started at its deadline, and reap the child. The
/// child is killed by pid too: one stuck between fork and exec never joined
/// its own group (seen under qemu-user, where a forked child can deadlock
/// before `setpgid`, and the collector then waited for it forever). It is
/// not reaped yet, so its pid is still ours.
fn stop(child: &mut std::process::Child) {
    kill_group(child.id() as i32);
    let _ = child.kill();
    let _ = child.wait();
}

fn status_of(st: Option<std::process::ExitStatus>) -> Status {
    use std::os::unix::process::ExitStatusExt;
    match st {
        Some(st) => match (st.code(), st.signal()) {
            (Some(c), _) => Status::Exited(c),
            (None, Some(s)) => Status::Signaled(s),
            _ => Status::Exited(-1),
        },
        None => Status::TimedOut,
    }
}

pub fn run(r: &Run) -> Output {
    let started = Instant::now();
    let mut out = Output {
        status: Status::Missing,
        stdout: None,
        stdout_total: 0,
        stderr: Vec::new(),
        redactions: 0,
        duration: Duration::ZERO,
        program: None,
        pipe_held: false,
        spool_error: None,
    };
    let Some(program) = which(&r.argv[0], r.search) else {
        return out;
    };
    out.program = Some(program.clone());
    let mut child = match crate::procs::spawn(&mut command(r, &program)) {
        Ok(c) => c,
        Err(e) => {
            out.status = Status::SpawnFailed(e);
            out.duration = started.elapsed();
            return out;
        }
    };
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    reader(child.stdout.take().expect("piped"), tx.clone(), true);
    reader(child.stderr.take().expect("piped"), tx, false);
    let mut sink = Sink {
        r,
        spool: Spool::new(r.cap, r.spool_dir, r.name),
        stderr: Vec::new(),
        error: None,
        open: 2,
    };
    let st = wait(&mut child, &mut sink, &rx, started + r.timeout);
    out.status = status_of(st);
    // What is left of the group goes now; a daemon that left it (setsid) may
    // still hold the pipe: read for a short grace, then say so.
    kill_group(pid);
    crate::procs::forget(pid);
    sink.drain(&rx, Instant::now() + GRACE);
    out.pipe_held = sink.open > 0;
    finish(r, sink, &mut out);
    out.duration = started.elapsed();
    out
}

/// Redact what the spool kept, and standard error.
fn finish(r: &Run, sink: Sink, out: &mut Output) {
    out.stdout_total = sink.spool.total();
    out.spool_error = sink.error;
    if out.spool_error.is_none() {
        match sink
            .spool
            .finish(u64::MAX)
            .and_then(|k| redact_kept(k, r.spool_dir, r.name))
        {
            Ok((kept, n)) => {
                out.redactions = n;
                out.stdout = Some(kept);
            }
            Err(e) => out.spool_error = Some(e),
        }
    }
    let mut red = Redactor::new();
    out.stderr = red.text(&sink.stderr);
    out.redactions += red.count;
}

fn kill_group(pid: i32) {
    crate::procs::kill_group(pid);
}

/// Copy a stream into the spool unchanged: only the part the spool keeps is
/// redacted later (`redact_kept`), so a 120 MiB journal cut to 32 MiB costs
/// one pass of redaction over 32 MiB.
pub fn copy_raw(mut src: impl Read, spool: &mut Spool) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => spool.write_all(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Redact what a spool kept. When its start was cut off, the redactor assumes
/// it may start inside a key block (see `Redactor::after_cut`). Output of
/// commands that print structured files (`systemctl cat`, `crictl info`) goes
/// through the reader for that format unless it was cut.
pub fn redact_kept(kept: Kept, dir: &Path, name: &str) -> io::Result<(Kept, u64)> {
    let red = if kept.cut > 0 {
        Redactor::after_cut()
    } else {
        Redactor::structured(redact::format_for_command(name))
    };
    let cut = kept.cut;
    let (spool, n) = redact_into(
        kept.reader,
        Spool::new(u64::MAX, dir, &format!("{name}.r")),
        red,
    )?;
    let mut k = spool.finish(u64::MAX)?;
    k.cut = cut;
    Ok((k, n))
}

/// Copy a stream (an operator's `--include` file) through the redactor into
/// the spool. Its first block decides whether a structured reader applies.
pub fn pump(mut src: impl Read, spool: Spool) -> io::Result<(Spool, u64)> {
    let mut head = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < head.len() {
        match src.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    let red = Redactor::structured(redact::sniff(&head));
    redact_into(io::Cursor::new(head).chain(src), spool, red)
}

/// Copy a stream through `red` into the spool. The redactor assembles lines
/// itself and keeps its state across buffer and long-line boundaries.
pub fn redact_into(
    mut src: impl Read,
    mut spool: Spool,
    mut red: Redactor,
) -> io::Result<(Spool, u64)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(128 * 1024);
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        red.feed(&buf[..n], &mut out);
        if out.len() >= 64 * 1024 {
            spool.write_all(&out)?;
            out.clear();
        }
    }
    red.finish(&mut out);
    spool.write_all(&out)?;
    Ok((spool, red.count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child that is in no group of its own (as one stuck before `setpgid`)
    /// is still stopped at the deadline, not waited for.
    #[test]
    fn a_child_outside_its_group_is_stopped() {
        let mut c = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep");
        let t = Instant::now();
        stop(&mut c);
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert!(c.try_wait().expect("reaped").is_some());
    }
}
