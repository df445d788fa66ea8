//! Fuzz target bodies, shared by the cargo-fuzz targets (`analyzer/fuzz`,
//! nightly) and by the stable test `tests/fuzz_targets.rs`, which feeds them
//! seeds from `fixtures/` and the adversarial generator plus mutations.
//! Each body must return without panicking, whatever the bytes.
#![allow(dead_code)]

use analyzer::input::Limits;
use analyzer::rules::RuleSet;
use analyzer::Options;
use std::path::Path;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(|| RuleSet::embedded().expect("built-in rules"))
}

fn opts() -> Options {
    Options {
        limits: Limits {
            max_entries: 2_000,
            max_total: 64 << 20,
            max_entry: 16 << 20,
            max_seconds: 10,
        },
        ..Options::default()
    }
}

fn analyze(p: &Path) {
    for r in analyzer::analyze(&[p.to_path_buf()], rules(), &opts())
        .into_iter()
        .flatten()
    {
        {
            // Every renderer too: they must not panic on any report.
            for f in [
                analyzer::ticket::Flavor::Github,
                analyzer::ticket::Flavor::Gitlab,
                analyzer::ticket::Flavor::Jira,
            ] {
                let _ = analyzer::ticket::render(&r, f);
            }
            let _ = analyzer::render::text(
                &r,
                &analyzer::render::Style {
                    color: false,
                    width: 100,
                },
            );
            let _ = serde_json::to_string(&r);
        }
    }
}

fn in_file(name: &str, data: &[u8]) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join(name);
    std::fs::write(&p, data).unwrap();
    analyze(&p);
}

/// A bundle directory holding `data` at `path` (plus a manifest).
fn in_bundle(path: &str, data: &[u8]) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    std::fs::write(
        t.path().join("manifest.json"),
        br#"{"format":"nodejoin-bundle","version":1,"collected_at_unix_ms":1795500000000,"collected_at":"2026-11-24T06:00:00Z"}"#,
    )
    .unwrap();
    analyze(t.path());
}

/// The bundle reader on raw bytes: .tgz, .tar, a log, whatever the sniff says.
pub fn bundle_raw(data: &[u8]) {
    in_file("input.tgz", data);
}

/// The tar reader behind gzip: `data` is the uncompressed tar stream.
pub fn bundle_tar(data: &[u8]) {
    in_file("input.tar", data);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, data).unwrap();
    in_file("input.tgz", &e.finish().unwrap());
}

/// A directory: `data` is split into files at lines `--- NAME`.
pub fn bundle_dir(data: &[u8]) {
    let t = tempfile::tempdir().unwrap();
    let text = String::from_utf8_lossy(data);
    let mut name = String::from("commands/journal-kubelet.out");
    let mut body = String::new();
    let mut files = Vec::new();
    for l in text.split_inclusive('\n') {
        if let Some(n) = l.strip_prefix("--- ") {
            files.push((std::mem::take(&mut name), std::mem::take(&mut body)));
            name = n.trim().to_string();
        } else {
            body.push_str(l);
        }
    }
    files.push((name, body));
    for (n, b) in files.into_iter().take(64) {
        let Ok(rel) = analyzer::input::clean_path(&n) else {
            continue;
        };
        let p = t.path().join(rel);
        if let Some(d) = p.parent() {
            if std::fs::create_dir_all(d).is_err() {
                continue;
            }
        }
        let _ = std::fs::write(&p, b);
    }
    analyze(t.path());
}

/// A log pasted into a ticket (and its sections, parsed by shape).
pub fn pasted(data: &[u8]) {
    let _ = analyzer::paste::sections(&String::from_utf8_lossy(data));
    in_file("kubelet-journal.txt", data);
}

/// The node object, directly and as a bundle would hold it.
pub fn node(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = analyzer::parse::node::objects(&text);
    let _ = analyzer::parse::node::describes(&text);
    let _ = analyzer::parse::node::from_get_nodes(&text);
    in_bundle("commands/kubectl-get-node.out", data);
}

pub fn kubeconfig(data: &[u8]) {
    in_bundle("files/etc/kubernetes/kubelet.conf", data);
}

pub fn kubelet_config(data: &[u8]) {
    in_bundle("files/var/lib/kubelet/config.yaml", data);
}

pub fn containerd_config(data: &[u8]) {
    in_bundle("files/etc/containerd/config.toml", data);
}

pub fn certificates(data: &[u8]) {
    let _ = analyzer::parse::certs::parse("x.pem", data);
    in_bundle("files/var/lib/kubelet/pki/kubelet-client-current.pem", data);
}

/// The rule loader: one file, then with the built-in set.
pub fn rule_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = analyzer::rules::compile("fuzz.toml", &text);
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("fuzz.toml"), data).unwrap();
    let _ = RuleSet::with_dir(t.path());
}

/// Every target by name, for harnesses.
pub type Target = fn(&[u8]);

pub const TARGETS: &[(&str, Target)] = &[
    ("bundle_raw", bundle_raw),
    ("bundle_tar", bundle_tar),
    ("bundle_dir", bundle_dir),
    ("pasted", pasted),
    ("node", node),
    ("kubeconfig", kubeconfig),
    ("kubelet_config", kubelet_config),
    ("containerd_config", containerd_config),
    ("certificates", certificates),
    ("rule_file", rule_file),
];
