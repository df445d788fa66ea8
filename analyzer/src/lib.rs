//! nodejoin's analyzer as a library: read inputs (bundles, directories, pasted
//! logs), compute facts, apply the rule set, weigh the findings into a verdict.

// A `pub` item the crate does not export is a mistake: say pub(crate).
#![warn(unreachable_pub)]

pub mod budget;
pub mod cli;
pub mod cmd;
pub mod digest;
pub mod escape;
pub mod extract;
pub mod facts;
pub mod fleet;
pub mod input;
pub mod model;
pub mod parse;
pub mod paste;
pub mod phases;
pub mod plain;
pub mod policy;
pub mod prefilter;
pub mod render;
pub mod report;
pub mod rules;
pub mod scan;
pub mod structured;
pub mod tarx;
pub mod ticket;
pub mod timeline;
pub mod verdict;

use facts::{Evidence, Facts};
use input::{InputError, Limits};
use rayon::prelude::*;
use report::{AnalyzerInfo, InputStats, Report};
use rules::RuleSet;
use scan::{Patterns, Scanned, Scanner};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// Extra evidence fed into every input after its own content, as
    /// (path inside the input, bytes): an admin's `kubectl get node -o yaml`
    /// or `kubectl get events`. The path decides how it is read.
    pub extra: Vec<(String, Vec<u8>)>,
}

struct Stage {
    path: PathBuf,
    kind: input::Kind,
    scanned: Scanned,
    facts: Facts,
    stats: input::Stats,
}

/// Read one input and compute its facts, both against `deadline`: the
/// input's one time budget. The certificates parsed come back too.
fn scan_one(
    path: &Path,
    pats: &Patterns,
    opts: &Options,
    deadline: budget::Deadline,
) -> Result<(Stage, Vec<parse::certs::Cert>), InputError> {
    structured::begin_input();
    let mut sc = Scanner::new(pats);
    let (kind, problems, stats) = input::read_by(path, &opts.limits, deadline, &mut sc)?;
    for (name, data) in &opts.extra {
        use input::Sink;
        let _ = sc.entry(name, Some(data.len() as u64), &mut data.as_slice());
    }
    let mut scanned = sc.out;
    scanned.problems.splice(0..0, problems);
    scanned.kind = Some(kind);
    let mut facts = Facts::default();
    let mut ctx = extract::Ctx::new(&scanned, deadline);
    let certs = extract::all(&mut ctx, &mut facts);
    let extra = std::mem::take(&mut ctx.problems);
    scanned.problems.extend(extra);
    scanned.problems.extend(
        structured::take_refusals()
            .into_iter()
            .map(|e| input::Problem {
                path: e.what,
                problem: format!("not parsed: {}", e.message),
            }),
    );
    scanned.problems = input::cap_problems(std::mem::take(&mut scanned.problems));
    let st = Stage {
        path: path.to_path_buf(),
        kind,
        scanned,
        facts,
        stats,
    };
    Ok((st, certs))
}

/// One input read and its facts computed, before rules are applied: what
/// `timeline` and `certs` start from.
pub struct Inspected {
    pub kind: input::Kind,
    pub scanned: Scanned,
    pub facts: Facts,
    /// The certificates fact extraction parsed (not parsed again).
    pub certs: Vec<parse::certs::Cert>,
    /// The input's time budget, started before its read: what `timeline`
    /// and `certs` do next shares it.
    pub deadline: budget::Deadline,
}

pub fn inspect(path: &Path, rules: &RuleSet, opts: &Options) -> Result<Inspected, InputError> {
    let pats = rules.patterns();
    let deadline = budget::Deadline::after(opts.limits.max_seconds);
    let (st, certs) = scan_one(path, pats, opts, deadline)?;
    Ok(Inspected {
        kind: st.kind,
        scanned: st.scanned,
        facts: st.facts,
        certs,
        deadline,
    })
}

/// Facts that need several inputs: two bundles with one machine-id,
/// product_uuid, hostname or MAC are clones (or will collide).
fn cross_input(stages: &mut [Result<Stage, InputError>]) {
    use facts::keys::*;
    type Of = fn(&Facts) -> Vec<String>;
    let kinds: [(&str, facts::Key<bool>, &str, Of); 4] = [
        (
            "machine-id",
            IDENTITY_MACHINE_ID_SHARED,
            bundle::layout::host::MACHINE_ID,
            |f| {
                f.str(IDENTITY_MACHINE_ID)
                    .map(str::to_string)
                    .into_iter()
                    .collect()
            },
        ),
        (
            "product_uuid",
            IDENTITY_PRODUCT_UUID_SHARED,
            "/sys/class/dmi/id/product_uuid",
            |f| {
                f.str(IDENTITY_PRODUCT_UUID)
                    .map(str::to_string)
                    .into_iter()
                    .collect()
            },
        ),
        (
            "hostname",
            IDENTITY_HOSTNAME_SHARED,
            bundle::layout::host::HOSTNAME,
            |f| {
                f.str(IDENTITY_HOSTNAME)
                    .map(str::to_lowercase)
                    .into_iter()
                    .collect()
            },
        ),
        ("MAC", IDENTITY_MAC_SHARED, "", |f| {
            match f.fact(IDENTITY_MACS).map(|x| &x.value) {
                Some(facts::Value::List(l)) => l.clone(),
                _ => Vec::new(),
            }
        }),
    ];
    for (label, key, file, of) in kinds {
        let vals: Vec<Vec<String>> = stages
            .iter()
            .map(|s| s.as_ref().map(|s| of(&s.facts)).unwrap_or_default())
            .collect();
        if vals.iter().filter(|v| !v.is_empty()).count() >= 2 {
            mark_shared(stages, &vals, label, key, file);
        }
    }
}

/// Set `key` on each input whose `vals` (one identity of kind `label`) some
/// other input shares, with evidence naming the inputs that share it.
fn mark_shared(
    stages: &mut [Result<Stage, InputError>],
    vals: &[Vec<String>],
    label: &str,
    key: facts::Key<bool>,
    file: &str,
) {
    let mut seen: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, v) in vals.iter().enumerate() {
        for x in v {
            seen.entry(x.as_str()).or_default().push(i);
        }
    }
    let names: Vec<String> = stages
        .iter()
        .map(|s| match s {
            Ok(s) => s.path.display().to_string(),
            Err(e) => e.path.display().to_string(),
        })
        .collect();
    let file = if file.is_empty() {
        bundle::layout::command_out("ip-link")
    } else {
        bundle::file_path(file)
    };
    for (i, st) in stages.iter_mut().enumerate() {
        let Ok(st) = st else { continue };
        if vals[i].is_empty() {
            continue;
        }
        let shared: Vec<(&String, Vec<usize>)> = vals[i]
            .iter()
            .map(|x| {
                let others = seen[x.as_str()].iter().copied().filter(|j| *j != i);
                let mut others: Vec<usize> = others.collect();
                others.dedup();
                (x, others)
            })
            .filter(|(_, o)| !o.is_empty())
            .collect();
        let text = match shared.first() {
            None => format!("{label} {} is unique among the inputs", vals[i].join(", ")),
            Some((x, o)) => format!(
                "{label} {x} is also the {label} of {}",
                o.iter()
                    .map(|j| names[*j].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let ev = Evidence::new(&file, Some(1), text);
        st.facts.set(key, !shared.is_empty(), Some(ev));
    }
}

/// Analyze every input; the order of the results is the order of `paths`.
pub fn analyze(
    paths: &[PathBuf],
    rules: &RuleSet,
    opts: &Options,
) -> Vec<Result<Report, InputError>> {
    analyze_with(paths, rules, opts, &|| {})
}

/// `analyze`, calling `done` once per input read (for a progress bar).
pub fn analyze_with(
    paths: &[PathBuf],
    rules: &RuleSet,
    opts: &Options,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<Report, InputError>> {
    let pats = rules.patterns();
    let mut stages: Vec<Result<Stage, InputError>> = paths
        .par_iter()
        .with_max_len(1)
        .map(|p| {
            let deadline = budget::Deadline::after(opts.limits.max_seconds);
            let mut r = scan_one(p, pats, opts, deadline).map(|(st, _)| st);
            // Facts are computed: the kept small files are not needed again,
            // so a fleet's memory does not grow with its size.
            if let Ok(st) = &mut r {
                st.scanned.small = Default::default();
            }
            done();
            r
        })
        .collect();
    cross_input(&mut stages);
    stages
        .into_par_iter()
        .map(|st| {
            let st = st?;
            let found = verdict::findings(rules, &st.scanned, &st.facts);
            let w = verdict::weigh(rules, found, &st.facts, &st.scanned);
            Ok(Report {
                input: st.path.display().to_string(),
                kind: st.kind,
                verdict: w.verdict,
                ladder: w.ladder,
                findings: w.findings,
                facts: st
                    .facts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect(),
                problems: st.scanned.problems,
                stats: InputStats {
                    entries: st.stats.entries,
                    bytes: st.stats.bytes,
                    log_files: st.scanned.logs.len() as u64,
                    log_lines: st.scanned.logs.iter().map(|l| l.lines).sum(),
                },
                analyzer: AnalyzerInfo {
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    rules: rules.rules.len(),
                },
            })
        })
        .collect()
}
