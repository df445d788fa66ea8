//! The components' own message strings: `fixtures/wording/messages.tsv` holds
//! format strings read in kubelet, kubeadm, client-go, k3s, containerd, cri-o,
//! moby, CNI and kernel source (file and versions in each row), each with one
//! log line built from it. Every line must get the cause in its `expect`
//! column; where that differs from the cause the message is about, the row's
//! note says why the line alone is not taken as evidence.
//!
//! `fixtures/wording/healthy.tsv` holds what healthy nodes print (start-up,
//! harmless warnings, a Ready `kubectl get nodes`), from the same sources: all
//! of it pasted together must name no cause, and each line alone only what its
//! row allows.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

struct Row {
    expect: String,
    label: String,
    source: String,
    example: String,
    note: String,
}

fn table(name: &str, columns: usize) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/wording")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("wording table");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<String> = l.split('\t').map(String::from).collect();
            assert_eq!(c.len(), columns, "{columns} tab-separated columns: {l}");
            c
        })
        .collect()
}

fn rows() -> Vec<Row> {
    table("messages.tsv", 8)
        .into_iter()
        .map(|c| Row {
            expect: c[0].clone(),
            label: c[1].clone(),
            source: c[4].clone(),
            example: c[6].clone(),
            note: c[7].clone(),
        })
        .collect()
}

/// The verdict's cause (or "none") for each text, analyzed as a pasted file.
fn causes(texts: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = dir.path().join(format!("m{i}.log"));
            std::fs::write(&p, t).unwrap();
            p
        })
        .collect();
    let rules = analyzer::rules::RuleSet::embedded().expect("built-in rules");
    analyzer::analyze(&paths, &rules, &analyzer::Options::default())
        .into_iter()
        .map(|r| {
            r.expect("report")
                .verdict
                .cause
                .unwrap_or_else(|| "none".into())
        })
        .collect()
}

#[test]
fn every_message_string_gets_its_cause() {
    let rows = rows();
    assert!(rows.len() >= 200, "{} rows", rows.len());
    let texts: Vec<String> = rows.iter().map(|r| format!("{}\n", r.example)).collect();
    let got = causes(&texts);
    let mut wrong = Vec::new();
    for (r, got) in rows.iter().zip(got) {
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

#[test]
fn what_healthy_nodes_print_names_no_cause() {
    let rows = table("healthy.tsv", 7);
    assert!(rows.len() >= 150, "{} rows", rows.len());
    let mut texts: Vec<String> = rows.iter().map(|c| format!("{}\n", c[5])).collect();
    let together: String = texts.concat();
    texts.push(together);
    let got = causes(&texts);
    let (alone, all) = got.split_at(rows.len());
    assert_eq!(
        all[0], "none",
        "all healthy lines pasted together name a cause"
    );
    let mut wrong = Vec::new();
    for (c, got) in rows.iter().zip(alone) {
        assert!(
            c[0] == "none" || !c[6].is_empty(),
            "a healthy line allowed to name a cause needs a note: {}",
            c[5]
        );
        if *got != c[0] {
            wrong.push(format!("want {} got {got} [{}]: {}", c[0], c[3], c[5]));
        }
    }
    let quiet = rows.iter().filter(|c| c[0] == "none").count();
    println!("{} healthy lines: {quiet} name no cause alone", rows.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
