//! Every rule has a fixture that fires it and a near-miss that must not, under
//! `fixtures/rules/<rule-id>/{fail,pass}` (a log file or a bundle directory; a
//! directory of `input-*` directories is analyzed as several inputs at once).
//! Directory fixtures are also packed into a real .tgz at test time.

use analyzer::report::{FindingStatus, Report};
use analyzer::rules::RuleSet;
use analyzer::{analyze, model, Options};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
        .filter_map(Result::ok)
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

/// The report digest, with this checkout's path masked (evidence can name
/// another input by its path).
fn summary(r: &analyzer::report::Report) -> String {
    let root = testkit::workspace().display().to_string();
    analyzer::digest::digest(r).replace(&root, "[workspace]")
}

/// One fixture: the rule must fire on `fail` and not on `pass`; its report
/// is snapshotted; a directory packed as a real .tgz gives the same report.
fn check_fixture(rules: &RuleSet, id: &str, kind: &str) -> Result<(), Failed> {
    let base = fixtures().join(id);
    let paths = inputs(&base, kind).ok_or_else(|| {
        format!("{id}: no {kind} fixture (fixtures/rules/{id}/{kind}.log or {kind}/)")
    })?;
    let r = run(rules, &paths);
    let f = r.findings.iter().find(|f| f.rule_id == id);
    let fired = f.is_some_and(|f| f.status != FindingStatus::Resolved);
    match (kind, fired) {
        ("fail", false) => {
            return Err(format!("{id}: did not fire on its fail fixture\n{}", summary(&r)).into())
        }
        ("pass", true) => {
            return Err(format!("{id}: fired on its near-miss fixture\n{}", summary(&r)).into())
        }
        _ => {}
    }
    insta::assert_snapshot!(format!("rule-{id}-{kind}"), summary(&r));
    if paths.len() == 1 && paths[0].is_dir() {
        let t = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tgz = t.path().join("bundle.tgz");
        testkit::pack_dir(&paths[0], &tgz);
        let packed = run(rules, &[tgz]);
        if summary(&packed) != summary(&r) {
            return Err(format!(
                "{id} {kind}: tgz differs from directory\n--- dir\n{}--- tgz\n{}",
                summary(&r),
                summary(&packed)
            )
            .into());
        }
    }
    Ok(())
}

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
            let with = |l: &str| c.with.is_empty() || c.with.iter().any(|w| w.is_match(l));
            for re in &c.logs {
                if !text.lines().any(|l| re.is_match(l) && with(l)) {
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

/// One test per fixture, so that one failure does not hide the others.
fn main() {
    let args = Arguments::from_args();
    let rules = Arc::new(RuleSet::embedded().expect("rules"));
    let mut trials = vec![
        Trial::test("every_cause_has_a_rule_and_every_fixture_a_rule", || {
            every_cause_has_a_rule_and_every_fixture_a_rule();
            Ok(())
        }),
        Trial::test("every_log_pattern_has_an_example_line", || {
            every_log_pattern_has_an_example_line();
            Ok(())
        }),
    ];
    for rule in &rules.rules {
        for kind in ["fail", "pass"] {
            let (rules, id) = (Arc::clone(&rules), rule.raw.id.clone());
            trials.push(Trial::test(format!("fixture::{id}::{kind}"), move || {
                check_fixture(&rules, &id, kind)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
