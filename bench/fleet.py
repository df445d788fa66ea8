#!/usr/bin/env python3
"""Fleet benchmark (issue 10): `nodejoin analyze DIR` on a directory of bundles
against `gzip -dc` of the same bundles one by one, with the ratio and the
analyzer's peak RSS.

  1. 24 bundles whose kubelet journal is 32 MiB each (target: ratio <= 0.5,
     peak RSS <= 256 MiB);
  2. 1,000 small bundles (about 200 KiB .tgz each): per-input overhead.

Bundles are real `nodejoin-collect` output from a benchmark node (realistic
kubelet wording, see tests/examples/bench-node.rs), copied under distinct
names.

    python3 bench/fleet.py [--mib 32] [--count 24] [--small 1000] [--runs 3]
"""
import argparse, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(args):
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
             "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
             "print(time.perf_counter()-t, u.ru_maxrss, u.ru_utime+u.ru_stime)")
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), float(out[2])


def bundle(work, mib, small_kib=None):
    """One collected bundle with a `mib` MiB kubelet journal (or a smaller one)."""
    subprocess.run(["rm", "-rf", work])
    out = subprocess.run(["cargo", "run", "-q", "--release", "-p", "testkit", "--example", "bench-node", "--", work, str(mib)],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    root, fbin = out[0], out[1]
    if small_kib:
        j = os.path.join(work, "data", "journal-kubelet.txt")
        with open(j, "rb") as f:
            data = f.read(small_kib * 1024)
        with open(j, "wb") as f:
            f.write(data[: data.rfind(b"\n") + 1])
    od = os.path.join(work, "out")
    os.makedirs(od)
    return subprocess.run([os.path.join(ROOT, "target/release/nodejoin-collect"), "--root", root, "--output", od, "--no-network",
                           "-q", "--max-log-size", "128M"], env={**os.environ, "PATH": fbin},
                          capture_output=True, text=True, check=True).stdout.strip()


def fleet(src, n, d):
    os.makedirs(d)
    for i in range(n):
        dst = os.path.join(d, f"node-{i:04}.tgz")
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy(src, dst)
    return sorted(os.path.join(d, x) for x in os.listdir(d))


def row(label, exe, d, files, runs):
    wall, rss, cpu = min(measure([exe, "analyze", "--summary", "--format", "json", d]) for _ in range(runs))
    script = "for f in \"$@\"; do gzip -dc \"$f\" > /dev/null; done"
    floor, _, fcpu = min(measure(["sh", "-c", script, "sh", *files]) for _ in range(runs))
    size = sum(os.path.getsize(f) for f in files)
    return label, len(files), size, wall, floor, rss, cpu, fcpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=32, help="kubelet journal per big bundle (MiB)")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--small-kib", type=int, default=1600, help="journal per small bundle (KiB), about 200 KiB .tgz")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "analyzer", "-p", "collector"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/nodejoin")
    work = "/tmp/nodejoin-bench-fleet"
    subprocess.run(["rm", "-rf", work])
    os.makedirs(work)
    rows = []
    big = bundle(os.path.join(work, "big-node"), a.mib)
    files = fleet(big, a.count, os.path.join(work, "big"))
    rows.append(row(f"{a.count} bundles, {a.mib} MiB journal", exe, os.path.join(work, "big"), files, a.runs))
    small = bundle(os.path.join(work, "small-node"), 1, a.small_kib)
    files = fleet(small, a.small, os.path.join(work, "small"))
    rows.append(row(f"{a.small} small bundles", exe, os.path.join(work, "small"), files, a.runs))
    print(f"{os.cpu_count()} cores; best of {a.runs}; gzip -dc runs the bundles one after another")
    print(f"{'case':30} {'.tgz each':>10} {'total':>9} {'analyze':>8} {'gzip -dc':>9} {'ratio':>6} {'peak RSS':>9} {'CPU s':>13} {'CPU ratio':>9}")
    for label, n, size, wall, floor, rss, cpu, fcpu in rows:
        print(f"{label:30} {size / n / 2**20:9.2f}M {size / 2**20:8.1f}M {wall:7.2f}s {floor:8.2f}s {wall / floor:6.2f} {rss / 1024:8.1f}M"
              f" {cpu:6.2f}/{fcpu:6.2f} {cpu / fcpu:9.2f}")
    cores = os.cpu_count() or 1
    print(f"ratio: wall time of analyze / wall time of gzip -dc one by one (target <= 0.5). On a loaded machine wall")
    print(f"times drift; CPU ratio / {cores} is what the ratio would be with all {cores} cores free for the analyzer.")
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
