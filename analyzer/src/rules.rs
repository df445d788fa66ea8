//! Rules are data: TOML files under `rules/`, embedded at build time, plus an
//! operator's own with `--rules DIR`. A raw rule is parsed strictly (unknown
//! keys are errors) and compiled once: regexes built, fact conditions checked.

use crate::facts::Cond;
use crate::model::{self, Severity};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// `rules/phases.toml`: what proves a phase passed (read by `phases`).
pub const PHASES_TOML: &str = embedded::PHASES;
/// Files in a rules directory that are not rules.
pub const NOT_RULES: &[&str] = &["phases.toml", "timeline.toml"];

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub cause: String,
    pub phase: u8,
    pub severity: Severity,
    pub confidence: f64,
    pub title: String,
    pub explanation: String,
    pub fix: Vec<String>,
    pub references: Vec<String>,
    /// Where the log wording comes from: `repo path (versions)`, one per source.
    #[serde(default)]
    pub origin: Vec<String>,
    /// Causes that this rule, when it fires as an error, explains as symptoms.
    #[serde(default)]
    pub masks: Vec<String>,
    /// Other causes the same evidence fits, each less likely than `cause`.
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
    /// What would tell `cause` and the alternatives apart.
    #[serde(default)]
    pub distinguish: Option<String>,
    pub when: Vec<RawClause>,
}

/// A less likely cause of the same evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub cause: String,
    /// Defaults to the cause's first phase.
    pub phase: Option<u8>,
    pub confidence: f64,
}

/// One way the rule can fire: any log pattern (if given) and all facts (if given)
/// and none of `unless`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClause {
    #[serde(default)]
    pub logs: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    /// Lines matching any of these do not count for this clause's `logs`.
    #[serde(default)]
    pub except: Vec<String>,
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
}

/// Names a clause's `sources` may use.
pub fn source_names() -> Vec<&'static str> {
    bundle::layout::Source::ALL
        .iter()
        .map(|s| s.name())
        .collect()
}

#[derive(Debug)]
pub struct Clause {
    pub logs: Vec<Regex>,
    pub except: Vec<Regex>,
    pub sources: Vec<String>,
    pub facts: Vec<Cond>,
    pub unless: Vec<Cond>,
}

#[derive(Debug)]
pub struct Rule {
    pub raw: RawRule,
    pub file: String,
    pub clauses: Vec<Clause>,
}

/// A problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|i| text[..i].lines().count().max(1))
        .unwrap_or(1)
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Largest rule file read (bytes).
pub const MAX_RULE_FILE: u64 = 256 << 10;
/// Most rule files read from one directory.
pub const MAX_RULE_FILES: usize = 1000;
/// Compiled-size limits of all log patterns together; analyze and
/// `rules check` build the set with these, through [`build_set`].
pub const SET_SIZE_LIMIT: usize = 64 << 20;
pub const SET_DFA_LIMIT: usize = 32 << 20;

/// A log pattern as it is compiled: word boundaries are ASCII (`(?-u:\b)`),
/// which keeps the whole RegexSet on its fast path for non-ASCII text (a
/// Unicode `\b` made accented logs about 700x slower, issue 9). Any Unicode
/// word boundary left (say `(?u:\b)`) is refused.
pub fn fast_pattern(p: &str) -> Result<String, String> {
    let mut out = String::with_capacity(p.len() + 16);
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(k @ ('b' | 'B')) => {
                let mut tok = format!("\\{k}");
                if k == 'b' && chars.peek() == Some(&'{') {
                    for x in chars.by_ref() {
                        tok.push(x);
                        if x == '}' {
                            break;
                        }
                    }
                }
                out.push_str(&format!("(?-u:{tok})"));
            }
            Some(k @ ('<' | '>')) => out.push_str(&format!("(?-u:\\{k})")),
            Some(k) => {
                out.push('\\');
                out.push(k);
            }
            None => out.push('\\'),
        }
    }
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&out)
        .map_err(|e| format!("bad regex: {e}"))?;
    let looks = hir.properties().look_set();
    if looks.contains_word_unicode() {
        return Err(
            "Unicode word boundary (e.g. (?u:\\b)) defeats the fast path for non-ASCII logs; use \\b (compiled as ASCII)"
                .into(),
        );
    }
    Ok(out)
}

/// The one RegexSet of every log pattern, built the same way for `rules check`
/// and for `analyze`, so a size-limit error is reported by both alike.
pub fn build_set(rules: &[Rule]) -> Result<regex::RegexSet, regex::Error> {
    let pats: Vec<&str> = rules
        .iter()
        .flat_map(|r| r.clauses.iter())
        .flat_map(|c| c.logs.iter())
        .map(|r| r.as_str())
        .collect();
    regex::RegexSetBuilder::new(pats)
        .size_limit(SET_SIZE_LIMIT)
        .dfa_size_limit(SET_DFA_LIMIT)
        .build()
}

/// Parse and compile one rule file. All problems are reported, not just the first.
pub fn compile(file: &str, text: &str) -> Result<Rule, Vec<RuleError>> {
    let err = |line: usize, message: String| RuleError {
        file: file.to_string(),
        line,
        message,
    };
    if text.len() > MAX_RULE_FILE as usize {
        return Err(vec![err(
            0,
            format!("larger than {} KiB; not a rule file", MAX_RULE_FILE >> 10),
        )]);
    }
    if let Err(e) = crate::structured::check_toml(text, file) {
        return Err(vec![err(1, e.message)]);
    }
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        vec![err(line, e.message().to_string())]
    })?;
    let mut errors = Vec::new();
    if raw.id.is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push(err(
            line_of(text, "id"),
            format!(
                "id {:?} must be lowercase letters, digits and dashes",
                raw.id
            ),
        ));
    }
    match model::cause(&raw.cause) {
        None if raw.cause == model::UNKNOWN_CAUSE => {}
        None => errors.push(err(
            line_of(text, "cause"),
            format!(
                "unknown cause {:?} (see docs/causes.md or `nodejoin facts`)",
                raw.cause
            ),
        )),
        Some(c) if !c.1.contains(&raw.phase) => errors.push(err(
            line_of(text, "phase"),
            format!(
                "cause {} belongs to phase {:?}, not {}",
                c.0, c.1, raw.phase
            ),
        )),
        _ => {}
    }
    if !(1..=5).contains(&raw.phase) {
        errors.push(err(
            line_of(text, "phase"),
            format!("phase {} is not 1-5", raw.phase),
        ));
    }
    if !(0.05..=1.0).contains(&raw.confidence) {
        errors.push(err(
            line_of(text, "confidence"),
            "confidence must be between 0.05 and 1".into(),
        ));
    }
    for (k, empty) in [
        ("title", raw.title.trim().is_empty()),
        ("explanation", raw.explanation.trim().len() < 40),
        ("fix", raw.fix.is_empty()),
        ("references", raw.references.is_empty()),
    ] {
        if empty {
            errors.push(err(line_of(text, k), format!("missing documentation: {k}")));
        }
    }
    for a in &raw.alternatives {
        match model::cause(&a.cause) {
            None => errors.push(err(
                line_of(text, &a.cause),
                format!("alternative names unknown cause {:?}", a.cause),
            )),
            Some(c) if a.phase.is_some_and(|p| !c.1.contains(&p)) => errors.push(err(
                line_of(text, &a.cause),
                format!("alternative {} belongs to phase {:?}", c.0, c.1),
            )),
            _ => {}
        }
        if !(0.05..=1.0).contains(&a.confidence) || a.confidence > raw.confidence {
            errors.push(err(
                line_of(text, &a.cause),
                "an alternative's confidence must be 0.05-1 and below the rule's".into(),
            ));
        }
    }
    if !raw.alternatives.is_empty() && raw.distinguish.is_none() {
        errors.push(err(
            line_of(text, "alternatives"),
            "alternatives need `distinguish`: what tells them apart".into(),
        ));
    }
    for m in &raw.masks {
        if model::cause(m).is_none() {
            errors.push(err(line_of(text, m), format!("masks unknown cause {m:?}")));
        }
    }
    if raw.when.is_empty() {
        errors.push(err(
            line_of(text, "when"),
            "no [[when]] clause: the rule can never fire".into(),
        ));
    }
    let mut clauses = Vec::new();
    for c in &raw.when {
        let mut cl = Clause {
            logs: Vec::new(),
            except: Vec::new(),
            sources: c.sources.clone(),
            facts: Vec::new(),
            unless: Vec::new(),
        };
        if c.logs.is_empty() && c.facts.is_empty() {
            errors.push(err(
                line_of(text, "[[when]]"),
                "a [[when]] clause needs logs or facts".into(),
            ));
        }
        if !c.sources.is_empty() && c.logs.is_empty() {
            errors.push(err(line_of(text, "sources"), "sources without logs".into()));
        }
        for s in &c.sources {
            if bundle::layout::Source::from_name(s).is_none() {
                errors.push(err(
                    line_of(text, s),
                    format!("unknown source {s:?}; known: {}", source_names().join(", ")),
                ));
            }
        }
        if !c.except.is_empty() && c.logs.is_empty() {
            errors.push(err(line_of(text, "except"), "except without logs".into()));
        }
        for (list, out) in [(&c.logs, &mut cl.logs), (&c.except, &mut cl.except)] {
            for p in list {
                match fast_pattern(p) {
                    Ok(fast) => match regex::RegexBuilder::new(&fast).size_limit(1 << 20).build() {
                        Ok(r) => out.push(r),
                        Err(e) => errors.push(err(line_of(text, p), format!("bad regex: {e}"))),
                    },
                    Err(e) => errors.push(err(line_of(text, p), e)),
                }
            }
        }
        for (list, out) in [(&c.facts, &mut cl.facts), (&c.unless, &mut cl.unless)] {
            for f in list {
                match Cond::parse(f) {
                    Ok(cond) => out.push(cond),
                    Err(e) => errors.push(err(line_of(text, f), e)),
                }
            }
        }
        clauses.push(cl);
    }
    if errors.is_empty() {
        Ok(Rule {
            raw,
            file: file.to_string(),
            clauses,
        })
    } else {
        Err(errors)
    }
}

/// A rule file must be a regular file of bounded size: a FIFO would hang the
/// run and a link to /dev/zero would grow without end (issue 9).
fn read_rule_file(p: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (fifo, device or socket); not read".into());
    }
    if meta.len() > MAX_RULE_FILE {
        return Err(format!(
            "{} bytes; rule files above {} KiB are not read",
            meta.len(),
            MAX_RULE_FILE >> 10
        ));
    }
    let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
    let mut v = Vec::new();
    f.take(MAX_RULE_FILE + 1)
        .read_to_end(&mut v)
        .map_err(|e| e.to_string())?;
    if v.len() as u64 > MAX_RULE_FILE {
        return Err(format!(
            "rule files above {} KiB are not read",
            MAX_RULE_FILE >> 10
        ));
    }
    String::from_utf8(v).map_err(|_| "not UTF-8 text".into())
}

#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Every log pattern in one set, compiled once by [`build_set`].
    pub log_set: regex::RegexSet,
}

impl RuleSet {
    /// The rules built into the binary.
    pub fn embedded() -> Result<RuleSet, Vec<RuleError>> {
        Self::from_sources(
            embedded::EMBEDDED
                .iter()
                .map(|(f, t)| (f.to_string(), t.to_string()))
                .collect(),
        )
    }

    /// Rule files (`*.toml`) in a directory.
    pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, Vec<RuleError>> {
        let rd = std::fs::read_dir(dir).map_err(|e| {
            vec![RuleError {
                file: dir.display().to_string(),
                line: 0,
                message: e.to_string(),
            }]
        })?;
        let mut files: Vec<_> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| !NOT_RULES.iter().any(|x| n == *x))
            })
            .take(MAX_RULE_FILES + 1)
            .collect();
        if files.len() > MAX_RULE_FILES {
            return Err(vec![RuleError {
                file: dir.display().to_string(),
                line: 0,
                message: format!("more than {MAX_RULE_FILES} rule files"),
            }]);
        }
        files.sort();
        if files.is_empty() {
            return Err(vec![RuleError {
                file: dir.display().to_string(),
                line: 0,
                message: "no *.toml rule files".into(),
            }]);
        }
        files
            .into_iter()
            .map(|p| {
                read_rule_file(&p)
                    .map(|t| (p.display().to_string(), t))
                    .map_err(|message| {
                        vec![RuleError {
                            file: p.display().to_string(),
                            line: 0,
                            message,
                        }]
                    })
            })
            .collect()
    }

    pub fn from_sources(sources: Vec<(String, String)>) -> Result<RuleSet, Vec<RuleError>> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in &sources {
            match compile(file, text) {
                Ok(r) => {
                    if let Some(prev) = rules.iter().find(|p| p.raw.id == r.raw.id) {
                        errors.push(RuleError {
                            file: file.clone(),
                            line: line_of(text, "id"),
                            message: format!(
                                "duplicate rule id {:?} (also in {})",
                                r.raw.id, prev.file
                            ),
                        });
                    } else {
                        rules.push(r);
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        match build_set(&rules) {
            Ok(log_set) => Ok(RuleSet { rules, log_set }),
            Err(e) => Err(vec![RuleError {
                file: sources.last().map(|s| s.0.clone()).unwrap_or_default(),
                line: 0,
                message: format!("the log patterns of all rules together do not compile: {e}"),
            }]),
        }
    }

    /// Embedded rules plus the files of `dir`.
    pub fn with_dir(dir: &Path) -> Result<RuleSet, Vec<RuleError>> {
        let mut all: Vec<(String, String)> = embedded::EMBEDDED
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        // A file identical to a built-in one (`rules check rules/`) adds
        // nothing; any other file reusing a built-in id is a duplicate.
        let own: Vec<(String, String)> = Self::read_dir(dir)?
            .into_iter()
            .filter(|(_, t)| !all.iter().any(|(_, b)| b == t))
            .collect();
        all.extend(own);
        Self::from_sources(all)
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.raw.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "swap-test"
cause = "swap-enabled"
phase = 1
severity = "error"
confidence = 0.9
title = "Swap"
explanation = "The kubelet refuses to start while swap is on unless failSwapOn is false."
fix = ["swapoff -a"]
references = ["https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory"]
[[when]]
logs = ['running with swap on is not supported']
sources = ["kubelet"]
"#;

    #[test]
    fn good_rule_compiles() {
        let r = compile("t.toml", GOOD).unwrap();
        assert_eq!(r.clauses[0].logs.len(), 1);
    }

    #[test]
    fn errors_name_file_and_line() {
        let typo = GOOD.replace("sources =", "source =");
        let e = compile("t.toml", &typo).unwrap_err();
        assert_eq!(e[0].line, 13, "{e:?}");
        assert!(e[0].message.contains("unknown field `source`"), "{e:?}");

        let bad = GOOD
            .replace("'running with swap on is not supported'", "'running (with'")
            .replace("swap-enabled", "swap-on")
            .replace("phase = 1", "phase = 7");
        let e = compile("t.toml", &bad).unwrap_err();
        let msgs: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert!(
            msgs.iter().any(|m| m.starts_with("t.toml:12: bad regex")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("unknown cause \"swap-on\"")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("phase 7 is not 1-5")),
            "{msgs:?}"
        );

        let fact = GOOD.replace(
            "sources = [\"kubelet\"]",
            "facts = [\"host.swap_on == true\"]",
        );
        let e = compile("t.toml", &fact).unwrap_err();
        assert!(e[0].message.contains("unknown fact"), "{e:?}");
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let e = RuleSet::from_sources(vec![
            ("a.toml".into(), GOOD.into()),
            ("b.toml".into(), GOOD.into()),
        ])
        .unwrap_err();
        assert_eq!(e[0].file, "b.toml");
        assert!(e[0].message.contains("duplicate rule id"));
    }

    #[test]
    fn embedded_rules_are_clean() {
        let set = RuleSet::embedded().unwrap_or_else(|e| {
            panic!(
                "{}",
                e.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert!(set.rules.len() >= 28);
    }
}
