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

pub struct Run<'a> {
    pub argv: &'a [String],
    pub search: &'a [PathBuf],
    pub timeout: Duration,
    pub cap: u64,
    pub spool_dir: &'a Path,
    pub name: &'a str,
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
    };
    let Some(program) = which(&r.argv[0], r.search) else {
        return out;
    };
    out.program = Some(program.clone());
    let mut cmd = Command::new(&program);
    cmd.args(&r.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .env("PAGER", "cat")
        .env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_COLORS", "0")
        .env("PATH", std::env::join_paths(r.search).unwrap_or_default())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            out.status = Status::SpawnFailed(e);
            out.duration = started.elapsed();
            return out;
        }
    };
    let pid = child.id() as i32;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let mut spool = Spool::new(r.cap, r.spool_dir, r.name);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let res = copy_raw(stdout, &mut spool).map(|_| spool);
        let _ = tx.send(res);
    });
    let (etx, erx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.take(STDERR_CAP as u64).read_to_end(&mut buf);
        let _ = etx.send(buf);
    });

    let deadline = started + r.timeout;
    let mut sleep = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(_) => break None,
        }
        if Instant::now() >= deadline {
            kill_group(pid);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(20));
    };
    out.status = match status {
        Some(st) => {
            use std::os::unix::process::ExitStatusExt;
            match (st.code(), st.signal()) {
                (Some(c), _) => Status::Exited(c),
                (None, Some(s)) => Status::Signaled(s),
                _ => Status::Exited(-1),
            }
        }
        None => Status::TimedOut,
    };
    // A daemonized grandchild may hold the pipe open: kill the group, then give
    // the readers a short grace.
    if !matches!(out.status, Status::TimedOut) {
        kill_group(pid);
    }
    let grace = Duration::from_secs(2);
    if let Ok(Ok(spool)) = rx.recv_timeout(grace) {
        out.stdout_total = spool.total();
        if let Ok((kept, n)) = spool
            .finish(u64::MAX)
            .and_then(|k| redact_kept(k, r.spool_dir, r.name))
        {
            out.redactions = n;
            out.stdout = Some(kept);
        }
    }
    if let Ok(e) = erx.recv_timeout(grace) {
        let mut red = Redactor::new();
        out.stderr = red.text(&e);
        out.redactions += red.count;
    }
    out.duration = started.elapsed();
    out
}

fn kill_group(pid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
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
