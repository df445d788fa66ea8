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

fn summary(r: &analyzer::report::Report) -> String {
    let v = &r.verdict;
    let mut s = format!(
        "verdict: {:?} phase={:?} cause={:?} rule={:?} confidence={:?}\n{}\n",
        v.status, v.phase, v.cause, v.rule_id, v.confidence, v.title
    );
    for e in &v.evidence {
        s.push_str(&format!("  evidence {}:{:?}: {}\n", e.file, e.line, e.text));
    }
    for p in &r.ladder {
        s.push_str(&format!(
            "phase {} {} {:?}: {}\n",
            p.phase, p.id, p.status, p.note
        ));
    }
    for f in &r.findings {
        s.push_str(&format!(
            "finding {} ({}) {:?} {:?} {}\n",
            f.rule_id,
            f.cause,
            f.severity,
            f.status,
            f.note.clone().unwrap_or_default()
        ));
    }
    s
}

#[test]
fn offsets_are_inferred_from_registration_time_and_x509_errors() {
    let rules = RuleSet::embedded().unwrap();
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let put = |p: &str, c: &str| {
        std::fs::create_dir_all(d.join(p).parent().unwrap()).unwrap();
        std::fs::write(d.join(p), c).unwrap();
    };
    // Collected at 2026-11-24T06:00:00Z. The API server created the Node at
    // 2026-11-23T06:00:00Z (cluster clock); the kubelet logged the registration
    // at 04:00:00 on its own clock: the node is two hours behind.
    put("probes/clock.json", "{\"node_time\":\"2026-11-24T06:00:00.000000Z\",\"node_time_unix_ms\":1795500000000,\"offsets\":[]}");
    put("commands/kubectl-get-node.out", "apiVersion: v1\nkind: Node\nmetadata:\n  name: pi-node-1\n  creationTimestamp: \"2026-11-23T06:00:00Z\"\n");
    put("commands/journal-kubelet.out", "2026-11-23T04:00:00.000000+0000 pi-node-1 kubelet[812]: I1123 04:00:00.000000     812 kubelet_node_status.go:79] \"Successfully registered node\" node=\"pi-node-1\"\n");
    let r = analyze(&[d.to_path_buf()], &rules, &Options::default())
        .remove(0)
        .unwrap();
    assert_eq!(
        r.facts["clock.inferred_offset_s"],
        analyzer::facts::Value::Num(-7200.0)
    );

    // An x509 error that states both clocks.
    put("commands/kubectl-get-node.out", "");
    put("commands/journal-kubelet.out", "2026-11-24T05:58:01.000000+0000 pi-node-1 kubelet[812]: E1124 05:58:01.000000     812 kubelet_node_status.go:96] \"Unable to register node with API server\" err=\"Post \\\"https://127.0.0.1:6443/api/v1/nodes\\\": x509: certificate has expired or is not yet valid: current time 2026-11-24T05:58:01Z is before 2026-11-27T06:00:00Z\"\n");
    let r = analyze(&[d.to_path_buf()], &rules, &Options::default())
        .remove(0)
        .unwrap();
    assert_eq!(
        r.facts["clock.inferred_offset_s"],
        analyzer::facts::Value::Num(-259319.0)
    );
    assert_eq!(r.verdict.cause.as_deref(), Some("clock-drift"));
}
