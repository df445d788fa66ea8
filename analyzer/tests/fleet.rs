//! Fleets and tickets (issue 10): `analyze DIR` with its summary, damaged
//! bundles among good ones, cross-input identity, extra evidence, the
//! timeline, certificates, ticket Markdown, completions, man page, and the
//! kubectl plugin entry point. Real files, real gzip tarballs, real processes.

use analyzer::report::FindingStatus;
use analyzer::rules::RuleSet;
use analyzer::ticket::{self, Flavor};
use analyzer::{analyze, Options};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NODEJOIN: &str = env!("CARGO_BIN_EXE_nodejoin");
const KUBECTL_PLUGIN: &str = env!("CARGO_BIN_EXE_kubectl-nodejoin");

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(testkit::workspace())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn fixture(name: &str) -> PathBuf {
    testkit::workspace().join("fixtures/bundles").join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn analyze_fixture_directory_prints_fleet_summary() {
    let o = run(NODEJOIN, &["analyze", "fixtures/bundles/"]);
    let t = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("Fleet summary: 6 inputs: 2 joined, 4 failed"),
        "{t}"
    );
    assert!(t.contains("[pi-node-3]  FAILED at phase 3"), "{t}");
    let causes = t.split("Causes").nth(1).expect("causes section");
    assert!(causes.contains("clock-drift\n        pi-node-3"), "{t}");
    assert!(t.contains("Failed at phase:\n") && t.contains("2  3 authentication-registration"));
    // --summary: the summary alone.
    let s = stdout(&run(
        NODEJOIN,
        &["analyze", "--summary", "fixtures/bundles/"],
    ));
    assert!(s.starts_with("Fleet summary: 6 inputs"), "{s}");
    assert!(!s.contains("[pi-node-3]"), "{s}");
}

/// A fleet directory with good bundles, a truncated one, one that is not a
/// tarball at all, and one that cannot be opened: the good ones are still
/// analyzed and the summary names every bad one with its reason.
#[test]
fn corrupt_bundles_do_not_stop_the_others() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    testkit::pack_dir(&fixture("healthy-kubeadm-pi4"), &d.join("a-good.tgz"));
    testkit::pack_dir(&fixture("pi-clock-drift-kubeadm"), &d.join("b-drift.tgz"));
    testkit::pack_dir(
        &fixture("kubeadm-client-cert-expired"),
        &d.join("c-cut.tgz"),
    );
    let full = std::fs::read(d.join("c-cut.tgz")).unwrap();
    std::fs::write(d.join("c-cut.tgz"), &full[..full.len() / 2]).unwrap();
    std::fs::write(d.join("d-garbage.tgz"), b"this is not a bundle\n\x00\x01").unwrap();
    let locked = d.join("e-locked.tgz");
    std::fs::create_dir(&locked).unwrap(); // a directory named like a bundle, unreadable as one
    std::fs::write(locked.join("manifest.json"), b"{").unwrap();
    let dir = d.to_str().unwrap();
    let o = run(NODEJOIN, &["analyze", "--format", "json", dir]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "5 inputs and the summary");
    let s = &lines[5];
    assert_eq!(s["kind"], "summary");
    assert_eq!(s["inputs"], 5);
    assert_eq!(lines[0]["verdict"]["status"], "joined");
    assert_eq!(lines[1]["verdict"]["cause"], "clock-drift");
    let bad: Vec<(String, String)> = s["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                Path::new(u["input"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        bad.iter()
            .any(|(n, r)| n == "c-cut.tgz" && r.contains("truncated")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|(n, r)| n == "d-garbage.tgz" && r.contains("neither gzip nor tar")),
        "{bad:?}"
    );
    let table = stdout(&run(NODEJOIN, &["analyze", dir]));
    assert!(table.contains("Unreadable or damaged inputs:"), "{table}");
    assert!(table.contains("a-good.tgz  [pi-node-1]  JOINED"), "{table}");
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&t).unwrap();
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// Two nodes cloned from one image: distinct machine-ids, but one
/// product_uuid and one MAC. Both are flagged; a third, distinct node is not.
#[test]
fn cross_input_identity_flags_every_node_involved() {
    let t = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, (uuid, mac)) in [
        ("4c4c4544-0042-3510-8052-b4c04f4d3232", "52:54:00:aa:bb:01"),
        ("4c4c4544-0042-3510-8052-b4c04f4d3232", "52:54:00:aa:bb:01"),
        ("4c4c4544-0042-3510-8052-b4c04f4d3299", "52:54:00:aa:bb:99"),
    ]
    .iter()
    .enumerate()
    {
        let d = t.path().join(format!("node-{i}"));
        std::fs::create_dir_all(&d).unwrap();
        copy_dir(&fixture("healthy-kubeadm-pi4"), &d);
        testkit::put(&d, "files/etc/machine-id", format!("{i:032x}\n"));
        testkit::put(&d, "files/etc/hostname", format!("pi-{i}\n"));
        let m = std::fs::read_to_string(d.join("manifest.json")).unwrap();
        let mut m: serde_json::Value = serde_json::from_str(&m).unwrap();
        m["host"]["hostname"] = format!("pi-{i}").into();
        m["host"]["node_name"] = format!("pi-{i}").into();
        testkit::put(&d, "manifest.json", m.to_string());
        testkit::put(
            &d,
            "files/sys/class/dmi/id/product_uuid",
            format!("{uuid}\n"),
        );
        testkit::put(
            &d,
            "commands/ip-link.out",
            format!("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\\    link/ether {mac} brd ff:ff:ff:ff:ff:ff\n"),
        );
        paths.push(d);
    }
    let rules = RuleSet::embedded().unwrap();
    let reports: Vec<_> = analyze(&paths, &rules, &Options::default())
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let flagged = |i: usize| {
        reports[i].findings.iter().any(|f| {
            f.rule_id == "host-identity-shared"
                && f.cause == "host-identity-duplicate"
                && f.status == FindingStatus::Active
        })
    };
    assert!(flagged(0) && flagged(1), "{:#?}", reports[0].findings);
    assert!(!flagged(2));
    let f = &reports[0].facts;
    assert_eq!(
        f["identity.product_uuid_shared"],
        analyzer::facts::Value::Bool(true)
    );
    assert_eq!(f["identity.mac_shared"], analyzer::facts::Value::Bool(true));
    assert_eq!(
        f["identity.machine_id_shared"],
        analyzer::facts::Value::Bool(false)
    );
    let s = analyzer::fleet::summarize(&analyze(&paths, &rules, &Options::default()));
    let c = s
        .causes
        .iter()
        .find(|c| c.cause == "host-identity-duplicate")
        .expect("cause in summary");
    assert_eq!(c.nodes, ["pi-0", "pi-1"], "{c:?}");
}

/// An admin's `kubectl get node -o yaml` and `kubectl get events` are read
/// as part of the input: a bare kubelet log gains the Node's facts and the
/// events' findings.
#[test]
fn node_yaml_and_events_are_extra_evidence() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("kubelet.log");
    std::fs::write(&log, "Nov 24 05:50:00 pi kubelet[812]: I1124 05:50:00.1 812 kubelet.go:1] \"Starting kubelet\"\n").unwrap();
    let node = t.path().join("node.yaml");
    std::fs::write(
        &node,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: pi-7\n  creationTimestamp: \"2026-11-24T05:51:00Z\"\nspec:\n  podCIDR: 10.244.3.0/24\nstatus:\n  conditions:\n  - type: Ready\n    status: \"False\"\n    reason: KubeletNotReady\n    message: \"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized\"\n    lastHeartbeatTime: \"2026-11-24T05:59:00Z\"\n    lastTransitionTime: \"2026-11-24T05:51:00Z\"\n",
    )
    .unwrap();
    let events = t.path().join("events.txt");
    std::fs::write(
        &events,
        "LAST SEEN   TYPE      REASON         OBJECT       MESSAGE\n2m          Warning   NodeNotReady   node/pi-7    container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized\n",
    )
    .unwrap();
    let bare = run(
        NODEJOIN,
        &["analyze", "--format", "json", log.to_str().unwrap()],
    );
    let bare: serde_json::Value = serde_json::from_slice(&bare.stdout).unwrap();
    assert!(bare["facts"]["node.present"].is_null());
    let o = run(
        NODEJOIN,
        &[
            "analyze",
            "--format",
            "json",
            "--node-yaml",
            node.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["facts"]["node.present"], true, "{v:#}");
    assert_eq!(v["facts"]["node.ready"], "False");
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .filter_map(|e| e["file"].as_str())
        .collect();
    assert!(
        files.iter().any(|f| f.contains("kubectl-get-events")),
        "events were not read: {files:?}"
    );
    let missing = run(
        NODEJOIN,
        &[
            "analyze",
            "--events",
            "/nonexistent/x",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn timeline_of_the_clock_drift_bundle_shows_corrected_times() {
    let o = run(
        NODEJOIN,
        &["timeline", "fixtures/bundles/pi-clock-drift-kubeadm"],
    );
    let t = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("node clock behind by at least 3d 0h"), "{t}");
    assert!(t.contains("moved forward by 259200.0 s"), "{t}");
    // The kubelet started at 05:50 on the node clock: 3 days later in truth.
    assert!(
        t.contains("2026-11-27T05:50:00.123Z") && t.contains("[node 2026-11-24T05:50:00.123Z]"),
        "{t}"
    );
    let j = run(
        NODEJOIN,
        &[
            "timeline",
            "--format",
            "json",
            "fixtures/bundles/pi-clock-drift-kubeadm",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["correction"]["basis"], "inferred");
    assert_eq!(v["correction"]["offset_s"], -259200.0);
    let ev = v["events"].as_array().unwrap();
    let times: Vec<f64> = ev.iter().map(|e| e["time"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ordered");
    let start = ev.iter().find(|e| e["id"] == "kubelet-start").unwrap();
    assert_eq!(start["phase"], 1);
    assert_eq!(start["clock"], "node");
    assert_eq!(start["node_time"], "2026-11-24T05:50:00.123Z");
    assert!(ev
        .iter()
        .any(|e| e["id"] == "cert-not-before" && e["clock"] == "cluster"));
    let md = stdout(&run(
        NODEJOIN,
        &[
            "timeline",
            "--format",
            "markdown",
            "fixtures/bundles/pi-clock-drift-kubeadm",
        ],
    ));
    assert!(
        md.starts_with("## nodejoin timeline:")
            && md.contains(
                "| 2026-11-27T05:50:00.123Z | 2026-11-24T05:50:00.123Z | 1 host-prepared |"
            ),
        "{md}"
    );
}

#[test]
fn certs_are_checked_against_both_clocks() {
    let o = run(
        NODEJOIN,
        &[
            "certs",
            "--format",
            "json",
            "fixtures/bundles/pi-clock-drift-kubeadm",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let certs = v["certificates"].as_array().unwrap();
    let client = certs
        .iter()
        .find(|c| {
            c["subject"]
                .as_str()
                .unwrap()
                .contains("system:node:pi-node-3")
        })
        .unwrap();
    assert_eq!(client["verdict"], "node-clock-only");
    assert!(client["node_clock"]
        .as_str()
        .unwrap()
        .starts_with("not yet valid"));
    assert!(client["reference_clock"]
        .as_str()
        .unwrap()
        .starts_with("valid"));
    assert_eq!(client["issuer"], "CN=kubernetes");
    let ok = run(NODEJOIN, &["certs", "fixtures/bundles/healthy-kubeadm-pi4"]);
    let t = stdout(&ok);
    assert_eq!(ok.status.code(), Some(0), "{t}");
    assert!(t.contains("NotBefore") && t.contains(" ok "), "{t}");
    let exp = run(
        NODEJOIN,
        &[
            "certs",
            "--format",
            "json",
            "fixtures/bundles/kubeadm-client-cert-expired",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&exp.stdout).unwrap();
    assert!(v["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["verdict"] == "expired"));
}

fn drift_report() -> analyzer::report::Report {
    let rules = RuleSet::embedded().unwrap();
    analyze(
        &[fixture("pi-clock-drift-kubeadm")],
        &rules,
        &Options::default(),
    )
    .remove(0)
    .unwrap()
}

fn stable(s: String) -> String {
    let ws = testkit::workspace().display().to_string();
    // Jira escapes its markup characters, a path's `-` and `_` among them.
    let jira: String = ws
        .chars()
        .flat_map(|c| {
            let esc = "{}[]|*_+-^~?!#".contains(c);
            esc.then_some('\\').into_iter().chain([c])
        })
        .collect();
    s.replace(&ws, "<ws>")
        .replace(&jira, "<ws>")
        .replace(env!("CARGO_PKG_VERSION"), "<version>")
}

#[test]
fn ticket_markdown_github() {
    let r = drift_report();
    let md = ticket::render(&r, Flavor::Github);
    assert!(
        md.contains("> [!CAUTION]")
            && md.contains("<details>\n<summary>Phase ladder</summary>\n\n")
    );
    assert!(md.contains("```text\n"));
    insta::assert_snapshot!("ticket-github", stable(md));
}

#[test]
fn ticket_markdown_gitlab() {
    let md = ticket::render(&drift_report(), Flavor::Gitlab);
    assert!(!md.contains("[!CAUTION]") && md.contains("</details>"));
    insta::assert_snapshot!("ticket-gitlab", stable(md));
}

#[test]
fn ticket_jira() {
    let md = ticket::render(&drift_report(), Flavor::Jira);
    assert!(md.contains("{noformat}") && md.contains("||#||phase||status||why||"));
    insta::assert_snapshot!("ticket-jira", stable(md));
}

#[test]
fn completions_man_page_and_kubectl_plugin() {
    for sh in ["bash", "zsh", "fish"] {
        let o = run(NODEJOIN, &["completions", sh]);
        let t = stdout(&o);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            t.contains("nodejoin") && t.contains("timeline") && t.contains("node-yaml"),
            "{sh}: {t}"
        );
    }
    let man = stdout(&run(NODEJOIN, &["man"]));
    assert!(
        man.contains(".TH nodejoin") && man.contains("analyze"),
        "{man}"
    );
    let a = run(
        NODEJOIN,
        &["analyze", "fixtures/bundles/pi-clock-drift-kubeadm"],
    );
    let b = run(
        KUBECTL_PLUGIN,
        &["analyze", "fixtures/bundles/pi-clock-drift-kubeadm"],
    );
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(b.status.code(), Some(1));
    // kubectl finds plugins as kubectl-NAME on PATH; a stand-in kubectl that
    // does the same proves the name works as a plugin.
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(KUBECTL_PLUGIN, t.path().join("kubectl-nodejoin")).unwrap();
    let kubectl = t.path().join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\nsub=$1; shift; exec \"kubectl-$sub\" \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = Command::new(&kubectl)
        .args([
            "nodejoin",
            "analyze",
            "fixtures/bundles/healthy-kubeadm-pi4",
        ])
        .current_dir(testkit::workspace())
        .env("PATH", t.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&o).contains("JOINED"));
}
