//! Bounded buffer for one item's content that keeps the newest `cap` bytes.
//!
//! Small content stays in memory; past `MEM_LIMIT` it spills into two files that
//! take turns, so a 120 MiB journal costs constant memory and at most `2 * cap`
//! of disk.
//!
//! Spill files may hold raw, unredacted command output, so they never have a
//! name: they are `O_TMPFILE` files (or, where that is not supported, unlinked
//! right after an exclusive, no-follow, mode 0600 create). Nothing is left
//! behind on any exit, SIGKILL included.

use std::fs::{File, OpenOptions};
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MEM_LIMIT: usize = 1 << 20;

pub struct Spool {
    cap: u64,
    mem: Vec<u8>,
    ring: Option<Ring>,
    total: u64,
    dir: PathBuf,
    name: String,
}

pub(crate) struct Ring {
    files: [File; 2],
    lens: [u64; 2],
    cur: usize,
}

/// A read-write file in `dir` that has no name.
fn anonymous_file(dir: &Path, name: &str) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir);
    if let Ok(f) = tmp {
        return Ok(f);
    }
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    loop {
        let p: PathBuf = dir.join(format!(
            ".{name}.{}.{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&p)
        {
            Ok(f) => {
                std::fs::remove_file(&p)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

/// The kept content: `len` bytes readable from `reader`.
pub struct Kept {
    pub len: u64,
    pub reader: Box<dyn Read + Send>,
    /// Bytes dropped from the front.
    pub cut: u64,
    pub(crate) ring: Option<Ring>,
}

impl Spool {
    /// `dir` holds spill files named after `name`.
    pub fn new(cap: u64, dir: &Path, name: &str) -> Self {
        Spool {
            cap: cap.max(1),
            mem: Vec::new(),
            ring: None,
            total: 0,
            dir: dir.to_path_buf(),
            name: name.replace('/', "_"),
        }
    }

    /// Forget everything written so far.
    pub fn clear(&mut self) -> io::Result<()> {
        self.mem.clear();
        self.total = 0;
        if let Some(r) = self.ring.as_mut() {
            for f in &mut r.files {
                f.set_len(0)?;
                f.seek(SeekFrom::Start(0))?;
            }
            r.lens = [0, 0];
            r.cur = 0;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        self.total += data.len() as u64;
        if self.ring.is_none() {
            if self.mem.len() + data.len() <= MEM_LIMIT {
                self.mem.extend_from_slice(data);
                return Ok(());
            }
            self.spill()?;
        }
        let cap = self.cap;
        let ring = self.ring.as_mut().expect("spilled");
        while !data.is_empty() {
            let mut room = cap - ring.lens[ring.cur];
            if room == 0 {
                ring.cur ^= 1;
                let f = &mut ring.files[ring.cur];
                f.set_len(0)?;
                f.seek(SeekFrom::Start(0))?;
                ring.lens[ring.cur] = 0;
                room = cap;
            }
            let n = (room as usize).min(data.len());
            ring.files[ring.cur].write_all(&data[..n])?;
            ring.lens[ring.cur] += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let f0 = anonymous_file(&self.dir, &self.name)?;
        let f1 = anonymous_file(&self.dir, &self.name)?;
        self.ring = Some(Ring {
            files: [f0, f1],
            lens: [0, 0],
            cur: 0,
        });
        // Replay what was in memory through the ring.
        let mem = std::mem::take(&mut self.mem);
        let total = self.total;
        self.write_all(&mem)?;
        self.total = total;
        Ok(())
    }

    /// Keep at most `keep` of the newest bytes (and never more than the cap).
    /// When anything is dropped, the kept part starts at a line boundary.
    pub fn finish(self, keep: u64) -> io::Result<Kept> {
        let keep = keep.min(self.cap);
        match self.ring {
            None => {
                let mut mem = self.mem;
                let mut cut = 0u64;
                if mem.len() as u64 > keep {
                    let mut start = mem.len() - keep as usize;
                    if start > 0 && mem[start - 1] != b'\n' {
                        start = mem[start..]
                            .iter()
                            .position(|b| *b == b'\n')
                            .map(|p| start + p + 1)
                            .unwrap_or(mem.len());
                    }
                    cut = start as u64;
                    mem.drain(..start);
                }
                Ok(Kept {
                    len: mem.len() as u64,
                    reader: Box::new(Cursor::new(mem)),
                    cut,
                    ring: None,
                })
            }
            Some(ring) => {
                let held = ring.lens[0] + ring.lens[1];
                let want = keep.min(held);
                let mut start = held - want;
                if self.total > want {
                    // Something was dropped: start after the next newline, unless
                    // the byte before `start` already is one.
                    let at_boundary = start > 0 && {
                        let mut b = [0u8; 1];
                        ring.open_at(start - 1)?.read_exact(&mut b)?;
                        b[0] == b'\n'
                    };
                    if !at_boundary {
                        let mut r = ring.open_at(start)?;
                        let mut buf = [0u8; 8192];
                        let mut skip = 0u64;
                        loop {
                            let n = r.read(&mut buf)?;
                            if n == 0 {
                                skip = held - start;
                                break;
                            }
                            if let Some(p) = buf[..n].iter().position(|b| *b == b'\n') {
                                skip += p as u64 + 1;
                                break;
                            }
                            skip += n as u64;
                        }
                        start += skip;
                    }
                }
                let reader = ring.open_at(start)?;
                let len = held - start;
                Ok(Kept {
                    len,
                    reader,
                    cut: self.total - len,
                    ring: Some(ring),
                })
            }
        }
    }
}

impl Ring {
    /// Reader from a logical offset in `older file ++ current file` to the end.
    fn open_at(&self, off: u64) -> io::Result<Box<dyn Read + Send>> {
        let (old, new) = (self.cur ^ 1, self.cur);
        let mut newf = self.files[new].try_clone()?;
        if off >= self.lens[old] {
            newf.seek(SeekFrom::Start(off - self.lens[old]))?;
            return Ok(Box::new(newf.take(self.lens[new] - (off - self.lens[old]))));
        }
        let mut oldf = self.files[old].try_clone()?;
        oldf.seek(SeekFrom::Start(off))?;
        newf.seek(SeekFrom::Start(0))?;
        Ok(Box::new(
            oldf.take(self.lens[old] - off)
                .chain(newf.take(self.lens[new])),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(s: Spool, keep: u64) -> (String, u64) {
        let mut k = s.finish(keep).unwrap();
        let mut out = String::new();
        k.reader.read_to_string(&mut out).unwrap();
        assert_eq!(out.len() as u64, k.len);
        (out, k.cut)
    }

    #[test]
    fn memory_keeps_newest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(10, dir.path(), "t");
        s.write_all(b"aaaa\nbbbb\ncccc\n").unwrap();
        assert_eq!(kept(s, u64::MAX), ("bbbb\ncccc\n".into(), 5));
        let mut s = Spool::new(8, dir.path(), "u");
        s.write_all(b"aaaa\nbbbb\ncccc\n").unwrap();
        assert_eq!(kept(s, u64::MAX), ("cccc\n".into(), 10));
    }

    #[test]
    fn ring_keeps_newest_lines_in_constant_space() {
        let dir = tempfile::tempdir().unwrap();
        let cap = 3 * MEM_LIMIT as u64;
        let mut s = Spool::new(cap, dir.path(), "t");
        let mut all = Vec::new();
        for i in 0..400_000u32 {
            let l = format!("line {i:08} some kubelet text\n");
            all.extend_from_slice(l.as_bytes());
            s.write_all(l.as_bytes()).unwrap();
        }
        let total = all.len() as u64;
        // Spill files have no name: nothing to find, nothing to leave behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let ring = s.ring.as_ref().unwrap();
        for f in &ring.files {
            use std::os::unix::fs::MetadataExt;
            let m = f.metadata().unwrap();
            assert!(m.len() <= cap);
            assert_eq!(m.nlink(), 0);
            assert_eq!(m.mode() & 0o777, 0o600);
        }
        let (out, cut) = kept(s, u64::MAX);
        assert!(out.len() as u64 <= cap);
        assert!(out.starts_with("line "));
        assert!(all.ends_with(out.as_bytes()));
        assert_eq!(cut + out.len() as u64, total);
        assert!(out.ends_with("line 00399999 some kubelet text\n"));
    }

    #[test]
    fn ring_under_cap_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(10 * MEM_LIMIT as u64, dir.path(), "t");
        let chunk = vec![b'x'; 1000];
        let mut n = 0;
        while n < 2 * MEM_LIMIT {
            s.write_all(&chunk).unwrap();
            n += chunk.len();
        }
        let (out, cut) = kept(s, u64::MAX);
        assert_eq!((out.len(), cut), (n, 0));
    }

    #[test]
    fn keep_smaller_than_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(100, dir.path(), "t");
        s.write_all(b"one\ntwo\nthree\n").unwrap();
        assert_eq!(kept(s, 7), ("three\n".into(), 8));
    }
}
