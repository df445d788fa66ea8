//! The scanner's fast paths (the buffer search that skips lines no pattern
//! can match, and reusing matches for lines of the same shape) must find
//! exactly what reading every line on its own finds: on every text file in
//! `fixtures/`, and on generated logs that mix real rule wording with JSON,
//! `#011`, CR, invalid UTF-8, braces and changing headers.

use analyzer::input::Sink;
use analyzer::rules::RuleSet;
use analyzer::scan::{Patterns, Scanner};
use proptest::prelude::*;
use std::path::Path;

/// What a scan found, in a comparable form.
fn scan(pats: &Patterns, exact: bool, path: &str, data: &[u8]) -> String {
    let mut sc = if exact {
        Scanner::exact(pats)
    } else {
        Scanner::new(pats)
    };
    sc.entry(path, Some(data.len() as u64), &mut &data[..])
        .expect("in-memory read");
    let mut hits: Vec<String> = sc
        .out
        .hits
        .iter()
        .map(|(k, h)| {
            let lines: Vec<_> = h
                .all()
                .map(|x| (x.line, x.text.clone(), x.source))
                .collect();
            format!("{k:?} {} {lines:?}", h.count)
        })
        .collect();
    hits.sort();
    let ms: Vec<String> = sc
        .out
        .milestones
        .iter()
        .map(|(k, h)| {
            let lines: Vec<_> = h.all().map(|x| x.line).collect();
            format!("{k} {} {lines:?}", h.count)
        })
        .collect();
    let logs: Vec<_> = sc.out.logs.iter().map(|l| (l.lines, l.bytes)).collect();
    format!("{hits:#?}\n{ms:?}\n{logs:?}")
}

fn same(pats: &Patterns, path: &str, data: &[u8]) {
    let fast = scan(pats, false, path, data);
    let exact = scan(pats, true, path, data);
    if fast != exact {
        let d: Vec<_> = fast
            .lines()
            .zip(exact.lines())
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        panic!(
            "{path}: fast paths differ (fast, exact): {d:#?}\ninput: {:?}",
            String::from_utf8_lossy(&data[..data.len().min(3000)])
        );
    }
}

fn texts(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            texts(&p, out);
        } else if p.metadata().is_ok_and(|m| m.len() < 4 << 20)
            && !p.extension().is_some_and(|x| x == "tgz" || x == "gz")
        {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn fixtures_scan_the_same_both_ways() {
    let rules = RuleSet::embedded().expect("built-in rules");
    let pats = Patterns::new(&rules);
    let mut all = Vec::new();
    texts(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
        &mut all,
    );
    assert!(all.len() > 300, "fixtures not found");
    for (name, data) in &all {
        // As a kubelet journal (log path: both paths apply).
        same(&pats, "commands/journal-kubelet.out", data);
        let _ = name;
    }
}

/// Pieces of log lines: real rule wording, headers, JSON, escapes.
fn pieces() -> Vec<String> {
    let mut v: Vec<String> = [
        "Nov 24 05:58:01 pi-1 kubelet[812]: ",
        "Nov  4 15:08:21.123 pi-2 kubelet[9]: ",
        "2026-11-24T05:58:01.123456+0000 pi kubelet[1]: ",
        "Nov 24 05:58:01 pi k3s[77]: ",
        "E1124 05:58:01.123456     812 kubelet.go:2421] ",
        "I1125 00:00:01.000001   7 server.go:1] ",
        "time=\"2026-11-24T05:58:01Z\" level=error msg=\"",
        "{\"log\":\"",
        "{\"level\":\"error\",\"msg\":\"",
        "\"}",
        "\\n\",\"stream\":\"stderr\"}",
        "#011",
        "\r",
        "\n",
        "\n",
        "\n",
        " ",
        ": {",
        "{",
        "}",
        "\u{a0}",
        "x509: certificate has expired or is not yet valid: current time 2026-11-24T05:58:01Z is before 2026-11-25T00:00:00Z",
        "PLEG is not healthy: pleg was last seen active 3m0.1s ago; threshold is 3m0s",
        "Successfully registered node pi-1",
        "This node has joined the cluster",
        "Attempting to register node",
        "failed to run Kubelet: running with swap on is not supported",
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        "Unable to register node with API server",
        "node \"pi-1\" not found",
        "failed to get sandbox image",
        "misconfiguration: kubelet cgroup driver: \"systemd\" is different from docker cgroup driver: \"cgroupfs\"",
        "connection refused",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    // Every built-in pattern's own literal text, roughly.
    v.push("failed to ".into());
    v.push(String::from_utf8_lossy(b"\xff\xfe").into_owned());
    v
}

fn generated() -> impl Strategy<Value = Vec<u8>> {
    let p = pieces();
    let n = p.len();
    (
        proptest::collection::vec((0..n, any::<u8>()), 1..120),
        any::<bool>(),
    )
        .prop_map(move |(idx, raw)| {
            let mut out = Vec::new();
            for (i, b) in idx {
                out.extend_from_slice(p[i].as_bytes());
                if b % 17 == 0 {
                    out.push(b); // a stray byte, maybe invalid UTF-8
                }
                if b % 5 == 0 {
                    out.push(b'\n');
                }
            }
            if raw {
                out.extend_from_slice(b"\xc3");
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn generated_logs_scan_the_same_both_ways(data in generated()) {
        thread_local! {
            static PATS: Patterns = Patterns::new(&RuleSet::embedded().expect("built-in rules"));
        }
        PATS.with(|pats| {
            same(pats, "commands/journal-kubelet.out", &data);
            same(pats, "logs/k3s.log", &data);
        });
    }
}
