//! Collection settings and the one flag table that drives parsing, defaults
//! and `--help`.
//!
//! Arguments are parsed with lexopt rather than clap: clap costs ~70 KiB, and
//! the static Pi builds have a size budget.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub const MIB: u64 = 1 << 20;

/// Collection settings; `Options::default()` is what a node operator gets
/// (the defaults are the ones the flag table shows).
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
    /// `--run -- CMD ...`: the join command to wrap (empty: plain collection).
    pub run: Vec<String>,
    /// How long the wrapped command may run before it is killed and collected.
    pub run_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        let mut cli = Cli::empty();
        cli.opts.search = default_search();
        for f in FLAGS {
            if let FlagDefault::Value(v) = f.default {
                (f.set)(&mut cli, Some(v.into())).expect("flag table default parses");
            }
        }
        cli.opts
    }
}

fn default_search() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_else(|| {
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .map(PathBuf::from)
                .collect()
        })
}

/// What the command line asked for.
#[derive(Debug)]
pub struct Cli {
    pub opts: Options,
    pub quiet: bool,
    pub help: bool,
    pub version: bool,
}

impl Cli {
    fn empty() -> Self {
        Cli {
            opts: Options::default_shell(),
            quiet: false,
            help: false,
            version: false,
        }
    }
}

impl Options {
    /// A placeholder used only while the defaults are being applied.
    fn default_shell() -> Self {
        Options {
            output: None,
            root: PathBuf::new(),
            search: Vec::new(),
            since: Duration::ZERO,
            timeout: Duration::ZERO,
            max_log: 0,
            max_file: 0,
            max_total: 0,
            max_time: Duration::ZERO,
            network: true,
            node_name: None,
            api_servers: Vec::new(),
            ntp_servers: Vec::new(),
            node_yaml: None,
            includes: Vec::new(),
            kubeconfig: None,
            jobs: 0,
            run: Vec::new(),
            run_timeout: Duration::ZERO,
        }
    }
}

/// A flag's default: a value parsed like a command-line value, or a phrase
/// shown in `--help` only.
#[derive(Clone, Copy)]
pub enum FlagDefault {
    None,
    Value(&'static str),
    Text(&'static str),
}

type Set = fn(&mut Cli, Option<OsString>) -> Result<(), String>;

/// One command-line flag: the data both the parser and `--help` read.
pub struct Flag {
    pub short: Option<char>,
    pub long: &'static str,
    /// Name of the value in `--help`; `None` for a switch.
    pub value: Option<&'static str>,
    pub default: FlagDefault,
    /// Help text; `\n` starts a continuation line.
    pub help: &'static str,
    set: Set,
}

fn text(v: Option<OsString>) -> String {
    v.map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn path(v: Option<OsString>) -> PathBuf {
    PathBuf::from(v.unwrap_or_default())
}

fn dur(v: Option<OsString>) -> Result<Duration, String> {
    parse_duration(&text(v))
}

fn size(v: Option<OsString>) -> Result<u64, String> {
    parse_size(&text(v))
}

macro_rules! flag {
    ($short:expr, $long:literal, $value:expr, $default:expr, $help:literal, $set:expr) => {
        Flag {
            short: $short,
            long: $long,
            value: $value,
            default: $default,
            help: $help,
            set: $set,
        }
    };
}

/// Every flag, in `--help` order.
pub const FLAGS: &[Flag] = &[
    flag!(Some('o'), "output", Some("FILE|DIR"), FlagDefault::Text("./nodejoin-HOST-TIME.tgz"),
        "Bundle to write (a regular file), or a directory for the\ndefault name",
        |c, v| { c.opts.output = Some(path(v)); Ok(()) }),
    flag!(None, "root", Some("DIR"), FlagDefault::Value("/"),
        "Read host files under DIR instead of /; links cannot\nleave it",
        |c, v| { c.opts.root = path(v); Ok(()) }),
    flag!(None, "since", Some("DURATION"), FlagDefault::Value("24h"),
        "Journal window, e.g. 30m, 6h, 2d",
        |c, v| { c.opts.since = dur(v)?; Ok(()) }),
    flag!(None, "timeout", Some("DURATION"), FlagDefault::Value("10s"),
        "Per-command and per-probe timeout; a hung command is killed\nwith its process group",
        |c, v| { c.opts.timeout = dur(v)?; Ok(()) }),
    flag!(None, "max-time", Some("DURATION"), FlagDefault::Value("120s"),
        "Budget for the whole run, reads included; later items are\nrecorded as skipped",
        |c, v| { c.opts.max_time = dur(v)?; Ok(()) }),
    flag!(None, "max-log-size", Some("SIZE"), FlagDefault::Value("32M"),
        "Cap per log; the newest whole lines are kept",
        |c, v| { c.opts.max_log = size(v)?; Ok(()) }),
    flag!(None, "max-file-size", Some("SIZE"), FlagDefault::Value("4M"),
        "Cap per config file or command output",
        |c, v| { c.opts.max_file = size(v)?; Ok(()) }),
    flag!(None, "max-total-size", Some("SIZE"), FlagDefault::Value("192M"),
        "Cap on all content, uncompressed",
        |c, v| { c.opts.max_total = size(v)?; Ok(()) }),
    flag!(None, "no-network", None, FlagDefault::None,
        "Contact nothing: no reachability, clock offset or node object",
        |c, _| { c.opts.network = false; Ok(()) }),
    flag!(None, "node-name", Some("NAME"), FlagDefault::None,
        "Node name, when neither hostname nor kubelet flags give it",
        |c, v| { c.opts.node_name = Some(text(v)); Ok(()) }),
    flag!(None, "api-server", Some("URL"), FlagDefault::None,
        "Also probe this API server (https://HOST:PORT); repeatable",
        |c, v| { c.opts.api_servers.push(text(v)); Ok(()) }),
    flag!(None, "ntp-server", Some("HOST"), FlagDefault::None,
        "Also measure the offset to this NTP server; repeatable",
        |c, v| { c.opts.ntp_servers.push(text(v)); Ok(()) }),
    flag!(None, "kubeconfig", Some("FILE"), FlagDefault::Text("the kubelet's"),
        "Kubeconfig for `kubectl get node`",
        |c, v| { c.opts.kubeconfig = Some(path(v)); Ok(()) }),
    flag!(None, "node-yaml", Some("FILE"), FlagDefault::None,
        "Add a node object fetched elsewhere (kubectl get node -o yaml)",
        |c, v| { c.opts.node_yaml = Some(path(v)); Ok(()) }),
    flag!(None, "include", Some("FILE"), FlagDefault::None,
        "Add another file (kubeadm join output, kubectl describe\nnode, events); repeatable",
        |c, v| { c.opts.includes.push(path(v)); Ok(()) }),
    flag!(None, "jobs", Some("N"), FlagDefault::Value("4"),
        "Commands started at the same time (a command still running\nafter 1/16 of --timeout no longer counts)",
        |c, v| {
            c.opts.jobs = text(v).parse().map_err(|_| "takes a whole number".to_string())?;
            Ok(())
        }),
    flag!(None, "run", None, FlagDefault::None,
        "Run the join command given after `--` (kubeadm join,\nk3s agent, the k3s install script), streaming its output;\ncollect when it fails or outlives --run-timeout; exit with\nits status",
        |_, _| Ok(())),
    flag!(None, "run-timeout", Some("DURATION"), FlagDefault::Value("10m"),
        "How long --run waits before killing the command and\ncollecting",
        |c, v| { c.opts.run_timeout = dur(v)?; Ok(()) }),
    flag!(Some('q'), "quiet", None, FlagDefault::None,
        "Print only the bundle path",
        |c, _| { c.quiet = true; Ok(()) }),
    flag!(Some('h'), "help", None, FlagDefault::None,
        "Print this help",
        |c, _| { c.help = true; Ok(()) }),
    flag!(Some('V'), "version", None, FlagDefault::None,
        "Print the version",
        |c, _| { c.version = true; Ok(()) }),
];

const ABOUT: &str = "\
nodejoin-collect: gather everything that decides a Kubernetes node join into one .tgz

Run it on the node that will not join (kubeadm or k3s, Raspberry Pi or not), then
analyze the bundle offline with `nodejoin analyze BUNDLE`. It gathers kubelet, k3s and
containerd logs, certificates, clock state and measured offsets, the node object, host
prerequisites (swap, cgroups, modules, sysctls, cmdline.txt), runtime and CNI state.

Safe to attach to a ticket: private keys, client-key-data, bootstrap and k3s tokens and
--token values never enter the bundle; *.key files are recorded by presence, size and
mode only. Every item attempted is listed in manifest.json with its outcome. A missing
tool, a failing or hanging command or a permission error is recorded and collection
goes on: run as root for the fullest picture.

Usage: nodejoin-collect [OPTIONS]
       nodejoin-collect [OPTIONS] --run -- COMMAND [ARGS...]

Options:
";

const FOOTER: &str = "
Network: only endpoints the node is configured with (its kubeconfig servers, its NTP
servers) or named here are contacted. The API server's clock is read from the Date
header of an HTTPS answer with the node's curl; NTP servers are asked with SNTP.

Exit status: 0 when a bundle was written (even with failed items), 1 when no bundle
could be written, 2 for bad arguments, 129/130/143 when stopped by SIGHUP/SIGINT/
SIGTERM (nothing is left behind). With --run: the command's own status (124 when
--run-timeout killed it).

Examples:
  sudo nodejoin-collect
  sudo nodejoin-collect --output /tmp --since 2h
  nodejoin-collect --no-network --include kubeadm-join.log
  sudo nodejoin-collect --run -- kubeadm join 192.168.1.10:6443 --token ...
";

/// `--help`, generated from `FLAGS`.
pub fn help() -> String {
    let mut s = String::from(ABOUT);
    for f in FLAGS {
        let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let head = match f.value {
            Some(v) => format!("  {short:>4}--{} {v}", f.long),
            None => format!("  {short:>4}--{}", f.long),
        };
        let mut lines: Vec<String> = f.help.lines().map(String::from).collect();
        match f.default {
            FlagDefault::Value(d) | FlagDefault::Text(d) => lines
                .last_mut()
                .expect("help text")
                .push_str(&format!(" [default: {d}]")),
            FlagDefault::None => {}
        }
        for (i, l) in lines.iter().enumerate() {
            let left = if i == 0 { head.as_str() } else { "" };
            if i == 0 && left.len() >= 28 {
                s.push_str(&format!("{left}\n{:28}{l}\n", ""));
            } else {
                s.push_str(&format!("{left:28}{l}\n"));
            }
        }
    }
    s.push_str(FOOTER);
    s
}

/// Parse the command line (without the program name) with `FLAGS`.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, String> {
    use lexopt::Arg;
    let mut cli = Cli {
        opts: Options::default(),
        ..Cli::empty()
    };
    let mut p = lexopt::Parser::from_args(args);
    let mut run = false;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let f = match &arg {
            Arg::Short(c) => FLAGS.iter().find(|f| f.short == Some(*c)),
            Arg::Long(l) => FLAGS.iter().find(|f| f.long == *l),
            Arg::Value(_) => None,
        };
        let Some(f) = f else {
            return Err(arg.unexpected().to_string());
        };
        if f.long == "run" {
            run = true;
            cli.opts.run = p
                .raw_args()
                .map_err(|e| e.to_string())?
                .map(|a| a.to_string_lossy().into_owned())
                .skip_while(|a| a == "--")
                .collect();
            break;
        }
        let v = match f.value {
            Some(_) => Some(p.value().map_err(|e| e.to_string())?),
            None => None,
        };
        (f.set)(&mut cli, v).map_err(|m| format!("--{}: {m}", f.long))?;
    }
    if run && cli.opts.run.is_empty() && !cli.help {
        return Err("--run needs a command after `--`".into());
    }
    Ok(cli)
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512K, 32M or 1G"))?;
    let mult = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => MIB,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{s:?}: unknown unit (use K, M or G)")),
    };
    Ok(n.saturating_mul(mult))
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 10m, 6h or 2d"))?;
    let mult = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(format!("{s:?}: unknown unit (use ms, s, m, h or d)")),
    };
    if !(0.0..1e9).contains(&(n * mult)) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(n * mult))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Cli, String> {
        parse_args(a.iter().map(OsString::from))
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("32M"), Ok(32 * MIB));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("1y").is_err());
    }

    #[test]
    fn defaults_come_from_the_table() {
        let o = Options::default();
        assert_eq!(o.root, PathBuf::from("/"));
        assert_eq!(o.since, Duration::from_secs(24 * 3600));
        assert_eq!(o.timeout, Duration::from_secs(10));
        assert_eq!(o.max_time, Duration::from_secs(120));
        assert_eq!(
            (o.max_log, o.max_file, o.max_total),
            (32 * MIB, 4 * MIB, 192 * MIB)
        );
        assert_eq!(o.jobs, 4);
        assert!(o.network && o.run.is_empty());
        assert_eq!(o.run_timeout, Duration::from_secs(600));
    }

    #[test]
    fn flags() {
        let c = args(&[
            "--root",
            "/tmp/pi",
            "--since=2h",
            "--include",
            "a",
            "--include",
            "b",
            "-q",
            "--no-network",
        ])
        .unwrap();
        let o = &c.opts;
        assert_eq!(o.root, PathBuf::from("/tmp/pi"));
        assert_eq!(o.since, Duration::from_secs(7200));
        assert_eq!(o.includes.len(), 2);
        assert!(c.quiet && !o.network);
        let err = |a: &[&str]| match args(a) {
            Err(m) => m,
            Ok(_) => panic!("{a:?} parsed"),
        };
        assert!(err(&["--bogus"]).contains("--bogus"));
        assert!(err(&["--since", "soon"]).contains("--since"));
        assert!(err(&["--run"]).contains("--run"));
    }

    #[test]
    fn run_takes_everything_after_the_separator() {
        let c = args(&[
            "-q",
            "--run-timeout",
            "2s",
            "--run",
            "--",
            "kubeadm",
            "join",
            "--token",
            "x",
            "-v",
        ])
        .unwrap();
        assert_eq!(c.opts.run, ["kubeadm", "join", "--token", "x", "-v"]);
        assert_eq!(c.opts.run_timeout, Duration::from_secs(2));
        assert!(c.quiet);
    }

    #[test]
    fn help_lists_every_flag_with_its_default() {
        let h = help();
        for f in FLAGS {
            assert!(h.contains(&format!("--{}", f.long)), "{}", f.long);
            if let FlagDefault::Value(d) = f.default {
                assert!(h.contains(&format!("[default: {d}]")), "{}", f.long);
            }
        }
        assert!(h.lines().all(|l| l.len() <= 90), "{h}");
    }
}
