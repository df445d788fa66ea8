//! Reading one input: logs are scanned line by line against every rule pattern
//! at once (one RegexSet, compiled once per run); small files are kept for fact
//! extraction. Memory is bounded by the line cap, the hit caps and the small-file
//! budget, whatever the input's size.

use crate::facts::Evidence;
use crate::input::{Kind, Problem, Sink};
use crate::logs;
use crate::rules::RuleSet;
use regex::{Regex, RegexSet};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read};

pub const MAX_LINE: usize = 64 * 1024;
pub const SMALL_FILE: u64 = 4 << 20;
pub const SMALL_TOTAL: u64 = 96 << 20;
const FIRST_HITS: usize = 3;

/// All rule log patterns, compiled once for a run and shared by every input.
pub struct Patterns {
    set: RegexSet,
    /// Every log and milestone pattern in multi-line mode: when it does not
    /// match a buffer of whole lines, no line in it can match, so the buffer
    /// is only counted. None when a pattern anchors to the whole text.
    quiet: Option<RegexSet>,
    /// set index -> (rule, clause, the clause's source filter)
    map: Vec<(usize, usize, Vec<String>)>,
    milestones: Vec<(&'static str, Regex)>,
}

/// An x509 validity error that states both clocks (node's, and the bound).
pub const X509_TIME: &str =
    r"current time ([0-9][0-9T:.Z+-]*) is (before|after) ([0-9][0-9T:.Z+-]*)";

/// Lines that are not causes but tell the analyzer something (progress, times).
const MILESTONES: &[(&str, &str)] = &[
    ("x509-time", X509_TIME),
    ("registered", r"(?i)successfully registered node"),
    ("joined", r"This node has joined the cluster"),
];

impl Patterns {
    pub fn new(rules: &RuleSet) -> Patterns {
        let mut map = Vec::new();
        for (ri, r) in rules.rules.iter().enumerate() {
            for (ci, c) in r.clauses.iter().enumerate() {
                for _ in &c.logs {
                    map.push((ri, ci, c.sources.clone()));
                }
            }
        }
        // Built and size-checked by the rule loader (one path for `rules
        // check` and `analyze`), with ASCII word boundaries.
        let set = rules.log_set.clone();
        let milestones: Vec<(&'static str, Regex)> = MILESTONES
            .iter()
            .map(|(n, p)| (*n, Regex::new(p).expect("built-in")))
            .collect();
        let quiet = quiet_set(&set, &milestones);
        Patterns {
            set,
            quiet,
            map,
            milestones,
        }
    }
}

/// The buffer prefilter; see [`Patterns::quiet`].
fn quiet_set(set: &RegexSet, milestones: &[(&'static str, Regex)]) -> Option<RegexSet> {
    let pats: Vec<&str> = set
        .patterns()
        .iter()
        .map(|p| p.as_str())
        .chain(milestones.iter().map(|(_, r)| r.as_str()))
        .collect();
    for p in &pats {
        let hir = regex_syntax::ParserBuilder::new()
            .multi_line(true)
            .crlf(true)
            .build()
            .parse(p)
            .ok()?;
        let looks = hir.properties().look_set();
        if looks.contains(regex_syntax::hir::Look::Start)
            || looks.contains(regex_syntax::hir::Look::End)
        {
            return None;
        }
    }
    regex::RegexSetBuilder::new(pats)
        .multi_line(true)
        .crlf(true)
        .size_limit(crate::rules::SET_SIZE_LIMIT)
        .dfa_size_limit(crate::rules::SET_DFA_LIMIT)
        .build()
        .ok()
}

impl Patterns {
    /// When the complete lines at the start of `chunk` hold nothing any
    /// pattern can match: their length and count. Lines here end in `\n`
    /// only; buffers with `\r`, invalid UTF-8 or docker JSON lines are read
    /// line by line.
    fn quiet(&self, chunk: &[u8]) -> Option<(usize, u64)> {
        let q = self.quiet.as_ref()?;
        let end = memchr::memrchr(b'\n', chunk)? + 1;
        let region = &chunk[..end];
        if memchr::memchr(b'\r', region).is_some() {
            return None;
        }
        let text = std::str::from_utf8(region).ok()?;
        if text.contains("{\"log\":") || q.is_match(text) {
            return None;
        }
        let lines = memchr::memchr_iter(b'\n', region).count() as u64;
        Some((end, lines))
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
    /// The share of the run's memory budget that `small` holds.
    pub held: crate::budget::Held,
}

pub struct Scanner<'p> {
    pats: &'p Patterns,
    pub out: Scanned,
    small_bytes: u64,
    memo: Option<Memo>,
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
        }
    }

    fn line(&mut self, file: &str, file_source: &'static str, n: u64, raw: &str) {
        // A repeated line (what a small decompression bomb holds) is matched
        // once; its matches are reused for every copy.
        let fresh = !matches!(&self.memo, Some(m) if m.raw == raw && m.file_source == file_source);
        if fresh {
            let text = logs::decode_docker(raw);
            let text_ref = text.as_deref().unwrap_or(raw);
            let source = logs::source_of(raw, file_source);
            let rules: Vec<usize> = if self.pats.set.is_match(text_ref) {
                self.pats.set.matches(text_ref).iter().collect()
            } else {
                Vec::new()
            };
            let milestones: Vec<usize> = (0..self.pats.milestones.len())
                .filter(|i| self.pats.milestones[*i].1.is_match(text_ref))
                .collect();
            self.memo = Some(Memo {
                raw: raw.to_string(),
                text,
                file_source,
                source,
                rules,
                milestones,
            });
        }
        let Some(m) = &self.memo else { return };
        let text = m.text.as_deref().unwrap_or(raw);
        for idx in &m.rules {
            let (ri, ci, srcs) = &self.pats.map[*idx];
            if !logs::source_matches(m.source, srcs) {
                continue;
            }
            self.out.hits.entry((*ri, *ci)).or_default().add(Hit {
                file: file.to_string(),
                line: n,
                text: text.to_string(),
                source: m.source,
            });
        }
        for i in &m.milestones {
            let name = self.pats.milestones[*i].0;
            self.out.milestones.entry(name).or_default().add(Hit {
                file: file.to_string(),
                line: n,
                text: raw.to_string(),
                source: m.source,
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
            if slow == 0 && buf.is_empty() && !overflow {
                if let Some(n) = self.pats.quiet(chunk) {
                    let (len, lines) = n;
                    br.consume(len);
                    stat.bytes += len as u64;
                    stat.lines += lines;
                    continue;
                }
                slow = chunk.len();
            }
            let (take, done) = match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(p) if chunk[p] == b'\n' => (p + 1, true),
                Some(p) => match chunk.get(p + 1) {
                    Some(b'\n') => (p + 2, true),
                    Some(_) => (p + 1, true),
                    None => {
                        pending_cr = true;
                        (p + 1, true)
                    }
                },
                None => (chunk.len(), false),
            };
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
    /// Unknown text: scanned as a log and, when small, kept for facts too.
    Both(&'static str),
}

fn pod_source(path: &str) -> &'static str {
    let pod = path.split('/').nth(4).unwrap_or("");
    if [
        "flannel",
        "calico",
        "cilium",
        "weave",
        "kube-router",
        "canal",
        "antrea",
    ]
    .iter()
    .any(|n| pod.contains(n))
    {
        "cni"
    } else if pod.contains("kube-proxy") {
        "kube-proxy"
    } else {
        "any"
    }
}

fn classify(path: &str) -> Class {
    let name = path.rsplit('/').next().unwrap_or(path);
    if path == bundle::MANIFEST || path == bundle::LISTINGS || path.starts_with("probes/") {
        return Class::Small;
    }
    if let Some(cmd) = path.strip_prefix(bundle::COMMANDS_DIR) {
        return match cmd {
            "journal-kubelet.out" => Class::Log("kubelet"),
            c if c.starts_with("journal-k3s") => Class::Log("k3s"),
            "journal-containerd.out" => Class::Log("containerd"),
            "dmesg.out" => Class::Log("kernel"),
            c if c.ends_with(".err") => Class::Log("any"),
            _ => Class::Small,
        };
    }
    if let Some(f) = path.strip_prefix(bundle::FILES_DIR) {
        if f.starts_with("var/log/pods/") {
            return Class::Log(pod_source(path));
        }
        if f.starts_with("var/log/") || name.ends_with(".log") {
            return Class::Log(match name {
                n if n.starts_with("kubelet") => "kubelet",
                n if n.starts_with("k3s") => "k3s",
                n if n.starts_with("containerd") => "containerd",
                _ => "any",
            });
        }
        return Class::Small;
    }
    if path.starts_with(bundle::EXTRA_DIR) && name == "node.yaml" {
        return Class::Small;
    }
    Class::Both("any")
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
                if size.is_some_and(|s| s <= SMALL_FILE) {
                    let v = self.keep(path, data)?;
                    self.scan(path, src, &mut &v[..])?;
                    self.store(path, v);
                } else {
                    self.scan(path, src, data)?;
                }
            }
        }
        Ok(())
    }
}
