//! Reading inputs as untrusted: bundles from strangers' tickets. Entries are
//! streamed from memory (never extracted), unsafe entries refused, sizes and
//! counts capped. A damaged archive gives what could be read plus problems.

use flate2::read::GzDecoder;
use serde::Serialize;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries read from one input.
    pub max_entries: usize,
    /// Bytes decompressed from one input.
    pub max_total: u64,
    /// Bytes read from one entry; the rest is reported, not read.
    pub max_entry: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 20_000,
            max_total: 2 << 30,
            max_entry: 512 << 20,
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

/// Counts bytes and fails past a limit (decompression bombs).
struct Counted<R> {
    inner: R,
    n: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.n >= self.limit {
            return Err(io::Error::other(format!(
                "more than {} MiB decompressed; the rest was not read",
                self.limit >> 20
            )));
        }
        let want = buf.len().min((self.limit - self.n) as usize);
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

fn sniff(path: &Path) -> Result<[u8; 512], InputError> {
    let mut head = [0u8; 512];
    let mut f = File::open(path).map_err(|e| InputError {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => {
                return Err(InputError {
                    path: path.into(),
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(head)
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Read one input into `sink`. Errors only when nothing at all could be read.
pub fn read(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<(Kind, Vec<Problem>, Stats), InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut problems = Vec::new();
    let mut stats = Stats::default();
    if meta.is_dir() {
        walk(path, path, 0, limits, sink, &mut problems, &mut stats);
        return Ok((Kind::Directory, problems, stats));
    }
    let head = sniff(path)?;
    let open = || {
        File::open(path).map_err(|e| InputError {
            path: path.into(),
            message: e.to_string(),
        })
    };
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    if head[..2] == [0x1f, 0x8b] {
        // Peek at the decompressed start: a tarball, or a gzipped log?
        let mut peek = [0u8; 512];
        let mut gz = GzDecoder::new(open()?);
        let mut n = 0;
        while n < peek.len() {
            match gz.read(&mut peek[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        if is_tar(&peek[..n]) {
            let r = Counted {
                inner: GzDecoder::new(BufReader::with_capacity(256 * 1024, open()?)),
                n: 0,
                limit: limits.max_total,
            };
            read_tar(r, limits, sink, &mut problems, &mut stats);
            return Ok((Kind::BundleTgz, problems, stats));
        }
        if n == 0 {
            return Err(InputError {
                path: path.into(),
                message: "gzip data is corrupt or empty".into(),
            });
        }
        let mut r = Counted {
            inner: GzDecoder::new(open()?),
            n: 0,
            limit: limits.max_total,
        };
        let base = name.strip_suffix(".gz").unwrap_or(&name).to_string();
        if let Err(e) = sink.entry(&base, None, &mut r) {
            problems.push(Problem {
                path: name.clone(),
                problem: format!("read stopped: {e}"),
            });
        }
        stats.entries = 1;
        stats.bytes = r.n;
        return Ok((Kind::Log, problems, stats));
    }
    if is_tar(&head) {
        let r = Counted {
            inner: BufReader::new(open()?),
            n: 0,
            limit: limits.max_total,
        };
        read_tar(r, limits, sink, &mut problems, &mut stats);
        return Ok((Kind::BundleTar, problems, stats));
    }
    let mut r = Counted {
        inner: open()?,
        n: 0,
        limit: limits.max_total,
    };
    if let Err(e) = sink.entry(&name, Some(meta.len()), &mut r) {
        problems.push(Problem {
            path: name,
            problem: format!("read stopped: {e}"),
        });
    }
    stats.entries = 1;
    stats.bytes = r.n;
    Ok((Kind::Log, problems, stats))
}

fn read_tar<R: Read>(
    r: Counted<R>,
    limits: &Limits,
    sink: &mut dyn Sink,
    problems: &mut Vec<Problem>,
    stats: &mut Stats,
) {
    let mut a = tar::Archive::new(r);
    let entries = match a.entries() {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                path: String::new(),
                problem: format!("not a readable tar archive: {e}"),
            });
            return;
        }
    };
    let mut count = 0usize;
    let mut last = String::from("(start)");
    for e in entries {
        let mut e = match e {
            Ok(e) => e,
            Err(err) => {
                problems.push(Problem { path: last.clone(), problem: format!("archive is truncated or corrupt after {count} entries ({err}); the rest was lost") });
                break;
            }
        };
        count += 1;
        if count > limits.max_entries {
            problems.push(Problem {
                path: String::new(),
                problem: format!(
                    "more than {} entries; the rest was not read",
                    limits.max_entries
                ),
            });
            break;
        }
        let raw = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous)
            || kind.is_pax_global_extensions()
        {
            let what = match kind {
                tar::EntryType::Symlink => "symbolic link",
                tar::EntryType::Link => "hard link",
                tar::EntryType::Char | tar::EntryType::Block => "device",
                tar::EntryType::Fifo => "fifo",
                _ => "unsupported entry type",
            };
            problems.push(Problem {
                path: raw,
                problem: format!("refused: {what}"),
            });
            continue;
        }
        let path = match clean_path(&raw) {
            Ok(p) => p,
            Err(why) => {
                problems.push(Problem {
                    path: raw,
                    problem: format!("refused: {why}"),
                });
                continue;
            }
        };
        let size = e.header().size().unwrap_or(0);
        if size > limits.max_entry {
            problems.push(Problem {
                path: path.clone(),
                problem: format!(
                    "{size} bytes; only the first {} MiB were read",
                    limits.max_entry >> 20
                ),
            });
        }
        stats.entries += 1;
        stats.bytes += size.min(limits.max_entry);
        let mut body = (&mut e).take(limits.max_entry);
        if let Err(err) = sink.entry(&path, Some(size), &mut body) {
            problems.push(Problem {
                path: path.clone(),
                problem: format!("read stopped: {err}"),
            });
            if err.to_string().contains("decompressed") {
                break;
            }
        }
        last = path;
    }
}

#[allow(clippy::too_many_arguments)]
fn walk(
    base: &Path,
    dir: &Path,
    depth: usize,
    limits: &Limits,
    sink: &mut dyn Sink,
    problems: &mut Vec<Problem>,
    stats: &mut Stats,
) {
    let rel = |p: &Path| {
        p.strip_prefix(base)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    if depth > 24 {
        problems.push(Problem {
            path: rel(dir),
            problem: "refused: directories nested too deep".into(),
        });
        return;
    }
    let mut items: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) => {
            problems.push(Problem {
                path: rel(dir),
                problem: e.to_string(),
            });
            return;
        }
    };
    items.sort();
    for p in items {
        if stats.entries as usize >= limits.max_entries {
            problems.push(Problem {
                path: rel(&p),
                problem: format!(
                    "more than {} entries; the rest was not read",
                    limits.max_entries
                ),
            });
            return;
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            walk(base, &p, depth + 1, limits, sink, problems, stats);
        } else if m.is_file() {
            let r = rel(&p);
            match File::open(&p) {
                Ok(f) => {
                    stats.entries += 1;
                    stats.bytes += m.len().min(limits.max_entry);
                    if m.len() > limits.max_entry {
                        problems.push(Problem {
                            path: r.clone(),
                            problem: format!(
                                "{} bytes; only the first {} MiB were read",
                                m.len(),
                                limits.max_entry >> 20
                            ),
                        });
                    }
                    if let Err(e) = sink.entry(&r, Some(m.len()), &mut f.take(limits.max_entry)) {
                        problems.push(Problem {
                            path: r,
                            problem: format!("read stopped: {e}"),
                        });
                    }
                }
                Err(e) => problems.push(Problem {
                    path: r,
                    problem: e.to_string(),
                }),
            }
        } else {
            problems.push(Problem {
                path: rel(&p),
                problem: "refused: not a regular file (link, device or socket)".into(),
            });
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
