//! Reading inputs as untrusted: bundles from strangers' tickets. Entries are
//! streamed from memory (never extracted), unsafe entries refused, sizes and
//! counts capped. A damaged archive gives what could be read plus problems.

use crate::budget::{Deadline, Exhausted};
use crate::tarx::{self, Budget};
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries read from one input.
    pub max_entries: usize,
    /// Bytes decompressed from one input (for a directory: read from all its files).
    pub max_total: u64,
    /// Bytes read from one entry; the rest is reported, not read.
    pub max_entry: u64,
    /// Seconds one input may take; the rest is reported, not read. 0: no limit.
    pub max_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 20_000,
            max_total: 1 << 30,
            max_entry: 512 << 20,
            max_seconds: crate::budget::DEFAULT_SECONDS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A gzip-compressed tar bundle.
    BundleTgz,
    /// An uncompressed tar.
    BundleTar,
    /// An unpacked bundle or any directory of files.
    Directory,
    /// One plain (or gzipped) log or text file.
    Log,
}

/// Something in the input that was refused, cut or lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub problem: String,
}

/// The input could not be read at all.
#[derive(Debug)]
pub struct InputError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for InputError {}

/// Receives entries one at a time.
pub trait Sink {
    fn entry(&mut self, path: &str, size: Option<u64>, data: &mut dyn Read) -> io::Result<()>;
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
}

/// Problems of one input, bounded: paths and messages are cut to a readable
/// length and, past [`MAX_PROBLEMS`], only counted.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    more: u64,
}

/// Problem lines kept per input; the rest are counted in one last line.
pub const MAX_PROBLEMS: usize = 500;

impl Problems {
    pub fn push(&mut self, path: &str, problem: String) {
        if self.list.len() >= MAX_PROBLEMS {
            self.more += 1;
            return;
        }
        self.list.push(Problem {
            path: crate::tarx::cut(path, crate::tarx::PROBLEM_PATH),
            problem: crate::tarx::cut(&problem, 4 * crate::tarx::PROBLEM_PATH),
        });
    }

    pub fn into_vec(mut self) -> Vec<Problem> {
        if self.more > 0 {
            self.list.push(Problem {
                path: String::new(),
                problem: format!("{} more problems were not listed", self.more),
            });
        }
        self.list
    }
}

/// All problems of one input, cut and capped like [`Problems`].
pub fn cap_problems(all: Vec<Problem>) -> Vec<Problem> {
    let mut p = Problems::default();
    for x in all {
        p.push(&x.path, x.problem);
    }
    p.into_vec()
}

/// Counts bytes and fails past a limit (decompression bombs) or a deadline.
struct Counted<R> {
    inner: R,
    n: u64,
    limit: u64,
    deadline: Deadline,
}

impl<R> Counted<R> {
    fn new(inner: R, limit: u64, deadline: Deadline) -> Self {
        Counted {
            inner,
            n: 0,
            limit,
            deadline,
        }
    }
}

impl<R> Budget for Counted<R> {
    fn exhausted(&self) -> Option<Exhausted> {
        if self.n >= self.limit {
            return Some(Exhausted::Bytes { limit: self.limit });
        }
        self.deadline.passed()
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = self.exhausted() {
            return Err(io::Error::other(why.to_string()));
        }
        let want = (buf.len() as u64).min(self.limit - self.n) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        self.n += n as u64;
        Ok(n)
    }
}

/// A safe relative path inside an archive, or why not.
pub fn clean_path(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("absolute path");
    }
    let mut parts = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("path traversal (..)"),
            c if c.contains('\0') || c.contains('\\') => return Err("strange path characters"),
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err("empty path");
    }
    Ok(parts.join("/"))
}

/// Read up to `buf.len()` bytes; fewer only at the end of the stream.
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Open `path` for reading without blocking on a named pipe that has no
/// writer (a plain `open` waits for one forever): the pipe is opened
/// non-blocking, then waits for data at most until `deadline`. Pipes a shell
/// hands over (`-`, `<(cat b.tgz)`) have their writer and read as before.
pub fn open_input(path: &Path, deadline: Deadline) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let fifo = std::fs::metadata(path)?.file_type().is_fifo();
    if !fifo {
        return File::open(path);
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = f.as_raw_fd();
    // Wait until the pipe has data, or a writer came and went.
    let ms = deadline
        .left()
        .map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as i32);
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `p` is one valid pollfd for a descriptor `f` owns.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    if n == 0 {
        let msg = format!(
            "a named pipe with no data in {} s (no writer?); not read (--max-seconds)",
            deadline.secs()
        );
        return Err(io::Error::other(msg));
    }
    // SAFETY: fcntl on a descriptor `f` owns; only O_NONBLOCK changes.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK);
        }
    }
    Ok(f)
}

/// What one input gave: its kind, its problems and its counts.
type Read1 = (Kind, Vec<Problem>, Stats);

/// Read one input into `sink`. Errors only when nothing at all could be read.
///
/// The input is opened once and its type sniffed from bytes kept in memory,
/// so pipes and process substitution (`analyze <(cat b.tgz)`) work.
pub fn read(path: &Path, limits: &Limits, sink: &mut dyn Sink) -> Result<Read1, InputError> {
    read_by(path, limits, Deadline::after(limits.max_seconds), sink)
}

/// [`read`] against a deadline set earlier: the input's one time budget,
/// shared with what follows the read (facts, a second read).
pub fn read_by(
    path: &Path,
    limits: &Limits,
    deadline: Deadline,
    sink: &mut dyn Sink,
) -> Result<Read1, InputError> {
    let fail = |e: &dyn fmt::Display| InputError {
        path: path.into(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(&e))?;
    if meta.is_dir() {
        let mut w = Walk {
            base: path,
            limits,
            deadline,
            sink,
            problems: Problems::default(),
            stats: Stats::default(),
        };
        w.dir(path, 0);
        return Ok((Kind::Directory, w.problems.into_vec(), w.stats));
    }
    let mut f = open_input(path, deadline).map_err(|e| fail(&e))?;
    let mut head = vec![0u8; 512];
    let n = fill(&mut f, &mut head).map_err(|e| fail(&e))?;
    head.truncate(n);
    let src = io::Cursor::new(head.clone()).chain(f);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_gzip(src, &name, limits, deadline, sink).map_err(|e| fail(&e));
    }
    let mut r = Counted::new(
        BufReader::with_capacity(256 * 1024, src),
        limits.max_total,
        deadline,
    );
    if is_tar(&head) {
        return Ok(read_tar(&mut r, Kind::BundleTar, limits, sink));
    }
    let size = meta.is_file().then_some(meta.len());
    Ok(read_log(&mut r, &name, &name, size, sink))
}

/// A tar stream, every entry into `sink`.
fn read_tar<R: Read>(
    r: &mut Counted<R>,
    kind: Kind,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Read1 {
    let mut problems = Problems::default();
    let mut stats = Stats::default();
    tarx::read(r, limits, sink, &mut problems, &mut stats);
    (kind, problems.into_vec(), stats)
}

/// One plain log (or other text) as one entry named `entry`; a problem
/// reading it is reported under `file`, the input's name.
fn read_log<R: Read>(
    r: &mut Counted<R>,
    entry: &str,
    file: &str,
    size: Option<u64>,
    sink: &mut dyn Sink,
) -> Read1 {
    let mut problems = Problems::default();
    if let Err(e) = sink.entry(entry, size, r) {
        let why = r
            .exhausted()
            .map_or_else(|| format!("read stopped: {e}"), |b| b.to_string());
        problems.push(file, why);
    }
    let stats = Stats {
        entries: 1,
        bytes: r.n,
    };
    (Kind::Log, problems.into_vec(), stats)
}

/// Every gzip member, as zcat reads them; then a peek at the decompressed
/// start: a tarball, or a gzipped log?
fn read_gzip(
    src: impl Read,
    name: &str,
    limits: &Limits,
    deadline: Deadline,
    sink: &mut dyn Sink,
) -> Result<Read1, &'static str> {
    let mut gz = MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, src));
    let mut peek = vec![0u8; 512];
    let mut n = 0;
    while n < peek.len() {
        match gz.read(&mut peek[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    peek.truncate(n);
    if n == 0 {
        return Err("gzip data is corrupt or empty");
    }
    let tar = is_tar(&peek);
    let mut r = Counted::new(io::Cursor::new(peek).chain(gz), limits.max_total, deadline);
    if tar {
        return Ok(read_tar(&mut r, Kind::BundleTgz, limits, sink));
    }
    let base = name.strip_suffix(".gz").unwrap_or(name);
    Ok(read_log(&mut r, base, name, None, sink))
}

/// A directory read as a bundle: files in name order, depth, entry, byte and
/// time budgets shared by the whole tree.
struct Walk<'a> {
    base: &'a Path,
    limits: &'a Limits,
    deadline: Deadline,
    sink: &'a mut dyn Sink,
    problems: Problems,
    stats: Stats,
}

impl Walk<'_> {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.base)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    /// The entries of `dir`, sorted; `None` when it cannot be listed.
    fn list(&mut self, dir: &Path) -> Option<Vec<PathBuf>> {
        let mut items: Vec<PathBuf> = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(rd) => {
                for e in rd.filter_map(Result::ok) {
                    if items.len() > self.limits.max_entries {
                        break;
                    }
                    items.push(e.path());
                }
            }
            Err(e) => {
                let r = self.rel(dir);
                self.problems.push(&r, e.to_string());
                return None;
            }
        }
        items.sort();
        Some(items)
    }

    /// Read `dir` and below; false once a budget has stopped the walk.
    fn dir(&mut self, dir: &Path, depth: usize) -> bool {
        if depth > 24 {
            let r = self.rel(dir);
            self.problems
                .push(&r, "refused: directories nested too deep".into());
            return true;
        }
        let Some(items) = self.list(dir) else {
            return true;
        };
        for p in items {
            let r = self.rel(&p);
            if self.stats.entries as usize >= self.limits.max_entries {
                let msg = format!(
                    "more than {} entries; the rest was not read",
                    self.limits.max_entries
                );
                self.problems.push(&r, msg);
                return false;
            }
            if let Some(why) = self.deadline.passed() {
                self.problems.push(&r, why.to_string());
                return false;
            }
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let go_on = if m.is_dir() {
                self.dir(&p, depth + 1)
            } else if m.is_file() {
                self.file(&p, &r, m.len())
            } else {
                let msg = "refused: not a regular file (link, device or socket)";
                self.problems.push(&r, msg.into());
                true
            };
            if !go_on {
                return false;
            }
        }
        true
    }

    /// The directory's byte budget is used up.
    fn over_bytes(&mut self, r: &str) {
        let msg = format!(
            "more than {} MiB read from the directory; the rest was not read (--max-mib)",
            self.limits.max_total >> 20
        );
        self.problems.push(r, msg);
    }

    /// Read one regular file of `len` bytes as entry `r`; false once a
    /// budget has stopped the walk.
    fn file(&mut self, p: &Path, r: &str, len: u64) -> bool {
        let left = self.limits.max_total.saturating_sub(self.stats.bytes);
        if left == 0 {
            self.over_bytes(r);
            return false;
        }
        let f = match File::open(p) {
            Ok(f) => f,
            Err(e) => {
                self.problems.push(r, e.to_string());
                return true;
            }
        };
        self.stats.entries += 1;
        let max_entry = self.limits.max_entry;
        if len > max_entry {
            let msg = format!(
                "{len} bytes; only the first {} MiB were read",
                max_entry >> 20
            );
            self.problems.push(r, msg);
        }
        let mut c = Counted::new(f.take(max_entry), left, self.deadline);
        let res = self.sink.entry(r, Some(len), &mut c);
        self.stats.bytes += c.n;
        let Err(e) = res else {
            return true;
        };
        match c.exhausted() {
            Some(Exhausted::Bytes { .. }) => {
                self.over_bytes(r);
                false
            }
            Some(why) => {
                self.problems.push(r, why.to_string());
                false
            }
            None => {
                self.problems.push(r, format!("read stopped: {e}"));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            clean_path("./files/etc/hosts"),
            Ok("files/etc/hosts".into())
        );
        assert!(clean_path("../../etc/passwd").is_err());
        assert!(clean_path("files/../../x").is_err());
        assert!(clean_path("/etc/passwd").is_err());
        assert!(clean_path("./").is_err());
    }
}
