//! Every rule has a fixture that fires it and a near-miss that must not, under
//! `fixtures/rules/<rule-id>/{fail,pass}` (a log file or a bundle directory; a
//! directory of `input-*` directories is analyzed as several inputs at once).
//! Directory fixtures are also packed into a real .tgz at test time.

use analyzer::report::{FindingStatus, Report};
use analyzer::rules::RuleSet;
use analyzer::{analyze, model, Options};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    testkit::workspace().join("fixtures/rules")
}

fn inputs(base: &Path, kind: &str) -> Option<Vec<PathBuf>> {
    let log = base.join(format!("{kind}.log"));
    if log.exists() {
        return Some(vec![log]);
    }
    let dir = base.join(kind);
    if !dir.is_dir() {
        return None;
    }
    let mut multi: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("input-"))
        })
        .collect();
    multi.sort();
    Some(if multi.is_empty() { vec![dir] } else { multi })
}

fn run(rules: &RuleSet, paths: &[PathBuf]) -> Report {
    analyze(paths, rules, &Options::default())
        .into_iter()
        .next()
        .expect("one report")
        .expect("fixture readable")
}

/// A compact, reviewable summary for snapshots.
pub fn summary(r: &Report) -> String {
    let v = &r.verdict;
    let mut s = format!(
        "verdict: {:?} phase={:?} cause={:?} rule={:?}\n",
        v.status, v.phase, v.cause, v.rule_id
    );
    s.push_str("ladder:");
    for p in &r.ladder {
        s.push_str(&format!(" {}={:?}", p.phase, p.status));
    }
    s.push('\n');
    for f in &r.findings {
        s.push_str(&format!(
            "finding: {} ({}, {:?}, {:?}, basis {})\n",
            f.rule_id, f.cause, f.severity, f.status, f.basis
        ));
    }
    for p in &r.problems {
        s.push_str(&format!("problem: {}: {}\n", p.path, p.problem));
    }
    s
}

#[test]
fn every_rule_fires_on_its_fixture_and_not_on_its_near_miss() {
    let rules = RuleSet::embedded().expect("rules");
    let mut failures = Vec::new();
    for rule in &rules.rules {
        let id = &rule.raw.id;
        let base = fixtures().join(id);
        for kind in ["fail", "pass"] {
            let Some(paths) = inputs(&base, kind) else {
                failures.push(format!(
                    "{id}: no {kind} fixture (fixtures/rules/{id}/{kind}.log or {kind}/)"
                ));
                continue;
            };
            let r = run(&rules, &paths);
            let f = r.findings.iter().find(|f| &f.rule_id == id);
            let fired = f.is_some_and(|f| f.status != FindingStatus::Resolved);
            match (kind, fired) {
                ("fail", false) => failures.push(format!(
                    "{id}: did not fire on its fail fixture\n{}",
                    summary(&r)
                )),
                ("pass", true) => failures.push(format!(
                    "{id}: fired on its near-miss fixture\n{}",
                    summary(&r)
                )),
                _ => {}
            }
            insta::assert_snapshot!(format!("rule-{id}-{kind}"), summary(&r));
            // The same fixture as a real gzip tarball gives the same verdict.
            if paths.len() == 1 && paths[0].is_dir() {
                let t = tempfile::tempdir().unwrap();
                let tgz = t.path().join("bundle.tgz");
                testkit::pack_dir(&paths[0], &tgz);
                let packed = run(&rules, &[tgz]);
                assert_eq!(
                    summary(&packed),
                    summary(&r),
                    "{id} {kind}: tgz differs from directory"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_cause_has_a_rule_and_every_fixture_a_rule() {
    let rules = RuleSet::embedded().unwrap();
    for (cause, ..) in model::CAUSES {
        assert!(
            rules
                .rules
                .iter()
                .any(|r| r.raw.cause == *cause && r.raw.severity == model::Severity::Error),
            "no error rule for cause {cause}"
        );
    }
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            rules.get(&name).is_some(),
            "fixtures/rules/{name} has no rule"
        );
    }
}

/// Each log pattern must match a line of its rule's fail fixture: no pattern
/// goes untested, and each is shown a message in its real wording.
#[test]
fn every_log_pattern_has_an_example_line() {
    let rules = RuleSet::embedded().unwrap();
    let mut missing = Vec::new();
    for rule in &rules.rules {
        let base = fixtures().join(&rule.raw.id);
        let mut text = String::new();
        let mut stack = vec![base.join("fail.log"), base.join("fail")];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if let Ok(t) = std::fs::read(&p) {
                text.push_str(&String::from_utf8_lossy(&t));
            }
        }
        for c in &rule.clauses {
            for re in &c.logs {
                if !text.lines().any(|l| re.is_match(l)) {
                    missing.push(format!("{}: {}", rule.raw.id, re.as_str()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "patterns with no example line in their fail fixture:\n{}",
        missing.join("\n")
    );
}
