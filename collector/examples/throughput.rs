//! Throughput of the collector's hot paths on one file (default: the bench
//! node's journal): redaction, and gzip (flate2, zlib-rs) at each level.
//! `F=FILE cargo run --profile tiny -p collector --example throughput`

#![allow(clippy::print_stdout)]

use std::time::Instant;
fn main() {
    let path = std::env::var("F")
        .unwrap_or_else(|_| "/tmp/nodejoin-bench/data/journal-kubelet.txt".into());
    let data = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (make one with bench/collect.py or set F)"));
    let t = Instant::now();
    let mut r = collector::redact::Redactor::new();
    let mut out = Vec::with_capacity(1 << 20);
    let mut n = 0usize;
    for l in data.split_inclusive(|b| *b == b'\n') {
        r.line(l, &mut out);
        n += out.len();
        out.clear();
    }
    let e = t.elapsed().as_secs_f64();
    println!(
        "redact: {:.2}s {:.0} MB/s ({} bytes, {} redactions)",
        e,
        data.len() as f64 / e / 1e6,
        n,
        r.count
    );
    for level in [1, 3, 4, 5, 6] {
        let t = Instant::now();
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        std::io::Write::write_all(&mut g, &data).unwrap();
        let out = g.finish().unwrap();
        let e = t.elapsed().as_secs_f64();
        println!(
            "level {level}: {:.2}s {:.0} MB/s ratio {:.1}",
            e,
            data.len() as f64 / e / 1e6,
            data.len() as f64 / out.len() as f64
        );
    }
}
