//! The fuzz targets of `analyzer/fuzz` on stable Rust: each target body runs
//! on its seed corpus (from `fixtures/` and the adversarial generator), on
//! every saved crash input (`fuzz/regressions/TARGET/`), then on mutations of
//! the seeds for `NODEJOIN_FUZZ_SECS` seconds per target (default 2).
//! A run longer than 10 s, or a peak RSS above the harness limit, fails.
//!
//! With `NODEJOIN_FUZZ_CORPUS=DIR` the seeds are also written to
//! `DIR/TARGET/`, to start cargo-fuzz from (`scripts/fuzz`).
#![allow(clippy::print_stderr)]

#[path = "common/gen.rs"]
mod gen;
#[path = "common/targets.rs"]
mod targets;

use std::path::Path;
use std::time::{Duration, Instant};

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            files_under(&p, keep, out);
        } else if keep(&p) {
            if let Ok(b) = std::fs::read(&p) {
                out.push(b);
            }
        }
    }
}

fn ends(p: &Path, suffixes: &[&str]) -> bool {
    let s = p.to_string_lossy();
    suffixes.iter().any(|x| s.ends_with(x))
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(b), &mut v);
    v
}

/// Seeds per target: real fixtures first, then adversarial cases (small sizes).
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let ws = testkit::workspace();
    let fx = ws.join("fixtures");
    let mut v = Vec::new();
    let bundles = || {
        let t = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let mut dirs: Vec<_> = std::fs::read_dir(fx.join("bundles"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for d in dirs {
            let p = t.path().join("b.tgz");
            testkit::pack_dir(&d, &p);
            out.push(std::fs::read(&p).unwrap());
        }
        out
    };
    let small_bombs = || {
        vec![
            gen::long_name(1),
            gen::long_link(1),
            gen::pax_body(1),
            gen::sparse_map(50),
            gen::pax_sparse(),
            gen::pax_storm(50),
            gen::alias_bomb(5),
            gen::deep_flow(500),
            gen::duplicate_manifest(),
            gen::injection(),
        ]
    };
    match target {
        "bundle_raw" => {
            v.extend(bundles());
            v.extend(small_bombs());
            v.push(gen::two_member_log());
            v.push(gen::cr_only_log());
        }
        "bundle_tar" => {
            v.extend(bundles().iter().map(|b| gunzip(b)));
            v.extend(small_bombs().iter().map(|b| gunzip(b)));
        }
        "bundle_dir" => {
            let mut d = Vec::new();
            files_under(
                &fx.join("bundles/pi-clock-drift-kubeadm"),
                &|_| true,
                &mut d,
            );
            let mut s = Vec::new();
            for (i, f) in d.iter().enumerate() {
                s.extend_from_slice(format!("--- files/f{i}\n").as_bytes());
                s.extend_from_slice(f);
                s.push(b'\n');
            }
            v.push(s);
            v.push(
                format!(
                    "--- commands/journal-kubelet.out\n{}\n--- {}\n{}",
                    gen::SWAP_LINE,
                    gen::NODE_OUT,
                    gen::alias_bomb_yaml(4)
                )
                .into_bytes(),
            );
        }
        "pasted" => {
            files_under(&fx.join("rules"), &|p| ends(p, &[".log", ".txt"]), &mut v);
            v.push(gen::cr_only_log());
            v.push(format!("{} {}", gen::SWAP_LINE, gen::INJECTION).into_bytes());
        }
        "node" => {
            files_under(
                &fx,
                &|p| ends(p, &["kubectl-get-node.out", "node.yaml"]),
                &mut v,
            );
            v.push(gen::alias_bomb_yaml(4).into_bytes());
            v.push(gen::deep_yaml(200).into_bytes());
            v.push(gen::flat_yaml(0).into_bytes());
        }
        "kubeconfig" => files_under(&fx, &|p| ends(p, &[".conf", "kubeconfig"]), &mut v),
        "kubelet_config" => files_under(&fx, &|p| ends(p, &["kubelet/config.yaml"]), &mut v),
        "containerd_config" => files_under(&fx, &|p| ends(p, &["config.toml"]), &mut v),
        "certificates" => files_under(&fx, &|p| ends(p, &[".crt", ".pem"]), &mut v),
        "rule_file" => files_under(&ws.join("rules"), &|p| ends(p, &[".toml"]), &mut v),
        t => panic!("no seeds for {t}"),
    }
    assert!(!v.is_empty(), "{target}: no seeds");
    v
}

/// A small deterministic mutator: flips, cuts, repeats, splices and tokens
/// that hostile inputs are made of.
struct Mutator(u64);

const TOKENS: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"[[[[[[[[",
    b"{a: {a: ",
    b"\r",
    b"\r\n",
    b"\x1b[31m",
    b"<img src=x>",
    b"](https://e)",
    b"../",
    b"99999999999999999999",
    b"\0",
    b"\xff\xfe",
    b"- - - - ",
    b"-----BEGIN CERTIFICATE-----\n",
    b"\"log\":\"",
    b"kind: Node\n",
    b"ustar\0",
    b"\\b",
    b"(?u:\\w)",
    b"'''",
];

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn mutate(&mut self, seed: &[u8], other: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(v.len() + 1);
            match self.below(7) {
                0 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] ^= 1 << self.below(8);
                }
                1 => v.truncate(at),
                2 => {
                    let n = self.below(64).min(v.len() - at.min(v.len()));
                    v.drain(at..at + n);
                }
                3 => {
                    let t = TOKENS[self.below(TOKENS.len())];
                    let times = 1 + self.below(8);
                    for _ in 0..times {
                        v.splice(at..at, t.iter().copied());
                    }
                }
                4 if !other.is_empty() => {
                    let from = self.below(other.len());
                    let n = self.below(other.len() - from + 1).min(4096);
                    v.splice(at..at, other[from..from + n].iter().copied());
                }
                5 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                _ => {
                    let n = self.below(32).min(v.len() - at.min(v.len()));
                    let piece = v[at..at + n].to_vec();
                    v.splice(at..at, piece);
                }
            }
        }
        v
    }
}

fn vm_hwm_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn timed(target: &str, f: fn(&[u8]), data: &[u8]) {
    let t = Instant::now();
    f(data);
    let s = t.elapsed();
    if s > Duration::from_secs(10) {
        let p = std::env::temp_dir().join(format!("nodejoin-fuzz-slow-{target}"));
        let _ = std::fs::write(&p, data);
        panic!("{target}: one input took {s:?}; saved to {}", p.display());
    }
}

#[test]
fn fuzz_targets_on_seeds_regressions_and_mutations() {
    let secs: u64 = std::env::var("NODEJOIN_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let corpus = std::env::var_os("NODEJOIN_FUZZ_CORPUS").map(std::path::PathBuf::from);
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (name, f) in targets::TARGETS {
        let seeds = seeds(name);
        if let Some(c) = &corpus {
            let d = c.join(name);
            std::fs::create_dir_all(&d).unwrap();
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(d.join(format!("seed-{i:03}")), s).unwrap();
            }
        }
        for s in &seeds {
            timed(name, *f, s);
        }
        let mut regs = Vec::new();
        files_under(&regressions.join(name), &|_| true, &mut regs);
        for r in &regs {
            timed(name, *f, r);
        }
        let mut m = Mutator(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let until = Instant::now() + Duration::from_secs(secs);
        let mut n = 0u64;
        while Instant::now() < until {
            let a = m.below(seeds.len());
            let b = m.below(seeds.len());
            let input = m.mutate(&seeds[a], &seeds[b]);
            timed(name, *f, &input);
            n += 1;
        }
        eprintln!(
            "fuzz: {name}: {} seeds, {} regressions, {n} mutations in {secs} s",
            seeds.len(),
            regs.len()
        );
    }
    let hwm = vm_hwm_kib();
    eprintln!("fuzz: peak RSS of the harness {} MiB", hwm >> 10);
    assert!(hwm <= 768 << 10, "harness peak RSS {} MiB", hwm >> 10);
}
