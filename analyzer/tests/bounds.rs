//! Issue 9: `nodejoin analyze` is bounded in memory and time on every input,
//! however small. Each case of the issue runs the real binary and measures it
//! (peak RSS from wait4's rusage, wall time): at most 256 MiB and 10 s per
//! input, an exit status in {0, 1, 2} (never an abort), and a problem line
//! wherever something was dropped.
#![allow(clippy::print_stderr)]

#[path = "common/gen.rs"]
mod gen;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODEJOIN: &str = env!("CARGO_BIN_EXE_nodejoin");
const MAX_RSS_KIB: i64 = 256 << 10;
const MAX_SECS: f64 = 10.0;

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    rss_kib: i64,
    /// Wall time.
    secs: f64,
    /// CPU time (user + system): what the input costs, whatever else the
    /// machine is running at the same time.
    cpu: f64,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    /// One report per input (the fleet summary that ends several is left out).
    fn json(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|v: &serde_json::Value| v["kind"] != "summary")
            .collect()
    }

    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The bounds of issue 9.
    fn bounded(&self, what: &str) -> &Self {
        eprintln!(
            "bounds: {what}: exit {:?} signal {:?}, {:.2} s CPU, {:.2} s wall, {} MiB peak RSS",
            self.code,
            self.signal,
            self.cpu,
            self.secs,
            self.rss_kib >> 10
        );
        assert!(
            matches!(self.code, Some(0..=2)),
            "{what}: exit {:?} signal {:?}: {}",
            self.code,
            self.signal,
            self.stderr
        );
        assert!(
            self.rss_kib <= MAX_RSS_KIB,
            "{what}: {} MiB peak RSS",
            self.rss_kib >> 10
        );
        assert!(self.cpu <= MAX_SECS, "{what}: {:.1} s CPU", self.cpu);
        // A shared CI machine may be slow; a hang is not.
        assert!(
            self.secs <= 6.0 * MAX_SECS,
            "{what}: {:.1} s wall",
            self.secs
        );
        self
    }
}

/// Run nodejoin, measuring its peak RSS and wall time. A 4 GiB address-space
/// limit and a 120 s watchdog keep a blow-up from taking the machine with it.
fn run_in(args: &[&str], dir: Option<&Path>) -> Run {
    let mut cmd = Command::new(NODEJOIN);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    // Reaped below with wait4, which also gives the child's rusage.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("spawn nodejoin");
    let pid = child.id() as libc::pid_t;
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let done = Arc::new(AtomicBool::new(false));
    let d2 = done.clone();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(120);
        while Instant::now() < until {
            if d2.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !d2.load(Ordering::Relaxed) {
            // SAFETY: plain kill(2) of our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data filled in by the kernel.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std never reaps it (no wait() call).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    done.store(true, Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4");
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        code,
        signal,
        rss_kib: ru.ru_maxrss,
        secs,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        stdout: t_out.join().unwrap(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

fn run(args: &[&str]) -> Run {
    run_in(args, None)
}

/// `analyze --format json` of one input with its own time budget.
fn analyze_json(p: &Path, max_seconds: &str) -> Run {
    run(&[
        "analyze",
        "--format",
        "json",
        "--max-seconds",
        max_seconds,
        p.to_str().unwrap(),
    ])
}

fn problems(v: &serde_json::Value) -> String {
    v["problems"].to_string()
}

#[test]
fn every_tar_and_structured_case_is_bounded_and_reported() {
    let t = tempfile::tempdir().unwrap();
    for c in gen::cases() {
        let p = t.path().join(c.name);
        std::fs::write(&p, &c.data).unwrap();
        // The bounds tested here are of bytes and metadata; a loaded machine
        // must not let the time budget cut a bomb before they do.
        let r = analyze_json(&p, "60");
        r.bounded(c.name);
        let v = &r.json()[0];
        let pr = problems(v);
        for w in c.problem {
            assert!(pr.contains(w), "{}: no problem with {w:?}: {pr}", c.name);
        }
        // Problem lines stay readable: a 32 MiB name is not copied out.
        assert!(
            r.stdout.len() < 1 << 20,
            "{}: {} bytes of JSON",
            c.name,
            r.stdout.len()
        );
        // What follows the bomb is still read.
        if c.name.starts_with("long-")
            || c.name.starts_with("pax-body")
            || c.name.starts_with("sparse-map")
            || c.name == "accented.tgz"
        {
            assert_eq!(v["verdict"]["cause"], "swap-enabled", "{}: {pr}", c.name);
        }
    }
}

#[test]
fn parallel_inputs_share_one_memory_budget() {
    let t = tempfile::tempdir().unwrap();
    for (mib, name) in [(4usize, "refused"), (1, "parsed")] {
        let mut args = vec!["analyze".to_string(), "--format".into(), "json".into()];
        for i in 0..8 {
            let p = t.path().join(format!("{name}-{i}.tgz"));
            std::fs::write(&p, gen::flat(mib)).unwrap();
            args.push(p.display().to_string());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&a);
        r.bounded(&format!("eight inputs, {mib} MiB flat YAML each"));
        assert_eq!(r.json().len(), 8);
    }
}

#[test]
fn duplicate_entries_are_reported_and_the_first_copy_kept() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("dup.tgz");
    std::fs::write(&p, gen::duplicate_manifest()).unwrap();
    let r = run(&["analyze", "--format", "json", p.to_str().unwrap()]);
    r.bounded("duplicate entries");
    let v = &r.json()[0];
    assert_eq!(v["facts"]["bundle.collected_at"], "t1795500000000", "{v}");
    assert_eq!(v["verdict"]["cause"], "swap-enabled");
    let pr = problems(v);
    assert_eq!(pr.matches("duplicate entry").count(), 2, "{pr}");
}

#[test]
fn multi_member_gzip_and_cr_only_logs_are_read_whole() {
    let t = tempfile::tempdir().unwrap();
    let gz = t.path().join("kubelet.log.gz");
    std::fs::write(&gz, gen::two_member_log()).unwrap();
    let cr = t.path().join("kubelet-cr.log");
    std::fs::write(&cr, gen::cr_only_log()).unwrap();
    let r = run(&[
        "analyze",
        "--format",
        "json",
        gz.to_str().unwrap(),
        cr.to_str().unwrap(),
    ]);
    r.bounded("multi-member gzip, CR-only");
    for v in r.json() {
        assert_eq!(v["verdict"]["cause"], "swap-enabled", "{v}");
    }
    assert_eq!(r.json()[1]["stats"]["log_lines"], 3);
    assert_eq!(r.json()[0]["stats"]["log_lines"], 2);
}

#[test]
fn a_directory_input_has_a_total_bytes_cap() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("bundle");
    std::fs::create_dir_all(d.join("commands")).unwrap();
    std::fs::write(
        d.join("commands/journal-kubelet.out"),
        format!("{}\n", gen::SWAP_LINE),
    )
    .unwrap();
    for i in 0..4 {
        // Sparse: 1 GiB each on disk costs nothing, reading it would.
        let f = std::fs::File::create(d.join(format!("huge-{i}.log"))).unwrap();
        f.set_len(1 << 30).unwrap();
    }
    let r = run(&[
        "analyze",
        "--format",
        "json",
        "--max-mib",
        "8",
        d.to_str().unwrap(),
    ]);
    r.bounded("directory of 4 GiB with --max-mib 8");
    let v = &r.json()[0];
    assert!(
        v["stats"]["bytes"].as_u64().unwrap() <= 8 << 20,
        "{}",
        v["stats"]
    );
    assert!(
        problems(v).contains("read from the directory"),
        "{}",
        problems(v)
    );
    assert_eq!(v["verdict"]["cause"], "swap-enabled");
}

#[test]
fn pipes_and_process_substitution_are_read() {
    let t = tempfile::tempdir().unwrap();
    let src = testkit::workspace().join("fixtures/bundles/pi-clock-drift-kubeadm");
    let tgz = t.path().join("b.tgz");
    testkit::pack_dir(&src, &tgz);
    // A FIFO: nothing can be read twice.
    let fifo = t.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (f2, data) = (fifo.clone(), std::fs::read(&tgz).unwrap());
    let w = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(f2).unwrap();
        let _ = f.write_all(&data);
    });
    let r = run(&["analyze", "--format", "json", fifo.to_str().unwrap()]);
    w.join().unwrap();
    r.bounded("fifo");
    assert_eq!(
        r.json()[0]["verdict"]["cause"],
        "clock-drift",
        "{}",
        r.stderr
    );
    assert_eq!(r.json()[0]["kind"], "bundle-tgz");
    // bash's <(...) as an operator types it.
    let o = Command::new("bash")
        .args([
            "-c",
            "exec \"$0\" analyze --format json <(cat \"$1\")",
            NODEJOIN,
            tgz.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"]["cause"], "clock-drift");
}

#[test]
fn flag_arithmetic_does_not_wrap() {
    let b = testkit::workspace().join("fixtures/bundles/pi-clock-drift-kubeadm");
    let r = run(&[
        "analyze",
        "--format",
        "json",
        "--max-mib",
        "18446744073709551615",
        "--max-seconds",
        "18446744073709551615",
        b.to_str().unwrap(),
    ]);
    r.bounded("--max-mib u64::MAX");
    let v = &r.json()[0];
    assert!(!problems(v).contains("MiB"), "{}", problems(v));
    assert_eq!(v["verdict"]["cause"], "clock-drift");
}

#[test]
fn the_time_budget_stops_an_input_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("slow.tgz");
    std::fs::write(&p, gen::lines_bomb(b"a\n", 16 << 10)).unwrap();
    let r = run(&[
        "analyze",
        "--format",
        "json",
        "--max-mib",
        "100000",
        "--max-seconds",
        "2",
        p.to_str().unwrap(),
    ]);
    r.bounded("16 GiB of short lines, --max-seconds 2");
    assert!(
        problems(&r.json()[0]).contains("time budget"),
        "{}",
        problems(&r.json()[0])
    );
    assert!(r.secs < 20.0, "{:.1} s", r.secs);
}

/// Markdown with every code span removed: what a renderer interprets.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let b: Vec<char> = md.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '`' {
            let mut n = 0;
            while i + n < b.len() && b[i + n] == '`' {
                n += 1;
            }
            let fence: String = "`".repeat(n);
            let rest: String = b[i + n..].iter().collect();
            match rest.find(&fence) {
                Some(end) => {
                    i += n + rest[..end].chars().count() + n;
                    out.push_str("CODE");
                    continue;
                }
                None => {
                    out.push_str(&fence);
                    i += n;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[test]
fn markdown_output_cannot_carry_html_or_links() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("inject.tgz");
    std::fs::write(&p, gen::injection()).unwrap();
    let r = run(&["analyze", "--format", "markdown", p.to_str().unwrap()]);
    r.bounded("markdown injection");
    let md = r.out();
    assert!(md.contains("evil.example"), "{md}");
    let live = outside_code(&md);
    for bad in ["<img", "](http", "https://"] {
        assert!(
            !live.contains(bad),
            "{bad} outside a code span:\n{live}\n---\n{md}"
        );
    }
    // Table rows keep their cell count: `|` inside evidence is escaped.
    for row in md
        .lines()
        .filter(|l| l.starts_with("| error") || l.starts_with("| warning"))
    {
        assert_eq!(row.matches(" | ").count(), 5, "{row}");
    }
}

/// `timeline` and `certs` print evidence and certificate names in Markdown
/// tables too: they escaped only `|` and backticks, so a log line or a
/// subject carrying `<img src=...>` or `[text](https://...)` became an image
/// or a link in the ticket.
#[test]
fn timeline_and_certs_markdown_cannot_carry_html_or_links() {
    let line = format!("{} {}\n", gen::SWAP_LINE, gen::INJECTION);
    let cert = gen::pem_cert(&gen::der_cert(gen::INJECTION, 1));
    let mut t = gen::Tgz::default();
    t.file("manifest.json", &gen::manifest(1_795_500_000_000));
    t.file(
        "files/var/lib/kubelet/pki/kubelet-client-current.pem",
        cert.as_bytes(),
    );
    t.file(gen::JOURNAL, line.as_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("inject.tgz");
    std::fs::write(&p, t.finish()).unwrap();
    for cmd in ["timeline", "certs"] {
        let r = run(&[cmd, "--format", "markdown", p.to_str().unwrap()]);
        r.bounded(&format!("{cmd}: markdown injection"));
        let md = r.out();
        assert!(md.contains("evil.example"), "{cmd}: {md}");
        // What a renderer interprets: outside code spans, backslash escapes dropped.
        let mut live = String::new();
        let outside = outside_code(&md);
        let mut chars = outside.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
                live.push('_');
            } else {
                live.push(c);
            }
        }
        for bad in ["<img", "](http", "https://"] {
            assert!(!live.contains(bad), "{cmd}: {bad} live:\n{md}");
        }
    }
}

/// `timeline` reads the input a second time with its own patterns. An
/// overlong line's rest was skipped into an unbounded buffer: a 1 GiB line
/// (or a log of lone CRs, one line to it) held 1 GiB; a 1 KiB .gz took
/// `timeline` to 1047 MiB RSS. Both reads now share the input's time budget,
/// and what they cut is listed under the table.
#[test]
fn timeline_skips_a_gigantic_line_without_holding_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("one-line.log.gz");
    let m = gen::gz(&[b'a'; 1 << 20]);
    std::fs::write(&p, m.repeat(512)).unwrap();
    let r = run(&["timeline", p.to_str().unwrap()]);
    r.bounded("timeline: one line of 512 MiB");
}

const RULE: &str = "id = \"ID\"\ncause = \"swap-enabled\"\nphase = 1\nseverity = \"error\"\nconfidence = 0.5\ntitle = \"TITLE\"\nexplanation = \"long enough explanation of what this rule is for, really\"\nfix = [\"FIX\"]\nreferences = [\"r\"]\n[[when]]\nlogs = [LOGS]\n";

fn rule(id: &str, title: &str, logs: &str) -> String {
    RULE.replace("ID", id)
        .replace("TITLE", title)
        .replace("FIX", title)
        .replace("LOGS", logs)
}

/// `rules check DIR` and `analyze --rules DIR` report the same errors.
fn both_refuse(dir: &Path, what: &str, needle: &str) {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("k.log");
    std::fs::write(&log, format!("{}\n", gen::SWAP_LINE)).unwrap();
    let c = run(&["rules", "check", dir.to_str().unwrap()]);
    let a = run(&[
        "analyze",
        "--rules",
        dir.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    for (r, cmd) in [(&c, "rules check"), (&a, "analyze --rules")] {
        eprintln!(
            "bounds: {what} ({cmd}): exit {:?}, {:.2} s, {} MiB",
            r.code,
            r.secs,
            r.rss_kib >> 10
        );
        assert_eq!(r.code, Some(2), "{what} {cmd}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{what} {cmd}: {}", r.stderr);
        assert!(r.secs < 30.0);
    }
    assert_eq!(c.stderr, a.stderr, "{what}: check and analyze disagree");
}

#[test]
fn rules_check_and_analyze_load_rules_the_same_way() {
    let t = tempfile::tempdir().unwrap();
    let d = |n: &str| {
        let p = t.path().join(n);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    // Patterns that compile alone but not together (past the pattern budget
    // all rule files of a run share, before the set is even built).
    let big = d("big");
    let pats: Vec<String> = (0..100).map(|i| format!("'\\w{{15}}x{i}'")).collect();
    std::fs::write(big.join("big.toml"), rule("big-set", "t", &pats.join(", "))).unwrap();
    both_refuse(&big, "set too big", "compile to more than 4 MiB");
    // A built-in id again.
    let dup = d("dup");
    std::fs::write(dup.join("a.toml"), rule("swap-kubelet-refuses", "t", "'x'")).unwrap();
    both_refuse(&dup, "duplicate built-in id", "duplicate rule id");
    // A FIFO would hang; /dev/zero would grow without end.
    let fifo = d("fifo");
    let c = std::ffi::CString::new(fifo.join("f.toml").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    both_refuse(&fifo, "fifo rule file", "not a regular file");
    let zero = d("zero");
    std::os::unix::fs::symlink("/dev/zero", zero.join("z.toml")).unwrap();
    both_refuse(&zero, "/dev/zero rule file", "not a regular file");
    let huge = d("huge");
    std::fs::write(huge.join("h.toml"), "#".repeat(1 << 20)).unwrap();
    both_refuse(&huge, "huge rule file", "not read");
    // Word boundaries, even explicitly Unicode ones, are compiled as ASCII:
    // 34 MiB of accented log lines stay on the fast path.
    let ok = d("ok");
    std::fs::write(
        ok.join("o.toml"),
        rule(
            "ascii-b",
            "t",
            "'(?u:\\b)réseau\\s+indisponible\\b', '\\bswap on\\b'",
        ),
    )
    .unwrap();
    let acc = t.path().join("accented.tgz");
    std::fs::write(&acc, gen::accented(34)).unwrap();
    let a = run(&[
        "analyze",
        "--format",
        "json",
        "--rules",
        ok.to_str().unwrap(),
        acc.to_str().unwrap(),
    ]);
    a.bounded("34 MiB accented log, user rule with (?u:\\b)");
    assert!(a.out().contains("ascii-b"), "{}", a.stderr);
    let c = run(&["rules", "check", ok.to_str().unwrap()]);
    assert_eq!(c.code, Some(0), "{}", c.stderr);
}

#[test]
fn explain_and_rules_escape_rule_text() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("e.toml"),
        rule("evil-title", "\\u001b]0;pwned\\u0007\\u001b[2J", "'x'"),
    )
    .unwrap();
    let dir = t.path().to_str().unwrap();
    for args in [
        vec!["explain", "evil-title", "--rules", dir],
        vec!["rules", "--rules", dir],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        assert!(!r.stdout.contains(&0x1b), "{args:?}: raw escape in output");
        assert!(!r.stdout.contains(&0x07), "{args:?}: raw BEL in output");
        assert!(r.out().contains("\\x1b"), "{args:?}: {}", r.out());
    }
}

#[test]
fn many_certificates_and_kubeconfigs_stay_bounded() {
    let (pem, _) = testkit::server_cert();
    let certs = pem.repeat((4 << 20) / pem.len());
    let kube = gen::flat_yaml(1);
    let mut t = gen::Tgz::default();
    for i in 0..30 {
        t.file(
            &format!("files/etc/kubernetes/pki/c{i}.crt"),
            certs.as_bytes(),
        );
    }
    for i in 0..30 {
        t.file(&format!("files/etc/kubernetes/k{i}.conf"), kube.as_bytes());
    }
    t.file(gen::JOURNAL, gen::SWAP_LINE.as_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("many.tgz");
    std::fs::write(&p, t.finish()).unwrap();
    let r = run(&["analyze", "--format", "json", p.to_str().unwrap()]);
    r.bounded("30 x 4 MiB of certificates, 30 x 1 MiB kubeconfigs");
    let pr = problems(&r.json()[0]);
    assert!(
        pr.contains("certificate blocks; the rest were not parsed"),
        "{pr}"
    );
    assert!(pr.contains("budget"), "{pr}");
}

/// Certificates whose parsed form is many times their size: thousands of
/// subject alternative names each, a thousand of them, and blocks too large
/// to be a certificate, in PEM files and a kubeconfig's `*-data`. Before the
/// certificate budget, `analyze` held each name as a string (973 MiB for a
/// 400 KiB .tgz) and `certs` printed them all (6.6 GiB, 42 s).
#[test]
fn certificates_with_many_names_stay_bounded() {
    let wide = gen::pem_cert(&gen::der_cert("system:node:pi", 8000));
    let huge = gen::pem_cert(&gen::der_cert("huge", 20_000));
    let kube = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.0.1:6443\n  name: c\n",
        testkit::base64(huge.as_bytes())
    );
    let mut t = gen::Tgz::default();
    t.file("manifest.json", &gen::manifest(1_795_500_000_000));
    t.file("files/etc/kubernetes/pki/huge.crt", huge.as_bytes());
    t.file("files/etc/kubernetes/kubelet.conf", kube.as_bytes());
    for i in 0..30 {
        let name = format!("files/etc/kubernetes/pki/w{i}.crt");
        t.file(&name, wide.repeat(32).as_bytes());
    }
    t.file(gen::JOURNAL, gen::SWAP_LINE.as_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("wide-certs.tgz");
    std::fs::write(&p, t.finish()).unwrap();
    let p = p.to_str().unwrap();
    let r = run(&["analyze", "--format", "json", p]);
    r.bounded("960 certificates of 8000 names each");
    let pr = problems(&r.json()[0]);
    for want in [
        "7936 of a certificate's 8000 subject alternative names (the first 64 were kept)",
        "budget of 256 certificates is used up",
        "over the limit of 64 KiB",
        "kubelet.conf (certificate-authority-data)",
    ] {
        assert!(pr.contains(want), "{want}: {pr}");
    }
    let c = run(&["certs", p]);
    c.bounded("certs: 960 certificates of 8000 names each");
    assert!(
        c.stdout.len() < 4 << 20,
        "{} bytes of certs",
        c.stdout.len()
    );
}

/// Logs the line fast path cannot skip (lone CRs, binary bytes, UTF-16) are
/// read line by line at 30-40 MB/s: a gigabyte of them took 30 s in a
/// release build, past the 10 s of issue 9, before the default time budget
/// came down to 8 s. Each is stopped by the budget, and says so.
#[test]
fn logs_off_the_fast_path_stop_at_the_time_budget() {
    let d = tempfile::tempdir().unwrap();
    let utf16: Vec<u8> = format!("{}\n", gen::SWAP_LINE)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let binary: Vec<u8> = (0..=255u8).collect();
    for (name, unit) in [("cr", &b"\r"[..]), ("binary", &binary), ("utf16", &utf16)] {
        let chunk = unit.repeat((1 << 20) / unit.len());
        // 1 GiB, or 8 MiB of gzip members, whichever is less.
        let m = gen::gz(&chunk);
        let v = m.repeat((1024).min((8 << 20) / m.len()));
        let p = d.path().join(format!("{name}.log.gz"));
        std::fs::write(&p, &v).unwrap();
        let r = analyze_json(&p, "1");
        r.bounded(&format!("{name}: lines off the fast path, --max-seconds 1"));
        let pr = problems(&r.json()[0]);
        assert!(
            pr.contains("time budget") || pr.contains("decompressed"),
            "{name}: {pr}"
        );
    }
}

/// Pasted text (a file outside files/ and commands/) is split into sections
/// of command output; one section every two lines made each 9 bytes of text
/// a parsed document: 24 such 4 MiB files (200 KiB as a .tgz) took 1.5 GiB
/// and 18.7 s in a release build. Sections are now capped per file and in
/// bytes per input. Two files here: the debug build scans slowly.
#[test]
fn pasted_text_with_endless_sections_stays_bounded() {
    let body = "$ free\nx\n".repeat((4 << 20) / 9 - 1);
    let mut t = gen::Tgz::default();
    for i in 0..2 {
        t.file(&format!("extra/paste{i}.log"), body.as_bytes());
    }
    t.file(gen::JOURNAL, gen::SWAP_LINE.as_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sections.tgz");
    std::fs::write(&p, t.finish()).unwrap();
    // The section cap is under test, not the time budget: on a loaded
    // machine the debug build's read can use all 8 s, and facts (the
    // section split) stop at the same deadline.
    let r = analyze_json(&p, "60");
    r.bounded("2 pasted files of 450k sections each");
    let pr = problems(&r.json()[0]);
    assert!(pr.contains("more than 64 sections"), "{pr}");
}

/// User rule files are read as hostile too: each log pattern was compiled
/// and kept on its own, within 1 MiB each but without a total, so 1000 rule
/// files of 20 counted-repetition patterns took `rules check` to 1.76 GiB
/// and 12 s. All patterns of a run now share one compiled-size budget.
#[test]
fn rule_files_share_one_pattern_budget() {
    let t = tempfile::tempdir().unwrap();
    for f in 0..300 {
        let pat = format!("\"[a-z0-9]{{1,300}}q{f}z[a-z]{{1,300}}\"");
        let logs = vec![pat; 20].join(", ");
        let text = rule(&format!("user-{f}"), "a title", &logs);
        std::fs::write(t.path().join(format!("r{f:03}.toml")), text).unwrap();
    }
    let dir = t.path().to_str().unwrap();
    let log = t.path().join("k.log");
    std::fs::write(&log, format!("{}\n", gen::SWAP_LINE)).unwrap();
    for args in [
        &["rules", "check", dir][..],
        &["analyze", "--rules", dir, log.to_str().unwrap()][..],
    ] {
        let r = run(args);
        r.bounded(&format!("{}: 300 rule files of 20 large patterns", args[0]));
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        assert!(
            r.stderr.contains("compile to more than 4 MiB"),
            "{}",
            r.stderr
        );
    }
}

/// `--node-yaml` and `--events` were read whole with no limit: `--events
/// /dev/zero` grew until the machine ran out of memory. They are refused
/// past 4 MiB with a clear error.
#[test]
fn extra_evidence_files_are_bounded() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("k.log");
    std::fs::write(&log, format!("{}\n", gen::SWAP_LINE)).unwrap();
    for flag in ["--node-yaml", "--events"] {
        let r = run(&["analyze", flag, "/dev/zero", log.to_str().unwrap()]);
        r.bounded(&format!("analyze {flag} /dev/zero"));
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        assert!(r.stderr.contains("larger than 4 MiB"), "{}", r.stderr);
    }
}

/// Fact extraction after the read had no time limit: 24 pasted tables of
/// unique machine ids (96 MiB kept) took `certs` 9.6 s in a release build
/// under load, the duplicate-id search and the section split running after
/// the 8 s read. The read, the facts and the second read of `timeline` and
/// `certs` now share the input's one deadline, and each says where it
/// stopped. `timeline` and `certs` take `--max-seconds` as `analyze` does.
#[test]
fn fact_extraction_stops_at_the_time_budget() {
    let mut t = gen::Tgz::default();
    let mut table = String::from("NAME       MACHINE-ID\n");
    let mut i: u64 = 0;
    while table.len() < (4 << 20) - 64 {
        table.push_str(&format!(
            "n{i:07}    {:032x}\n",
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ));
        i += 1;
    }
    for f in 0..6 {
        t.file(&format!("extra/ids{f}.txt"), table.as_bytes());
    }
    t.file(gen::JOURNAL, gen::SWAP_LINE.as_bytes());
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ids.tgz");
    std::fs::write(&p, t.finish()).unwrap();
    let p = p.to_str().unwrap();
    for cmd in ["analyze", "timeline", "certs"] {
        let r = run(&[cmd, "--format", "json", "--max-seconds", "1", p]);
        r.bounded(&format!("{cmd}: 6 pasted id tables, --max-seconds 1"));
        // `timeline` and `certs` print one pretty JSON object.
        let v: serde_json::Value = match cmd {
            "analyze" => r.json()[0].clone(),
            _ => serde_json::from_slice(&r.stdout).unwrap(),
        };
        let pr = problems(&v);
        if r.secs > 1.5 {
            assert!(pr.contains("time budget of 1 s"), "{cmd}: {pr}");
        }
        assert!(r.secs < 1.0 + MAX_SECS, "{cmd}: {:.1} s", r.secs);
    }
}

/// A named pipe given on the command line with no writer blocked `open`
/// forever. It is now opened without blocking and waits for data only until
/// the input's deadline; a pipe with a writer reads as before (see
/// `pipes_and_process_substitution_are_read`).
#[test]
fn a_named_pipe_without_a_writer_does_not_hang() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let f = fifo.to_str().unwrap();
    let b = testkit::workspace().join("fixtures/bundles/pi-clock-drift-kubeadm");
    let b = b.to_str().unwrap();
    for args in [
        vec!["analyze", "--max-seconds", "1", f],
        vec!["timeline", "--max-seconds", "1", f],
        vec!["certs", "--max-seconds", "1", f],
        vec!["analyze", "--max-seconds", "1", "--node-yaml", f, b],
    ] {
        let r = run(&args);
        r.bounded(&format!("{}: FIFO without a writer", args.join(" ")));
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("named pipe"), "{args:?}: {}", r.stderr);
        assert!(r.secs < 5.0, "{args:?}: {:.1} s", r.secs);
    }
}
