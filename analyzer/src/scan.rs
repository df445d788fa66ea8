//! Reading one input: logs are scanned line by line against every rule pattern
//! at once (one RegexSet, compiled once per run); small files are kept for fact
//! extraction. Memory is bounded by the line cap, the hit caps and the small-file
//! budget, whatever the input's size.

use crate::facts::Evidence;
use crate::input::{Kind, Problem, Sink};
use crate::parse::logline as logs;
use crate::prefilter::{Next, Prefilter};
use crate::rules::RuleSet;
use bundle::layout::{self, Content};
use regex::{Regex, RegexSet};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read};

pub const MAX_LINE: usize = 64 * 1024;
pub const SMALL_FILE: u64 = 4 << 20;
pub const SMALL_TOTAL: u64 = 96 << 20;
const FIRST_HITS: usize = 3;
/// A line this long may have been wrapped by a terminal (pasted text).
const JOIN_MIN: usize = 60;

impl std::fmt::Debug for Patterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patterns")
            .field("patterns", &self.set.len())
            .finish_non_exhaustive()
    }
}

/// All rule log patterns, compiled once for a run and shared by every input.
pub struct Patterns {
    set: RegexSet,
    /// Finds, over whole buffers of lines, the lines any log or milestone
    /// pattern may match; only those are read one by one, the rest are
    /// counted. None when a pattern anchors to the whole text.
    any: Option<Prefilter>,
    /// set index -> (rule, clause, the clause's source filter)
    map: Vec<(usize, usize, Vec<String>)>,
    /// (rule, clause) -> (lines that do not count for it, one of which
    /// must match too)
    filters: HashMap<(usize, usize), (Vec<Regex>, Vec<Regex>)>,
    /// Lines that are not causes but tell the analyzer something (progress,
    /// times): `rules/phases.toml`'s milestones and the x509 clock statement.
    milestones: Vec<(&'static str, Regex)>,
}

/// An x509 validity error that states both clocks (node's, and the bound).
pub const X509_TIME: &str =
    r"current time ([0-9][0-9T:.Z+-]*) is (before|after) ([0-9][0-9T:.Z+-]*)";

impl Patterns {
    pub fn new(rules: &RuleSet) -> Patterns {
        let mut map = Vec::new();
        let mut filters = HashMap::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            for (ci, c) in r.clauses.iter().enumerate() {
                if !c.except.is_empty() || !c.with.is_empty() {
                    filters.insert((ri, ci), (c.except.clone(), c.with.clone()));
                }
                for _ in &c.logs {
                    map.push((ri, ci, c.sources.clone()));
                }
            }
        }
        // Built and size-checked by the rule loader (one path for `rules
        // check` and `analyze`), with ASCII word boundaries.
        let set = rules.log_set.clone();
        let mut milestones = vec![("x509-time", Regex::new(X509_TIME).expect("built-in"))];
        for (id, re) in &crate::phases::Phases::builtin().milestones {
            milestones.push((id.as_str(), re.clone()));
        }
        let any = any_of(&set, &milestones);
        Patterns {
            set,
            any,
            map,
            filters,
            milestones,
        }
    }
}

/// The buffer search; see [`Patterns::any`].
fn any_of(set: &RegexSet, milestones: &[(&'static str, Regex)]) -> Option<Prefilter> {
    let pats: Vec<&str> = set
        .patterns()
        .iter()
        .map(String::as_str)
        .chain(milestones.iter().map(|(_, r)| r.as_str()))
        .collect();
    Prefilter::new(
        &pats,
        crate::rules::SET_DFA_LIMIT,
        crate::rules::SET_SIZE_LIMIT,
    )
}

impl Patterns {
    /// The length of the complete lines at the start of `chunk` that the
    /// buffer search may read: lines that end in `\n` only, valid UTF-8, none
    /// that decodes to other text (see [`logs::may_decode`]). None
    /// when the chunk must be read line by line.
    fn searchable(&self, chunk: &[u8]) -> Option<usize> {
        self.any.as_ref()?;
        let end = memchr::memrchr(b'\n', chunk)? + 1;
        let region = &chunk[..end];
        let plain = memchr::memchr(b'\r', region).is_none()
            && !logs::may_decode(region)
            && std::str::from_utf8(region).is_ok();
        plain.then_some(end)
    }

    /// In `region` (complete lines, see [`Self::searchable`]): the bytes and
    /// lines before the first line any pattern may match, and that line's
    /// length with its `\n` (0 when nothing matches).
    fn next_hit(&self, region: &[u8], next: &mut Next) -> (usize, u64, usize) {
        let count = |b: &[u8]| memchr::memchr_iter(b'\n', b).count() as u64;
        let found = self.any.as_ref().and_then(|a| a.next(region, next));
        let Some(at) = found else {
            return (region.len(), count(region), 0);
        };
        // The line holding that byte. A match that began on an earlier line
        // does not hide that line: the search resumes there.
        let at = at.min(region.len() - 1);
        let start = memchr::memrchr(b'\n', &region[..at]).map_or(0, |p| p + 1);
        let stop = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |p| at + p + 1);
        (start, count(&region[..start]), stop - start)
    }
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub file: String,
    pub line: u64,
    pub text: String,
    pub source: &'static str,
}

impl Hit {
    pub fn evidence(&self) -> Evidence {
        Evidence::new(&self.file, Some(self.line), self.text.clone())
    }
}

#[derive(Debug, Default, Clone)]
pub struct Hits {
    pub count: u64,
    pub first: Vec<Hit>,
    pub last: Option<Hit>,
}

impl Hits {
    /// Keeps the earliest hits and the latest by (file, line), so the
    /// evidence does not depend on the order entries arrived in.
    fn add(&mut self, file: &str, line: u64, text: &str, source: &'static str) {
        self.count += 1;
        fn at(h: &Hit) -> (&str, u64) {
            (&h.file, h.line)
        }
        let here = (file, line);
        let make = || Hit {
            file: file.to_string(),
            line,
            text: text.to_string(),
            source,
        };
        if self.first.len() == FIRST_HITS && self.first.last().is_some_and(|l| here > at(l)) {
            if self.last.as_ref().is_none_or(|l| here > at(l)) {
                self.last = Some(make());
            }
            return;
        }
        self.first.push(make());
        self.first.sort_by(|a, b| at(a).cmp(&at(b)));
        if self.first.len() > FIRST_HITS {
            let over = self.first.pop().expect("over the cap");
            if self.last.as_ref().is_none_or(|l| at(&over) > at(l)) {
                self.last = Some(over);
            }
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Hit> {
        self.first.iter().chain(self.last.iter())
    }
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LogStat {
    pub file: String,
    pub source: &'static str,
    pub lines: u64,
    pub bytes: u64,
}

/// What one input yielded before facts are computed.
pub struct Scanned {
    pub hits: HashMap<(usize, usize), Hits>,
    pub milestones: BTreeMap<&'static str, Hits>,
    pub small: BTreeMap<String, Vec<u8>>,
    pub logs: Vec<LogStat>,
    pub problems: Vec<Problem>,
    pub kind: Option<Kind>,
    /// The share of the run's memory budget that `small` holds.
    pub held: crate::budget::Held,
}

pub struct Scanner<'p> {
    pats: &'p Patterns,
    pub out: Scanned,
    small_bytes: u64,
    memo: Option<Memo>,
    shapes: Shapes,
    /// Read every line on its own: no buffer search, no shapes (tests
    /// check that the fast paths change nothing).
    exact: bool,
    /// Rejoin wrapped lines (pasted text only).
    joining: bool,
    prev: Option<Run>,
}

/// A line a terminal may have wrapped, and the pieces that followed it so
/// far: where it started, its text, what it matched, its width.
struct Run {
    line: u64,
    text: String,
    matched: Vec<usize>,
    width: usize,
    pieces: usize,
}

/// Pieces of one wrapped line rejoined at most: a k3s journal line with a
/// JSON etcd error runs to 600 characters, eight on an 80-column terminal.
const RUN_PIECES: usize = 8;
/// Bytes of a rejoined run at most, so a paste of equal long lines is not
/// matched again and again as one ever longer line.
const RUN_BYTES: usize = 8 << 10;

/// What lines matched, by shape (see [`logs::shape`]): a journal repeats
/// the same messages under new timestamps. Bounded; emptied when full.
#[derive(Default)]
struct Shapes {
    seen: HashMap<String, Matched>,
    bytes: usize,
    key: String,
    /// Off: every line is matched on its own (tests compare both ways).
    off: bool,
}

#[derive(Clone)]
struct Matched {
    rules: Vec<usize>,
    milestones: Vec<usize>,
}

const SHAPES_MAX: usize = 4 << 20;

impl Shapes {
    fn matched(&mut self, pats: &Patterns, line: &str) -> Matched {
        if self.off {
            return pats.match_line(line);
        }
        logs::shape(line, &mut self.key);
        if let Some(m) = self.seen.get(&self.key) {
            return m.clone();
        }
        let m = pats.match_line(line);
        if self.bytes + self.key.len() > SHAPES_MAX {
            self.seen.clear();
            self.bytes = 0;
        }
        self.bytes += self.key.len() + 64;
        self.seen.insert(self.key.clone(), m.clone());
        m
    }
}

impl Patterns {
    fn match_line(&self, text: &str) -> Matched {
        Matched {
            rules: self.set.matches(text).iter().collect(),
            milestones: (0..self.milestones.len())
                .filter(|i| self.milestones[*i].1.is_match(text))
                .collect(),
        }
    }
}

/// The last line matched and what it matched.
struct Memo {
    raw: String,
    text: Option<String>,
    file_source: &'static str,
    source: &'static str,
    rules: Vec<usize>,
    milestones: Vec<usize>,
}

impl<'p> Scanner<'p> {
    pub fn new(pats: &'p Patterns) -> Self {
        Scanner {
            pats,
            out: Scanned {
                hits: HashMap::new(),
                milestones: BTreeMap::new(),
                small: BTreeMap::new(),
                logs: Vec::new(),
                problems: Vec::new(),
                kind: None,
                held: crate::budget::Held::default(),
            },
            small_bytes: 0,
            memo: None,
            shapes: Shapes::default(),
            exact: false,
            joining: false,
            prev: None,
        }
    }

    /// A scanner without the fast paths: every line matched on its own.
    pub fn exact(pats: &'p Patterns) -> Self {
        let mut s = Scanner::new(pats);
        s.exact = true;
        s.shapes.off = true;
        s
    }

    fn line(&mut self, file: &str, file_source: &'static str, n: u64, raw: &str) {
        // A repeated line (what a small decompression bomb holds) is matched
        // once; its matches are reused for every copy.
        let fresh = !matches!(&self.memo, Some(m) if m.raw == raw && m.file_source == file_source);
        if fresh {
            let text = logs::decode(raw);
            let source = logs::source_of(raw, file_source);
            let Matched { rules, milestones } = match &text {
                Some(t) => self.pats.match_line(t),
                None => self.shapes.matched(self.pats, raw),
            };
            self.memo = Some(Memo {
                raw: raw.to_string(),
                text,
                file_source,
                source,
                rules,
                milestones,
            });
        }
        let Some(m) = self.memo.take() else { return };
        let text = m.text.as_deref().unwrap_or(raw);
        self.hits(file, m.source, n, text, &m.rules);
        for i in &m.milestones {
            let name = self.pats.milestones[*i].0;
            self.out
                .milestones
                .entry(name)
                .or_default()
                .add(file, n, raw, m.source);
        }
        if self.joining {
            self.rejoin(file, m.source, n, text, &m.rules);
        }
        self.memo = Some(m);
    }

    fn hits(&mut self, file: &str, source: &'static str, n: u64, text: &str, matched: &[usize]) {
        for idx in matched {
            let (ri, ci, srcs) = &self.pats.map[*idx];
            if !logs::source_matches(source, srcs) {
                continue;
            }
            if self
                .pats
                .filters
                .get(&(*ri, *ci))
                .is_some_and(|(except, with)| {
                    except.iter().any(|r| r.is_match(text))
                        || !with.is_empty() && !with.iter().any(|r| r.is_match(text))
                })
            {
                continue;
            }
            self.out
                .hits
                .entry((*ri, *ci))
                .or_default()
                .add(file, n, text, source);
        }
    }

    /// Pasted text: a terminal or a forum may have wrapped a long line into
    /// pieces. Patterns that match no piece but the rejoined line count once,
    /// at the first piece's line. A piece as wide as the first one may be
    /// followed by another (up to [`RUN_PIECES`]).
    fn rejoin(&mut self, file: &str, source: &'static str, n: u64, text: &str, matched: &[usize]) {
        if let Some(mut run) = self.prev.take() {
            if !text.is_empty() && !logs::starts_record(text) {
                // An indented paste indents the wrapped piece too.
                let flush = text.trim_start();
                let mut tries = vec![
                    format!("{}{text}", run.text),
                    format!("{} {text}", run.text),
                ];
                if flush.len() < text.len() {
                    tries.push(format!("{}{flush}", run.text));
                }
                for joined in tries {
                    let new: Vec<usize> = self
                        .pats
                        .set
                        .matches(&joined)
                        .into_iter()
                        .filter(|i| !run.matched.contains(i) && !matched.contains(i))
                        .collect();
                    if !new.is_empty() {
                        self.hits(file, source, run.line, &joined, &new);
                        run.matched.extend(new);
                        break;
                    }
                }
                if run.pieces < RUN_PIECES
                    && run.text.len() + text.len() <= RUN_BYTES
                    && text.chars().count() == run.width
                {
                    run.text.push_str(text);
                    run.matched.extend_from_slice(matched);
                    run.pieces += 1;
                    self.prev = Some(run);
                    return;
                }
            }
        }
        if text.len() >= JOIN_MIN && text.len() < MAX_LINE {
            self.prev = Some(Run {
                line: n,
                text: text.to_string(),
                matched: matched.to_vec(),
                width: text.chars().count(),
                pieces: 1,
            });
        }
    }

    /// Scan a stream line by line with a bounded line buffer. Lines end at
    /// `\n`, `\r\n` or a lone `\r` (CR-only logs). Whole buffers of complete
    /// lines that no pattern can match are only counted (see [`Patterns`]).
    fn scan(&mut self, file: &str, source: &'static str, r: &mut dyn Read) -> io::Result<()> {
        let mut br = BufReader::with_capacity(256 * 1024, r);
        let mut buf: Vec<u8> = Vec::with_capacity(1024);
        let mut stat = LogStat {
            file: file.to_string(),
            source,
            ..Default::default()
        };
        let mut overflow = false;
        let mut pending_cr = false;
        let mut slow = 0usize;
        // Bytes ahead known to be searchable (see `Patterns::searchable`).
        let mut clean = 0usize;
        let mut next = Next::default();
        loop {
            let chunk = match br.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.out.logs.push(stat);
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                break;
            }
            if pending_cr {
                pending_cr = false;
                if chunk[0] == b'\n' {
                    br.consume(1);
                    stat.bytes += 1;
                    continue;
                }
            }
            if slow == 0 && buf.is_empty() && !overflow && !self.joining && !self.exact {
                if clean == 0 {
                    clean = self.pats.searchable(chunk).unwrap_or(0);
                    next = Next::default();
                }
                if clean == 0 {
                    slow = chunk.len();
                } else {
                    let (skip, lines, hit) = self.pats.next_hit(&chunk[..clean], &mut next);
                    next.consumed(skip + hit);
                    br.consume(skip);
                    stat.bytes += skip as u64;
                    stat.lines += lines;
                    clean -= skip + hit;
                    // The line found is read below, on its own.
                    slow = hit;
                    continue;
                }
            }
            let (take, done, cr_at_end) = line_end(chunk);
            pending_cr |= cr_at_end;
            if !overflow {
                let room = MAX_LINE.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..take.min(room)]);
                overflow = take > room;
            }
            br.consume(take);
            slow = slow.saturating_sub(take);
            stat.bytes += take as u64;
            if done {
                stat.lines += 1;
                self.line_bytes(file, source, stat.lines, &buf);
                buf.clear();
                overflow = false;
            }
        }
        if !buf.is_empty() {
            stat.lines += 1;
            let text = String::from_utf8_lossy(&buf).into_owned();
            self.line(file, source, stat.lines, text.trim_end());
        }
        self.out.logs.push(stat);
        Ok(())
    }

    /// A whole line read into `buf`, its line break still on.
    fn line_bytes(&mut self, file: &str, source: &'static str, n: u64, buf: &[u8]) {
        let text = String::from_utf8_lossy(buf);
        self.line(file, source, n, text.trim_end_matches(['\n', '\r']));
    }

    /// Scan text of unknown size, keeping its start for facts; a stream
    /// longer than the keep budget is still scanned to its end.
    fn scan_and_keep(&mut self, path: &str, src: &'static str, r: &mut dyn Read) -> io::Result<()> {
        let mut v = Vec::new();
        r.take(SMALL_FILE + 1).read_to_end(&mut v)?;
        if v.len() as u64 <= SMALL_FILE {
            self.scan(path, src, &mut &v[..])?;
            self.store(path, v);
            return Ok(());
        }
        self.scan(path, src, &mut (&v[..]).chain(r))?;
        v.truncate(SMALL_FILE as usize);
        self.out.problems.push(Problem {
            path: path.into(),
            problem: format!(
                "larger than {} MiB: every line was scanned, but command output and config were read from the first {} MiB only",
                SMALL_FILE >> 20,
                SMALL_FILE >> 20
            ),
        });
        self.store(path, v);
        Ok(())
    }

    fn keep(&mut self, path: &str, r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        r.take(SMALL_FILE).read_to_end(&mut v)?;
        let mut rest = [0u8; 1];
        if r.read(&mut rest)? > 0 {
            self.out.problems.push(Problem {
                path: path.into(),
                problem: format!(
                    "larger than {} MiB; only the start was used for facts",
                    SMALL_FILE >> 20
                ),
            });
        }
        Ok(v)
    }

    fn store(&mut self, path: &str, v: Vec<u8>) {
        if self.small_bytes + v.len() as u64 <= SMALL_TOTAL && !self.out.held.grow(v.len() as u64) {
            self.out.problems.push(Problem {
                path: path.into(),
                problem: "memory budget shared by all inputs used up; not used for facts".into(),
            });
            return;
        }
        if self.small_bytes + v.len() as u64 > SMALL_TOTAL {
            self.out.problems.push(Problem {
                path: path.into(),
                problem: "small-file budget used up; not used for facts".into(),
            });
            return;
        }
        self.small_bytes += v.len() as u64;
        self.out.small.insert(path.to_string(), v);
    }
}

enum Class {
    Small,
    Log(&'static str),
    /// Unknown text (a paste, an include): scanned as a log and, when small,
    /// kept for facts too, where its sections are recognized by shape.
    Both(&'static str),
}

/// Where the first line of `chunk` ends: the bytes to take, whether a line
/// ended, and whether it ended in a `\r` at the chunk's end (so a `\n` at the
/// start of the next chunk belongs to it).
#[inline]
fn line_end(chunk: &[u8]) -> (usize, bool, bool) {
    match memchr::memchr2(b'\n', b'\r', chunk) {
        Some(p) if chunk[p] == b'\n' => (p + 1, true, false),
        Some(p) => match chunk.get(p + 1) {
            Some(b'\n') => (p + 2, true, false),
            Some(_) => (p + 1, true, false),
            None => (p + 1, true, true),
        },
        None => (chunk.len(), false, false),
    }
}

fn classify(path: &str) -> Class {
    match layout::content_of(path) {
        Content::Log(src) => Class::Log(src.name()),
        Content::Other
            if !path.starts_with(bundle::FILES_DIR) && !path.starts_with(bundle::COMMANDS_DIR) =>
        {
            Class::Both("any")
        }
        _ => Class::Small,
    }
}

impl Sink for Scanner<'_> {
    fn entry(&mut self, path: &str, _size: Option<u64>, data: &mut dyn Read) -> io::Result<()> {
        match classify(path) {
            Class::Small => {
                let v = self.keep(path, data)?;
                self.store(path, v);
            }
            Class::Log(src) => self.scan(path, src, data)?,
            Class::Both(src) => {
                self.joining = true;
                self.prev = None;
                let r = self.scan_and_keep(path, src, &mut crate::plain::Plain::new(data));
                self.joining = false;
                r?;
            }
        }
        Ok(())
    }
}
