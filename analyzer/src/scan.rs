//! Reading one input: logs are scanned line by line against every rule pattern
//! at once (one RegexSet, compiled once per run); small files are kept for fact
//! extraction. Memory is bounded by the line cap, the hit caps and the small-file
//! budget, whatever the input's size.

use crate::facts::Evidence;
use crate::input::{Kind, Problem, Sink};
use crate::parse::logline as logs;
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

/// All rule log patterns, compiled once for a run and shared by every input.
pub struct Patterns {
    set: RegexSet,
    /// set index -> (rule, clause, the clause's source filter)
    map: Vec<(usize, usize, Vec<String>)>,
    /// (rule, clause) -> lines that do not count for it
    except: HashMap<(usize, usize), Vec<Regex>>,
    /// Lines that are not causes but tell the analyzer something (progress,
    /// times): `rules/phases.toml`'s milestones and the x509 clock statement.
    milestones: Vec<(&'static str, Regex)>,
}

/// An x509 validity error that states both clocks (node's, and the bound).
pub const X509_TIME: &str =
    r"current time ([0-9][0-9T:.Z+-]*) is (before|after) ([0-9][0-9T:.Z+-]*)";

impl Patterns {
    pub fn new(rules: &RuleSet) -> Patterns {
        let mut pats = Vec::new();
        let mut map = Vec::new();
        let mut except = HashMap::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            for (ci, c) in r.clauses.iter().enumerate() {
                if !c.except.is_empty() {
                    except.insert((ri, ci), c.except.clone());
                }
                for p in &c.logs {
                    pats.push(p.as_str().to_string());
                    map.push((ri, ci, c.sources.clone()));
                }
            }
        }
        let set = regex::RegexSetBuilder::new(&pats)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .expect("rule patterns compiled individually");
        let mut milestones = vec![("x509-time", Regex::new(X509_TIME).expect("built-in"))];
        for (id, re) in &crate::phases::Phases::builtin().milestones {
            milestones.push((id.as_str(), re.clone()));
        }
        Patterns {
            set,
            map,
            except,
            milestones,
        }
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
    fn add(&mut self, h: Hit) {
        self.count += 1;
        if self.first.len() < FIRST_HITS {
            self.first.push(h);
        } else {
            self.last = Some(h);
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
}

pub struct Scanner<'p> {
    pats: &'p Patterns,
    pub out: Scanned,
    small_bytes: u64,
    /// Rejoin wrapped lines (pasted text only).
    joining: bool,
    prev: Option<(u64, String, Vec<usize>)>,
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
            },
            small_bytes: 0,
            joining: false,
            prev: None,
        }
    }

    fn line(&mut self, file: &str, file_source: &'static str, n: u64, raw: &str) {
        let decoded = logs::decode(raw);
        let text = decoded.as_deref().unwrap_or(raw);
        let source = logs::source_of(raw, file_source);
        let matched: Vec<usize> = if self.pats.set.is_match(text) {
            self.pats.set.matches(text).into_iter().collect()
        } else {
            Vec::new()
        };
        self.hits(file, source, n, text, &matched);
        for (name, re) in &self.pats.milestones {
            if re.is_match(text) {
                self.out.milestones.entry(name).or_default().add(Hit {
                    file: file.to_string(),
                    line: n,
                    text: raw.to_string(),
                    source,
                });
            }
        }
        if self.joining {
            self.rejoin(file, source, n, text, &matched);
        }
    }

    fn hits(&mut self, file: &str, source: &'static str, n: u64, text: &str, matched: &[usize]) {
        for idx in matched {
            let (ri, ci, srcs) = &self.pats.map[*idx];
            if !logs::source_matches(source, srcs) {
                continue;
            }
            if self
                .pats
                .except
                .get(&(*ri, *ci))
                .is_some_and(|ex| ex.iter().any(|r| r.is_match(text)))
            {
                continue;
            }
            self.out.hits.entry((*ri, *ci)).or_default().add(Hit {
                file: file.to_string(),
                line: n,
                text: text.to_string(),
                source,
            });
        }
    }

    /// Pasted text: a terminal or a forum may have wrapped a long line in
    /// two. Patterns that match neither half but the rejoined line count once,
    /// at the first half's line.
    fn rejoin(&mut self, file: &str, source: &'static str, n: u64, text: &str, matched: &[usize]) {
        if let Some((pn, prev, prev_matched)) = self.prev.take() {
            if !text.is_empty() && !logs::starts_record(text) {
                for joined in [format!("{prev}{text}"), format!("{prev} {text}")] {
                    let new: Vec<usize> = self
                        .pats
                        .set
                        .matches(&joined)
                        .into_iter()
                        .filter(|i| !prev_matched.contains(i) && !matched.contains(i))
                        .collect();
                    if !new.is_empty() {
                        self.hits(file, source, pn, &joined, &new);
                        break;
                    }
                }
            }
        }
        if text.len() >= JOIN_MIN && text.len() < MAX_LINE {
            self.prev = Some((n, text.to_string(), matched.to_vec()));
        }
    }

    /// Scan a stream line by line with a bounded line buffer.
    fn scan(&mut self, file: &str, source: &'static str, r: &mut dyn Read) -> io::Result<()> {
        let mut br = BufReader::with_capacity(256 * 1024, r);
        let mut buf: Vec<u8> = Vec::with_capacity(1024);
        let mut stat = LogStat {
            file: file.to_string(),
            source,
            ..Default::default()
        };
        let mut overflow = false;
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
            let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(p) => (p + 1, true),
                None => (chunk.len(), false),
            };
            if !overflow {
                let room = MAX_LINE.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..take.min(room)]);
                overflow = take > room;
            }
            br.consume(take);
            stat.bytes += take as u64;
            if done {
                stat.lines += 1;
                let text = String::from_utf8_lossy(&buf);
                self.line(
                    file,
                    source,
                    stat.lines,
                    text.trim_end_matches(['\n', '\r']),
                );
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
    fn entry(&mut self, path: &str, size: Option<u64>, data: &mut dyn Read) -> io::Result<()> {
        match classify(path) {
            Class::Small => {
                let v = self.keep(path, data)?;
                self.store(path, v);
            }
            Class::Log(src) => self.scan(path, src, data)?,
            Class::Both(src) => {
                self.joining = true;
                self.prev = None;
                let r = if size.is_none_or(|s| s <= SMALL_FILE) {
                    self.scan_and_keep(path, src, data)
                } else {
                    self.scan(path, src, data)
                };
                self.joining = false;
                r?;
            }
        }
        Ok(())
    }
}
