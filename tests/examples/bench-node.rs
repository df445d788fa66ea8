//! Builds a benchmark node: a kubeadm Raspberry Pi tree, fake commands, and a
//! kubelet journal of the requested size in real kubelet/journald wording.
//! `cargo run -p testkit --example bench-node -- DIR [MIB]`

#![allow(clippy::print_stdout)]

use std::io::{BufWriter, Write};
use std::path::Path;
use testkit::{fake_tools, PiOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: bench-node DIR [MIB]");
    let mib: u64 = args.next().map(|s| s.parse().expect("MIB")).unwrap_or(120);
    let dir = Path::new(&dir);
    let root = dir.join("root");
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-bench"));
    let journal = dir.join("journal-kubelet.txt");
    let mut w = BufWriter::new(std::fs::File::create(&journal).unwrap());
    let templates = [
        "I{md} {hms}.{us}     812 kubelet.go:2421] \"SyncLoop (PLEG): event for pod\" pod=\"kube-system/kube-proxy-{p}\" event={{\"ID\":\"{uid}\",\"Type\":\"ContainerStarted\",\"Data\":\"{cid}\"}}",
        "E{md} {hms}.{us}     812 pod_workers.go:1301] \"Error syncing pod, skipping\" err=\"failed to \\\"StartContainer\\\" for \\\"app\\\" with CrashLoopBackOff: \\\"back-off 5m0s restarting failed container=app pod=app-{p}_default({uid})\\\"\" pod=\"default/app-{p}\" podUID=\"{uid}\"",
        "I{md} {hms}.{us}     812 reconciler_common.go:245] \"operationExecutor.VerifyControllerAttachedVolume started for volume \\\"kube-api-access-{p}\\\" (UniqueName: \\\"kubernetes.io/projected/{uid}-kube-api-access-{p}\\\") pod \\\"app-{p}\\\" (UID: \\\"{uid}\\\") \" pod=\"default/app-{p}\"",
        "W{md} {hms}.{us}     812 container.go:586] Failed to update stats for container \"/kubepods/burstable/pod{uid}/{cid}\": unable to determine device info for dir: /var/lib/containerd: stat failed on /var/lib/containerd with error: no such file or directory, continuing to push stats",
        "I{md} {hms}.{us}     812 kubelet_node_status.go:75] \"Attempting to register node\" node=\"pi-bench\"",
    ];
    let (mut n, mut x) = (0u64, 0x9E37_79B9_7F4A_7C15u64);
    let target = mib << 20;
    let mut written = 0u64;
    while written < target {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let secs = n / 40;
        let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
        let t = templates[(x % templates.len() as u64) as usize]
            .replace("{md}", "1124")
            .replace("{hms}", &format!("{h:02}:{m:02}:{s:02}"))
            .replace("{us}", &format!("{:06}", x % 1_000_000))
            .replace("{p}", &format!("{:05x}", (x >> 20) % 0xfffff))
            .replace(
                "{uid}",
                &format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    x >> 32,
                    (x >> 16) & 0xffff,
                    x & 0xfff,
                    (x >> 8) & 0xfff,
                    x & 0xffff_ffff_ffff
                ),
            )
            .replace("{cid}", &format!("{:016x}{:016x}", x, x.rotate_left(17)));
        let line = format!(
            "2026-11-24T{h:02}:{m:02}:{s:02}.{:06}+0000 pi-bench kubelet[812]: {t}\n",
            x % 1_000_000
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        n += 1;
    }
    w.flush().unwrap();
    let bin = dir.join("bin");
    // Only the kubelet unit has the big journal, as on a real node.
    fake_tools(&bin, &dir.join("data"), &[]);
    std::fs::rename(&journal, dir.join("data/journal-kubelet.txt")).unwrap();
    println!("{} {} {}", root.display(), bin.display(), written);
}
