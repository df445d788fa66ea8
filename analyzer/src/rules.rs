//! Rules are data: TOML files under `rules/`, embedded at build time, plus an
//! operator's own with `--rules DIR`. A raw rule is parsed strictly (unknown
//! keys are errors) and compiled once: regexes built, fact conditions checked.

use crate::facts::{Cond, CondError};
use crate::model::{self, Severity};
use regex::Regex;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use toml::Spanned;

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
    /// When given, a line counts for `logs` only if it also matches one of
    /// these: one shared tail (a dial error) instead of a copy per pattern.
    #[serde(default)]
    pub with: Vec<String>,
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
    pub with: Vec<Regex>,
    pub sources: Vec<String>,
    pub facts: Vec<Cond>,
    pub unless: Vec<Cond>,
}

#[derive(Debug)]
pub struct Rule {
    pub raw: RawRule,
    pub file: String,
    /// Line of the rule's id in its file.
    pub line: usize,
    pub clauses: Vec<Clause>,
}

/// What is wrong in a rule file: a stable kebab-case code, shown as
/// `error[CODE]: ...` by `rules check` and `analyze --rules`, and in
/// `rules check --format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The file or directory could not be read, or is not a regular file.
    Unreadable,
    /// Larger than a rule file may be, or nested past the parser's budget.
    TooLarge,
    /// Not UTF-8.
    NotText,
    /// A directory with no rule files, or with too many.
    RuleFileCount,
    /// Not TOML, an unknown key, a missing key or a value of the wrong type.
    InvalidToml,
    /// An id that is not lowercase letters, digits and dashes.
    BadId,
    /// Two rules with one id.
    DuplicateId,
    /// A cause (or masked cause) that is not in the vocabulary.
    UnknownCause,
    /// A phase outside 1-5, or one the cause does not belong to.
    BadPhase,
    /// A confidence outside 0.05-1.
    BadConfidence,
    /// Title, explanation, fix or references missing.
    MissingDoc,
    /// An alternative with an unknown cause, a wrong phase or a confidence
    /// not below the rule's; or alternatives without `distinguish`.
    BadAlternative,
    /// No `[[when]]` clause, or one with neither logs nor facts.
    EmptyClause,
    /// A log source that is not known.
    UnknownSource,
    /// `sources`, `except` or `with` in a clause without `logs`.
    NeedsLogs,
    /// A log pattern that does not compile.
    BadRegex,
    /// A Unicode word boundary, which defeats the fast path on non-ASCII logs.
    UnicodeBoundary,
    /// A fact condition naming a fact that is not computed.
    UnknownFact,
    /// A fact condition that does not parse or fit the fact's type.
    BadCondition,
    /// All log patterns together are over the compiled-size limits.
    PatternSetTooLarge,
}

impl Code {
    /// The kebab-case code as it is shown.
    pub fn name(self) -> &'static str {
        match self {
            Code::Unreadable => "unreadable",
            Code::TooLarge => "too-large",
            Code::NotText => "not-text",
            Code::RuleFileCount => "rule-file-count",
            Code::InvalidToml => "invalid-toml",
            Code::BadId => "bad-id",
            Code::DuplicateId => "duplicate-id",
            Code::UnknownCause => "unknown-cause",
            Code::BadPhase => "bad-phase",
            Code::BadConfidence => "bad-confidence",
            Code::MissingDoc => "missing-doc",
            Code::BadAlternative => "bad-alternative",
            Code::EmptyClause => "empty-clause",
            Code::UnknownSource => "unknown-source",
            Code::NeedsLogs => "needs-logs",
            Code::BadRegex => "bad-regex",
            Code::UnicodeBoundary => "unicode-boundary",
            Code::UnknownFact => "unknown-fact",
            Code::BadCondition => "bad-condition",
            Code::PatternSetTooLarge => "pattern-set-too-large",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A problem in a rule file, with what it is and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub code: Code,
    pub file: String,
    /// 1-based; 0 when the problem is the whole file or directory.
    pub line: usize,
    pub message: String,
}

impl RuleError {
    fn new(code: Code, file: &str, line: usize, message: String) -> Self {
        RuleError {
            code,
            file: file.to_string(),
            line,
            message,
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
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
pub fn fast_pattern(p: &str) -> Result<String, (Code, String)> {
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
        .map_err(|e| (Code::BadRegex, format!("bad regex: {e}")))?;
    let looks = hir.properties().look_set();
    if looks.contains_word_unicode() {
        return Err((
            Code::UnicodeBoundary,
            "Unicode word boundary (e.g. (?u:\\b)) defeats the fast path for non-ASCII logs; use \\b (compiled as ASCII)"
                .into(),
        ));
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
        .map(regex::Regex::as_str)
        .collect();
    regex::RegexSetBuilder::new(pats)
        .size_limit(SET_SIZE_LIMIT)
        .dfa_size_limit(SET_DFA_LIMIT)
        .build()
}

/// A value's place in a rule file, when it is there.
type At = Option<Spanned<IgnoredAny>>;

/// Where the values of a rule file are, read beside [`RawRule`] so that a
/// problem names the line of the value at fault.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Spans {
    id: At,
    cause: At,
    phase: At,
    confidence: At,
    title: At,
    explanation: At,
    fix: At,
    references: At,
    masks: Vec<Spanned<IgnoredAny>>,
    alternatives: Option<Spanned<Vec<AltSpans>>>,
    when: Option<Spanned<Vec<Spanned<ClauseSpans>>>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AltSpans {
    cause: At,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ClauseSpans {
    logs: Vec<Spanned<IgnoredAny>>,
    sources: Option<Spanned<Vec<Spanned<IgnoredAny>>>>,
    except: Option<Spanned<Vec<Spanned<IgnoredAny>>>>,
    with: Option<Spanned<Vec<Spanned<IgnoredAny>>>>,
    facts: Vec<Spanned<IgnoredAny>>,
    unless: Vec<Spanned<IgnoredAny>>,
}

/// Compiled size (Thompson NFA bytes) of the log, except and with patterns of all
/// rule files of a run together (the embedded rules use about 1.5 MB, and a
/// test keeps them under half of the budget so that user rules keep the other half;
/// each pattern costs about 700 bytes before its first literal). Patterns
/// and their set take about ten times this in memory: 20,000 patterns of
/// 40 KB each (1000 rule files) took 1.76 GiB and 12 s, 400 took 128 MiB.
pub const PATTERNS_BUDGET: usize = 4 << 20;

/// A pattern's compiled NFA size; 0 when it does not compile (the regex
/// build that follows reports why).
fn nfa_bytes(p: &str) -> usize {
    use regex_automata::nfa::thompson::{Config, NFA};
    NFA::compiler()
        .configure(Config::new().nfa_size_limit(Some(1 << 20)))
        .build(p)
        .map_or(0, |n| n.memory_usage())
}

/// The spans of an optional list of values.
fn spans(v: &Option<Spanned<Vec<Spanned<IgnoredAny>>>>) -> &[Spanned<IgnoredAny>] {
    v.as_ref().map_or(&[][..], |v| v.get_ref().as_slice())
}

/// Collects the problems of one rule file, each at its value's line.
struct Lint<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<RuleError>,
    /// What is left of [`PATTERNS_BUDGET`].
    budget: &'a mut usize,
}

impl Lint<'_> {
    /// The line of a value, or of the file's start when it is not there.
    fn line<T>(&self, at: Option<&Spanned<T>>) -> usize {
        at.map_or(1, |s| line_at(self.text, s.span().start))
    }

    fn push<T>(&mut self, code: Code, at: Option<&Spanned<T>>, message: String) {
        let line = self.line(at);
        self.errors
            .push(RuleError::new(code, self.file, line, message));
    }

    /// id, cause, phase and confidence.
    fn header(&mut self, raw: &RawRule, sp: &Spans) {
        let id_ok = !raw.id.is_empty()
            && raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            let msg = format!(
                "id {:?} must be lowercase letters, digits and dashes",
                raw.id
            );
            self.push(Code::BadId, sp.id.as_ref(), msg);
        }
        match model::cause(&raw.cause) {
            None if raw.cause == model::UNKNOWN_CAUSE => {}
            None => self.push(
                Code::UnknownCause,
                sp.cause.as_ref(),
                format!(
                    "unknown cause {:?} (see docs/causes.md or `nodejoin facts`)",
                    raw.cause
                ),
            ),
            Some(c) if !c.1.contains(&raw.phase) => self.push(
                Code::BadPhase,
                sp.phase.as_ref(),
                format!(
                    "cause {} belongs to phase {:?}, not {}",
                    c.0, c.1, raw.phase
                ),
            ),
            _ => {}
        }
        if !(1..=5).contains(&raw.phase) {
            let msg = format!("phase {} is not 1-5", raw.phase);
            self.push(Code::BadPhase, sp.phase.as_ref(), msg);
        }
        if !(0.05..=1.0).contains(&raw.confidence) {
            let msg = "confidence must be between 0.05 and 1".into();
            self.push(Code::BadConfidence, sp.confidence.as_ref(), msg);
        }
    }

    /// title, explanation, fix and references.
    fn docs(&mut self, raw: &RawRule, sp: &Spans) {
        for (k, empty, at) in [
            ("title", raw.title.trim().is_empty(), &sp.title),
            (
                "explanation",
                raw.explanation.trim().len() < 40,
                &sp.explanation,
            ),
            ("fix", raw.fix.is_empty(), &sp.fix),
            ("references", raw.references.is_empty(), &sp.references),
        ] {
            if empty {
                let msg = format!("missing documentation: {k}");
                self.push(Code::MissingDoc, at.as_ref(), msg);
            }
        }
    }

    /// alternatives, distinguish and masks.
    fn alternatives(&mut self, raw: &RawRule, sp: &Spans) {
        let alts = sp.alternatives.as_ref();
        for (i, a) in raw.alternatives.iter().enumerate() {
            let at = alts.and_then(|v| v.get_ref().get(i)?.cause.as_ref());
            match model::cause(&a.cause) {
                None => self.push(
                    Code::UnknownCause,
                    at,
                    format!("alternative names unknown cause {:?}", a.cause),
                ),
                Some(c) if a.phase.is_some_and(|p| !c.1.contains(&p)) => self.push(
                    Code::BadAlternative,
                    at,
                    format!("alternative {} belongs to phase {:?}", c.0, c.1),
                ),
                _ => {}
            }
            if !(0.05..=1.0).contains(&a.confidence) || a.confidence > raw.confidence {
                let msg = "an alternative's confidence must be 0.05-1 and below the rule's".into();
                self.push(Code::BadAlternative, at, msg);
            }
        }
        if !raw.alternatives.is_empty() && raw.distinguish.is_none() {
            let msg = "alternatives need `distinguish`: what tells them apart".into();
            self.push(Code::BadAlternative, alts, msg);
        }
        for (i, m) in raw.masks.iter().enumerate() {
            if model::cause(m).is_none() {
                let msg = format!("masks unknown cause {m:?}");
                self.push(Code::UnknownCause, sp.masks.get(i), msg);
            }
        }
    }

    /// Every `[[when]]` clause, compiled.
    fn clauses(&mut self, raw: &RawRule, sp: &Spans) -> Vec<Clause> {
        let when = sp.when.as_ref();
        if raw.when.is_empty() {
            let msg = "no [[when]] clause: the rule can never fire".into();
            self.push(Code::EmptyClause, when, msg);
        }
        let none = Spanned::new(0..0, ClauseSpans::default());
        raw.when
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let at = when.and_then(|w| w.get_ref().get(i)).unwrap_or(&none);
                self.clause(c, at)
            })
            .collect()
    }

    fn clause(&mut self, c: &RawClause, at: &Spanned<ClauseSpans>) -> Clause {
        let sp = at.get_ref();
        if c.logs.is_empty() && c.facts.is_empty() {
            let msg = "a [[when]] clause needs logs or facts".into();
            self.push(Code::EmptyClause, Some(at), msg);
        }
        if !c.sources.is_empty() && c.logs.is_empty() {
            let msg = "sources without logs".into();
            self.push(Code::NeedsLogs, sp.sources.as_ref(), msg);
        }
        let sources = sp.sources.as_ref().map(|v| v.get_ref().as_slice());
        for (i, s) in c.sources.iter().enumerate() {
            if bundle::layout::Source::from_name(s).is_none() {
                let msg = format!("unknown source {s:?}; known: {}", source_names().join(", "));
                self.push(Code::UnknownSource, sources.and_then(|v| v.get(i)), msg);
            }
        }
        if !c.except.is_empty() && c.logs.is_empty() {
            let msg = "except without logs".into();
            self.push(Code::NeedsLogs, sp.except.as_ref(), msg);
        }
        if !c.with.is_empty() && c.logs.is_empty() {
            let msg = "with without logs".into();
            self.push(Code::NeedsLogs, sp.with.as_ref(), msg);
        }
        Clause {
            logs: self.patterns(&c.logs, &sp.logs),
            except: self.patterns(&c.except, spans(&sp.except)),
            with: self.patterns(&c.with, spans(&sp.with)),
            sources: c.sources.clone(),
            facts: self.conditions(&c.facts, &sp.facts),
            unless: self.conditions(&c.unless, &sp.unless),
        }
    }

    fn patterns(&mut self, list: &[String], at: &[Spanned<IgnoredAny>]) -> Vec<Regex> {
        let mut out = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let built = fast_pattern(p).and_then(|fast| {
                // Once the budget is spent, later patterns are not even sized.
                let cost = if *self.budget == 0 { 1 } else { nfa_bytes(&fast) };
                if cost > *self.budget {
                    *self.budget = 0;
                    let msg = format!(
                        "the log patterns of all rule files together compile to more than {} MiB; this one was not compiled",
                        PATTERNS_BUDGET >> 20
                    );
                    return Err((Code::PatternSetTooLarge, msg));
                }
                *self.budget -= cost;
                regex::RegexBuilder::new(&fast)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| (Code::BadRegex, format!("bad regex: {e}")))
            });
            match built {
                Ok(r) => out.push(r),
                Err((code, msg)) => self.push(code, at.get(i), msg),
            }
        }
        out
    }

    fn conditions(&mut self, list: &[String], at: &[Spanned<IgnoredAny>]) -> Vec<Cond> {
        let mut out = Vec::new();
        for (i, f) in list.iter().enumerate() {
            match Cond::parse(f) {
                Ok(cond) => out.push(cond),
                Err(e) => {
                    let code = match e {
                        CondError::UnknownFact(_) => Code::UnknownFact,
                        CondError::Invalid(_) => Code::BadCondition,
                    };
                    self.push(code, at.get(i), e.to_string());
                }
            }
        }
        out
    }
}

/// The rule as written and where its values are; refused before parsing
/// when it is over the size or nesting budget.
fn parse(file: &str, text: &str) -> Result<(RawRule, Spans), RuleError> {
    if text.len() > MAX_RULE_FILE as usize {
        let msg = format!("larger than {} KiB; not a rule file", MAX_RULE_FILE >> 10);
        return Err(RuleError::new(Code::TooLarge, file, 0, msg));
    }
    if let Err(e) = crate::structured::check_toml(text, file) {
        return Err(RuleError::new(Code::TooLarge, file, 1, e.message));
    }
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_at(text, s.start));
        RuleError::new(Code::InvalidToml, file, line, e.message().to_string())
    })?;
    // The same text parsed as RawRule: only its shape can differ, never fail.
    let spans = toml::from_str(text).unwrap_or_default();
    Ok((raw, spans))
}

/// Parse and compile one rule file. All problems are reported, not just the first.
pub fn compile(file: &str, text: &str) -> Result<Rule, Vec<RuleError>> {
    compile_within(file, text, &mut PATTERNS_BUDGET.clone())
}

/// [`compile`], its patterns charged to `budget` (shared by a run's files).
fn compile_within(file: &str, text: &str, budget: &mut usize) -> Result<Rule, Vec<RuleError>> {
    let (raw, spans) = parse(file, text).map_err(|e| vec![e])?;
    let mut lint = Lint {
        file,
        text,
        errors: Vec::new(),
        budget,
    };
    lint.header(&raw, &spans);
    lint.docs(&raw, &spans);
    lint.alternatives(&raw, &spans);
    let clauses = lint.clauses(&raw, &spans);
    if !lint.errors.is_empty() {
        return Err(lint.errors);
    }
    Ok(Rule {
        line: lint.line(spans.id.as_ref()),
        raw,
        file: file.to_string(),
        clauses,
    })
}

/// A rule file must be a regular file of bounded size: a FIFO would hang the
/// run and a link to /dev/zero would grow without end (issue 9).
fn read_rule_file(p: &Path) -> Result<String, (Code, String)> {
    use std::io::Read;
    let io = |e: std::io::Error| (Code::Unreadable, e.to_string());
    let meta = std::fs::metadata(p).map_err(io)?;
    if !meta.is_file() {
        let msg = "not a regular file (fifo, device or socket); not read";
        return Err((Code::Unreadable, msg.into()));
    }
    if meta.len() > MAX_RULE_FILE {
        return Err((
            Code::TooLarge,
            format!(
                "{} bytes; rule files above {} KiB are not read",
                meta.len(),
                MAX_RULE_FILE >> 10
            ),
        ));
    }
    let f = std::fs::File::open(p).map_err(io)?;
    let mut v = Vec::new();
    f.take(MAX_RULE_FILE + 1).read_to_end(&mut v).map_err(io)?;
    if v.len() as u64 > MAX_RULE_FILE {
        let msg = format!("rule files above {} KiB are not read", MAX_RULE_FILE >> 10);
        return Err((Code::TooLarge, msg));
    }
    String::from_utf8(v).map_err(|_| (Code::NotText, "not UTF-8 text".into()))
}

#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Every log pattern in one set, compiled once by [`build_set`].
    pub log_set: regex::RegexSet,
    /// The scanner's patterns and prefilter, built on first use and shared
    /// by every input read with this set.
    patterns: std::sync::OnceLock<crate::scan::Patterns>,
}

impl RuleSet {
    /// What the scanner matches lines with, built once per rule set.
    pub fn patterns(&self) -> &crate::scan::Patterns {
        self.patterns
            .get_or_init(|| crate::scan::Patterns::new(self))
    }

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
        let name = dir.display().to_string();
        let fail = |code, message| vec![RuleError::new(code, &name, 0, message)];
        let rd = std::fs::read_dir(dir).map_err(|e| fail(Code::Unreadable, e.to_string()))?;
        let mut files: Vec<_> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| !NOT_RULES.iter().any(|x| n == *x))
            })
            .take(MAX_RULE_FILES + 1)
            .collect();
        if files.len() > MAX_RULE_FILES {
            let msg = format!("more than {MAX_RULE_FILES} rule files");
            return Err(fail(Code::RuleFileCount, msg));
        }
        files.sort();
        if files.is_empty() {
            return Err(fail(Code::RuleFileCount, "no *.toml rule files".into()));
        }
        files
            .into_iter()
            .map(|p| {
                let file = p.display().to_string();
                match read_rule_file(&p) {
                    Ok(t) => Ok((file, t)),
                    Err((code, msg)) => Err(vec![RuleError::new(code, &file, 0, msg)]),
                }
            })
            .collect()
    }

    pub fn from_sources(sources: Vec<(String, String)>) -> Result<RuleSet, Vec<RuleError>> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        let mut budget = PATTERNS_BUDGET;
        for (file, text) in &sources {
            match compile_within(file, text, &mut budget) {
                Ok(r) => {
                    if let Some(prev) = rules.iter().find(|p| p.raw.id == r.raw.id) {
                        let msg =
                            format!("duplicate rule id {:?} (also in {})", r.raw.id, prev.file);
                        errors.push(RuleError::new(Code::DuplicateId, file, r.line, msg));
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
            Ok(log_set) => Ok(RuleSet {
                rules,
                log_set,
                patterns: std::sync::OnceLock::new(),
            }),
            Err(e) => Err(vec![RuleError::new(
                Code::PatternSetTooLarge,
                &sources.last().map(|s| s.0.clone()).unwrap_or_default(),
                0,
                format!("the log patterns of all rules together do not compile: {e}"),
            )]),
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

    /// With NODEJOIN_PATTERN_SIZES set, it lists the 40 largest patterns.
    #[test]
    #[allow(clippy::print_stdout)]
    fn the_embedded_rules_use_a_small_part_of_the_pattern_budget() {
        let set = RuleSet::embedded().unwrap();
        let mut all: Vec<(usize, &str, &str)> = set
            .rules
            .iter()
            .flat_map(|r| r.clauses.iter().map(move |c| (r, c)))
            .flat_map(|(r, c)| {
                let pats = c.logs.iter().chain(&c.except).chain(&c.with);
                pats.map(move |p| (nfa_bytes(p.as_str()), r.raw.id.as_str(), p.as_str()))
            })
            .collect();
        let used: usize = all.iter().map(|(n, ..)| n).sum();
        let cap = PATTERNS_BUDGET / 2;
        println!("embedded patterns: {used} of {cap} bytes");
        if std::env::var_os("NODEJOIN_PATTERN_SIZES").is_some() {
            all.sort();
            for (n, id, p) in all.iter().rev().take(40) {
                println!("{n:>7} {id} {p}");
            }
        }
        assert!(used < cap, "{used}");
    }

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
        let msgs: Vec<String> = e.iter().map(ToString::to_string).collect();
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

    /// Lines come from the parser's spans, not from searching the text: a
    /// comment naming a key, a second clause and an escaped pattern are each
    /// reported where they are.
    #[test]
    fn problems_are_coded_at_the_value_line() {
        let text = r#"# the id, cause and phase of this rule are wrong
id = "Bad_Id"
cause = "swap-enabled"
phase = 1
severity = "error"
confidence = 0.9
title = "Swap"
explanation = "The kubelet refuses to start while swap is on unless failSwapOn is false."
fix = ["swapoff -a"]
references = ["https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory"]
masks = ["not-a-cause"]
[[when]]
logs = ['running with swap on is not supported']
sources = ["kubelet"]

[[when]]
sources = ["kubelet", "nowhere"]
logs = ["ok", "\\d("]
facts = ["host.swap_on == 1"]
[[when]]
unless = ["host.nonesuch exists"]
"#;
        let e = compile("t.toml", text).unwrap_err();
        let got: Vec<(Code, usize)> = e.iter().map(|e| (e.code, e.line)).collect();
        assert_eq!(
            got,
            vec![
                (Code::BadId, 2),
                (Code::UnknownCause, 11),
                (Code::UnknownSource, 17),
                (Code::BadRegex, 18),
                (Code::UnknownFact, 19),
                (Code::EmptyClause, 20),
                (Code::UnknownFact, 21),
            ],
            "{e:#?}"
        );
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
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert!(set.rules.len() >= 28);
    }
}
