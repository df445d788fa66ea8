//! The collector binary against faults and hostile hosts (issue 8): signals at
//! random moments, FIFOs and devices at gathered paths, links out of `--root`,
//! a setsid daemon holding a command's pipe, a full disk, output to a device,
//! every probe hanging, caps; and the `--run` join wrapper (issue 10).
//! Everything contacted listens on 127.0.0.1.

#![allow(clippy::print_stderr)] // skips and timings are reported on stderr

use bundle::{Manifest, Outcome};
use std::ffi::CString;
use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use testkit::{fake_cmd, fake_tools, put, PiOptions};

const BIN: &str = env!("CARGO_BIN_EXE_nodejoin-collect");

fn run(root: &Path, bin: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(out)
        .args(extra)
        .env("PATH", bin)
        .output()
        .expect("run collector")
}

fn bundle_of(o: &Output) -> PathBuf {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

fn manifest(entries: &[(String, Vec<u8>)]) -> Manifest {
    let m = entries
        .iter()
        .find(|(p, _)| p == "manifest.json")
        .expect("manifest");
    serde_json::from_slice(&m.1).expect("manifest parses")
}

fn item<'a>(m: &'a Manifest, id: &str) -> &'a bundle::Item {
    m.items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn text<'a>(entries: &'a [(String, Vec<u8>)], path: &str) -> &'a str {
    let e = entries.iter().find(|(p, _)| p == path);
    std::str::from_utf8(&e.unwrap_or_else(|| panic!("no entry {path}")).1).unwrap()
}

fn mkfifo(p: &Path) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid C string.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {p:?}"
    );
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Every recorded pid is gone or a zombie.
fn assert_all_dead(pids: &Path) {
    std::thread::sleep(Duration::from_millis(300));
    for pid in fs::read_to_string(pids)
        .unwrap_or_default()
        .split_whitespace()
    {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "process {pid} survived: {stat}"
        );
    }
}

/// Every tool the collector runs, wedged: it records its pid and sleeps.
fn wedged_tools(bin: &Path, pids: &Path) {
    let body = format!(
        "echo $$ >> '{}'\necho started\nexec /bin/sleep 300",
        pids.display()
    );
    for name in [
        "uname",
        "systemctl",
        "journalctl",
        "dmesg",
        "timedatectl",
        "chronyc",
        "vcgencmd",
        "iptables",
        "ip",
        "kubelet",
        "kubeadm",
        "k3s",
        "containerd",
        "df",
        "crictl",
        "kubectl",
        "getent",
        "curl",
    ] {
        fake_cmd(bin, name, &body);
    }
}

#[test]
fn output_to_a_device_or_fifo_is_refused_and_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin) = (t.path().join("root"), t.path().join("bin"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&bin).unwrap();
    let fifo = t.path().join("out.fifo");
    mkfifo(&fifo);
    // As root, a private null device: a broken guard must never replace the
    // real /dev/null (it did once). Unprivileged, /dev itself is not writable.
    let dev = if is_root() {
        let d = t.path().join("null");
        let c = CString::new(d.as_os_str().as_bytes()).unwrap();
        // SAFETY: mknod(2) of a character device (1,3 = null) at a valid path.
        let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        assert_eq!(rc, 0, "mknod");
        d
    } else {
        PathBuf::from("/dev/null")
    };
    for (target, what) in [
        (dev.as_path(), "character device"),
        (fifo.as_path(), "FIFO"),
    ] {
        let o = run(&root, &bin, target, &["--no-network"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{target:?}: {err}");
        assert!(
            err.contains(what) && err.contains("regular file or a directory"),
            "{err}"
        );
        let ft = fs::metadata(target).unwrap().file_type();
        assert!(
            ft.is_char_device() || ft.is_fifo(),
            "{target:?} was replaced"
        );
    }
    // Nothing was left beside the FIFO.
    let left: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), if is_root() { 4 } else { 3 }, "{left:?}");
}

#[test]
fn fifos_and_devices_at_gathered_paths_are_skipped_with_the_reason() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    put(&root, "/etc/hostname", "pi-fifo\n");
    mkfifo(&root.join("etc/os-release"));
    mkfifo(&root.join("var/log/syslog"));
    mkfifo(&root.join("etc/sysctl.d/99-fifo.conf"));
    let zero = t.path().join("zero");
    if is_root() {
        // A real /dev/zero inside the root.
        let c = CString::new(root.join("etc/fstab").as_os_str().as_bytes()).unwrap();
        // SAFETY: mknod(2) of a character device (1,5 = /dev/zero) at a valid path.
        let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 5)) };
        assert_eq!(rc, 0, "mknod");
    } else {
        eprintln!(
            "not root: no device node inside --root; /dev/zero is tried through --include only"
        );
    }
    symlink("/dev/zero", &zero).unwrap();
    let started = Instant::now();
    let o = run(
        &root,
        &bin,
        &out,
        &[
            "--no-network",
            "--include",
            zero.to_str().unwrap(),
            "--max-time",
            "20s",
        ],
    );
    let took = started.elapsed();
    let entries = testkit::untar(&bundle_of(&o));
    let m = manifest(&entries);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    for (id, why) in [
        ("file:/etc/os-release", "a FIFO, not a regular file"),
        ("file:/var/log/syslog", "a FIFO, not a regular file"),
        (
            "file:/etc/sysctl.d/99-fifo.conf",
            "a FIFO, not a regular file",
        ),
        (
            &format!("include:{}", zero.display()),
            "a character device, not a regular file",
        ),
    ] {
        let it = item(&m, id);
        assert_eq!(it.outcome, Outcome::Skipped, "{id}");
        assert_eq!(it.error.as_deref(), Some(why), "{id}");
    }
    if is_root() {
        let it = item(&m, "file:/etc/fstab");
        assert_eq!(
            (it.outcome, it.error.as_deref()),
            (
                Outcome::Skipped,
                Some("a character device, not a regular file")
            )
        );
    }
}

#[test]
fn links_cannot_leave_the_root_and_environ_is_never_read() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    let outside = t.path().join("outside-shadow");
    fs::write(
        &outside,
        "root:$6$OUTSIDE-THE-ROOT-HASH:19000:0:99999:7:::\n",
    )
    .unwrap();
    put(&root, "/etc/hostname", "pi-links\n");
    put(&root, "/etc/shadow-inside", "inside the root\n");
    fs::create_dir_all(root.join("etc/kubernetes")).unwrap();
    fs::create_dir_all(root.join("etc/sysctl.d")).unwrap();
    // Absolute: re-rooted, so it names ROOT/<outside path>, which does not exist.
    symlink(&outside, root.join("etc/kubernetes/kubelet.conf")).unwrap();
    // Relative with too many `..`: clamped at the root.
    let ups = "../".repeat(20) + outside.strip_prefix("/").unwrap().to_str().unwrap();
    symlink(&ups, root.join("etc/hosts")).unwrap();
    // A directory link out of the root, matched by a glob.
    symlink(t.path(), root.join("etc/sysctl.d/evil")).unwrap();
    symlink("/proc/self/environ", root.join("etc/resolv.conf")).unwrap();
    // An absolute link that stays inside works, re-rooted.
    symlink("/etc/shadow-inside", root.join("etc/timezone")).unwrap();
    let o = Command::new(BIN)
        .args(["--no-network", "--root"])
        .arg(&root)
        .arg("--output")
        .arg(&out)
        .env("PATH", &bin)
        .env("NODEJOIN_PLANTED_ENV", "ENVIRON-MUST-NOT-LEAK")
        .output()
        .unwrap();
    let entries = testkit::untar(&bundle_of(&o));
    for (p, data) in &entries {
        let s = String::from_utf8_lossy(data);
        assert!(
            !s.contains("OUTSIDE-THE-ROOT"),
            "host file outside --root in {p}"
        );
        assert!(!s.contains("ENVIRON-MUST-NOT-LEAK"), "environment in {p}");
    }
    let m = manifest(&entries);
    assert_eq!(
        item(&m, "file:/etc/kubernetes/kubelet.conf").outcome,
        Outcome::Missing
    );
    assert_eq!(item(&m, "file:/etc/hosts").outcome, Outcome::Missing);
    let env = item(&m, "file:/etc/resolv.conf");
    assert_eq!(env.outcome, Outcome::Skipped);
    assert!(
        env.error.as_deref().unwrap().contains("environment"),
        "{env:?}"
    );
    assert_eq!(text(&entries, "files/etc/timezone"), "inside the root\n");
}

#[test]
fn a_setsid_daemon_holding_the_pipe_is_recorded_honestly() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    put(&root, "/etc/hostname", "pi-daemon\n");
    let pids = t.path().join("pids");
    let setsid = ["/usr/bin/setsid", "/bin/setsid"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("setsid (util-linux)");
    fake_cmd(&bin, "crictl", &format!("echo before the daemon\n{setsid} /bin/sh -c 'echo $$ >> {}; exec /bin/sleep 30' &\n/bin/sleep 0.3\necho after the daemon\nexit 0", pids.display()));
    let started = Instant::now();
    let o = run(&root, &bin, &out, &["--no-network", "--timeout", "5s"]);
    let took = started.elapsed();
    let entries = testkit::untar(&bundle_of(&o));
    let m = manifest(&entries);
    let it = item(&m, "cmd:crictl-info");
    assert_eq!((it.outcome, it.exit_status), (Outcome::Ok, Some(0)));
    assert!(
        it.error
            .as_deref()
            .unwrap_or("")
            .contains("still held open"),
        "{it:?}"
    );
    let out_text = text(&entries, "commands/crictl-info.out");
    assert!(
        out_text.contains("before the daemon") && out_text.contains("after the daemon"),
        "{out_text}"
    );
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}: waited for the daemon"
    );
    for pid in fs::read_to_string(&pids).unwrap().split_whitespace() {
        // SAFETY: kill(2) of the test's own daemon.
        unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
    }
}

#[test]
fn signals_at_random_moments_leave_nothing_behind() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin) = (t.path().join("root"), t.path().join("bin"));
    testkit::kubeadm_pi(&root, &PiOptions::new("pi-sig"));
    // Slow tools that print, so spools and the partial bundle exist.
    let pids = t.path().join("pids");
    fake_tools(
        &bin,
        &t.path().join("data"),
        &[("kubelet", "x\n".repeat(300_000))],
    );
    for name in ["crictl", "dmesg", "chronyc"] {
        fake_cmd(&bin, name, &format!("echo $$ >> '{}'\ni=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1)); done\nexec /bin/sleep 300", pids.display()));
    }
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for (round, sig) in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .iter()
        .cycle()
        .take(9)
        .enumerate()
    {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(20 + (seed >> 33) % 1500);
        let out = t.path().join(format!("out{round}"));
        fs::create_dir_all(&out).unwrap();
        let mut child = Command::new(BIN)
            .args(["--no-network", "--timeout", "4s", "--root"])
            .arg(&root)
            .arg("--output")
            .arg(&out)
            .env("PATH", &bin)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SAFETY: kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, *sig) };
        let st = child.wait().unwrap();
        assert_eq!(
            st.code(),
            Some(128 + sig),
            "round {round}: signal {sig} after {delay:?}"
        );
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "round {round} (signal {sig} after {delay:?}) left {left:?}"
        );
        assert_all_dead(&pids);
    }
}

#[test]
fn a_full_disk_is_named_as_such() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("small"),
    );
    fs::create_dir_all(&out).unwrap();
    let mounted = is_root()
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1200k,mode=0700", "tmpfs"])
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED a_full_disk_is_named_as_such: cannot mount a small tmpfs here (needs root and mount rights)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _u = Unmount(out.clone());
    put(&root, "/etc/hostname", "pi-full\n");
    // 3 MiB of journal: the spool spills past its 1 MiB in memory onto the full disk.
    let journal: String = (0..40_000)
        .map(|i| format!("2026-11-24T05:00:00.{i:06}+0000 pi-full kubelet[1]: I1124 line {i}\n"))
        .collect();
    fake_tools(&bin, &t.path().join("data"), &[("kubelet", journal)]);
    let o = run(&root, &bin, &out, &["--no-network"]);
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.success() {
        let m = manifest(&testkit::untar(&bundle_of(&o)));
        let failed: Vec<_> = m
            .items
            .iter()
            .filter(|i| {
                i.error
                    .as_deref()
                    .is_some_and(|e| e.contains("No space left on device"))
            })
            .collect();
        assert!(!failed.is_empty(), "ENOSPC not named in any item");
        assert!(
            failed.iter().all(|i| i.outcome == Outcome::Failed),
            "{failed:?}"
        );
        assert!(m
            .items
            .iter()
            .all(|i| !i.error.as_deref().unwrap_or("").contains("signal 13")));
    } else {
        assert_eq!(o.status.code(), Some(1));
        assert!(err.contains("No space left on device"), "{err}");
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn with_everything_hanging_a_run_ends_within_twice_the_timeout() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    // API server black-holed: the kernel completes the handshake, nobody ever answers.
    let api = TcpListener::bind("127.0.0.1:0").unwrap();
    let api_url = format!("https://127.0.0.1:{}", api.local_addr().unwrap().port());
    let ntp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut o = PiOptions::new("pi-hang");
    o.api = api_url.clone();
    o.ntp = Some(format!(
        "127.0.0.1 port {}",
        ntp.local_addr().unwrap().port()
    ));
    testkit::kubeadm_pi(&root, &o);
    let pids = t.path().join("pids");
    wedged_tools(&bin, &pids);
    // NODEJOIN_HANG_TIMEOUT=10 measures the default --timeout.
    let timeout: u64 = std::env::var("NODEJOIN_HANG_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let started = Instant::now();
    let r = run(
        &root,
        &bin,
        &out,
        &[
            "--timeout",
            &format!("{timeout}s"),
            "--api-server",
            "https://k8s-blackhole.invalid:6443",
        ],
    );
    let took = started.elapsed();
    eprintln!("everything hanging, --timeout {timeout}s: {took:?}");
    let m = manifest(&testkit::untar(&bundle_of(&r)));
    let mut slow: Vec<_> = m
        .items
        .iter()
        .map(|i| (i.duration_ms, i.id.as_str()))
        .collect();
    slow.sort();
    eprintln!("slowest items: {:?}", &slow[slow.len().saturating_sub(8)..]);
    assert!(took < Duration::from_secs(2 * timeout), "took {took:?}");
    let timeouts = m
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::Timeout)
        .count();
    assert!(timeouts >= 20, "{timeouts} commands timed out");
    assert!(m
        .items
        .iter()
        .any(|i| i.id.starts_with("probe:tcp:https://127.0.0.1")));
    assert_all_dead(&pids);
}

#[test]
fn caps_give_one_skipped_item_per_candidate() {
    let t = tempfile::tempdir().unwrap();
    let (root, bin, out) = (
        t.path().join("root"),
        t.path().join("bin"),
        t.path().join("out"),
    );
    fs::create_dir_all(&out).unwrap();
    put(&root, "/etc/hostname", "pi-caps\n");
    for i in 0..300 {
        put(
            &root,
            &format!("/etc/sysctl.d/{i:03}.conf"),
            format!("net.x{i} = 1\n"),
        );
    }
    for i in 0..30 {
        put(
            &root,
            &format!("/var/log/pods/kube-flannel_flannel-{i:02}_uid/kube-flannel/0.log"),
            "2026-11-24T05:00:00Z stderr F ok\n",
        );
    }
    // A config over its cap keeps its head up to the last whole line.
    let conf: String = (0..100)
        .map(|i| format!("# line {i:03} of the chrony config\n"))
        .collect();
    put(&root, "/etc/chrony/chrony.conf", &conf);
    // A log with no newline at all is read in blocks; its tail starts in the
    // middle of a line (maybe of a secret), so that partial line is withheld.
    put(
        &root,
        "/var/log/kubelet.log",
        "no newline here ".repeat((3 << 20) / 16),
    );
    let started = Instant::now();
    let o = run(
        &root,
        &bin,
        &out,
        &[
            "--no-network",
            "--max-file-size",
            "1000",
            "--max-log-size",
            "1M",
        ],
    );
    let took = started.elapsed();
    let entries = testkit::untar(&bundle_of(&o));
    let m = manifest(&entries);
    let sysctl: Vec<_> = m
        .items
        .iter()
        .filter(|i| i.id.starts_with("file:/etc/sysctl.d/"))
        .collect();
    assert_eq!(sysctl.len(), 300);
    assert_eq!(
        sysctl.iter().filter(|i| i.outcome == Outcome::Ok).count(),
        256
    );
    let capped = sysctl
        .iter()
        .filter(|i| i.outcome == Outcome::Skipped)
        .collect::<Vec<_>>();
    assert_eq!(capped.len(), 44);
    assert!(
        capped[0].error.as_deref().unwrap().starts_with("cap 256"),
        "{:?}",
        capped[0]
    );
    let pods: Vec<_> = m
        .items
        .iter()
        .filter(|i| i.id.starts_with("file:/var/log/pods/"))
        .collect();
    assert_eq!(pods.len(), 30);
    assert_eq!(
        pods.iter()
            .filter(|i| i.outcome == Outcome::Skipped)
            .count(),
        6
    );
    let c = item(&m, "file:/etc/chrony/chrony.conf");
    let kept = text(&entries, "files/etc/chrony/chrony.conf");
    assert_eq!(c.outcome, Outcome::Truncated);
    assert!(
        kept.starts_with("# line 000 ") && kept.ends_with(" config\n"),
        "{kept}"
    );
    assert_eq!(c.size + c.cut_bytes, conf.len() as u64);
    let k = item(&m, "file:/var/log/kubelet.log");
    assert_eq!(
        (k.outcome, k.cut_bytes, k.redactions),
        (Outcome::Truncated, 2 << 20, 1),
        "{k:?}"
    );
    assert_eq!(
        text(&entries, "files/var/log/kubelet.log"),
        "<redacted len=1048576>"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

fn wrap(bin: &Path, out: &Path, extra: &[&str], argv: &[&str]) -> Output {
    let path = format!("{}:/usr/bin:/bin", bin.display());
    Command::new(BIN)
        .args([
            "--root",
            "/nonexistent-root",
            "--no-network",
            "--timeout",
            "2s",
            "--output",
        ])
        .arg(out)
        .args(extra)
        .arg("--run")
        .arg("--")
        .args(argv)
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn run_wrapper_collects_when_the_join_fails_or_hangs_and_exits_with_its_status() {
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("bin");
    let token = testkit::secrets::BOOTSTRAP_TOKEN;
    fake_cmd(&bin, "kubeadm", "echo \"[preflight] Running pre-flight checks for $*\"\necho 'error execution phase kubelet-start: timed out waiting for the condition' >&2\nexit 3");
    fake_cmd(
        &bin,
        "kubeadm-ok",
        "echo 'This node has joined the cluster'",
    );
    fake_cmd(&bin, "kubeadm-hang", "echo '[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap'\nexec /bin/sleep 300");

    let out = t.path().join("fail");
    fs::create_dir_all(&out).unwrap();
    let o = wrap(
        &bin,
        &out,
        &[],
        &["kubeadm", "join", "127.0.0.1:6443", "--token", token],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("[preflight] Running") && err.contains("timed out waiting"),
        "streamed: {err}"
    );
    let entries = testkit::untar(&bundle_of_path(&o));
    let m = manifest(&entries);
    let it = item(&m, "cmd:run");
    assert_eq!((it.outcome, it.exit_status), (Outcome::Failed, Some(3)));
    assert!(
        !it.source.contains(testkit::secrets::BOOTSTRAP_SECRET),
        "{}",
        it.source
    );
    let kept = text(&entries, "commands/run.out");
    assert!(
        kept.contains("[preflight]") && kept.contains("timed out waiting for the condition"),
        "{kept}"
    );
    assert!(!kept.contains(testkit::secrets::BOOTSTRAP_SECRET), "{kept}");

    let out = t.path().join("ok");
    fs::create_dir_all(&out).unwrap();
    let o = wrap(&bin, &out, &[], &["kubeadm-ok", "join"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has joined"));
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        0,
        "no bundle when the join worked"
    );

    let out = t.path().join("hang");
    fs::create_dir_all(&out).unwrap();
    let started = Instant::now();
    let o = wrap(
        &bin,
        &out,
        &["--run-timeout", "1s"],
        &["kubeadm-hang", "join"],
    );
    assert_eq!(o.status.code(), Some(124));
    assert!(started.elapsed() < Duration::from_secs(10));
    let entries = testkit::untar(&bundle_of_path(&o));
    let m = manifest(&entries);
    assert_eq!(item(&m, "cmd:run").outcome, Outcome::Timeout);
    assert!(text(&entries, "commands/run.out").contains("TLS Bootstrap"));
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1, "only the bundle");
}

/// The bundle path a wrapped run printed (its status is the command's).
fn bundle_of_path(o: &Output) -> PathBuf {
    let p = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    assert!(
        p.is_file(),
        "no bundle: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    p
}

#[test]
fn a_signal_during_run_stops_the_join_command_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (bin, out) = (t.path().join("bin"), t.path().join("out"));
    fs::create_dir_all(&out).unwrap();
    let pids = t.path().join("pids");
    fake_cmd(&bin, "kubeadm", &format!("echo $$ >> '{}'\necho '[preflight] Running pre-flight checks'\n/bin/sleep 300 &\necho $! >> '{0}'\nwait", pids.display()));
    let mut child = Command::new(BIN)
        .args(["--root", "/nonexistent-root", "--no-network", "--output"])
        .arg(&out)
        .args(["--run", "--", "kubeadm", "join"])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "kubeadm never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert_all_dead(&pids);
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        0,
        "spool or partial file left"
    );
}
