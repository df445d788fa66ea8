//! Which lines of a log may match any rule pattern, found fast. Most
//! patterns require some literal text (`PLEG is not healthy`); one
//! Aho-Corasick pass over those literals (ASCII case ignored) finds the
//! lines that hold one. Patterns without a usable literal are searched as
//! one automaton. Both only over-approximate: a line they pass over cannot
//! match, and the lines they report are then matched exactly.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::{meta, nfa::thompson::WhichCaptures, util::syntax, Input};
use regex_syntax::hir::{Class, Hir, HirKind};

/// A literal shorter than this selects too many lines to be worth it.
const MIN_LITERAL: usize = 4;
/// Alternatives kept per pattern before it counts as having no literal.
const MAX_ALTERNATIVES: usize = 24;
/// Phrases in so many log lines that a literal inside one selects little;
/// another literal of the same pattern is preferred.
const COMMON: &[&str] = &[
    "no such file or directory",
    "context deadline exceeded",
    "connection refused",
    "permission denied",
    "failed to ",
    "unable to ",
    "not found",
    "i/o timeout",
    "error",
];

pub struct Prefilter {
    literals: Option<Literals>,
    rest: Option<meta::Regex>,
}

/// The literals, lowercase, in groups of at most 64: Aho-Corasick then
/// runs its SIMD (Teddy) prefilter over a lowercased copy of the text, a
/// block at a time. Linear time whatever the input.
struct Literals {
    groups: Vec<AhoCorasick>,
    /// The longest literal: blocks overlap by this much less one.
    longest: usize,
}

/// Literals per group: more and the SIMD prefilter gives up.
const GROUP: usize = 64;
/// Past this many groups, one automaton over all literals is faster than a
/// SIMD pass per group (measured on the 120 MiB bench journal: 190 literals
/// in 3 groups 1.3 s, in one automaton 0.85 s; 2 groups of 64 0.5 s).
const MAX_GROUPS: usize = 2;
const FIRST_BLOCK: usize = 4 << 10;
const MAX_BLOCK: usize = 64 << 10;

impl Literals {
    fn new(lits: Vec<Vec<u8>>) -> Option<Literals> {
        let longest = lits.iter().map(Vec::len).max()?;
        let groups = lits.len().div_ceil(GROUP);
        let per = if groups > MAX_GROUPS {
            lits.len()
        } else {
            lits.len().div_ceil(groups)
        };
        let groups = lits
            .chunks(per)
            .map(|g| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(g)
                    .ok()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Literals { groups, longest })
    }

    /// The start of the first literal in `hay`, ASCII case ignored.
    fn find(&self, hay: &[u8], low: &mut Vec<u8>) -> Option<usize> {
        let mut start = 0;
        let mut size = FIRST_BLOCK;
        while start < hay.len() {
            let own = size.min(hay.len() - start);
            let end = (start + own + self.longest - 1).min(hay.len());
            low.clear();
            low.extend_from_slice(&hay[start..end]);
            low.make_ascii_lowercase();
            let first = self
                .groups
                .iter()
                .filter_map(|g| g.find(&low[..]).map(|m| m.start()))
                .min();
            // A literal starting past this block's own part is found whole
            // in the next block.
            if let Some(at) = first.filter(|at| *at < own) {
                return Some(start + at);
            }
            start += own;
            size = (size * 2).min(MAX_BLOCK);
        }
        None
    }
}

impl Prefilter {
    /// None when a pattern does not parse the same way here or anchors to
    /// the whole text: callers then read every line.
    pub fn new(patterns: &[&str], dfa_limit: usize, nfa_limit: usize) -> Option<Prefilter> {
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut rest: Vec<&str> = Vec::new();
        for p in patterns {
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
            match required(&hir) {
                Some(r) if r.iter().all(|l| l.len() >= MIN_LITERAL) => lits.extend(r),
                _ => rest.push(p),
            }
        }
        lits.sort();
        lits.dedup();
        // A literal that holds another is found wherever that one is.
        let all = lits.clone();
        lits.retain(|a| {
            !all.iter()
                .any(|b| b.len() < a.len() && a.windows(b.len()).any(|w| w == b.as_slice()))
        });

        let literals = if lits.is_empty() {
            None
        } else {
            Some(Literals::new(lits)?)
        };
        let rest = if rest.is_empty() {
            None
        } else {
            Some(
                meta::Builder::new()
                    .syntax(syntax::Config::new().multi_line(true).crlf(true))
                    .configure(
                        meta::Config::new()
                            .which_captures(WhichCaptures::Implicit)
                            .nfa_size_limit(Some(nfa_limit))
                            .hybrid_cache_capacity(dfa_limit),
                    )
                    .build_many(&rest)
                    .ok()?,
            )
        };
        Some(Prefilter { literals, rest })
    }

    /// The offset of a byte in the first line of `hay` that may match; None
    /// when no line in it can. `cache` keeps each search's next hit while
    /// the caller walks one buffer (see [`Next::consumed`]).
    pub fn next(&self, hay: &[u8], cache: &mut Next) -> Option<usize> {
        if cache.lit.is_none() {
            cache.lit = Some(
                self.literals
                    .as_ref()
                    .and_then(|l| l.find(hay, &mut cache.low)),
            );
        }
        if cache.rest.is_none() {
            cache.rest = Some(self.rest.as_ref().and_then(|re| {
                re.search_half(&Input::new(hay).earliest(true))
                    // The match's last byte (its end, when empty).
                    .map(|m| m.offset().saturating_sub(1))
            }));
        }
        match (cache.lit.flatten(), cache.rest.flatten()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The next hit of each search in the buffer being walked: a search runs
/// again only once the caller has moved past its hit.
#[derive(Default, Clone)]
pub struct Next {
    lit: Option<Option<usize>>,
    rest: Option<Option<usize>>,
    /// Scratch: the lowercased block.
    low: Vec<u8>,
}

impl Next {
    /// The caller moved `n` bytes on in the same buffer.
    pub fn consumed(&mut self, n: usize) {
        for c in [&mut self.lit, &mut self.rest] {
            match c {
                Some(Some(at)) if *at >= n => *at -= n,
                Some(Some(_)) => *c = None,
                _ => {}
            }
        }
    }
}

/// Literal text one of which every match contains: lowercase ASCII bytes
/// (compared with ASCII case ignored).
type Required = Vec<Vec<u8>>;

/// Literals one of which any match of `hir` contains, or None.
fn required(hir: &Hir) -> Option<Required> {
    match hir.kind() {
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(c) => one_char(c).map(|b| vec![b]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for a in alts {
                all.extend(required(a)?);
            }
            (all.len() <= MAX_ALTERNATIVES).then_some(all)
        }
        HirKind::Concat(items) => concat(items),
        _ => None,
    }
}

/// A concatenation: runs of single characters joined into literals; the
/// requirement kept is the one whose shortest literal is longest.
fn concat(items: &[Hir]) -> Option<Required> {
    let mut best: Option<Required> = None;
    let mut consider = |r: Required| {
        let score = |r: &Required| r.iter().map(|l| weight(l)).min().unwrap_or(0);
        if best.as_ref().is_none_or(|b| score(&r) > score(b)) {
            best = Some(r);
        }
    };
    let mut run: Vec<u8> = Vec::new();
    for h in items {
        let piece = match h.kind() {
            HirKind::Literal(l) => Some(l.0.to_ascii_lowercase()),
            HirKind::Class(c) => one_char(c),
            _ => None,
        };
        match piece {
            Some(p) => run.extend(p),
            None => {
                if !run.is_empty() {
                    consider(vec![std::mem::take(&mut run)]);
                }
                if let Some(r) = required(h) {
                    consider(r);
                }
            }
        }
    }
    if !run.is_empty() {
        consider(vec![run]);
    }
    best
}

/// How selective a literal is likely to be: its length, much less inside a
/// common phrase.
fn weight(l: &[u8]) -> usize {
    let common = COMMON
        .iter()
        .any(|c| c.as_bytes().windows(l.len()).any(|w| w == l));
    if common {
        l.len() / 4
    } else {
        l.len()
    }
}

/// A class that is one character, or one ASCII letter in both cases (what
/// `(?i)` makes of a letter): its lowercase UTF-8 bytes. Letters whose case
/// folding reaches beyond ASCII (`k`: KELVIN SIGN, `s`: LONG S) are classes
/// of three and so not literal here.
fn one_char(c: &Class) -> Option<Vec<u8>> {
    let ranges: Vec<(u32, u32)> = match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
    };
    let single = |(a, b): (u32, u32)| (a == b).then_some(a);
    let chars: Vec<u32> = ranges.iter().copied().map(single).collect::<Option<_>>()?;
    let lower = match chars.as_slice() {
        [x] => *x,
        [a, b] if (u32::from(b'A')..=u32::from(b'Z')).contains(a) && *b == a + 32 => *b,
        _ => return None,
    };
    match c {
        Class::Bytes(_) => Some(vec![(lower as u8).to_ascii_lowercase()]),
        Class::Unicode(_) => {
            let ch = char::from_u32(lower)?;
            let mut buf = [0u8; 4];
            Some(ch.encode_utf8(&mut buf).as_bytes().to_ascii_lowercase())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new().build().parse(p).unwrap();
        required(&hir).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn literals_of_real_patterns() {
        // `s` and `k` fold beyond ASCII under (?i): they end a literal.
        assert_eq!(
            req("(?i)PLEG is not healthy: pleg was last seen active"),
            Some(vec![" not healthy: pleg wa".to_string()])
        );
        assert_eq!(
            req("(?i)(foo|bar)baz.*quux"),
            Some(vec!["quux".to_string()])
        );
        assert_eq!(
            req("(?i)(foo|bar)b.*qu"),
            Some(vec!["foo".to_string(), "bar".to_string()])
        );
        assert_eq!(
            req("Connection Refused"),
            Some(vec!["connection refused".to_string()])
        );
        assert_eq!(req("x?"), None);
        assert_eq!(req(r"\d+"), None);
        assert_eq!(req("ab|c*"), None);
    }

    fn lits(v: &[&str]) -> Literals {
        Literals::new(
            v.iter()
                .map(|l| l.as_bytes().to_ascii_lowercase())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn finds_the_first_literal_in_any_case() {
        let l = lits(&["not healthy", "register node", "cgroup"]);
        let mut low = Vec::new();
        assert_eq!(l.find(b"all fine here", &mut low), None);
        assert_eq!(l.find(b"PLEG is NOT HEALTHY; Cgroup", &mut low), Some(8));
        assert_eq!(l.find(b"cgroup", &mut low), Some(0));
        assert_eq!(l.find(b"xcgrou", &mut low), None);
        assert_eq!(l.find(b"unable to Register Node", &mut low), Some(10));
    }

    #[test]
    fn agrees_with_one_automaton_across_blocks_and_groups() {
        use proptest::prelude::*;
        // Over 64 literals (two groups), haystacks past the first block.
        let words: Vec<String> = (0..150).map(|i| format!("w{i}x{}", i % 7)).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let l = lits(&refs);
        let one = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)
            .unwrap();
        proptest!(|(pad in 0usize..20_000, i in 0usize..150, upper: bool)| {
            let mut hay = vec![b'.'; pad];
            let w = if upper { words[i].to_uppercase() } else { words[i].clone() };
            hay.extend_from_slice(w.as_bytes());
            hay.extend_from_slice(b" tail");
            let mut low = Vec::new();
            prop_assert_eq!(l.find(&hay, &mut low), one.find(&hay[..]).map(|m| m.start()));
        });
    }

    #[test]
    fn near_misses_stay_linear() {
        let l = lits(&["aaaaaaaab", "baaaaaaab", "caaaaaaab"]);
        let hay = vec![b'a'; 8 << 20];
        let t = std::time::Instant::now();
        assert_eq!(l.find(&hay, &mut Vec::new()), None);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
