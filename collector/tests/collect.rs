//! The collector binary against fake Raspberry Pi trees (`--root`), fake
//! commands on PATH, and real NTP and HTTPS peers on loopback.

use bundle::{ClockProbe, Manifest, Outcome};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use testkit::{assert_no_secrets, fake_cat, fake_cmd, fake_tools, put, secrets, PiOptions};

const BIN: &str = env!("CARGO_BIN_EXE_nodejoin-collect");

struct Run {
    out: Output,
    bundle: Option<PathBuf>,
}

fn collect(root: &Path, bin: &Path, out_dir: &Path, extra: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(out_dir)
        .args(extra)
        .env("PATH", bin)
        .output()
        .expect("run collector");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let bundle = (out.status.success() && !stdout.is_empty()).then(|| PathBuf::from(stdout));
    Run { out, bundle }
}

/// `root`, a bin directory named `bin`, and an existing `out` in the temp dir.
fn dirs(t: &tempfile::TempDir, bin: &str) -> (PathBuf, PathBuf, PathBuf) {
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join(bin),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    (root, bin, out)
}

fn manifest(entries: &[(String, Vec<u8>)]) -> Manifest {
    let m = entries
        .iter()
        .find(|(p, _)| p == "manifest.json")
        .expect("manifest.json");
    serde_json::from_slice(&m.1).expect("manifest parses")
}

fn item<'a>(m: &'a Manifest, id: &str) -> &'a bundle::Item {
    m.items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn entry<'a>(entries: &'a [(String, Vec<u8>)], path: &str) -> &'a str {
    let e = entries
        .iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no entry {path}"));
    std::str::from_utf8(&e.1).expect("utf-8")
}

#[test]
fn kubeadm_pi_bundle_is_complete_bounded_and_safe() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    // The NTP server is 3 days ahead of the node; the API server 2 hours behind.
    let ntp = testkit::NtpServer::start(3.0 * 86400.0);
    let https = testkit::HttpsServer::start(&t.path().join("https"), -7200.0);
    let mut o = PiOptions::new("pi-node-1");
    o.api = https.url.clone();
    o.ntp = Some(format!("127.0.0.1 port {}", ntp.addr.port()));
    let certs = testkit::kubeadm_pi(&root, &o);
    let journal = format!("2026-11-24T05:58:01.123456+0000 pi-node-1 kubelet[812]: E1124 05:58:01.123456     812 run.go:74] \"command failed\" err=\"failed to run Kubelet\"\n{}", testkit::secret_log_lines());
    fake_tools(&bin, &t.path().join("data"), &[("kubelet", journal)]);

    let started = Instant::now();
    let r = collect(&root, &bin, &out, &["--timeout", "5s"]);
    assert!(
        r.out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&r.out.stderr)
    );
    let bundle = r.bundle.expect("bundle path on stdout");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        1,
        "no temp or spool files left beside the bundle"
    );

    let entries = testkit::untar(&bundle);
    let m = manifest(&entries);
    assert_eq!((m.format.as_str(), m.version), ("nodejoin-bundle", 1));
    assert_eq!(m.host.node_name, "pi-node-1");
    assert!(m.items.len() > 100 && m.totals.items == m.items.len() as u64);

    // Host files, certificates with their keys stripped, commands.
    assert!(entry(&entries, "files/proc/cmdline").contains("cgroup_enable=memory"));
    assert!(entry(&entries, "files/boot/firmware/cmdline.txt").contains("cgroup_memory=1"));
    let combined = entry(
        &entries,
        "files/var/lib/kubelet/pki/kubelet-client-current.pem",
    );
    assert!(
        combined.contains("BEGIN CERTIFICATE") && combined.contains("private key block removed")
    );
    assert!(item(&m, "file:/var/lib/kubelet/pki/kubelet-client-current.pem").redactions >= 1);
    for key in [
        "/etc/kubernetes/pki/ca.key",
        "/var/lib/kubelet/pki/kubelet.key",
    ] {
        let it = item(&m, &format!("file:{key}"));
        assert_eq!(it.outcome, Outcome::Redacted);
        assert!(it.path.is_none() && it.mode.is_some() && it.source_size.unwrap() > 0);
    }
    assert!(entry(&entries, "commands/journal-kubelet.out").contains("command failed"));
    assert!(entry(&entries, "commands/kubectl-get-node.out").contains("kind: Node"));
    assert!(entry(&entries, "commands/chronyc-tracking.out").contains("Not synchronised"));
    assert_eq!(item(&m, "cmd:systemctl-show").outcome, Outcome::Ok);
    assert_eq!(item(&m, "cmd:kubelet-version").outcome, Outcome::Missing);
    assert!(entry(&entries, "listings.json").contains("\"flannel\""));

    // Measured offsets against the real peers, with their bounds.
    let clock: ClockProbe = serde_json::from_str(entry(&entries, "probes/clock.json")).unwrap();
    let sntp = clock
        .offsets
        .iter()
        .find(|o| o.method == "sntp")
        .expect("sntp offset");
    let (off, bound) = (
        sntp.offset_ms.expect("sntp measured"),
        sntp.bound_ms.unwrap(),
    );
    assert!(
        (off + 259_200_000).abs() <= bound + 50,
        "sntp offset {off} +- {bound}"
    );
    assert!(bound < 2000, "{bound}");
    let hd = clock
        .offsets
        .iter()
        .find(|o| o.method == "https-date")
        .expect("https offset");
    let off = hd
        .offset_ms
        .unwrap_or_else(|| panic!("https-date: {:?}", hd.error));
    assert!(
        (off - 7_200_000).abs() <= hd.bound_ms.unwrap() + 50,
        "https offset {off}"
    );
    assert!(entry(&entries, "probes/reachability.json").contains("\"connected\": true"));

    assert_no_secrets(&entries, &[&certs.client_key_pem]);
    assert!(m.totals.redactions >= 6, "{}", m.totals.redactions);
}

#[test]
fn k3s_agent_bundle() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    let mut o = PiOptions::new("pi-k3s-2");
    o.api = "https://127.0.0.1:1".into(); // nothing listens: refused
    let certs = testkit::k3s_pi(&root, &o);
    let log = "2026-11-24T05:58:01.000001+0000 pi-k3s-2 k3s[700]: time=\"2026-11-24T05:58:01Z\" level=error msg=\"failed to get CA certs: Get \\\"https://127.0.0.1:1/cacerts\\\": dial tcp 127.0.0.1:1: connect: connection refused\"\n".to_string();
    fake_tools(
        &bin,
        &t.path().join("data"),
        &[("k3s-agent", log + &testkit::secret_log_lines())],
    );
    let r = collect(&root, &bin, &out, &["--timeout", "3s"]);
    assert!(
        r.out.status.success(),
        "{}",
        String::from_utf8_lossy(&r.out.stderr)
    );
    let entries = testkit::untar(&r.bundle.unwrap());
    let m = manifest(&entries);
    assert_eq!(
        (m.host.node_name.as_str(), m.host.node_name_source.as_str()),
        ("pi-k3s-2", "/etc/rancher/k3s/config.yaml")
    );
    assert!(entry(&entries, "commands/journal-k3s-agent.out").contains("failed to get CA certs"));
    assert!(entry(
        &entries,
        "files/var/lib/rancher/k3s/agent/client-kubelet.crt"
    )
    .contains("BEGIN CERTIFICATE"));
    assert!(entry(&entries, "files/etc/rancher/k3s/config.yaml").contains("token: <redacted len="));
    assert_eq!(
        item(&m, "file:/etc/rancher/node/password").outcome,
        Outcome::Redacted
    );
    assert_eq!(
        item(&m, "file:/var/lib/rancher/k3s/agent/client-kubelet.key").outcome,
        Outcome::Redacted
    );
    let reach = entry(&entries, "probes/reachability.json");
    assert!(
        reach.contains("\"connected\": false") && reach.contains("refused"),
        "{reach}"
    );
    assert_no_secrets(&entries, &[&certs.client_key_pem]);
}

#[test]
fn hanging_command_is_killed_with_its_process_group() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-hang"));
    let pids = t.path().join("pids");
    // A child in the background holds stdout open; the foreground one hangs.
    fake_cmd(&bin, "crictl", &format!("/bin/sleep 300 &\necho $! >> '{0}'\necho $$ >> '{0}'\necho partial output\nexec /bin/sleep 300", pids.display()));
    let started = Instant::now();
    let r = collect(&root, &bin, &out, &["--timeout", "1s", "--no-network"]);
    let took = started.elapsed();
    assert!(r.out.status.success());
    assert!(took < Duration::from_secs(12), "took {took:?}");
    let entries = testkit::untar(&r.bundle.unwrap());
    let m = manifest(&entries);
    let it = item(&m, "cmd:crictl-info");
    assert_eq!(it.outcome, Outcome::Timeout);
    assert!(it.error.as_deref().unwrap().contains("process group"));
    assert!(entry(&entries, "commands/crictl-info.out").contains("partial output"));
    std::thread::sleep(Duration::from_millis(200));
    for pid in fs::read_to_string(&pids).unwrap().split_whitespace() {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its reaper.
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "process {pid} survived: {stat}"
        );
    }
}

#[test]
fn missing_tools_and_missing_files_still_give_a_bundle() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "emptybin");
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&out).unwrap();
    let r = collect(&root, &bin, &out, &[]);
    assert!(
        r.out.status.success(),
        "{}",
        String::from_utf8_lossy(&r.out.stderr)
    );
    let m = manifest(&testkit::untar(&r.bundle.unwrap()));
    let cmds: Vec<_> = m
        .items
        .iter()
        .filter(|i| i.kind == bundle::Kind::Command)
        .collect();
    assert!(cmds.len() >= 15);
    assert!(
        cmds.iter().all(|i| i.outcome == Outcome::Missing),
        "{cmds:?}"
    );
    assert_eq!(item(&m, "file:/etc/os-release").outcome, Outcome::Missing);
    assert!(m.totals.outcomes["missing"] > 50);
}

#[test]
fn unwritable_output_fails_clearly_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin) = (t.path().join("root"), t.path().join("bin"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&bin).unwrap();
    let not_a_dir = t.path().join("file");
    fs::write(&not_a_dir, "x").unwrap();
    for target in [
        not_a_dir.join("bundle.tgz"),
        PathBuf::from("/proc/nodejoin-test/bundle.tgz"),
        PathBuf::from("/nonexistent-dir/b.tgz"),
    ] {
        let r = collect(&root, &bin, &target, &["--no-network"]);
        assert_eq!(r.out.status.code(), Some(1), "{target:?}");
        let err = String::from_utf8_lossy(&r.out.stderr);
        assert!(
            err.contains("cannot create the bundle") && err.contains(&*target.to_string_lossy()),
            "{err}"
        );
        assert!(r.out.stdout.is_empty());
    }
    assert_eq!(fs::read_dir(t.path()).unwrap().count(), 3);
    let r = Command::new(BIN)
        .arg("--since")
        .arg("soon")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn logs_keep_their_newest_part_within_the_cap() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-big"));
    let mut big = String::new();
    let mut i = 0;
    while big.len() < 3 << 20 {
        big.push_str(&format!("2026-11-24T05:{:02}:{:02}.000001+0000 pi-big kubelet[812]: I1124 line {i:07} of the journal\n", (i / 60) % 60, i % 60));
        i += 1;
    }
    let last = format!("line {:07} of the journal", i - 1);
    fake_tools(&bin, &t.path().join("data"), &[("kubelet", big.clone())]);
    // The same log as a file, as rsyslog keeps it on Raspberry Pi OS.
    put(&root, "/var/log/syslog", &big);
    let r = collect(&root, &bin, &out, &["--max-log-size", "1M", "--no-network"]);
    let entries = testkit::untar(&r.bundle.unwrap());
    let m = manifest(&entries);
    for (id, path) in [
        ("cmd:journal-kubelet", "commands/journal-kubelet.out"),
        ("file:/var/log/syslog", "files/var/log/syslog"),
    ] {
        let it = item(&m, id);
        assert_eq!(it.outcome, Outcome::Truncated, "{id}");
        assert!(
            it.size <= 1 << 20 && it.size > 1000 * 1000,
            "{id} {}",
            it.size
        );
        assert_eq!(
            it.size + it.cut_bytes,
            big.len() as u64,
            "{id}: nothing lost silently"
        );
        let text = entry(&entries, path);
        assert!(
            text.starts_with("2026-11-24T") && text.trim_end().ends_with(&last),
            "{id}"
        );
    }
}

#[test]
fn permission_errors_are_recorded_not_fatal() {
    let t = tempfile::tempdir().unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-user"));
    fake_cmd(
        &bin,
        "dmesg",
        "echo 'dmesg: read kernel buffer failed: Operation not permitted' >&2\nexit 1",
    );
    let secret_conf = root.join("etc/kubernetes/kubelet.conf");
    fs::set_permissions(&secret_conf, fs::Permissions::from_mode(0o600)).unwrap();
    let is_root = unsafe_geteuid() == 0;
    let mut cmd = if is_root {
        // Drop to nobody the way an operator without sudo would run it.
        // Resolved here: the child's PATH is only the fake bin directory.
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("setpriv (util-linux)");
        let mut c = Command::new(setpriv);
        // A copy nobody can reach, wherever the checkout lives.
        let exe = t.path().join("nodejoin-collect");
        fs::copy(BIN, &exe).unwrap();
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        c
    } else {
        fs::set_permissions(&secret_conf, fs::Permissions::from_mode(0o000)).unwrap();
        Command::new(BIN)
    };
    let r = cmd
        .arg("--root")
        .arg(&root)
        .arg("--output")
        .arg(&out)
        .arg("--no-network")
        .env("PATH", &bin)
        .output()
        .expect("run the collector unprivileged");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let path = String::from_utf8_lossy(&r.stdout).trim().to_string();
    let m = manifest(&testkit::untar(Path::new(&path)));
    assert_eq!(
        item(&m, "file:/etc/kubernetes/kubelet.conf").outcome,
        Outcome::Denied
    );
    let d = item(&m, "cmd:dmesg");
    assert_eq!(d.outcome, Outcome::Denied);
    assert!(d
        .error
        .as_deref()
        .unwrap()
        .contains("Operation not permitted"));
    assert_ne!(m.collector.uid, 0);
}

fn unsafe_geteuid() -> u32 {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(1)
}

#[test]
fn operator_includes_and_node_yaml() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&bin).unwrap();
    let join = t.path().join("join.log");
    fs::write(&join, format!("kubeadm join 127.0.0.1:6443 --token {} --discovery-token-ca-cert-hash sha256:1234\n[preflight] Running pre-flight checks\n", secrets::BOOTSTRAP_TOKEN)).unwrap();
    let node = t.path().join("n.yaml");
    fs::write(&node, "apiVersion: v1\nkind: Node\n").unwrap();
    fake_cat(&bin, "kubectl", &node);
    let r = collect(
        &root,
        &bin,
        &out,
        &[
            "--include",
            join.to_str().unwrap(),
            "--node-yaml",
            node.to_str().unwrap(),
            "--include",
            "/nonexistent/x.log",
        ],
    );
    let entries = testkit::untar(&r.bundle.unwrap());
    let m = manifest(&entries);
    assert!(entry(&entries, "extra/join.log").contains("[preflight]"));
    assert!(entry(&entries, "extra/node.yaml").contains("kind: Node"));
    assert_eq!(
        item(&m, "include:/nonexistent/x.log").outcome,
        Outcome::Missing
    );
    assert!(
        !m.items.iter().any(|i| i.id == "cmd:kubectl-get-node"),
        "--node-yaml replaces kubectl"
    );
    assert_no_secrets(&entries, &[]);
}

#[test]
fn a_cut_through_a_private_key_block_leaks_none_of_it() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = dirs(&t, "bin");
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-cut"));
    // 2 MiB of log, then a key block whose start lies before the newest 1 MiB
    // and whose end lies after it, then 1 MiB more of log.
    let filler = |n: usize, tag: &str| -> String {
        (0..n).map(|i| format!("2026-11-24T05:00:00.000001+0000 pi-cut kubelet[1]: I1124 {tag} line {i:06} with ordinary text\n")).collect()
    };
    let key_lines: Vec<String> = (0..400).map(|i| format!("2026-11-24T05:00:01.000001+0000 pi-cut sh[9]: KEYMATERIAL{i:04}ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop\n")).collect();
    let mut log = filler(24000, "before");
    log.push_str("2026-11-24T05:00:01.000001+0000 pi-cut sh[9]: -----BEGIN RSA PRIVATE KEY-----\n");
    log.push_str(&key_lines.concat());
    log.push_str("2026-11-24T05:00:01.000001+0000 pi-cut sh[9]: -----END RSA PRIVATE KEY-----\n");
    // Enough newer log that the newest 1 MiB starts 20 KB before the block's end.
    let mut after = String::new();
    let mut n = 0;
    while after.len() < (1 << 20) - 20_000 {
        after.push_str(&format!("2026-11-24T05:00:00.000001+0000 pi-cut kubelet[1]: I1124 after line {n:06} with ordinary text\n"));
        n += 1;
    }
    let last = format!("after line {:06} with ordinary text", n - 1);
    log.push_str(&after);
    let keyblock_end = log.len() - after.len();
    let keyblock_start = keyblock_end - key_lines.concat().len();
    assert!(
        log.len() - (1 << 20) > keyblock_start && log.len() - (1 << 20) < keyblock_end,
        "the cut must fall inside the block"
    );
    fake_tools(&bin, &t.path().join("data"), &[("kubelet", log.clone())]);
    put(&root, "/var/log/syslog", &log);
    let r = collect(&root, &bin, &out, &["--max-log-size", "1M", "--no-network"]);
    let entries = testkit::untar(&r.bundle.unwrap());
    for path in ["commands/journal-kubelet.out", "files/var/log/syslog"] {
        let text = entry(&entries, path);
        assert!(
            !text.contains("KEYMATERIAL"),
            "{path}: key lines survived the cut"
        );
        assert!(text.contains("private key block removed"), "{path}");
        assert!(text.trim_end().ends_with(&last), "{path}");
    }
    let m = manifest(&entries);
    assert!(item(&m, "cmd:journal-kubelet").redactions >= 1);
}
