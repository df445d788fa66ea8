//! nodejoin's analyzer as a library: read inputs (bundles, directories, pasted
//! logs), compute facts, apply the rule set, weigh the findings into a verdict.

pub mod budget;
pub mod certs;
pub mod escape;
pub mod extract;
pub mod facts;
pub mod input;
pub mod logs;
pub mod model;
pub mod node;
pub mod render;
pub mod report;
pub mod rules;
pub mod scan;
pub mod structured;
pub mod tarx;
pub mod verdict;

use facts::{Evidence, Facts, Value};
use input::{InputError, Limits};
use rayon::prelude::*;
use report::{AnalyzerInfo, InputStats, Report};
use rules::RuleSet;
use scan::{Patterns, Scanned, Scanner};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
}

struct Stage {
    path: PathBuf,
    kind: input::Kind,
    scanned: Scanned,
    facts: Facts,
    stats: input::Stats,
}

fn scan_one(path: &Path, pats: &Patterns, opts: &Options) -> Result<Stage, InputError> {
    structured::begin_input();
    let mut sc = Scanner::new(pats);
    let (kind, problems, stats) = input::read(path, &opts.limits, &mut sc)?;
    let mut scanned = sc.out;
    scanned.problems.splice(0..0, problems);
    scanned.kind = Some(kind);
    let mut facts = Facts::default();
    let mut ctx = extract::Ctx {
        s: &scanned,
        collected: None,
        manifest: None,
        problems: Vec::new(),
    };
    extract::all(&mut ctx, &mut facts);
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
    Ok(Stage {
        path: path.to_path_buf(),
        kind,
        scanned,
        facts,
        stats,
    })
}

/// Facts that need several inputs: two bundles with one machine-id are clones.
fn cross_input(stages: &mut [Result<Stage, InputError>]) {
    let ids: Vec<Option<(String, String)>> = stages
        .iter()
        .map(|s| {
            s.as_ref().ok().and_then(|s| {
                Some((
                    s.facts.str("identity.machine_id")?.to_string(),
                    s.path.display().to_string(),
                ))
            })
        })
        .collect();
    for (i, st) in stages.iter_mut().enumerate() {
        let Ok(st) = st else { continue };
        let Some((id, _)) = &ids[i] else { continue };
        let others: Vec<&String> = ids
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && o.as_ref().is_some_and(|o| &o.0 == id))
            .filter_map(|(_, o)| o.as_ref().map(|o| &o.1))
            .collect();
        if ids.iter().flatten().count() > 1 {
            let ev = Evidence::new(
                &bundle::file_path("/etc/machine-id"),
                Some(1),
                if others.is_empty() {
                    format!("machine-id {id} is unique among the inputs")
                } else {
                    format!(
                        "machine-id {id} is also the machine-id of {}",
                        others
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            );
            st.facts.set(
                "identity.machine_id_shared",
                Value::Bool(!others.is_empty()),
                Some(ev),
            );
        }
    }
}

/// Analyze every input; the order of the results is the order of `paths`.
pub fn analyze(
    paths: &[PathBuf],
    rules: &RuleSet,
    opts: &Options,
) -> Vec<Result<Report, InputError>> {
    let pats = Patterns::new(rules);
    let mut stages: Vec<Result<Stage, InputError>> =
        paths.par_iter().map(|p| scan_one(p, &pats, opts)).collect();
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
                    version: env!("CARGO_PKG_VERSION"),
                    rules: rules.rules.len(),
                },
            })
        })
        .collect()
}
