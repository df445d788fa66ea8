//! The planted-secret suite (issue 8): a fake kubeadm + k3s node with secrets
//! in the formats real nodes have, in files, the journal, pod logs, command
//! output and `--include` files, on the same line, the next line, in block
//! scalars, quoted, in flow style and JSON, at a log cap and across the 1 MiB
//! long-line split. No planted byte string may appear in any bundle entry
//! (the manifest included), and the public values diagnosis needs must stay.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::planted::{self, key_needles, leaks, lost, Gen, Plant};

const BIN: &str = env!("CARGO_BIN_EXE_nodejoin-collect");

fn run(root: &Path, bin: &Path, out: &Path, extra: &[String]) -> Vec<(String, Vec<u8>)> {
    fs::create_dir_all(out).unwrap();
    let r = Command::new(BIN)
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(out)
        .arg("--no-network")
        .arg("--timeout")
        .arg("5s")
        .args(extra)
        .env("PATH", bin)
        .output()
        .expect("run collector");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let path = PathBuf::from(String::from_utf8_lossy(&r.stdout).trim().to_string());
    let entries = testkit::untar(&path);
    // Nothing else left in the output directory: no spool, no partial file.
    let left: Vec<_> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| *p != path)
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    entries
}

#[test]
#[allow(clippy::print_stderr)] // the planted count is part of the report
fn planted_secrets_never_reach_the_bundle() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, extra) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("extra"),
    );
    let node = "pi-worker-3";
    let p = planted::plant_node(&root, &bin, &extra, node);
    let mut args = Vec::new();
    for i in &p.includes {
        args.push("--include".to_string());
        args.push(i.to_string_lossy().into_owned());
    }
    let entries = run(&root, &bin, &t.path().join("out"), &args);
    let leaked = leaks(&p.plants, &entries);
    let missing = lost(&p.public, &entries);
    eprintln!(
        "planted {} secrets ({} byte strings) in {} formats/placements; {} bundle entries",
        p.plants.len(),
        p.plants.iter().map(|x| x.needles.len()).sum::<usize>(),
        p.plants
            .iter()
            .map(|x| x.what.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        entries.len()
    );
    assert!(p.plants.len() >= 90, "the suite plants {}", p.plants.len());
    assert!(
        leaked.is_empty(),
        "{} leaks:\n{}",
        leaked.len(),
        leaked.join("\n")
    );
    assert!(
        missing.is_empty(),
        "public values lost:\n{}",
        missing.join("\n")
    );
    // The analyzer's inputs are still there and still parse.
    let get = |p: &str| {
        entries
            .iter()
            .find(|(n, _)| n == p)
            .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_else(|| panic!("no {p}"))
    };
    let kc = get("files/etc/kubernetes/kubelet.conf");
    assert!(kc.contains("server: https://10.0.0.10:6443"), "{kc}");
    let crictl = get("commands/crictl-info.out");
    serde_json::from_str::<serde_json::Value>(&crictl).expect("crictl info is still JSON");
    let cni = get("files/etc/cni/net.d/10-flannel.conflist");
    serde_json::from_str::<serde_json::Value>(&cni).expect("CNI config is still JSON");
    // Every redaction is counted in the manifest.
    let m: serde_json::Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|(n, _)| n == "manifest.json")
            .unwrap()
            .1,
    )
    .unwrap();
    assert!(m["totals"]["redactions"].as_u64().unwrap() >= p.plants.len() as u64 / 2);
}

/// A log cut to its newest part where the cut falls inside a private key
/// block that has an unrelated line in the middle: in a file read from its
/// tail (`/var/log/syslog`) and in journal output cut in the spool.
#[test]
fn a_cap_inside_a_key_block_leaks_none_of_it() {
    let mut g = Gen::new(77);
    for frac in [0.1f64, 0.35, 0.5, 0.8, 0.97] {
        let t = tempfile::tempdir().unwrap();
        let (root, bin) = (t.path().join("root"), t.path().join("bin"));
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let needles = key_needles(&key);
        let plants = vec![Plant {
            what: format!("key block cut at {frac}"),
            needles,
        }];
        let mut log = String::new();
        let mut i = 0;
        while log.len() < 200_000 {
            log.push_str(&format!(
                "Nov 24 05:50:01 pi kubelet[9]: filler line {i} {}\n",
                g.secret(20)
            ));
            i += 1;
        }
        let key_start = log.len();
        let mut mid = 0;
        for (n, l) in key.lines().enumerate() {
            log.push_str(&format!("Nov 24 05:50:02 pi kubelet[9]: {l}\n"));
            if n == 2 {
                mid = log.len();
                log.push_str("Nov 24 05:50:02 pi containerd[7]: unrelated line in the middle\n");
            }
        }
        let key_len = log.len() - key_start;
        let tail_start = log.len();
        for i in 0..500 {
            log.push_str(&format!("Nov 24 05:50:03 pi kubelet[9]: after {i}\n"));
        }
        let keep = (log.len() - tail_start) + (key_len as f64 * (1.0 - frac)) as usize;
        testkit::put(&root, "/var/log/syslog", &log);
        let data = t.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("j.txt"), &log).unwrap();
        testkit::fake_cmd(
            &bin,
            "journalctl",
            &format!("exec /bin/cat '{}'/j.txt", data.display()),
        );
        let entries = run(
            &root,
            &bin,
            &t.path().join("out"),
            &["--max-log-size".into(), keep.to_string()],
        );
        let leaked = leaks(&plants, &entries);
        assert!(leaked.is_empty(), "cut at {frac}: {}", leaked.join("\n"));
        for p in ["files/var/log/syslog", "commands/journal-kubelet.out"] {
            let e = &entries
                .iter()
                .find(|(n, _)| n == p)
                .unwrap_or_else(|| panic!("{p}"))
                .1;
            let s = String::from_utf8_lossy(e);
            assert!(s.contains("after 499"), "{p} lost its tail");
            if mid > log.len() - keep {
                assert!(
                    s.contains("unrelated line in the middle"),
                    "{p}: interleaved line lost at {frac}"
                );
            }
        }
    }
}
