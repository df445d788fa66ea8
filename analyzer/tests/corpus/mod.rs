//! The real-ticket corpus (`fixtures/tickets/`): each case is a verbatim paste
//! (`NAME.txt`) and what the thread confirmed (`NAME.toml`). Shared by the
//! corpus test and `scripts/accuracy`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
#[allow(dead_code)] // `why` and `confirmed_by` are checked by the corpus test only
pub struct Case {
    pub source: String,
    pub cause: String,
    pub phase: Option<u8>,
    pub why: String,
    pub confirmed_by: String,
}

pub struct Outcome {
    pub name: String,
    pub source: String,
    pub want_cause: String,
    pub want_phase: Option<u8>,
    pub got_cause: String,
    pub got_phase: Option<u8>,
}

impl Outcome {
    pub fn cause_ok(&self) -> bool {
        self.want_cause == self.got_cause
    }

    pub fn phase_ok(&self) -> bool {
        self.want_phase == self.got_phase
    }
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/tickets")
}

/// Every case, sorted by name.
pub fn cases() -> Vec<(String, Case, PathBuf)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir()).expect("fixtures/tickets") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("case toml");
            let case: Case =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let txt = p.with_extension("txt");
            assert!(txt.exists(), "{name}: no .txt beside the .toml");
            out.push((name, case, txt));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Analyze every case as `nodejoin analyze NAME.txt` would.
pub fn run() -> Vec<Outcome> {
    let cases = cases();
    let paths: Vec<PathBuf> = cases.iter().map(|c| c.2.clone()).collect();
    run_on(cases, paths)
}

/// Analyze each case's text from `paths` (the case's own, or a copy).
pub fn run_on(cases: Vec<(String, Case, PathBuf)>, paths: Vec<PathBuf>) -> Vec<Outcome> {
    let rules = analyzer::rules::RuleSet::embedded().expect("built-in rules");
    let reports = analyzer::analyze(&paths, &rules, &analyzer::Options::default());
    cases
        .into_iter()
        .zip(reports)
        .map(|((name, case, _), r)| {
            let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
            Outcome {
                name,
                source: case.source,
                want_cause: case.cause,
                want_phase: case.phase,
                got_cause: r.verdict.cause.clone().unwrap_or_else(|| "none".into()),
                got_phase: r.verdict.phase,
            }
        })
        .collect()
}

pub fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        100.0
    } else {
        (n as f64 * 1000.0 / of as f64).round() / 10.0
    }
}

/// Per-cause table: cases, cause right, phase right.
pub fn table(out: &[Outcome]) -> String {
    let mut by: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for o in out {
        let e = by.entry(&o.want_cause).or_default();
        e.0 += 1;
        e.1 += o.cause_ok() as usize;
        e.2 += o.phase_ok() as usize;
    }
    let mut s = format!(
        "{:<30} {:>5} {:>7} {:>7}\n",
        "cause", "cases", "cause", "phase"
    );
    for (c, (n, ok, ph)) in &by {
        s.push_str(&format!("{c:<30} {n:>5} {ok:>7} {ph:>7}\n"));
    }
    let (c, p) = summary(out);
    s.push_str(&format!(
        "{:<30} {:>5} {:>6}% {:>6}%\n",
        "all",
        out.len(),
        c,
        p
    ));
    s
}

/// Cause and phase accuracy in percent.
pub fn summary(out: &[Outcome]) -> (f64, f64) {
    let c = out.iter().filter(|o| o.cause_ok()).count();
    let p = out.iter().filter(|o| o.phase_ok()).count();
    (pct(c, out.len()), pct(p, out.len()))
}

/// One line per miss: want -> got.
pub fn misses(out: &[Outcome]) -> String {
    out.iter()
        .filter(|o| !o.cause_ok() || !o.phase_ok())
        .map(|o| {
            format!(
                "{} [{}]: want {} (phase {:?}) -> got {} (phase {:?})\n",
                o.name, o.source, o.want_cause, o.want_phase, o.got_cause, o.got_phase
            )
        })
        .collect()
}
