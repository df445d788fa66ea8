//! From facts and log hits to findings, and from findings to a verdict.
//! Evidence is weighed, not first-match-wins: causes score by noisy-OR over
//! their findings, a stronger cause masks the symptoms it explains, log-only
//! findings are resolved when facts show the node has since passed that phase,
//! and among strong causes the earliest broken phase is the root cause.

use crate::facts::{Evidence, Facts};
use crate::model::{self, Severity};
use crate::phases::{Passed, Phases};
use crate::policy;
use crate::report::{AltCause, Finding, FindingStatus, PhaseResult, PhaseStatus, Status, Verdict};
use crate::rules::RuleSet;
use crate::scan::Scanned;
use std::collections::BTreeMap;

pub fn findings(rules: &RuleSet, s: &Scanned, facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    for (ri, rule) in rules.rules.iter().enumerate() {
        let mut fired = false;
        let (mut from_logs, mut from_facts) = (false, false);
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut fact_values = BTreeMap::new();
        let mut count = 0;
        for (ci, c) in rule.clauses.iter().enumerate() {
            let hits = s.hits.get(&(ri, ci));
            let logs_ok = c.logs.is_empty() || hits.is_some_and(|h| h.count > 0);
            let facts_ok =
                c.facts.iter().all(|f| f.eval(facts)) && !c.unless.iter().any(|f| f.eval(facts));
            if !(logs_ok && facts_ok) {
                continue;
            }
            fired = true;
            if let Some(h) = hits {
                from_logs = true;
                count += h.count;
                // Input order (a directory walk, a tar's order) must not show.
                let mut ev: Vec<Evidence> = h.all().map(super::scan::Hit::evidence).collect();
                ev.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
                evidence.extend(ev);
            }
            for cond in &c.facts {
                from_facts = true;
                if let Some(f) = facts.get(&cond.name) {
                    fact_values.insert(cond.name.clone(), f.value.to_string());
                    evidence.extend(f.evidence.iter().cloned());
                }
            }
        }
        if !fired {
            continue;
        }
        evidence.dedup();
        let mut seen = Vec::new();
        evidence.retain(|e| {
            let k = (e.file.clone(), e.line, e.text.clone());
            let new = !seen.contains(&k);
            seen.push(k);
            new
        });
        evidence.truncate(policy::FINDING_EVIDENCE);
        let basis = match (from_logs, from_facts) {
            (true, true) => "logs+facts",
            (true, false) => "logs",
            _ => "facts",
        };
        out.push(Finding {
            rule_id: rule.raw.id.clone(),
            cause: rule.raw.cause.clone(),
            phase: rule.raw.phase,
            severity: rule.raw.severity,
            // Agreement of logs and facts is stronger than either alone.
            confidence: if basis == "logs+facts" {
                (rule.raw.confidence + policy::AGREEMENT_BONUS).min(policy::MAX_CONFIDENCE)
            } else {
                rule.raw.confidence
            },
            title: rule.raw.title.clone(),
            basis: basis.to_string(),
            status: FindingStatus::Active,
            note: None,
            count,
            facts: fact_values,
            evidence,
        });
    }
    out
}

pub struct Weighed {
    pub verdict: Verdict,
    pub ladder: Vec<PhaseResult>,
    pub findings: Vec<Finding>,
}

pub fn weigh(rules: &RuleSet, mut fs: Vec<Finding>, facts: &Facts, s: &Scanned) -> Weighed {
    let passed = Phases::builtin().passed(facts, s);
    resolve_history(&mut fs, &passed);
    fs.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.phase.cmp(&b.phase))
            .then(a.rule_id.cmp(&b.rule_id))
    });
    apply_masks(rules, &mut fs);
    let scores = cause_scores(&fs);
    let ladder = ladder(&fs, &passed);
    let verdict = match primary(&scores) {
        Some((cause, score, i)) => failed(rules, &fs, &scores, &fs[i], Some(cause), score),
        None if unnamed(&fs).is_some() => {
            let f = unnamed(&fs).expect("checked");
            failed(rules, &fs, &scores, f, None, f.confidence)
        }
        None if passed[5].is_some() => joined(&passed),
        None => inconclusive(&fs, &ladder),
    };
    Weighed {
        verdict,
        ladder,
        findings: fs,
    }
}

/// Old log lines from phases the node has since passed are history. Only
/// proofs of the node's state now (a Ready node with fresh heartbeats) count:
/// a Node object alone may predate the failure.
fn resolve_history(fs: &mut [Finding], passed: &[Option<Passed>; 6]) {
    let facts_pass_max = (1..=5)
        .rev()
        .find(|n| passed[*n].as_ref().is_some_and(|p| p.current))
        .unwrap_or(0);
    for f in fs {
        if f.basis == "logs"
            && (f.phase as usize) <= facts_pass_max
            && f.severity >= Severity::Warning
        {
            f.status = FindingStatus::Resolved;
            f.note = Some(format!(
                "seen in logs, but the node has since passed phase {facts_pass_max} ({})",
                model::phase_id(facts_pass_max as u8)
            ));
        }
    }
}

/// Masks: a stronger active error explains the symptoms it lists.
fn apply_masks(rules: &RuleSet, fs: &mut [Finding]) {
    let mut masks: Vec<(String, Vec<String>)> = Vec::new();
    for f in fs.iter_mut() {
        if f.status != FindingStatus::Active {
            continue;
        }
        if let Some((by, _)) = masks.iter().find(|(_, m)| m.contains(&f.cause)) {
            f.status = FindingStatus::Masked;
            f.note = Some(format!("a symptom of {by}"));
            continue;
        }
        if f.severity == Severity::Error {
            if let Some(r) = rules.get(&f.rule_id) {
                if !r.raw.masks.is_empty() {
                    masks.push((f.cause.clone(), r.raw.masks.clone()));
                }
            }
        }
    }
    // Second pass: masks found later can still cover earlier-sorted findings.
    for f in fs.iter_mut() {
        if f.status == FindingStatus::Active {
            if let Some((by, _)) = masks
                .iter()
                .find(|(by, m)| m.contains(&f.cause) && *by != f.cause)
            {
                f.status = FindingStatus::Masked;
                f.note = Some(format!("a symptom of {by}"));
            }
        }
    }
}

/// Per cause: (noisy-OR score, earliest phase, index of its first finding).
type Scores<'a> = BTreeMap<&'a str, (f64, u8, usize)>;

/// Cause scores: noisy-OR over active error findings.
fn cause_scores(fs: &[Finding]) -> Scores<'_> {
    let mut scores: Scores<'_> = BTreeMap::new();
    for (i, f) in fs.iter().enumerate().filter(|(_, f)| {
        f.status == FindingStatus::Active
            && f.severity == Severity::Error
            && f.cause != model::UNKNOWN_CAUSE
    }) {
        let e = scores.entry(f.cause.as_str()).or_insert((0.0, f.phase, i));
        e.0 = 1.0 - (1.0 - e.0) * (1.0 - f.confidence);
        e.1 = e.1.min(f.phase);
    }
    scores
}

/// The primary cause, its score and its first finding. Among strong causes
/// the earliest broken phase is the root: nothing after it can pass until it
/// is fixed. Weak ones only win when nothing is strong.
fn primary(scores: &Scores<'_>) -> Option<(String, f64, usize)> {
    const STRONG: f64 = policy::STRONG;
    let rank = |a: &(f64, u8, usize), b: &(f64, u8, usize)| {
        let (sa, sb) = (a.0 >= STRONG, b.0 >= STRONG);
        let by_phase = if sa && sb {
            b.1.cmp(&a.1)
        } else {
            std::cmp::Ordering::Equal
        };
        sa.cmp(&sb)
            .then(by_phase)
            .then(a.0.total_cmp(&b.0))
            .then(b.1.cmp(&a.1))
            .then(b.2.cmp(&a.2))
    };
    scores
        .iter()
        .max_by(|a, b| rank(a.1, b.1))
        .map(|(c, (score, _, i))| ((*c).to_string(), *score, *i))
}

/// An active error: a finding that breaks its phase.
fn breaks(f: &Finding) -> bool {
    f.status == FindingStatus::Active && f.severity == Severity::Error
}

/// Each phase failed (by active errors), passed (by a proof) or unknown.
fn ladder(fs: &[Finding], passed: &[Option<Passed>; 6]) -> Vec<PhaseResult> {
    let failed_phases: Vec<u8> = fs.iter().filter(|f| breaks(f)).map(|f| f.phase).collect();
    model::PHASES
        .iter()
        .map(|(n, id, _)| {
            let n = *n;
            let (status, note, evidence) = if failed_phases.contains(&n) {
                let breaking = || fs.iter().filter(move |f| f.phase == n && breaks(f));
                let ev: Vec<Evidence> = breaking()
                    .filter_map(|f| f.evidence.first().cloned())
                    .take(3)
                    .collect();
                let causes: Vec<&str> = breaking().map(|f| f.cause.as_str()).collect();
                let note = format!("broken by {}", dedup(causes).join(", "));
                (PhaseStatus::Failed, note, ev)
            } else if let Some(p) = &passed[n as usize] {
                let ev = p.evidence.iter().take(3).cloned().collect();
                (PhaseStatus::Passed, p.why.clone(), ev)
            } else {
                let note = "no evidence either way".into();
                (PhaseStatus::Unknown, note, Vec::new())
            };
            PhaseResult {
                phase: n,
                id: (*id).to_string(),
                status,
                note,
                evidence,
            }
        })
        .collect()
}

fn joined(passed: &[Option<Passed>; 6]) -> Verdict {
    Verdict {
        status: Status::Joined,
        phase: None,
        phase_name: None,
        cause: None,
        confidence: None,
        rule_id: None,
        title: "The node is joined: Ready, schedulable, no blocking taints".into(),
        fix: Vec::new(),
        evidence: passed[4]
            .as_ref()
            .map(|p| p.evidence.clone())
            .unwrap_or_default(),
        alternatives: Vec::new(),
        distinguish: None,
    }
}

fn inconclusive(fs: &[Finding], ladder: &[PhaseResult]) -> Verdict {
    let unknown: Vec<String> = ladder
        .iter()
        .filter(|p| p.status == PhaseStatus::Unknown)
        .map(|p| p.id.clone())
        .collect();
    let title = if fs.iter().any(|f| f.status == FindingStatus::Active) {
        "No failure cause stands out; see the warnings below"
    } else {
        "No rule matched and the node's state is not known"
    };
    let unknown = if unknown.is_empty() {
        "none".into()
    } else {
        unknown.join(", ")
    };
    Verdict {
        status: Status::Inconclusive,
        phase: None,
        phase_name: None,
        cause: None,
        confidence: None,
        rule_id: None,
        title: format!("{title} (phases without evidence: {unknown})"),
        fix: vec!["Collect a full bundle on the node with `sudo nodejoin-collect` (include `--node-yaml` from a control-plane machine if the node cannot reach the API server).".into()],
        evidence: Vec::new(),
        alternatives: Vec::new(),
        distinguish: None,
    }
}

/// A failed verdict from its primary finding; `cause` None names the phase only.
fn failed(
    rules: &RuleSet,
    fs: &[Finding],
    scores: &BTreeMap<&str, (f64, u8, usize)>,
    f: &Finding,
    cause: Option<String>,
    score: f64,
) -> Verdict {
    let r = rules.get(&f.rule_id);
    let primary = cause
        .clone()
        .unwrap_or_else(|| model::UNKNOWN_CAUSE.to_string());
    Verdict {
        status: Status::Failed,
        phase: Some(f.phase),
        phase_name: Some(model::phase_id(f.phase).to_string()),
        cause,
        confidence: Some((score * 100.0).round() / 100.0),
        rule_id: Some(f.rule_id.clone()),
        title: f.title.clone(),
        fix: r.map(|r| r.raw.fix.clone()).unwrap_or_default(),
        evidence: f
            .evidence
            .iter()
            .take(policy::VERDICT_EVIDENCE)
            .cloned()
            .collect(),
        alternatives: alternatives(rules, fs, scores, &primary, score),
        distinguish: r.and_then(|r| r.raw.distinguish.clone()),
    }
}

/// The strongest active error that names a phase but no cause.
fn unnamed(fs: &[Finding]) -> Option<&Finding> {
    fs.iter()
        .filter(|f| {
            f.status == FindingStatus::Active
                && f.severity == Severity::Error
                && f.cause == model::UNKNOWN_CAUSE
        })
        .max_by(|a, b| {
            a.confidence
                .total_cmp(&b.confidence)
                .then(b.phase.cmp(&a.phase))
        })
}

/// Other causes the evidence fits: other scored causes, then the primary
/// rule's declared alternatives, most likely first.
fn alternatives(
    rules: &RuleSet,
    fs: &[Finding],
    scores: &BTreeMap<&str, (f64, u8, usize)>,
    primary: &str,
    primary_score: f64,
) -> Vec<AltCause> {
    let mut out: Vec<AltCause> = scores
        .iter()
        .filter(|(c, _)| **c != primary)
        .map(|(c, (score, phase, _))| AltCause {
            cause: c.to_string(),
            phase: *phase,
            confidence: (score * 100.0).round() / 100.0,
        })
        .collect();
    let declared = fs
        .iter()
        .filter(|f| f.status == FindingStatus::Active && f.cause == primary)
        .filter_map(|f| rules.get(&f.rule_id))
        .flat_map(|r| r.raw.alternatives.iter());
    for a in declared {
        let phase = a
            .phase
            .or_else(|| model::cause(&a.cause).map(|c| c.1[0]))
            .unwrap_or(0);
        let confidence = ((a.confidence.min(primary_score)) * 100.0).round() / 100.0;
        match out.iter_mut().find(|x| x.cause == a.cause) {
            Some(x) => x.confidence = x.confidence.max(confidence),
            None if a.cause != primary => out.push(AltCause {
                cause: a.cause.clone(),
                phase,
                confidence,
            }),
            None => {}
        }
    }
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.cause.cmp(&b.cause))
    });
    out.truncate(policy::ALTERNATIVES);
    out
}

fn dedup(v: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}
