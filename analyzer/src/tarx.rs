//! A tar reader that bounds metadata before anything is buffered.
//!
//! The `tar` crate reads a GNU long-name or long-link body, a PAX header body
//! or a sparse map whole into memory before a caller can look at it: a 261 KB
//! .tgz reached 1.36 GiB (issue 9). This reader walks the raw 512-byte headers
//! by hand and caps each metadata body before reading it: a long name or link
//! above [`MAX_NAME`], a PAX set above [`MAX_PAX`] and every sparse file are
//! refused (their bodies skipped as a stream) and reported. Duplicate paths are
//! reported and the first copy is kept, so a later entry cannot silently change
//! the verdict.

use crate::input::{clean_path, Limits, Problems, Sink, Stats};
use std::collections::HashSet;
use std::io::{self, Read};

/// Longest GNU long name or long link read (bytes).
pub const MAX_NAME: u64 = 4 << 10;
/// Largest PAX extended header set read (bytes).
pub const MAX_PAX: u64 = 64 << 10;
/// Longest entry path accepted (bytes); longer ones are refused.
pub const MAX_PATH: usize = 1024;
/// Longest path kept in a problem line (characters).
pub const PROBLEM_PATH: usize = 200;

/// Cut untrusted text to a readable length, saying how long it was.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} bytes in all)", s.len())
}

/// Read exactly `buf.len()` bytes; Ok(false) on a clean end before the first byte.
fn read_block(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) if n == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "archive ends inside a header",
                ))
            }
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Read and drop `n` bytes; an early end is an error.
fn skip(r: &mut dyn Read, n: u64) -> io::Result<()> {
    let got = io::copy(&mut r.take(n), &mut io::sink())?;
    if got < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "archive ends inside an entry",
        ));
    }
    Ok(())
}

fn padded(size: u64) -> Option<u64> {
    size.checked_add(511).map(|s| s / 512 * 512)
}

/// Octal (NUL/space padded) or GNU base-256 numeric field.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut v: u64 = (field[0] & 0x3f) as u64;
        for b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(*b as u64)?;
        }
        return Some(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| *b != 0 && *b != b' ')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    let mut v: u64 = 0;
    for b in s {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add((b - b'0') as u64)?;
    }
    Some(v)
}

fn checksum_ok(h: &[u8; 512]) -> bool {
    let Some(want) = number(&h[148..156]) else {
        return false;
    };
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, b) in h.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { *b };
        unsigned += b as u64;
        signed += b as i8 as i64;
    }
    want == unsigned || want as i64 == signed
}

fn until_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    &b[..end]
}

/// The path a header names: POSIX ustar joins prefix and name; GNU has no prefix.
fn header_path(h: &[u8; 512]) -> Vec<u8> {
    let name = until_nul(&h[..100]);
    if &h[257..263] == b"ustar\0" {
        let prefix = until_nul(&h[345..500]);
        if !prefix.is_empty() {
            let mut p = prefix.to_vec();
            p.push(b'/');
            p.extend_from_slice(name);
            return p;
        }
    }
    name.to_vec()
}

/// What the PAX records of one set say that this reader uses.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    size: Option<u64>,
    sparse: bool,
}

/// Parse `LEN key=value\n` records; Err on a malformed record.
fn parse_pax(body: &[u8]) -> Result<Pax, &'static str> {
    let mut pax = Pax::default();
    let mut rest = body;
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or("PAX record without a length")?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record length is not a number")?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err("PAX record length is wrong");
        }
        let rec = &rest[sp + 1..len - 1];
        let eq = rec
            .iter()
            .position(|b| *b == b'=')
            .ok_or("PAX record without '='")?;
        let (k, v) = (&rec[..eq], &rec[eq + 1..]);
        match k {
            b"path" => pax.path = Some(v.to_vec()),
            b"size" => {
                pax.size = Some(
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or("PAX size is not a number")?,
                );
            }
            k if k.starts_with(b"GNU.sparse.") => pax.sparse = true,
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(pax)
}

/// Why the next entry is refused (its metadata was).
struct Refuse(String);

/// The reader's stop conditions (decompression cap, time budget), if reached.
pub trait Budget {
    fn exhausted(&self) -> Option<crate::budget::Exhausted>;
}

/// Read a tar stream into `sink`. Problems are reported; nothing here panics
/// or allocates more than the caps above, whatever the input.
pub fn read<R: Read + Budget>(
    r: &mut R,
    limits: &Limits,
    sink: &mut dyn Sink,
    problems: &mut Problems,
    stats: &mut Stats,
) {
    let mut t = Tar {
        r,
        limits,
        sink,
        problems,
        stats,
        count: 0,
        headers: 0,
        last: String::from("(start)"),
        seen: HashSet::new(),
        long_name: None,
        pax: None,
        refuse: None,
        max_headers: limits.max_entries.saturating_mul(4).max(64),
    };
    let mut h = [0u8; 512];
    while let Step::Next = t.header(&mut h) {}
}

/// Whether reading goes on after one header.
enum Step {
    Next,
    Stop,
}

/// The state of one tar stream being read: counts, the entries seen, and the
/// metadata headers that apply to the next entry.
struct Tar<'a, R> {
    r: &'a mut R,
    limits: &'a Limits,
    sink: &'a mut dyn Sink,
    problems: &'a mut Problems,
    stats: &'a mut Stats,
    /// Real entries read.
    count: usize,
    /// Headers read, metadata ones included.
    headers: usize,
    /// The last entry read, for the message when the rest is lost.
    last: String,
    seen: HashSet<String>,
    long_name: Option<Vec<u8>>,
    pax: Option<Pax>,
    refuse: Option<Refuse>,
    max_headers: usize,
}

impl<R: Read + Budget> Tar<'_, R> {
    /// The rest of the archive is lost: say why (a budget, or the damage).
    fn lost(&mut self, why: &dyn std::fmt::Display) -> Step {
        let msg = match self.r.exhausted() {
            Some(b) => b.to_string(),
            None => format!(
                "archive is truncated or corrupt after {} entries ({why}); the rest was lost",
                self.count
            ),
        };
        self.problems.push(&self.last, msg);
        Step::Stop
    }

    /// Skip `n` bytes, or stop with the reason.
    fn skip(&mut self, n: u64) -> Step {
        match skip(self.r, n) {
            Ok(()) => Step::Next,
            Err(e) => self.lost(&e),
        }
    }

    /// Read one header and what belongs to it.
    fn header(&mut self, h: &mut [u8; 512]) -> Step {
        match read_block(self.r, h) {
            Ok(true) => {}
            Ok(false) => {
                if self.count == 0 && self.headers == 0 {
                    self.problems.push("", "empty tar archive".into());
                }
                return Step::Stop;
            }
            Err(e) => return self.lost(&e),
        }
        if h.iter().all(|b| *b == 0) {
            // End-of-archive marker.
            return Step::Stop;
        }
        self.headers += 1;
        if self.headers > self.max_headers {
            let msg = format!(
                "more than {} tar headers; the rest was not read",
                self.max_headers
            );
            self.problems.push("", msg);
            return Step::Stop;
        }
        if !checksum_ok(h) {
            return self.lost(&"bad header checksum");
        }
        let Some(size) = number(&h[124..136]) else {
            return self.lost(&"bad size field");
        };
        match h[156] {
            kind @ (b'L' | b'K' | b'x' | b'g') => self.metadata(kind, size),
            _ => self.entry(h, size),
        }
    }

    /// A metadata header (GNU long name or link, PAX): bounded before its
    /// body is read; it applies to the next entry.
    fn metadata(&mut self, kind: u8, size: u64) -> Step {
        let cap = if matches!(kind, b'L' | b'K') {
            MAX_NAME
        } else {
            MAX_PAX
        };
        let what = match kind {
            b'L' => "GNU long name",
            b'K' => "GNU long link",
            b'x' => "PAX header",
            _ => "PAX global header",
        };
        let Some(pad) = padded(size) else {
            return self.lost(&"bad size field");
        };
        if size > cap {
            if let Step::Stop = self.skip(pad) {
                return Step::Stop;
            }
            let why = format!("{what} of {size} bytes (limit {} KiB)", cap >> 10);
            if kind == b'g' {
                self.problems.push("", format!("ignored: {why}"));
            } else {
                self.refuse = Some(Refuse(format!("refused: {why}")));
            }
            return Step::Next;
        }
        let mut body = vec![0u8; pad as usize];
        if let Err(e) = read_block(self.r, &mut body).and_then(|ok| {
            if ok || pad == 0 {
                Ok(())
            } else {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "early end"))
            }
        }) {
            return self.lost(&e);
        }
        body.truncate(size as usize);
        match kind {
            b'L' => self.long_name = Some(until_nul(&body).to_vec()),
            b'x' => match parse_pax(&body) {
                Ok(p) => self.pax = Some(p),
                Err(why) => self.refuse = Some(Refuse(format!("refused: {why}"))),
            },
            // Link targets are never followed; global PAX records change
            // nothing this reader uses.
            _ => {}
        }
        Step::Next
    }

    /// Old GNU sparse files: extension headers follow the header. They are
    /// skipped one block at a time (the reader's caps bound how many).
    fn sparse_map(&mut self, h: &mut [u8; 512]) -> Result<u64, Step> {
        let mut blocks = 0u64;
        let mut ext = h[482] != 0;
        while ext {
            blocks += 1;
            match read_block(self.r, h) {
                Ok(true) => ext = h[504] != 0,
                Ok(false) => return Err(self.lost(&"archive ends inside a sparse map")),
                Err(e) => return Err(self.lost(&e)),
            }
        }
        Ok(blocks)
    }

    /// A real entry: the metadata collected so far applies to it.
    fn entry(&mut self, h: &mut [u8; 512], mut size: u64) -> Step {
        let kind = h[156];
        let p = self.pax.take().unwrap_or_default();
        let ln = self.long_name.take();
        let refused = self.refuse.take();
        let raw_bytes = p.path.or(ln).unwrap_or_else(|| header_path(h));
        let raw = String::from_utf8_lossy(&raw_bytes).into_owned();
        if let Some(s) = p.size {
            size = s;
        }
        let Some(pad) = padded(size) else {
            return self.lost(&"bad size field");
        };
        let sparse_blocks = if kind == b'S' {
            match self.sparse_map(h) {
                Ok(n) => n,
                Err(stop) => return stop,
            }
        } else {
            0
        };
        self.count += 1;
        if self.count > self.limits.max_entries {
            let msg = format!(
                "more than {} entries; the rest was not read",
                self.limits.max_entries
            );
            self.problems.push("", msg);
            return Step::Stop;
        }
        let is_dir = kind == b'5' || (matches!(kind, b'0' | 0) && raw.ends_with('/'));
        let why = match refused {
            Some(Refuse(why)) => Some(why),
            None if is_dir => None,
            None => refusal(kind, sparse_blocks, p.sparse),
        };
        if is_dir && why.is_none() {
            return self.skip(pad);
        }
        match self.path_of(&raw, raw_bytes.len(), why) {
            Ok(path) => self.body(path, size, pad),
            Err(why) => {
                self.problems.push(&cut(&raw, PROBLEM_PATH), why);
                self.skip(pad)
            }
        }
    }

    /// The entry's clean path, or why it is refused.
    fn path_of(&self, raw: &str, len: usize, why: Option<String>) -> Result<String, String> {
        let path = match why {
            Some(w) => Err(w),
            None if len > MAX_PATH => {
                Err(format!("refused: path of {len} bytes (limit {MAX_PATH})"))
            }
            None => clean_path(raw).map_err(|w| format!("refused: {w}")),
        }?;
        if self.seen.contains(&path) {
            return Err("duplicate entry: the first copy was kept, this one ignored".to_string());
        }
        Ok(path)
    }

    /// The entry's bytes into the sink (up to the entry cap), then the padding.
    fn body(&mut self, path: String, size: u64, mut pad: u64) -> Step {
        if self.seen.len() < self.limits.max_entries {
            self.seen.insert(path.clone());
        }
        let max_entry = self.limits.max_entry;
        if size > max_entry {
            let msg = format!(
                "{size} bytes; only the first {} MiB were read",
                max_entry >> 20
            );
            self.problems.push(&path, msg);
        }
        self.stats.entries += 1;
        let want = size.min(max_entry);
        let mut body = (&mut *self.r).take(want);
        let res = self.sink.entry(&path, Some(size), &mut body);
        let used = want - body.limit();
        self.stats.bytes += used;
        if let Err(err) = res {
            match self.r.exhausted() {
                Some(b) => {
                    self.problems.push(&path, b.to_string());
                    return Step::Stop;
                }
                None => self.problems.push(&path, format!("read stopped: {err}")),
            }
        }
        pad -= used;
        self.last = path;
        if let Step::Stop = self.skip(pad) {
            return Step::Stop;
        }
        if let Some(b) = self.r.exhausted() {
            self.problems.push(&self.last, b.to_string());
            return Step::Stop;
        }
        Step::Next
    }
}

/// Why an entry that is not a directory is refused by its type, if it is.
fn refusal(kind: u8, sparse_blocks: u64, pax_sparse: bool) -> Option<String> {
    if sparse_blocks > 0 {
        return Some(format!(
            "refused: sparse file (a sparse map of {sparse_blocks} extension headers was skipped)"
        ));
    }
    if pax_sparse || kind == b'S' {
        return Some("refused: sparse file".into());
    }
    let why = match kind {
        b'0' | 0 | b'7' => return None,
        b'2' => "refused: symbolic link",
        b'1' => "refused: hard link",
        b'3' | b'4' => "refused: device",
        b'6' => "refused: fifo",
        _ => "refused: unsupported entry type",
    };
    Some(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(b"0000644\0"), Some(0o644));
        assert_eq!(number(b"   12 \0"), Some(0o12));
        assert_eq!(number(&[0x80, 0, 0, 1, 0]), Some(256));
        assert_eq!(number(&[0xff, 0xff]), None);
        assert_eq!(number(b"9"), None);
        assert_eq!(
            number(&[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            None
        );
    }

    #[test]
    fn pax_records() {
        let p = parse_pax(b"16 path=a/b/c.x\n11 size=42\n").unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"a/b/c.x"[..]));
        assert_eq!(p.size, Some(42));
        assert!(parse_pax(b"99999999999999999999 path=x\n").is_err());
        assert!(parse_pax(b"3 x\n").is_err());
        assert!(parse_pax(b"29 GNU.sparse.map=0,1,2,3456\n").unwrap().sparse);
    }

    #[test]
    fn cut_long() {
        let s = "a".repeat(1000);
        let c = cut(&s, 10);
        assert!(c.starts_with("aaaaaaaaaa…"), "{c}");
        assert!(c.contains("1000 bytes"));
    }
}
