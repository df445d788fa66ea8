//! The command line as an operator and a script meet it: exit codes, JSON per
//! input, rule listing, explain, rule checking, help.

use std::process::{Command, Output};

const NODEJOIN: &str = env!("CARGO_BIN_EXE_nodejoin");

fn run(args: &[&str]) -> Output {
    Command::new(NODEJOIN)
        .args(args)
        .current_dir(testkit::workspace())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn exit_codes_and_one_json_object_per_input_in_order() {
    let o = run(&[
        "analyze",
        "--format",
        "json",
        "fixtures/bundles/healthy-kubeadm-pi4",
        "fixtures/rules/swap-kubelet-refuses/fail.log",
        "fixtures/bundles/healthy-k3s-agent-pi3",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let mut lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Several inputs: the last line is the fleet summary (docs/json.md).
    let summary = lines.pop().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["inputs"], 3);
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|v| {
            (
                v["input"].as_str().unwrap(),
                v["verdict"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("fixtures/bundles/healthy-kubeadm-pi4", "joined"),
            ("fixtures/rules/swap-kubelet-refuses/fail.log", "failed"),
            ("fixtures/bundles/healthy-k3s-agent-pi3", "joined")
        ]
    );
    let f = &lines[1]["findings"][0];
    for k in ["rule_id", "cause", "phase", "severity"] {
        assert!(!f[k].is_null(), "finding lacks {k}");
    }
    assert!(
        f["evidence"][0]["file"].is_string()
            && f["evidence"][0]["line"].is_u64()
            && f["evidence"][0]["text"].is_string()
    );
    assert_eq!(lines[0]["verdict"]["phase"], serde_json::Value::Null);

    assert_eq!(
        run(&["analyze", "fixtures/bundles/healthy-kubeadm-pi4"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&[
            "analyze",
            "fixtures/bundles/healthy-kubeadm-pi4",
            "/nonexistent"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(run(&["analyze"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn human_and_markdown_reports() {
    let o = run(&["analyze", "fixtures/bundles/pi-clock-drift-kubeadm"]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.contains("FAILED at phase 3 (authentication-registration): cause clock-drift"),
        "{t}"
    );
    assert!(t.contains("Fix:") && t.contains("nodejoin explain clock-drift-credentials"));
    assert!(!t.contains('\x1b'), "no colour when not a terminal");
    let m = run(&[
        "analyze",
        "--format",
        "markdown",
        "fixtures/bundles/pi-clock-drift-kubeadm",
    ]);
    let md = String::from_utf8_lossy(&m.stdout);
    assert!(
        md.starts_with("## nodejoin:")
            && md.contains("| 3 | authentication-registration | **failed** |"),
        "{md}"
    );
}

#[test]
fn rules_listing_explain_and_check() {
    let o = run(&["rules", "--format", "json"]);
    let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.len() >= 40);
    assert!(v
        .iter()
        .all(|r| r["id"].is_string() && r["cause"].is_string() && r["phase"].is_u64()));
    let e = run(&["explain", "clock-drift-credentials"]);
    let t = String::from_utf8_lossy(&e.stdout);
    assert!(
        e.status.success()
            && t.contains("phase 3")
            && t.contains("Fix:")
            && t.contains("References:")
            && t.contains("cert.client.not_before_ahead_s > 300")
    );
    let e = run(&["explain", "clock"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("did you mean"));
    assert!(run(&["rules", "check", "rules"]).status.success());

    // An operator's rule directory with mistakes: every problem, with file and line.
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.toml"), "id = \"mine\"\ncause = \"swap-enabled\"\nphase = 1\nseverity = \"error\"\nconfidence = 0.5\ntitle = \"t\"\nexplanation = \"long enough explanation of what this rule is for\"\nfix = [\"x\"]\nreferences = [\"r\"]\n[[when]]\nlogs = ['(unclosed']\nfacts = [\"host.swap == true\"]\n").unwrap();
    std::fs::write(t.path().join("b.toml"), "id = \"swap-kubelet-refuses\"\ncause = \"swap-enabled\"\nphase = 1\nseverity = \"fatal\"\n").unwrap();
    let c = run(&["rules", "check", t.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&c.stderr);
    assert_eq!(c.status.code(), Some(2));
    assert!(err.contains("a.toml:11: bad regex"), "{err}");
    assert!(
        err.contains("a.toml:12:") && err.contains("unknown fact"),
        "{err}"
    );
    assert!(
        err.contains("b.toml:4:") && err.contains("unknown variant `fatal`"),
        "{err}"
    );
    // --rules adds an operator's rules to the built-in set.
    std::fs::write(t.path().join("a.toml"), "id = \"site-nfs-stale\"\ncause = \"node-pressure\"\nphase = 4\nseverity = \"error\"\nconfidence = 0.7\ntitle = \"Stale NFS\"\nexplanation = \"Our NAS drops mounts and pods hang on stat; this is our own rule.\"\nfix = [\"remount\"]\nreferences = [\"https://wiki.example/nfs\"]\n[[when]]\nlogs = ['nfs: server \\S+ not responding']\n").unwrap();
    std::fs::remove_file(t.path().join("b.toml")).unwrap();
    let log = t.path().join("k.log");
    std::fs::write(
        &log,
        "Nov 24 05:58:01 pi kernel: nfs: server nas.local not responding, still trying\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "--format",
        "json",
        "--rules",
        t.path().to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"]["rule_id"], "site-nfs-stale");
}

#[test]
fn help_teaches() {
    let h = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    for s in ["host-prepared", "analyze", "explain", "Exit status"] {
        assert!(h.contains(s), "--help lacks {s}");
    }
    let h = String::from_utf8_lossy(&run(&["analyze", "--help"]).stdout).into_owned();
    assert!(h.contains("--format") && h.contains("--rules") && h.contains("one JSON object"));
}

#[test]
fn rules_check_json_names_each_problem_by_code() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.toml"), "id = \"mine\"\ncause = \"swap-enabled\"\nphase = 1\nseverity = \"error\"\nconfidence = 0.5\ntitle = \"t\"\nexplanation = \"long enough explanation of what this rule is for\"\nfix = [\"x\"]\nreferences = [\"r\"]\n[[when]]\nlogs = ['(unclosed']\nfacts = [\"host.swap == true\"]\n").unwrap();
    std::fs::write(t.path().join("b.toml"), "id = \"swap-kubelet-refuses\"\ncause = \"swap-enabled\"\nphase = 1\nseverity = \"error\"\nconfidence = 0.5\ntitle = \"t\"\nexplanation = \"long enough explanation of what this rule is for\"\nfix = [\"x\"]\nreferences = [\"r\"]\n[[when]]\nlogs = ['x']\n").unwrap();
    let dir = t.path().to_str().unwrap();
    let c = run(&["rules", "check", "--format", "json", dir]);
    assert_eq!(c.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    let got: Vec<(String, u64)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_string(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("bad-regex", 11), ("unknown-fact", 12), ("duplicate-id", 1)]
            .map(|(c, l)| (c.to_string(), l))
    );
    assert!(v["rules"].is_null());
    // The text form shows the same codes.
    let c = run(&["rules", "check", dir]);
    let err = String::from_utf8_lossy(&c.stderr);
    assert!(
        err.contains("error[duplicate-id]: ") && err.contains("b.toml:1:"),
        "{err}"
    );
    // The built-in set is clean, and says how many rules it has.
    let c = run(&["rules", "check", "--format", "json"]);
    assert_eq!(c.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert!(v["rules"].as_u64().unwrap() >= 40 && v["problems"] == serde_json::json!([]));
}

/// Two or more nodes and none Ready points at the pod network; a later table
/// with a Ready node (the same cluster after a fix) does not.
#[test]
fn no_node_ready_in_any_table_names_the_pod_network() {
    let t = tempfile::tempdir().unwrap();
    let table = |s: &str| {
        format!(
            "$ kubectl get nodes\nNAME        STATUS     ROLES           AGE   VERSION\n\
             pi-master   {s}   control-plane   8m    v1.31.4\n\
             pi-node-1   NotReady   <none>          5m    v1.31.4\n"
        )
    };
    let cause = |text: &str| {
        let p = t.path().join("paste.txt");
        std::fs::write(&p, text).unwrap();
        let o = run(&["analyze", "--format", "json", p.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["verdict"]["cause"].as_str().map(String::from)
    };
    assert_eq!(cause(&table("NotReady")).as_deref(), Some("cni-not-ready"));
    let later = format!("{}\n{}", table("NotReady"), table("Ready   "));
    assert_eq!(cause(&later), None);
    let one = "NAME        STATUS     ROLES    AGE   VERSION\npi-node-1   NotReady   <none>   5m    v1.31.4\n";
    assert_eq!(cause(one), None);
}
