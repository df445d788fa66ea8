//! Reading inputs as untrusted: bundles from strangers' tickets. Entries are
//! streamed from memory (never extracted), unsafe entries refused, sizes and
//! counts capped. A damaged archive gives what could be read plus problems.

use crate::budget::Deadline;
use crate::tarx::{self, Budget};
use flate2::read::MultiGzDecoder;
use serde::Serialize;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    fn exhausted(&self) -> Option<String> {
        if self.n >= self.limit {
            return Some(format!(
                "more than {} MiB decompressed; the rest was not read (--max-mib)",
                self.limit >> 20
            ));
        }
        self.deadline.passed()
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = self.exhausted() {
            return Err(io::Error::other(why));
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

/// Read one input into `sink`. Errors only when nothing at all could be read.
///
/// The input is opened once and its type sniffed from bytes kept in memory,
/// so pipes and process substitution (`analyze <(cat b.tgz)`) work.
pub fn read(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(Kind, Vec<Problem>, Stats), InputError> {
    let fail = |e: &dyn fmt::Display| InputError {
        path: path.into(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(&e))?;
    let deadline = Deadline::after(limits.max_seconds);
    let mut problems = Problems::default();
    let mut stats = Stats::default();
    if meta.is_dir() {
        walk(
            path,
            path,
            0,
            limits,
            deadline,
            sink,
            &mut problems,
            &mut stats,
        );
        return Ok((Kind::Directory, problems.into_vec(), stats));
    }
    let mut f = File::open(path).map_err(|e| fail(&e))?;
    let mut head = vec![0u8; 512];
    let n = fill(&mut f, &mut head).map_err(|e| fail(&e))?;
    head.truncate(n);
    let src = io::Cursor::new(head.clone()).chain(f);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    if head.starts_with(&[0x1f, 0x8b]) {
        // Every gzip member, as zcat reads them; then a peek at the
        // decompressed start: a tarball, or a gzipped log?
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
            return Err(fail(&"gzip data is corrupt or empty"));
        }
        let tar = is_tar(&peek);
        let mut r = Counted::new(io::Cursor::new(peek).chain(gz), limits.max_total, deadline);
        if tar {
            tarx::read(&mut r, limits, sink, &mut problems, &mut stats);
            return Ok((Kind::BundleTgz, problems.into_vec(), stats));
        }
        let base = name.strip_suffix(".gz").unwrap_or(&name).to_string();
        if let Err(e) = sink.entry(&base, None, &mut r) {
            let why = r
                .exhausted()
                .unwrap_or_else(|| format!("read stopped: {e}"));
            problems.push(&name, why);
        }
        stats.entries = 1;
        stats.bytes = r.n;
        return Ok((Kind::Log, problems.into_vec(), stats));
    }
    let mut r = Counted::new(
        BufReader::with_capacity(256 * 1024, src),
        limits.max_total,
        deadline,
    );
    if is_tar(&head) {
        tarx::read(&mut r, limits, sink, &mut problems, &mut stats);
        return Ok((Kind::BundleTar, problems.into_vec(), stats));
    }
    let size = meta.is_file().then_some(meta.len());
    if let Err(e) = sink.entry(&name, size, &mut r) {
        let why = r
            .exhausted()
            .unwrap_or_else(|| format!("read stopped: {e}"));
        problems.push(&name, why);
    }
    stats.entries = 1;
    stats.bytes = r.n;
    Ok((Kind::Log, problems.into_vec(), stats))
}

#[allow(clippy::too_many_arguments)]
fn walk(
    base: &Path,
    dir: &Path,
    depth: usize,
    limits: &Limits,
    deadline: Deadline,
    sink: &mut dyn Sink,
    problems: &mut Problems,
    stats: &mut Stats,
) -> bool {
    let rel = |p: &Path| {
        p.strip_prefix(base)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    if depth > 24 {
        problems.push(&rel(dir), "refused: directories nested too deep".into());
        return true;
    }
    let mut items: Vec<PathBuf> = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(rd) => {
            for e in rd.filter_map(|e| e.ok()) {
                if items.len() > limits.max_entries {
                    break;
                }
                items.push(e.path());
            }
        }
        Err(e) => {
            problems.push(&rel(dir), e.to_string());
            return true;
        }
    }
    items.sort();
    for p in items {
        if stats.entries as usize >= limits.max_entries {
            problems.push(
                &rel(&p),
                format!(
                    "more than {} entries; the rest was not read",
                    limits.max_entries
                ),
            );
            return false;
        }
        if let Some(why) = deadline.passed() {
            problems.push(&rel(&p), why);
            return false;
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if !walk(base, &p, depth + 1, limits, deadline, sink, problems, stats) {
                return false;
            }
        } else if m.is_file() {
            let r = rel(&p);
            let left = limits.max_total.saturating_sub(stats.bytes);
            if left == 0 {
                problems.push(
                    &r,
                    format!(
                        "more than {} MiB read from the directory; the rest was not read (--max-mib)",
                        limits.max_total >> 20
                    ),
                );
                return false;
            }
            match File::open(&p) {
                Ok(f) => {
                    stats.entries += 1;
                    if m.len() > limits.max_entry {
                        problems.push(
                            &r,
                            format!(
                                "{} bytes; only the first {} MiB were read",
                                m.len(),
                                limits.max_entry >> 20
                            ),
                        );
                    }
                    let mut c = Counted::new(f.take(limits.max_entry), left, deadline);
                    let res = sink.entry(&r, Some(m.len()), &mut c);
                    stats.bytes += c.n;
                    if let Err(e) = res {
                        match c.exhausted() {
                            Some(why) if c.n >= c.limit => {
                                problems.push(&r, format!(
                                    "more than {} MiB read from the directory; the rest was not read (--max-mib)",
                                    limits.max_total >> 20
                                ));
                                let _ = why;
                                return false;
                            }
                            Some(why) => {
                                problems.push(&r, why);
                                return false;
                            }
                            None => problems.push(&r, format!("read stopped: {e}")),
                        }
                    }
                }
                Err(e) => problems.push(&r, e.to_string()),
            }
        } else {
            problems.push(
                &rel(&p),
                "refused: not a regular file (link, device or socket)".into(),
            );
        }
    }
    true
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
