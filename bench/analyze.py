#!/usr/bin/env python3
"""Analyzer benchmark: `nodejoin analyze` on a bundle holding a 120 MiB kubelet
journal, against the physical floor (`gzip -dc` of the same bundle), with peak
RSS; then four such bundles in one call (rayon, one per core).

    python3 bench/analyze.py [--mib 120] [--runs 3]
"""
import argparse, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(args, env=None):
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
             "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=120)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "analyzer", "-p", "collector"], cwd=ROOT, check=True)
    work = "/tmp/nodejoin-bench-analyze"
    subprocess.run(["rm", "-rf", work])
    out = subprocess.run(["cargo", "run", "-q", "-p", "testkit", "--example", "bench-node", "--", work, str(a.mib)],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    root, fbin = out[0], out[1]
    od = os.path.join(work, "out")
    os.makedirs(od)
    bundle = subprocess.run([os.path.join(ROOT, "target/release/nodejoin-collect"), "--root", root, "--output", od, "--no-network",
                             "-q", "--max-log-size", "128M"], env={**os.environ, "PATH": fbin}, capture_output=True, text=True, check=True).stdout.strip()
    exe = os.path.join(ROOT, "target/release/nodejoin")
    size = os.path.getsize(bundle)
    rows = []
    for label, inputs in [("one bundle", [bundle]), ("four bundles, one call", [bundle] * 4)]:
        wall, rss = min(measure([exe, "analyze", "--format", "json", *inputs]) for _ in range(a.runs))
        floor = min(measure(["sh", "-c", " ".join(f"gzip -dc '{b}' > /dev/null;" for b in inputs)])[0] for _ in range(a.runs))
        rows.append((label, len(inputs) * size, wall, floor, rss))
    print(f"bundle: {size / 2**20:.1f} MiB .tgz holding a {a.mib} MiB kubelet journal; {os.cpu_count()} cores")
    print(f"{'case':24} {'input':>8} {'analyze':>8} {'gzip -dc':>9} {'ratio':>6} {'peak RSS':>9}")
    for label, n, wall, floor, rss in rows:
        print(f"{label:24} {n / 2**20:7.1f}M {wall:7.2f}s {floor:8.2f}s {wall / floor:6.2f} {rss / 1024:8.1f}M")
    print("(gzip -dc runs the four bundles one after another; the analyzer runs them in parallel)")
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
