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
    let mut h = [0u8; 512];
    let mut count = 0usize;
    let mut headers = 0usize;
    let mut last = String::from("(start)");
    let mut seen: HashSet<String> = HashSet::new();
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax: Option<Pax> = None;
    let mut refuse: Option<Refuse> = None;
    let max_headers = limits.max_entries.saturating_mul(4).max(64);
    macro_rules! lost {
        ($why:expr) => {{
            let why = $why;
            let msg = match r.exhausted() {
                Some(b) => b.to_string(),
                None => format!(
                    "archive is truncated or corrupt after {count} entries ({why}); the rest was lost"
                ),
            };
            problems.push(&last, msg);
            return;
        }};
    }
    loop {
        match read_block(r, &mut h) {
            Ok(true) => {}
            Ok(false) => {
                if count == 0 && headers == 0 {
                    problems.push("", "empty tar archive".into());
                }
                return;
            }
            Err(e) => lost!(e),
        }
        if h.iter().all(|b| *b == 0) {
            // End-of-archive marker.
            return;
        }
        headers += 1;
        if headers > max_headers {
            problems.push(
                "",
                format!("more than {max_headers} tar headers; the rest was not read"),
            );
            return;
        }
        if !checksum_ok(&h) {
            lost!("bad header checksum")
        }
        let Some(mut size) = number(&h[124..136]) else {
            lost!("bad size field")
        };
        let kind = h[156];
        // Metadata headers: bounded before their bodies are read.
        match kind {
            b'L' | b'K' | b'x' | b'g' => {
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
                    lost!("bad size field")
                };
                if size > cap {
                    if let Err(e) = skip(r, pad) {
                        lost!(e)
                    }
                    if kind != b'g' {
                        refuse = Some(Refuse(format!(
                            "refused: {what} of {size} bytes (limit {} KiB)",
                            cap >> 10
                        )));
                    } else {
                        problems.push(
                            "",
                            format!("ignored: {what} of {size} bytes (limit {} KiB)", cap >> 10),
                        );
                    }
                    continue;
                }
                let mut body = vec![0u8; pad as usize];
                if let Err(e) = read_block(r, &mut body).and_then(|ok| {
                    if ok || pad == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::new(io::ErrorKind::UnexpectedEof, "early end"))
                    }
                }) {
                    lost!(e)
                }
                body.truncate(size as usize);
                match kind {
                    b'L' => long_name = Some(until_nul(&body).to_vec()),
                    b'K' => {} // link targets are never followed
                    b'x' => match parse_pax(&body) {
                        Ok(p) => pax = Some(p),
                        Err(why) => refuse = Some(Refuse(format!("refused: {why}"))),
                    },
                    _ => {} // global PAX records change nothing this reader uses
                }
                continue;
            }
            _ => {}
        }
        // A real entry: the metadata collected so far applies to it.
        let p = pax.take().unwrap_or_default();
        let ln = long_name.take();
        let refused = refuse.take();
        let raw_bytes = p.path.or(ln).unwrap_or_else(|| header_path(&h));
        let raw = String::from_utf8_lossy(&raw_bytes).into_owned();
        let shown = cut(&raw, PROBLEM_PATH);
        if let Some(s) = p.size {
            size = s;
        }
        let Some(mut pad) = padded(size) else {
            lost!("bad size field")
        };
        // Old GNU sparse files: extension headers follow the header. They are
        // skipped one block at a time (the reader's caps bound how many).
        let mut sparse_blocks = 0u64;
        if kind == b'S' {
            let mut ext = h[482] != 0;
            while ext {
                sparse_blocks += 1;
                match read_block(r, &mut h) {
                    Ok(true) => ext = h[504] != 0,
                    Ok(false) => lost!("archive ends inside a sparse map"),
                    Err(e) => lost!(e),
                }
            }
        }
        count += 1;
        if count > limits.max_entries {
            problems.push(
                "",
                format!(
                    "more than {} entries; the rest was not read",
                    limits.max_entries
                ),
            );
            return;
        }
        let is_dir = kind == b'5' || (matches!(kind, b'0' | 0) && raw.ends_with('/'));
        let regular = matches!(kind, b'0' | 0 | b'7');
        let why: Option<String> = if let Some(Refuse(why)) = refused {
            Some(why)
        } else if is_dir {
            None
        } else if sparse_blocks > 0 {
            Some(format!(
                "refused: sparse file (a sparse map of {sparse_blocks} extension headers was skipped)"
            ))
        } else if p.sparse || kind == b'S' {
            Some("refused: sparse file".into())
        } else if !regular {
            Some(
                match kind {
                    b'2' => "refused: symbolic link",
                    b'1' => "refused: hard link",
                    b'3' | b'4' => "refused: device",
                    b'6' => "refused: fifo",
                    _ => "refused: unsupported entry type",
                }
                .into(),
            )
        } else {
            None
        };
        if is_dir && why.is_none() {
            if let Err(e) = skip(r, pad) {
                lost!(e)
            }
            continue;
        }
        let path = match why {
            Some(w) => Err(w),
            None if raw_bytes.len() > MAX_PATH => Err(format!(
                "refused: path of {} bytes (limit {MAX_PATH})",
                raw_bytes.len()
            )),
            None => clean_path(&raw).map_err(|w| format!("refused: {w}")),
        };
        let path = match path {
            Ok(path) if seen.contains(&path) => {
                Err("duplicate entry: the first copy was kept, this one ignored".to_string())
            }
            other => other,
        };
        let path = match path {
            Ok(p) => p,
            Err(why) => {
                problems.push(&shown, why);
                if let Err(e) = skip(r, pad) {
                    lost!(e)
                }
                continue;
            }
        };
        if seen.len() < limits.max_entries {
            seen.insert(path.clone());
        }
        if size > limits.max_entry {
            problems.push(
                &path,
                format!(
                    "{size} bytes; only the first {} MiB were read",
                    limits.max_entry >> 20
                ),
            );
        }
        stats.entries += 1;
        let want = size.min(limits.max_entry);
        let mut body = (&mut *r).take(want);
        let res = sink.entry(&path, Some(size), &mut body);
        let used = want - body.limit();
        stats.bytes += used;
        if let Err(err) = res {
            match r.exhausted() {
                Some(b) => {
                    problems.push(&path, b.to_string());
                    return;
                }
                None => problems.push(&path, format!("read stopped: {err}")),
            }
        }
        pad -= used;
        if let Err(e) = skip(r, pad) {
            last = path;
            lost!(e)
        }
        last = path;
        if let Some(b) = r.exhausted() {
            problems.push(&last, b.to_string());
            return;
        }
    }
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
