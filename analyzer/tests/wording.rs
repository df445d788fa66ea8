//! The components' own message strings: `fixtures/wording/messages.tsv` holds
//! format strings read in kubelet, kubeadm, client-go, k3s, containerd, cri-o,
//! moby, CNI and kernel source (file and versions in each row), each with one
//! log line built from it. Every line must get the cause in its `expect`
//! column; where that differs from the cause the message is about, the row's
//! note says why the line alone is not taken as evidence.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

struct Row {
    expect: String,
    label: String,
    source: String,
    example: String,
    note: String,
}

fn rows() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/wording/messages.tsv");
    let text = std::fs::read_to_string(&path).expect("messages.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 8, "8 tab-separated columns: {l}");
            Row {
                expect: c[0].into(),
                label: c[1].into(),
                source: c[4].into(),
                example: c[6].into(),
                note: c[7].into(),
            }
        })
        .collect()
}

#[test]
fn every_message_string_gets_its_cause() {
    let rows = rows();
    assert!(rows.len() >= 200, "{} rows", rows.len());
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let p = dir.path().join(format!("m{i}.log"));
            std::fs::write(&p, format!("{}\n", r.example)).unwrap();
            p
        })
        .collect();
    let rules = analyzer::rules::RuleSet::embedded().expect("built-in rules");
    let reports = analyzer::analyze(&paths, &rules, &analyzer::Options::default());
    let mut wrong = Vec::new();
    for (r, rep) in rows.iter().zip(reports) {
        let got = rep
            .expect("report")
            .verdict
            .cause
            .unwrap_or_else(|| "none".into());
        assert!(
            r.expect == r.label || !r.note.is_empty(),
            "a row whose expectation differs from its cause needs a note: {}",
            r.example
        );
        if got != r.expect {
            wrong.push(format!(
                "want {} got {got} [{}]: {}",
                r.expect, r.source, r.example
            ));
        }
    }
    let named = rows.iter().filter(|r| r.expect == r.label).count();
    println!(
        "{} message strings: {named} name their cause, {} are not taken as evidence alone",
        rows.len(),
        rows.len() - named
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
