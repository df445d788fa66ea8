//! nodejoin-collect: run once on the node that will not join; attach the bundle to the ticket.
//!
//! Arguments are parsed with lexopt rather than clap: clap costs ~70 KiB, and the
//! static armv7 build must stay under 1 MiB.

use collector::{Options, MIB};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const HELP: &str = "\
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

Options:
  -o, --output FILE|DIR     Bundle to write, or a directory for the default name
                            (default: ./nodejoin-HOST-TIME.tgz)
      --root DIR            Read host files under DIR instead of / [default: /]
      --since DURATION      Journal window, e.g. 30m, 6h, 2d [default: 24h]
      --timeout DURATION    Per-command timeout; a hung command is killed with its
                            process group [default: 10s]
      --max-time DURATION   Budget for the whole run; later items are recorded as
                            skipped [default: 120s]
      --max-log-size SIZE   Cap per log; the newest part is kept [default: 32M]
      --max-file-size SIZE  Cap per config file or command output [default: 4M]
      --max-total-size SIZE Cap on all content, uncompressed [default: 192M]
      --no-network          Contact nothing: no reachability, clock offset or node object
      --node-name NAME      Node name, when neither hostname nor kubelet flags give it
      --api-server URL      Also probe this API server (https://HOST:PORT); repeatable
      --ntp-server HOST     Also measure the offset to this NTP server; repeatable
      --kubeconfig FILE     Kubeconfig for `kubectl get node` [default: the kubelet's]
      --node-yaml FILE      Add a node object fetched elsewhere (kubectl get node -o yaml)
      --include FILE        Add another file (kubeadm join output, kubectl describe
                            node, events); repeatable
      --jobs N              Commands run at the same time [default: 4]
  -q, --quiet               Print only the bundle path
  -h, --help                Print this help
  -V, --version             Print the version

Network: only endpoints the node is configured with (its kubeconfig servers, its NTP
servers) or named here are contacted. The API server's clock is read from the Date
header of an HTTPS answer with the node's curl; NTP servers are asked with SNTP.

Exit status: 0 when a bundle was written (even with failed items), 1 when no bundle
could be written, 2 for bad arguments.

Examples:
  sudo nodejoin-collect
  sudo nodejoin-collect --output /tmp --since 2h
  nodejoin-collect --no-network --include kubeadm-join.log
";

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

enum Parsed {
    Run(Box<Options>, bool),
    Help,
    Version,
}

fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Parsed, String> {
    use lexopt::prelude::*;
    let mut o = Options::default();
    let mut quiet = false;
    let mut p = lexopt::Parser::from_args(args);
    let e = |e: lexopt::Error| e.to_string();
    while let Some(arg) = p.next().map_err(e)? {
        let text = |p: &mut lexopt::Parser| -> Result<String, String> {
            p.value()
                .map_err(e)?
                .into_string()
                .map_err(|v| format!("not UTF-8: {v:?}"))
        };
        match arg {
            Short('o') | Long("output") => o.output = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("root") => o.root = PathBuf::from(p.value().map_err(e)?),
            Long("since") => {
                o.since = parse_duration(&text(&mut p)?).map_err(|m| format!("--since: {m}"))?
            }
            Long("timeout") => {
                o.timeout = parse_duration(&text(&mut p)?).map_err(|m| format!("--timeout: {m}"))?
            }
            Long("max-time") => {
                o.max_time =
                    parse_duration(&text(&mut p)?).map_err(|m| format!("--max-time: {m}"))?
            }
            Long("max-log-size") => {
                o.max_log =
                    parse_size(&text(&mut p)?).map_err(|m| format!("--max-log-size: {m}"))?
            }
            Long("max-file-size") => {
                o.max_file =
                    parse_size(&text(&mut p)?).map_err(|m| format!("--max-file-size: {m}"))?
            }
            Long("max-total-size") => {
                o.max_total =
                    parse_size(&text(&mut p)?).map_err(|m| format!("--max-total-size: {m}"))?
            }
            Long("no-network") => o.network = false,
            Long("node-name") => o.node_name = Some(text(&mut p)?),
            Long("api-server") => o.api_servers.push(text(&mut p)?),
            Long("ntp-server") => o.ntp_servers.push(text(&mut p)?),
            Long("kubeconfig") => o.kubeconfig = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("node-yaml") => o.node_yaml = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("include") => o.includes.push(PathBuf::from(p.value().map_err(e)?)),
            Long("jobs") => {
                o.jobs = text(&mut p)?
                    .parse()
                    .map_err(|_| "--jobs takes a whole number".to_string())?
            }
            Short('q') | Long("quiet") => quiet = true,
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    Ok(Parsed::Run(Box::new(o), quiet))
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let (opts, quiet) = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(o, q)) => (o, q),
        Ok(Parsed::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("nodejoin-collect {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(m) => {
            eprintln!("nodejoin-collect: error: {m}\nTry 'nodejoin-collect --help'.");
            return ExitCode::from(2);
        }
    };
    match collector::collect(&opts) {
        Ok(s) => {
            if !quiet {
                let t = &s.manifest.totals;
                let counts: Vec<String> =
                    t.outcomes.iter().map(|(k, v)| format!("{v} {k}")).collect();
                eprintln!(
                    "nodejoin-collect: {} items ({}), {} KiB content, {} redactions, {} ms",
                    t.items,
                    counts.join(", "),
                    t.bytes / 1024,
                    t.redactions,
                    s.manifest.duration_ms
                );
            }
            println!("{}", s.path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nodejoin-collect: error: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Parsed, String> {
        parse(a.iter().map(std::ffi::OsString::from))
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
    fn flags() {
        let Ok(Parsed::Run(o, q)) = args(&[
            "--root",
            "/tmp/pi",
            "--since=2h",
            "--include",
            "a",
            "--include",
            "b",
            "-q",
            "--no-network",
        ]) else {
            panic!()
        };
        assert_eq!(o.root, PathBuf::from("/tmp/pi"));
        assert_eq!(o.since, Duration::from_secs(7200));
        assert_eq!(o.includes.len(), 2);
        assert!(q && !o.network);
        let err = |a: &[&str]| match args(a) {
            Err(m) => m,
            Ok(_) => panic!("{a:?} parsed"),
        };
        assert!(err(&["--bogus"]).contains("--bogus"));
        assert!(err(&["--since", "soon"]).contains("--since"));
    }
}
