//! Bundles from strangers' tickets: traversal, links, devices, bombs, truncation,
//! corruption, binary garbage, malformed PEM and YAML. The analyzer never writes,
//! never panics, keeps memory bounded, and says what it could not read.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const NODEJOIN: &str = env!("CARGO_BIN_EXE_nodejoin");

fn run(args: &[&str]) -> Output {
    Command::new(NODEJOIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn json(p: &Path) -> (i32, serde_json::Value) {
    let o = run(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?} stderr {:?}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap(), v)
}

fn problems(v: &serde_json::Value) -> String {
    v["problems"].to_string()
}

/// A raw tar header with any name and type, as a hostile tool could write it.
fn raw_entry(out: &mut Vec<u8>, name: &str, kind: u8, body: &[u8], link: &str) {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn traversal_links_and_devices_are_refused_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "../../../../tmp/nodejoin-escape",
        b'0',
        b"owned\n",
        "",
    );
    raw_entry(
        &mut tar,
        "/etc/cron.d/evil",
        b'0',
        b"* * * * * root sh\n",
        "",
    );
    raw_entry(&mut tar, "files/etc/passwd-link", b'2', b"", "/etc/passwd");
    raw_entry(&mut tar, "files/hard", b'1', b"", "/etc/shadow");
    raw_entry(&mut tar, "files/dev/sda", b'4', b"", "");
    raw_entry(&mut tar, "commands/journal-kubelet.out", b'0', b"Nov 24 05:58:01 pi kubelet[1]: E1124 05:58:01.1 1 x] \"command failed\" err=\"failed to run Kubelet: running with swap on is not supported, please disable swap\"\n", "");
    tar.extend_from_slice(&[0u8; 1024]);
    let p = t.path().join("evil.tgz");
    std::fs::write(&p, gz(&tar)).unwrap();
    let before: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
    let (code, v) = json(&p);
    let pr = problems(&v);
    for what in [
        "path traversal",
        "absolute path",
        "symbolic link",
        "hard link",
        "device",
    ] {
        assert!(pr.contains(what), "{what} not reported: {pr}");
    }
    assert!(!Path::new("/tmp/nodejoin-escape").exists());
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), before.len());
    // What was safe to read was still analyzed.
    assert_eq!(
        (code, v["verdict"]["cause"].as_str()),
        (1, Some("swap-enabled"))
    );
}

#[test]
fn truncated_archive_gives_a_partial_report_that_says_so() {
    let t = tempfile::tempdir().unwrap();
    let src = testkit::workspace().join("fixtures/bundles/pi-clock-drift-kubeadm");
    let whole = t.path().join("whole.tgz");
    testkit::pack_dir(&src, &whole);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = t.path().join("cut.tgz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, v) = json(&cut);
    assert_eq!(code, 1);
    assert!(
        problems(&v).contains("truncated or corrupt"),
        "{}",
        problems(&v)
    );
    assert!(v["stats"]["entries"].as_u64().unwrap() > 3);
}

#[test]
fn corrupt_gzip_and_garbage_files() {
    let t = tempfile::tempdir().unwrap();
    // gzip magic, then noise.
    let p = t.path().join("noise.tgz");
    let mut noise = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    noise.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    std::fs::write(&p, &noise).unwrap();
    let o = run(&["analyze", p.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("noise.tgz"));
    // Binary garbage with no newline at all is read as a (useless) log, in bounded memory.
    let g = t.path().join("garbage.bin");
    std::fs::write(
        &g,
        (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2246822519) >> 7) as u8 | 1)
            .filter(|b| *b != b'\n')
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let (code, v) = json(&g);
    assert_eq!(
        (code, v["verdict"]["status"].as_str()),
        (1, Some("inconclusive"))
    );
    // Missing input: exit 2 and a clear message.
    let o = run(&["analyze", "/nonexistent/bundle.tgz"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/bundle.tgz"));
}

#[test]
fn decompression_bomb_is_cut_at_the_limit() {
    let t = tempfile::tempdir().unwrap();
    // 64 MiB of zeros in one entry compresses to ~64 KiB.
    let mut tar = Vec::new();
    raw_entry(
        &mut tar,
        "files/var/log/syslog",
        b'0',
        &vec![0u8; 64 << 20],
        "",
    );
    let p = t.path().join("bomb.tgz");
    std::fs::write(&p, gz(&tar)).unwrap();
    assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
    let o = run(&[
        "analyze",
        "--format",
        "json",
        "--max-mib",
        "8",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(problems(&v).contains("decompressed"), "{}", problems(&v));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn malformed_pem_yaml_and_json_are_findings_not_crashes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("b");
    let put = |p: &str, c: &[u8]| {
        let f = d.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    };
    put(
        "manifest.json",
        b"{\"format\": \"nodejoin-bundle\", \"version\": ",
    );
    put("probes/clock.json", b"[1,2,3]");
    put("listings.json", b"{\"/opt/cni/bin\": 7}");
    put(
        "files/etc/kubernetes/pki/ca.crt",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    put(
        "files/var/lib/kubelet/pki/kubelet-client-current.pem",
        &[0x30, 0x82, 0xff, 0xff, 0, 1, 2],
    );
    put(
        "files/etc/kubernetes/kubelet.conf",
        b"clusters: [ {cluster: {certificate-authority-data: '%%%'}} \n  - ]]]",
    );
    put(
        "commands/kubectl-get-node.out",
        b"kind: Node\nmetadata: {name: [unclosed\n",
    );
    put("extra/anchors.yaml", b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\nkind: Node\n");
    put("commands/journal-kubelet.out", b"\xff\xfe\x00garbage\x1b[31m\nNov 24 05:58:01 pi kubelet[1]: \x1b]0;pwned\x07 PLEG is not healthy: pleg was last seen active 3m5s ago; threshold is 3m0s\n");
    let (code, v) = json(&d);
    assert_eq!(code, 1);
    assert!(problems(&v).contains("manifest.json"), "{}", problems(&v));
    assert!(
        problems(&v).contains("could not be parsed"),
        "{}",
        problems(&v)
    );
    assert!(
        problems(&v).contains("probes/clock.json")
            && problems(&v).contains("clock offsets are missing"),
        "{}",
        problems(&v)
    );
    assert_eq!(v["verdict"]["cause"], "pleg-unhealthy");
    // The human report escapes the terminal control sequences from the log.
    let o = run(&["analyze", d.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "raw escape reached the terminal"
    );
    assert!(text.contains("\\x1b]0;pwned\\x07"));
}

#[test]
fn too_many_entries_stop_with_a_problem() {
    let t = tempfile::tempdir().unwrap();
    let mut tar = Vec::new();
    for i in 0..300 {
        raw_entry(&mut tar, &format!("extra/f{i}.txt"), b'0', b"x\n", "");
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let p = t.path().join("many.tgz");
    std::fs::write(&p, gz(&tar)).unwrap();
    let o = run(&[
        "analyze",
        "--format",
        "json",
        "--max-entries",
        "100",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        problems(&v).contains("more than 100 entries"),
        "{}",
        problems(&v)
    );
    assert_eq!(v["stats"]["entries"], 100);
}

/// A paste of 30,000 Nodes (6 MB): the first 4 MiB are read for command
/// output, the first 1000 Nodes judged, and both cuts are said.
#[test]
fn a_huge_describe_is_cut_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let mut text = String::from("$ kubectl describe nodes\n");
    let at = "Tue, 24 Nov 2026 05:59:00 +0000";
    for i in 0..30_000 {
        let (status, reason) = if i == 500 {
            ("False", "KubeletNotReady")
        } else {
            ("True", "KubeletReady")
        };
        text.push_str(&format!(
            "Name: n{i}\nRoles: <none>\nConditions:\n  Type   Status  LastHeartbeatTime  LastTransitionTime  Reason  Message\n  Ready  {status}  {at}  {at}  {reason}  kubelet status\n"
        ));
    }
    let p = t.path().join("nodes.txt");
    std::fs::write(&p, &text).unwrap();
    let (code, v) = json(&p);
    assert_eq!(code, 1);
    let pr = problems(&v);
    assert!(pr.contains("larger than 4 MiB"), "{pr}");
    assert!(pr.contains("more than 1000 Nodes"), "{pr}");
    assert_eq!(
        v["facts"]["node.name"], "n500",
        "the NotReady one is judged"
    );
}
