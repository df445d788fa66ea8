//! A compact, reviewable rendering of a report: verdict, evidence, ladder,
//! findings, problems. Snapshot tests compare this, so a change in behaviour
//! shows as a small diff.

use crate::report::Report;
use std::fmt::Write;

pub fn digest(r: &Report) -> String {
    let v = &r.verdict;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "verdict: {:?} phase={:?} cause={:?} rule={:?} confidence={:?}\n{}",
        v.status, v.phase, v.cause, v.rule_id, v.confidence, v.title
    );
    for e in &v.evidence {
        let _ = writeln!(s, "  evidence {}:{:?}: {}", e.file, e.line, e.text);
    }
    for a in &v.alternatives {
        let _ = writeln!(
            s,
            "  alternative {} phase={} confidence={}",
            a.cause, a.phase, a.confidence
        );
    }
    for p in &r.ladder {
        let _ = writeln!(s, "phase {} {} {:?}: {}", p.phase, p.id, p.status, p.note);
    }
    for f in &r.findings {
        let _ = writeln!(
            s,
            "finding {} ({}) {:?} {:?} basis {} {}",
            f.rule_id,
            f.cause,
            f.severity,
            f.status,
            f.basis,
            f.note.clone().unwrap_or_default()
        );
    }
    for p in &r.problems {
        let _ = writeln!(s, "problem: {}: {}", p.path, p.problem);
    }
    s
}
