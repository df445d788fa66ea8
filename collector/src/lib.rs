//! `nodejoin-collect` as a library: gather a broken node's join state into one
//! bounded, redacted `.tgz` bundle (format: `docs/bundle-format.md`).

pub mod command;
pub mod gzip;
pub mod plan;
pub mod probe;
pub mod redact;
pub mod spool;

use bundle::{ClockProbe, Item, Kind, ListingEntry, Listings, Manifest, Outcome, Reachability};
use plan::Cap;
use spool::Spool;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Collection settings; `Options::default()` is what a node operator gets.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bundle file, or a directory to put the default-named bundle in.
    pub output: Option<PathBuf>,
    pub root: PathBuf,
    /// Where external commands are looked up (normally `$PATH`).
    pub search: Vec<PathBuf>,
    pub since: Duration,
    pub timeout: Duration,
    pub max_log: u64,
    pub max_file: u64,
    pub max_total: u64,
    pub max_time: Duration,
    pub network: bool,
    pub node_name: Option<String>,
    pub api_servers: Vec<String>,
    pub ntp_servers: Vec<String>,
    pub node_yaml: Option<PathBuf>,
    pub includes: Vec<PathBuf>,
    pub kubeconfig: Option<PathBuf>,
    pub jobs: usize,
}

pub const MIB: u64 = 1 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            output: None,
            root: PathBuf::from("/"),
            search: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_else(|| {
                    vec![
                        "/usr/sbin".into(),
                        "/usr/bin".into(),
                        "/sbin".into(),
                        "/bin".into(),
                    ]
                }),
            since: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            max_log: 32 * MIB,
            max_file: 4 * MIB,
            max_total: 192 * MIB,
            max_time: Duration::from_secs(120),
            network: true,
            node_name: None,
            api_servers: Vec::new(),
            ntp_servers: Vec::new(),
            node_yaml: None,
            includes: Vec::new(),
            kubeconfig: None,
            jobs: 4,
        }
    }
}

/// Why no bundle could be written. Everything else is recorded in the manifest.
#[derive(Debug)]
pub enum Error {
    Output { path: PathBuf, source: io::Error },
    Write { path: PathBuf, source: io::Error },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Output { path, source } => write!(
                f,
                "cannot create the bundle at {}: {source}",
                path.display()
            ),
            Error::Write { path, source } => {
                write!(f, "writing the bundle {} failed: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Output { source, .. } | Error::Write { source, .. } => Some(source),
        }
    }
}

/// What a finished collection produced.
#[derive(Debug)]
pub struct Summary {
    pub path: PathBuf,
    pub manifest: Manifest,
}

struct Writer {
    tar: tar::Builder<gzip::GzWriter<BufWriter<File>>>,
    mtime: u64,
    used: u64,
    max_total: u64,
}

impl Writer {
    fn remaining(&self) -> u64 {
        self.max_total.saturating_sub(self.used)
    }

    fn add(&mut self, path: &str, len: u64, data: impl Read) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(len);
        h.set_mode(0o644);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, path, data.take(len))?;
        self.used += len;
        Ok(())
    }
}

fn outcome_of(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::NotFound => Outcome::Missing,
        io::ErrorKind::PermissionDenied => Outcome::Denied,
        _ => Outcome::Failed,
    }
}

/// A host path under the collection root.
fn host(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

fn read_small(root: &Path, p: &str) -> Option<String> {
    let mut s = String::new();
    File::open(host(root, p))
        .ok()?
        .take(64 * 1024)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// Expand a plan path with `*` components into existing host paths (sorted).
fn expand(root: &Path, pattern: &str) -> Vec<String> {
    if !pattern.contains('*') {
        return vec![pattern.to_string()];
    }
    let mut found = vec![String::new()];
    for comp in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for base in &found {
            if comp.contains('*') {
                let Ok(rd) = fs::read_dir(host(root, base)) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| plan::glob_match(comp, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().take(256).map(|n| format!("{base}/{n}")));
            } else {
                next.push(format!("{base}/{comp}"));
            }
        }
        found = next;
    }
    // Regular files only; directories matched by `*` are not descended.
    found
        .into_iter()
        .filter(|p| {
            fs::metadata(host(root, p))
                .map(|m| !m.is_dir())
                .unwrap_or(false)
        })
        .collect()
}

struct Ctx<'a> {
    opts: &'a Options,
    spool_dir: PathBuf,
    started: Instant,
}

impl Ctx<'_> {
    fn cap(&self, c: Cap) -> u64 {
        match c {
            Cap::Small => 256 * 1024,
            Cap::Config => self.opts.max_file,
            Cap::Log => self.opts.max_log,
            Cap::PodLog => self.opts.max_log.min(2 * MIB),
        }
    }

    fn out_of_time(&self) -> bool {
        self.started.elapsed() >= self.opts.max_time
    }
}

/// Read one host file into the bundle (redacted, capped).
fn collect_file(ctx: &Ctx, w: &mut Writer, p: &str, cap: Cap) -> Item {
    let t = Instant::now();
    let mut item = Item::new(format!("file:{p}"), Kind::File, p);
    let path = host(&ctx.opts.root, p);
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            item.outcome = outcome_of(&e);
            if item.outcome != Outcome::Missing {
                item.error = Some(e.to_string());
            }
            return item;
        }
    };
    item.mode = Some(format!("{:04o}", meta.permissions().mode() & 0o7777));
    item.source_size = Some(meta.len());
    if meta.is_dir() {
        item.outcome = Outcome::Failed;
        item.error = Some("is a directory".into());
        return item;
    }
    if plan::is_secret_path(p) {
        item.outcome = Outcome::Redacted;
        item.error = Some("secret file: presence, size and mode only".into());
        return item;
    }
    if ctx.out_of_time() || w.remaining() == 0 {
        item.outcome = Outcome::Skipped;
        item.error = Some(
            if w.remaining() == 0 {
                "total size cap reached"
            } else {
                "time budget exhausted"
            }
            .into(),
        );
        return item;
    }
    let limit = ctx.cap(cap);
    let newest = matches!(cap, Cap::Log | Cap::PodLog);
    let mut f = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let mut pre_cut = 0u64;
    if newest && meta.len() > limit {
        // Start near the end and skip the partial first line.
        let start = meta.len() - limit;
        if f.seek(SeekFrom::Start(start)).is_ok() {
            let mut skipped = 0u64;
            let mut b = [0u8; 1];
            while f.read(&mut b).map(|n| n == 1).unwrap_or(false) {
                skipped += 1;
                if b[0] == b'\n' {
                    break;
                }
            }
            pre_cut = start + skipped;
        }
    }
    let spool = Spool::new(limit, &ctx.spool_dir, &format!("f{}", p.replace('/', "_")));
    let reader: Box<dyn Read> = if newest {
        Box::new(f)
    } else {
        Box::new(f.take(limit + 1))
    };
    // A log read from its tail may start inside a key block.
    let red = if pre_cut > 0 {
        redact::Redactor::after_cut()
    } else {
        redact::Redactor::structured(redact::format_for_path(p))
    };
    let (spool, redactions) = match command::redact_into(reader, spool, red) {
        Ok(r) => r,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let head_cut = if !newest && spool.total() > limit {
        meta.len().max(spool.total()) - limit
    } else {
        0
    };
    let kept = match head_kept(spool, limit, w.remaining(), newest) {
        Ok(k) => k,
        Err(e) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("spool: {e}"));
            return item;
        }
    };
    item.redactions = redactions;
    store(w, &mut item, bundle::file_path(p), kept, pre_cut + head_cut);
    item.duration_ms = t.elapsed().as_millis() as u64;
    item
}

/// Config files keep their head when cut; logs keep their newest part.
fn head_kept(spool: Spool, limit: u64, remaining: u64, newest: bool) -> io::Result<spool::Kept> {
    if newest || spool.total() <= limit.min(remaining) {
        return spool.finish(remaining);
    }
    let keep = limit.min(remaining);
    let mut k = spool.finish(u64::MAX)?;
    let mut head = Vec::with_capacity(keep as usize);
    (&mut k.reader).take(keep).read_to_end(&mut head)?;
    Ok(spool::Kept {
        len: head.len() as u64,
        reader: Box::new(io::Cursor::new(head)),
        cut: 0,
        ring: None,
    })
}

fn store(w: &mut Writer, item: &mut Item, path: String, kept: spool::Kept, extra_cut: u64) {
    item.cut_bytes = kept.cut + extra_cut;
    let len = kept.len;
    match w.add(&path, len, kept.reader) {
        Ok(()) => {
            item.size = len;
            item.path = Some(path);
            if item.cut_bytes > 0 && item.outcome == Outcome::Ok {
                item.outcome = Outcome::Truncated;
            }
        }
        Err(e) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("writing to bundle: {e}"));
        }
    }
}

fn list_dir(root: &Path, dir: &str, prefix: Option<&str>) -> (Item, Option<Vec<ListingEntry>>) {
    let mut item = Item::new(format!("list:{dir}"), Kind::Listing, dir);
    let rd = match fs::read_dir(host(root, dir)) {
        Ok(rd) => rd,
        Err(e) => {
            item.outcome = outcome_of(&e);
            if item.outcome != Outcome::Missing {
                item.error = Some(e.to_string());
            }
            return (item, None);
        }
    };
    let mut entries = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pfx) = prefix {
            if pfx.is_empty() && !name.ends_with(".sock") {
                continue;
            }
            if !pfx.is_empty() && !name.starts_with(pfx) {
                continue;
            }
        }
        let Ok(m) = e.path().symlink_metadata() else {
            continue;
        };
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            "link"
        } else if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_socket() {
            "socket"
        } else {
            "other"
        };
        let target = ft.is_symlink().then(|| {
            fs::read_link(e.path())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        entries.push(ListingEntry {
            name,
            kind: kind.into(),
            size: m.size(),
            mode: format!("{:04o}", m.mode() & 0o7777),
            target,
        });
        if entries.len() >= 2000 {
            break;
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    item.size = entries.len() as u64;
    (item, Some(entries))
}

struct CmdSpec {
    id: String,
    argv: Vec<String>,
    cap: Cap,
    /// Tried when argv[0] is missing (e.g. `k3s crictl` for `crictl`).
    alt: Option<Vec<String>>,
}

fn cmd(id: &str, argv: &[&str], cap: Cap) -> CmdSpec {
    CmdSpec {
        id: id.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cap,
        alt: None,
    }
}

/// Node name as the kubelet will register it.
fn node_name(opts: &Options, hostname: &str) -> (String, String) {
    if let Some(n) = &opts.node_name {
        return (n.clone(), "command line".into());
    }
    for f in [
        "/var/lib/kubelet/kubeadm-flags.env",
        "/etc/default/kubelet",
        "/etc/sysconfig/kubelet",
    ] {
        if let Some(s) = read_small(&opts.root, f) {
            if let Some(v) = s
                .split_whitespace()
                .find_map(|t| t.trim_matches('"').strip_prefix("--hostname-override="))
            {
                return (v.trim_matches('"').to_string(), f.into());
            }
        }
    }
    for f in [
        "/etc/rancher/k3s/config.yaml",
        "/etc/systemd/system/k3s-agent.service",
    ] {
        if let Some(s) = read_small(&opts.root, f) {
            for l in s.lines() {
                let l = l.trim().trim_end_matches('\\').trim();
                let v = l
                    .strip_prefix("node-name:")
                    .or_else(|| l.strip_prefix("'--node-name' '"))
                    .or_else(|| l.strip_prefix("--node-name "));
                if let Some(v) = v {
                    return (v.trim().trim_matches(['"', '\'']).to_string(), f.into());
                }
            }
        }
    }
    (hostname.to_lowercase(), "hostname".into())
}

/// API server URLs the node is configured with, and where.
fn api_servers(opts: &Options) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = opts
        .api_servers
        .iter()
        .map(|s| (s.clone(), "command line".to_string()))
        .collect();
    let mut files: Vec<String> = vec![
        "/etc/kubernetes/kubelet.conf".into(),
        "/etc/kubernetes/bootstrap-kubelet.conf".into(),
        "/etc/rancher/k3s/config.yaml".into(),
        "/etc/systemd/system/k3s-agent.service.env".into(),
        "/etc/systemd/system/k3s-agent.service".into(),
    ];
    files.extend(expand(
        &opts.root,
        "/var/lib/rancher/k3s/agent/*.kubeconfig",
    ));
    for f in files {
        let Some(s) = read_small(&opts.root, &f) else {
            continue;
        };
        for l in s.lines() {
            let l = l.trim().trim_start_matches('-').trim();
            let v = l
                .strip_prefix("server:")
                .or_else(|| l.strip_prefix("K3S_URL="))
                .or_else(|| l.strip_prefix("'--server' '"))
                .or_else(|| l.strip_prefix("--server "));
            if let Some(v) = v {
                let v = v
                    .trim()
                    .trim_end_matches('\\')
                    .trim()
                    .trim_matches(['"', '\''])
                    .to_string();
                // The k3s agent's local load balancer only forwards; probe it too.
                if v.starts_with("https://") && !out.iter().any(|(u, _)| *u == v) {
                    out.push((v, f.clone()));
                }
            }
        }
    }
    out.truncate(6);
    out
}

/// NTP servers from chrony, timesyncd and ntpd configuration, and where.
fn ntp_servers(opts: &Options) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = opts
        .ntp_servers
        .iter()
        .map(|s| (s.clone(), "command line".to_string()))
        .collect();
    let mut files = vec![
        "/etc/chrony/chrony.conf".to_string(),
        "/etc/chrony.conf".into(),
        "/etc/systemd/timesyncd.conf".into(),
        "/etc/ntp.conf".into(),
        "/etc/ntpsec/ntp.conf".into(),
    ];
    for g in [
        "/etc/chrony/conf.d/*",
        "/etc/chrony/sources.d/*",
        "/etc/systemd/timesyncd.conf.d/*",
    ] {
        files.extend(expand(&opts.root, g));
    }
    for f in files {
        let Some(s) = read_small(&opts.root, &f) else {
            continue;
        };
        for l in s.lines() {
            let l = l.trim();
            if l.starts_with('#') {
                continue;
            }
            let mut words = l.split_whitespace();
            let names: Vec<String> = match words.next() {
                Some("server" | "pool" | "peer") => {
                    // chrony: `server HOST [port N] [options]`
                    let Some(h) = words.next() else { continue };
                    let rest: Vec<&str> = words.collect();
                    match rest
                        .iter()
                        .position(|w| *w == "port")
                        .and_then(|i| rest.get(i + 1))
                    {
                        Some(port) if h.contains(':') => vec![format!("[{h}]:{port}")],
                        Some(port) => vec![format!("{h}:{port}")],
                        None => vec![h.to_string()],
                    }
                }
                Some(w) if w.starts_with("NTP=") || w.starts_with("FallbackNTP=") => {
                    let first = w.split_once('=').map(|x| x.1).unwrap_or("");
                    std::iter::once(first)
                        .chain(words)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                }
                _ => Vec::new(),
            };
            for n in names {
                if !out.iter().any(|(u, _)| *u == n) {
                    out.push((n, f.clone()));
                }
            }
        }
    }
    out.truncate(4);
    out
}

fn commands(opts: &Options, node: &str) -> Vec<CmdSpec> {
    let since = format!("--since=-{}s", opts.since.as_secs().max(60));
    let mut v = vec![
        cmd("uname", &["uname", "-a"], Cap::Small),
        cmd("systemctl-show", &["systemctl", "show", "--no-pager", "--property=Id,LoadState,ActiveState,SubState,UnitFileState,NRestarts,ExecMainStatus,ExecMainCode,Result,ActiveEnterTimestamp,FragmentPath,DropInPaths"], Cap::Config),
        cmd("systemctl-cat-kubelet", &["systemctl", "cat", "--no-pager", "kubelet"], Cap::Config),
        cmd("systemctl-cat-k3s-agent", &["systemctl", "cat", "--no-pager", "k3s-agent"], Cap::Config),
    ];
    v[1].argv.extend(plan::UNITS.iter().map(|u| u.to_string()));
    for u in plan::JOURNAL_UNITS {
        v.push(cmd(
            &format!("journal-{u}"),
            &[
                "journalctl",
                "--no-pager",
                "-o",
                "short-iso-precise",
                &since,
                "-u",
                u,
            ],
            Cap::Log,
        ));
    }
    v.extend([
        cmd("dmesg", &["dmesg"], Cap::PodLog),
        cmd("timedatectl-status", &["timedatectl", "status"], Cap::Small),
        cmd("timedatectl-show", &["timedatectl", "show"], Cap::Small),
        cmd(
            "timedatectl-timesync-status",
            &["timedatectl", "timesync-status"],
            Cap::Small,
        ),
        cmd(
            "chronyc-tracking",
            &["chronyc", "-n", "tracking"],
            Cap::Small,
        ),
        cmd("chronyc-sources", &["chronyc", "-n", "sources"], Cap::Small),
        cmd(
            "vcgencmd-get-throttled",
            &["vcgencmd", "get_throttled"],
            Cap::Small,
        ),
        cmd("iptables-version", &["iptables", "--version"], Cap::Small),
        cmd("ip-addr", &["ip", "-o", "addr"], Cap::Small),
        cmd("ip-route", &["ip", "route"], Cap::Small),
        cmd("kubelet-version", &["kubelet", "--version"], Cap::Small),
        cmd(
            "kubeadm-version",
            &["kubeadm", "version", "-o", "short"],
            Cap::Small,
        ),
        cmd("k3s-version", &["k3s", "--version"], Cap::Small),
        cmd(
            "containerd-version",
            &["containerd", "--version"],
            Cap::Small,
        ),
    ]);
    let mut dfs = vec!["df", "-Pk"];
    let df_dirs = [
        "/",
        "/var/lib/kubelet",
        "/var/lib/containerd",
        "/var/lib/rancher",
    ];
    let df_paths: Vec<String> = df_dirs
        .iter()
        .map(|d| host(&opts.root, d))
        .filter(|p| p.exists())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    dfs.extend(df_paths.iter().map(|s| s.as_str()));
    v.push(cmd("df", &dfs, Cap::Small));
    for (id, args) in [
        ("crictl-info", vec!["info"]),
        ("crictl-ps", vec!["ps", "-a"]),
        ("crictl-version", vec!["version"]),
    ] {
        let mut c = cmd(id, &[&["crictl"][..], &args[..]].concat(), Cap::Config);
        c.alt = Some(
            [&["k3s", "crictl"][..], &args[..]]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        v.push(c);
    }
    if opts.network && opts.node_yaml.is_none() {
        let kc = opts.kubeconfig.clone().or_else(|| {
            [
                "/etc/kubernetes/kubelet.conf",
                "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
            ]
            .iter()
            .map(|p| host(&opts.root, p))
            .find(|p| p.exists())
        });
        if let Some(kc) = kc {
            let kc = kc.to_string_lossy().into_owned();
            let t = format!("--request-timeout={}s", opts.timeout.as_secs().max(1));
            let args = ["--kubeconfig", &kc, &t, "get", "node", node, "-o", "yaml"];
            let mut c = cmd(
                "kubectl-get-node",
                &[&["kubectl"][..], &args[..]].concat(),
                Cap::Config,
            );
            c.alt = Some(
                [&["k3s", "kubectl"][..], &args[..]]
                    .concat()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            );
            v.push(c);
        }
    }
    v
}

struct CmdResult {
    item: Item,
    stdout: Option<spool::Kept>,
    stderr: Vec<u8>,
}

fn run_cmd(ctx: &Ctx, spec: &CmdSpec) -> CmdResult {
    let mut item = Item::new(
        format!("cmd:{}", spec.id),
        Kind::Command,
        redact_str(&spec.argv.join(" ")),
    );
    if ctx.out_of_time() {
        item.outcome = Outcome::Skipped;
        item.error = Some("time budget exhausted".into());
        return CmdResult {
            item,
            stdout: None,
            stderr: Vec::new(),
        };
    }
    let cap = ctx.cap(spec.cap);
    let r = |argv: &[String]| {
        command::run(&command::Run {
            argv,
            search: &ctx.opts.search,
            timeout: ctx.opts.timeout,
            cap,
            spool_dir: &ctx.spool_dir,
            name: &spec.id,
        })
    };
    let mut out = r(&spec.argv);
    if let (command::Status::Missing, Some(alt)) = (&out.status, &spec.alt) {
        if command::which(&alt[0], &ctx.opts.search).is_some() {
            item.source = redact_str(&alt.join(" "));
            out = r(alt);
        }
    }
    item.duration_ms = out.duration.as_millis() as u64;
    item.redactions = out.redactions;
    item.source_size = Some(out.stdout_total);
    let stderr_text = String::from_utf8_lossy(&out.stderr).into_owned();
    match &out.status {
        command::Status::Missing => {
            item.outcome = Outcome::Missing;
            item.error = Some(format!("{} not found on PATH", spec.argv[0]));
        }
        command::Status::SpawnFailed(e) => {
            item.outcome = outcome_of(e);
            item.error = Some(format!("cannot run: {e}"));
        }
        command::Status::Exited(c) => {
            item.exit_status = Some(*c);
            if *c != 0 {
                item.outcome = Outcome::Failed;
            }
            let lower = stderr_text.to_lowercase();
            if lower.contains("permission denied")
                || lower.contains("insufficient permissions")
                || lower.contains("operation not permitted")
            {
                item.outcome = Outcome::Denied;
            }
        }
        command::Status::Signaled(s) => {
            item.outcome = Outcome::Failed;
            item.error = Some(format!("killed by signal {s}"));
        }
        command::Status::TimedOut => {
            item.outcome = Outcome::Timeout;
            item.error = Some(format!(
                "killed with its process group after {}s",
                ctx.opts.timeout.as_secs_f32()
            ));
        }
    }
    if item.error.is_none() && !stderr_text.trim().is_empty() && item.outcome != Outcome::Ok {
        item.error = Some(stderr_text.lines().take(3).collect::<Vec<_>>().join(" | "));
    }
    CmdResult {
        item,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn redact_str(s: &str) -> String {
    let mut r = redact::Redactor::new();
    String::from_utf8_lossy(&r.text(s.as_bytes())).into_owned()
}

fn default_name(hostname: &str, unix_secs: i64) -> String {
    let clean: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("nodejoin-{clean}-{}.tgz", bundle::time::stamp(unix_secs))
}

/// Collect a bundle. Returns an error only when no bundle could be written.
pub fn collect(opts: &Options) -> Result<Summary, Error> {
    let started = Instant::now();
    let t0_us = probe::now_unix_micros();
    let root = &opts.root;
    let hostname = read_small(root, "/proc/sys/kernel/hostname")
        .or_else(|| read_small(root, "/etc/hostname"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let (node, node_source) = node_name(opts, &hostname);

    // Output path: a file, or a directory for the default name.
    let default = default_name(&hostname, t0_us / 1_000_000);
    let final_path = match &opts.output {
        Some(p) if p.is_dir() => p.join(default),
        Some(p) => p.clone(),
        None => PathBuf::from(default),
    };
    let dir = match final_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fname = final_path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle.tgz".into());
    let tmp_path = dir.join(format!(".{fname}.partial.{}", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp_path)
        .map_err(|e| Error::Output {
            path: final_path.clone(),
            source: e,
        })?;
    let spool_dir = dir.join(format!(".{fname}.spool.{}", std::process::id()));
    let cleanup = |spool: &Path, tmp: &Path| {
        let _ = fs::remove_dir_all(spool);
        let _ = fs::remove_file(tmp);
    };
    if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&spool_dir) {
        cleanup(&spool_dir, &tmp_path);
        return Err(Error::Output {
            path: final_path,
            source: e,
        });
    }
    let result = collect_into(
        opts,
        file,
        &spool_dir,
        t0_us,
        started,
        &hostname,
        &node,
        &node_source,
    );
    let _ = fs::remove_dir_all(&spool_dir);
    match result {
        Ok(manifest) => {
            if let Err(e) = fs::rename(&tmp_path, &final_path) {
                let _ = fs::remove_file(&tmp_path);
                return Err(Error::Write {
                    path: final_path,
                    source: e,
                });
            }
            Ok(Summary {
                path: final_path,
                manifest,
            })
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp_path);
            Err(Error::Write {
                path: final_path,
                source: e,
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn collect_into(
    opts: &Options,
    file: File,
    spool_dir: &Path,
    t0_us: i64,
    started: Instant,
    hostname: &str,
    node: &str,
    node_source: &str,
) -> io::Result<Manifest> {
    let ctx = Ctx {
        opts,
        spool_dir: spool_dir.to_path_buf(),
        started,
    };
    // zlib-rs level 5 packs kubelet logs as tightly as `gzip -6` (7.8:1 against
    // 7.6:1 on the bench journal) in 30% less time than its own level 6.
    let gz = gzip::GzWriter::new(
        BufWriter::with_capacity(256 * 1024, file),
        5,
        (t0_us / 1_000_000).max(0) as u32,
    )?;
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut w = Writer {
        tar,
        mtime: (t0_us / 1_000_000).max(0) as u64,
        used: 0,
        max_total: opts.max_total,
    };
    let specs = commands(opts, node);
    let slots: Vec<Mutex<Option<CmdResult>>> = specs.iter().map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    let mut items: Vec<Item> = Vec::new();
    let mut listings = Listings::new();
    let mut probes: Option<(ClockProbe, Reachability, Vec<Item>)> = None;

    std::thread::scope(|s| -> io::Result<()> {
        // Commands run in parallel workers and spool their output.
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("lock");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(spec) = specs.get(i) else { break };
                let r = run_cmd(&ctx, spec);
                *slots[i].lock().expect("lock") = Some(r);
            });
        }
        let probe_thread = s.spawn(|| run_probes(&ctx));

        // Meanwhile, host files go straight into the bundle.
        for (pattern, cap) in plan::FILES {
            for p in expand(&opts.root, pattern) {
                items.push(collect_file(&ctx, &mut w, &p, *cap));
            }
        }
        for p in pod_logs(&opts.root) {
            items.push(collect_file(&ctx, &mut w, &p, Cap::PodLog));
        }
        for (d, prefix) in plan::LISTINGS {
            let (item, entries) = list_dir(&opts.root, d, *prefix);
            items.push(item);
            if let Some(e) = entries {
                listings.insert(d.to_string(), e);
            }
        }
        for (i, p) in opts
            .node_yaml
            .iter()
            .map(|p| (true, p))
            .chain(opts.includes.iter().map(|p| (false, p)))
        {
            items.push(collect_extra(&ctx, &mut w, p, i));
        }
        probes = probe_thread.join().ok();
        Ok(())
    })?;

    for slot in slots {
        let Some(mut r) = slot.into_inner().expect("lock") else {
            continue;
        };
        if let Some(kept) = r.stdout.take() {
            if kept.len > 0 || r.item.outcome == Outcome::Ok {
                let id = r.item.id.trim_start_matches("cmd:").to_string();
                let keep = w.remaining();
                let kept = if kept.len > keep {
                    trim_front(kept, keep)?
                } else {
                    kept
                };
                store(
                    &mut w,
                    &mut r.item,
                    bundle::command_path(&id, "out"),
                    kept,
                    0,
                );
            }
        }
        if !r.stderr.is_empty() {
            let id = r.item.id.trim_start_matches("cmd:").to_string();
            let n = (r.stderr.len() as u64).min(w.remaining());
            let _ = w.add(
                &bundle::command_path(&id, "err"),
                n,
                &r.stderr[..n as usize],
            );
        }
        items.push(r.item);
    }
    let (clock, reach, probe_items) = probes.unwrap_or_default();
    items.extend(probe_items);
    let add_json = |w: &mut Writer,
                    items: &mut Vec<Item>,
                    id: &str,
                    path: &str,
                    data: Vec<u8>|
     -> io::Result<()> {
        let mut it = Item::new(id, Kind::Probe, path);
        it.path = Some(path.into());
        it.size = data.len() as u64;
        w.add(path, data.len() as u64, &data[..])?;
        items.push(it);
        Ok(())
    };
    add_json(
        &mut w,
        &mut items,
        "probe:clock",
        bundle::CLOCK,
        serde_json::to_vec_pretty(&clock).unwrap_or_default(),
    )?;
    add_json(
        &mut w,
        &mut items,
        "probe:reachability",
        bundle::REACHABILITY,
        serde_json::to_vec_pretty(&reach).unwrap_or_default(),
    )?;
    add_json(
        &mut w,
        &mut items,
        "listings",
        bundle::LISTINGS,
        serde_json::to_vec_pretty(&listings).unwrap_or_default(),
    )?;

    let mut totals = bundle::Totals::default();
    for it in &items {
        totals.items += 1;
        totals.bytes += it.size;
        totals.cut_bytes += it.cut_bytes;
        totals.redactions += it.redactions;
        *totals
            .outcomes
            .entry(it.outcome.name().to_string())
            .or_default() += 1;
    }
    let manifest = Manifest {
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        collector: bundle::Collector {
            name: "nodejoin-collect".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            arch: std::env::consts::ARCH.into(),
            uid: unsafe_uid(),
        },
        host: bundle::Host {
            hostname: hostname.into(),
            node_name: node.into(),
            node_name_source: node_source.into(),
            machine_id: read_small(&opts.root, "/etc/machine-id")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            kernel: read_small(&opts.root, "/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string()),
            root: opts.root.to_string_lossy().into_owned(),
        },
        collected_at: bundle::time::rfc3339_micros(t0_us),
        collected_at_unix_ms: t0_us / 1000,
        duration_ms: started.elapsed().as_millis() as u64,
        options: bundle::Options {
            since_seconds: opts.since.as_secs(),
            command_timeout_ms: opts.timeout.as_millis() as u64,
            max_log_bytes: opts.max_log,
            max_file_bytes: opts.max_file,
            max_total_bytes: opts.max_total,
            network: opts.network,
        },
        items,
        totals,
    };
    let data = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    // The manifest is always written, even past the total cap.
    w.add(bundle::MANIFEST, data.len() as u64, &data[..])?;
    let gz = w.tar.into_inner()?;
    let buf = gz.finish()?;
    let file = buf.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(manifest)
}

fn trim_front(kept: spool::Kept, keep: u64) -> io::Result<spool::Kept> {
    let mut k = kept;
    let drop = k.len - keep;
    io::copy(&mut (&mut k.reader).take(drop), &mut io::sink())?;
    Ok(spool::Kept {
        len: keep,
        reader: k.reader,
        cut: k.cut + drop,
        ring: k.ring,
    })
}

fn unsafe_uid() -> u32 {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn pod_logs(root: &Path) -> Vec<String> {
    let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
    let Ok(rd) = fs::read_dir(host(root, "/var/log/pods")) else {
        return Vec::new();
    };
    for pod in rd.filter_map(|e| e.ok()) {
        let pname = pod.file_name().to_string_lossy().into_owned();
        if !plan::POD_LOG_NAMES.iter().any(|n| pname.contains(n)) {
            continue;
        }
        let Ok(containers) = fs::read_dir(pod.path()) else {
            continue;
        };
        for c in containers.filter_map(|e| e.ok()) {
            let cname = c.file_name().to_string_lossy().into_owned();
            let Ok(logs) = fs::read_dir(c.path()) else {
                continue;
            };
            for l in logs.filter_map(|e| e.ok()) {
                let lname = l.file_name().to_string_lossy().into_owned();
                if !lname.ends_with(".log") {
                    continue;
                }
                let m = l
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((m, format!("/var/log/pods/{pname}/{cname}/{lname}")));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found
        .into_iter()
        .take(plan::POD_LOG_FILES)
        .map(|x| x.1)
        .collect()
}

/// `--node-yaml` and `--include` files: the operator's own, read outside `--root`.
fn collect_extra(ctx: &Ctx, w: &mut Writer, p: &Path, is_node: bool) -> Item {
    let shown = p.to_string_lossy().into_owned();
    let mut item = Item::new(format!("include:{shown}"), Kind::Include, &shown);
    let base = p
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "include".into());
    let name = if is_node {
        "node.yaml".to_string()
    } else {
        base
    };
    let f = match File::open(p) {
        Ok(f) => f,
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
            return item;
        }
    };
    let limit = ctx.opts.max_log;
    match command::pump(f, Spool::new(limit, &ctx.spool_dir, &format!("x{name}"))) {
        Ok((spool, red)) => {
            item.redactions = red;
            item.source_size = Some(spool.total());
            match spool.finish(w.remaining()) {
                Ok(k) => store(w, &mut item, format!("{}{name}", bundle::EXTRA_DIR), k, 0),
                Err(e) => {
                    item.outcome = Outcome::Failed;
                    item.error = Some(e.to_string());
                }
            }
        }
        Err(e) => {
            item.outcome = outcome_of(&e);
            item.error = Some(e.to_string());
        }
    }
    item
}

fn run_probes(ctx: &Ctx) -> (ClockProbe, Reachability, Vec<Item>) {
    let opts = ctx.opts;
    let now = probe::now_unix_micros();
    let mut clock = ClockProbe {
        node_time: bundle::time::rfc3339_micros(now),
        node_time_unix_ms: now / 1000,
        uptime_seconds: read_small(&opts.root, "/proc/uptime")
            .and_then(|s| s.split_whitespace().next().and_then(|t| t.parse().ok())),
        rtc_present: Some(
            host(&opts.root, "/sys/class/rtc/rtc0").exists()
                || host(&opts.root, "/dev/rtc0").exists(),
        ),
        offsets: Vec::new(),
    };
    let mut reach = Reachability::default();
    let mut items = Vec::new();
    let timeout = opts.timeout.min(Duration::from_secs(5));
    let mut probe_item = |id: String, src: &str, err: Option<String>, ms: u64| {
        let mut it = Item::new(id, Kind::Probe, src);
        it.duration_ms = ms;
        if let Some(e) = err {
            it.outcome = Outcome::Failed;
            it.error = Some(e);
        }
        items.push(it);
    };
    if !opts.network {
        probe_item(
            "probe:network".into(),
            "--no-network",
            Some("network probes disabled by --no-network".into()),
            0,
        );
        return (clock, reach, items);
    }
    for (url, from) in api_servers(opts) {
        let t1 = Instant::now();
        let ep = probe::tcp(
            &opts.root,
            &url,
            &from,
            &opts.search,
            timeout,
            &ctx.spool_dir,
        );
        probe_item(
            format!("probe:tcp:{url}"),
            &url,
            ep.error.clone(),
            t1.elapsed().as_millis() as u64,
        );
        let connected = ep.connected;
        reach.endpoints.push(ep);
        if connected
            && clock
                .offsets
                .iter()
                .filter(|o| o.method == "https-date")
                .count()
                < 2
        {
            let t1 = Instant::now();
            let o = probe::https_date(&url, &from, &opts.search, timeout, &ctx.spool_dir);
            probe_item(
                format!("probe:https-date:{url}"),
                &url,
                o.error.clone(),
                t1.elapsed().as_millis() as u64,
            );
            clock.offsets.push(o);
        }
    }
    for (peer, from) in ntp_servers(opts) {
        let t1 = Instant::now();
        let o = probe::ntp_offset(
            &opts.root,
            &peer,
            &from,
            &opts.search,
            timeout,
            &ctx.spool_dir,
        );
        probe_item(
            format!("probe:sntp:{peer}"),
            &peer,
            o.error.clone(),
            t1.elapsed().as_millis() as u64,
        );
        clock.offsets.push(o);
    }
    (clock, reach, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_name_from_flags() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("var/lib/kubelet")).unwrap();
        fs::write(d.path().join("var/lib/kubelet/kubeadm-flags.env"), "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --hostname-override=pi-7\"\n").unwrap();
        let o = Options {
            root: d.path().into(),
            ..Options::default()
        };
        assert_eq!(node_name(&o, "RaspberryPi").0, "pi-7");
        let o2 = Options {
            root: "/nonexistent".into(),
            ..Options::default()
        };
        assert_eq!(node_name(&o2, "RaspberryPi").0, "raspberrypi");
    }

    #[test]
    fn ntp_config_parsing() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("etc/chrony")).unwrap();
        fs::create_dir_all(d.path().join("etc/systemd")).unwrap();
        fs::write(
            d.path().join("etc/chrony/chrony.conf"),
            "# pool 2.debian.pool.ntp.org iburst\nserver 127.0.0.1 iburst\npool 127.0.0.2 port 10123\n",
        )
        .unwrap();
        fs::write(
            d.path().join("etc/systemd/timesyncd.conf"),
            "[Time]\nNTP=127.0.0.3 127.0.0.4\n",
        )
        .unwrap();
        let o = Options {
            root: d.path().into(),
            ..Options::default()
        };
        let s: Vec<String> = ntp_servers(&o).into_iter().map(|x| x.0).collect();
        assert_eq!(
            s,
            vec!["127.0.0.1", "127.0.0.2:10123", "127.0.0.3", "127.0.0.4"]
        );
    }
}
