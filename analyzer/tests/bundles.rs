//! Whole-bundle scenarios under fixtures/bundles: the verdict a senior operator
//! would give, and a reviewed snapshot of each report.

use analyzer::report::{FindingStatus, PhaseStatus, Status};
use analyzer::rules::RuleSet;
use analyzer::{analyze, Options};

fn report(name: &str) -> analyzer::report::Report {
    let rules = RuleSet::embedded().unwrap();
    let p = testkit::workspace().join("fixtures/bundles").join(name);
    analyze(&[p], &rules, &Options::default())
        .remove(0)
        .unwrap()
}

#[test]
fn scenarios() {
    // (bundle, status, phase, cause, rule that decided)
    let cases: &[(&str, Status, Option<u8>, Option<&str>)] = &[
        ("healthy-kubeadm-pi4", Status::Joined, None, None),
        ("healthy-k3s-agent-pi3", Status::Joined, None, None),
        // The product's classic: NotBefore three days ahead, chrony unsynced, no x509 line.
        (
            "pi-clock-drift-kubeadm",
            Status::Failed,
            Some(3),
            Some("clock-drift"),
        ),
        (
            "kubeadm-client-cert-expired",
            Status::Failed,
            Some(3),
            Some("client-cert-expired"),
        ),
        // NotReady/Unknown is the symptom; the root cause is phase 1.
        (
            "k3s-agent-bookworm-memory-cgroup",
            Status::Failed,
            Some(1),
            Some("memory-cgroup-missing"),
        ),
        (
            "kubeadm-cni-portmap-missing",
            Status::Failed,
            Some(4),
            Some("cni-plugin-missing"),
        ),
    ];
    for (name, status, phase, cause) in cases {
        let r = report(name);
        assert_eq!(
            (
                r.verdict.status,
                r.verdict.phase,
                r.verdict.cause.as_deref()
            ),
            (*status, *phase, *cause),
            "{name}"
        );
        assert!(r.problems.is_empty(), "{name}: {:?}", r.problems);
        if *status == Status::Joined {
            assert!(
                r.ladder.iter().all(|p| p.status == PhaseStatus::Passed),
                "{name}"
            );
            assert!(
                r.findings.iter().all(|f| f.status != FindingStatus::Active
                    || f.severity != analyzer::model::Severity::Error),
                "{name}"
            );
        } else {
            assert!(
                !r.verdict.evidence.is_empty() && !r.verdict.fix.is_empty(),
                "{name}"
            );
        }
        insta::assert_snapshot!(format!("bundle-{name}"), summary(&r));
    }
}

#[test]
fn clock_drift_evidence_quotes_the_certificate_and_the_clock() {
    let r = report("pi-clock-drift-kubeadm");
    let ev: Vec<String> = r
        .verdict
        .evidence
        .iter()
        .map(|e| format!("{}: {}", e.file, e.text))
        .collect();
    assert!(
        ev.iter().any(|e| e.contains("kubelet-client-current.pem")
            && e.contains("NotBefore 2026-11-27T06:00:00Z")
            && e.contains("+259200s")),
        "{ev:#?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.contains("chronyc-tracking.out") && e.contains("Not synchronised")),
        "{ev:#?}"
    );
    assert_eq!(r.facts["clock.synced"], analyzer::facts::Value::Bool(false));
}

#[test]
fn full_json_report_of_a_healthy_node() {
    let r = report("healthy-kubeadm-pi4");
    let mut v = serde_json::to_value(&r).unwrap();
    v["input"] = "[input]".into();
    v["analyzer"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("healthy-kubeadm-pi4-json", v);
}

/// The report digest, with this checkout's path masked (evidence can name
/// another input by its path).
fn summary(r: &analyzer::report::Report) -> String {
    let root = testkit::workspace().display().to_string();
    analyzer::digest::digest(r).replace(&root, "[workspace]")
}

/// A report reads back from its own JSON: serialize, deserialize, serialize
/// again gives the same text, for every shipped bundle (healthy and failed,
/// with findings, alternatives, facts of every type and problems).
#[test]
fn reports_round_trip_through_json() {
    let dir = testkit::workspace().join("fixtures/bundles");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        let r = report(&name);
        let json = serde_json::to_string_pretty(&r).unwrap();
        let back: analyzer::report::Report = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{name}: report does not read back: {e}"));
        assert_eq!(
            serde_json::to_string_pretty(&back).unwrap(),
            json,
            "{name}: round trip changed the report"
        );
    }
}
