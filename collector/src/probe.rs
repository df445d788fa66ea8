//! Network probes. They only contact endpoints the node is configured with
//! (kubeconfig servers, NTP servers) or that the operator names.

use crate::files::{host, read_small};
use crate::{command, discover, Ctx};
use bundle::{ClockProbe, Endpoint, Item, Kind, Offset, Outcome, Reachability};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_unix_micros() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// Split `host[:port]`, `[v6]:port` or a URL into host and port.
pub fn host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    let s = s.trim();
    let s = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let s = s.split(['/', '?']).next()?;
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = after
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return Some((h.to_string(), port));
    }
    if s.matches(':').count() > 1 {
        return Some((s.to_string(), default_port));
    }
    match s.split_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((s.to_string(), default_port)),
    }
}

/// Resolve a name the way the node does: `getent ahosts` first (it loads the
/// node's NSS modules, so mDNS `.local` works), the node's /etc/hosts last.
pub fn resolve(
    root: &Path,
    host: &str,
    port: u16,
    search: &[PathBuf],
    timeout: Duration,
    spool_dir: &Path,
) -> (Option<String>, Vec<IpAddr>, Option<String>) {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return (Some("literal".into()), vec![ip], None);
    }
    let argv = vec!["getent".to_string(), "ahosts".to_string(), host.to_string()];
    let out = command::run(&command::Run {
        argv: &argv,
        search,
        timeout,
        cap: 64 * 1024,
        spool_dir,
        name: "getent",
        tee: None,
    });
    if let (command::Status::Exited(0), Some(mut kept)) = (&out.status, out.stdout) {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut kept.reader, &mut text);
        let mut ips: Vec<IpAddr> = Vec::new();
        for l in text.lines() {
            if let Some(ip) = l.split_whitespace().next().and_then(|t| t.parse().ok()) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
        }
        if !ips.is_empty() {
            return (Some("getent".into()), ips, None);
        }
    }
    let getent_note = match out.status {
        command::Status::Missing => "getent not found",
        command::Status::Exited(2) => "getent: name not found",
        command::Status::TimedOut => "getent timed out",
        _ => "getent failed",
    };
    let _ = port;
    let ips = hosts_file(root, host);
    if ips.is_empty() {
        (
            None,
            ips,
            Some(format!("{getent_note}; {host} not in /etc/hosts")),
        )
    } else {
        (Some("/etc/hosts".into()), ips, None)
    }
}

/// Addresses for `name` in the node's /etc/hosts (the fallback when getent is
/// missing: a static binary cannot use the node's NSS modules).
pub fn hosts_file(root: &Path, name: &str) -> Vec<IpAddr> {
    let Ok(s) = std::fs::read_to_string(root.join("etc/hosts")) else {
        return Vec::new();
    };
    s.lines()
        .filter_map(|l| {
            let l = l.split('#').next()?;
            let mut w = l.split_whitespace();
            let ip: IpAddr = w.next()?.parse().ok()?;
            w.any(|n| n.eq_ignore_ascii_case(name)).then_some(ip)
        })
        .collect()
}

/// TCP connect to an API endpoint, with timing.
pub fn tcp(
    root: &Path,
    url: &str,
    configured_in: &str,
    search: &[PathBuf],
    timeout: Duration,
    spool_dir: &std::path::Path,
) -> Endpoint {
    let (host, port) = host_port(url, 6443).unwrap_or_else(|| (url.to_string(), 6443));
    let mut ep = Endpoint {
        url: url.into(),
        configured_in: configured_in.into(),
        host: host.clone(),
        port,
        resolved_by: None,
        addresses: Vec::new(),
        connected: false,
        connect_ms: None,
        error: None,
    };
    let deadline = Instant::now() + timeout;
    let (by, ips, err) = resolve(root, &host, port, search, timeout, spool_dir);
    ep.resolved_by = by;
    ep.addresses = ips.iter().map(ToString::to_string).collect();
    if ips.is_empty() {
        ep.error = err.or(Some("no address".into()));
        return ep;
    }
    let mut errors = Vec::new();
    for ip in ips.iter().take(3) {
        let t = Instant::now();
        let Some(left) = left(deadline) else {
            errors.push(format!("{ip}:{port}: not tried, probe timeout reached"));
            break;
        };
        match TcpStream::connect_timeout(&SocketAddr::new(*ip, port), left) {
            Ok(_) => {
                ep.connected = true;
                ep.connect_ms = Some(t.elapsed().as_millis() as u64);
                ep.error = None;
                return ep;
            }
            Err(e) => errors.push(format!("{ip}:{port}: {e}")),
        }
    }
    ep.error = Some(errors.join("; "));
    ep
}

/// Time left before `deadline`, if any.
fn left(deadline: Instant) -> Option<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    (d > Duration::from_millis(1)).then_some(d)
}

const NTP_UNIX_DELTA: i64 = 2_208_988_800;

fn to_ntp(unix_micros: i64) -> [u8; 8] {
    let secs = (unix_micros.div_euclid(1_000_000) + NTP_UNIX_DELTA) as u32;
    let frac = ((unix_micros.rem_euclid(1_000_000) as u64) << 32) / 1_000_000;
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&secs.to_be_bytes());
    b[4..].copy_from_slice(&(frac as u32).to_be_bytes());
    b
}

fn from_ntp(b: &[u8]) -> i64 {
    let secs = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64;
    let frac = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as i64;
    // Era 0 ends in 2036; values below 1968 belong to era 1.
    let secs = if secs < 2_000_000_000 {
        secs + (1 << 32)
    } else {
        secs
    };
    (secs - NTP_UNIX_DELTA) * 1_000_000 + ((frac * 1_000_000) >> 32)
}

/// One SNTP (RFC 4330) exchange. Returns (offset_us node minus server, bound_us).
pub fn sntp(addr: SocketAddr, timeout: Duration) -> Result<(i64, i64), String> {
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("addr")
    } else {
        "[::]:0".parse().expect("addr")
    };
    let sock = UdpSocket::bind(bind).map_err(|e| format!("bind: {e}"))?;
    sock.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    sock.connect(addr)
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let mut req = [0u8; 48];
    req[0] = 0b00_100_011; // LI 0, version 4, mode 3 (client)
    let t1 = now_unix_micros();
    let origin = to_ntp(t1);
    req[40..48].copy_from_slice(&origin);
    sock.send(&req)
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut resp = [0u8; 128];
    let deadline = Instant::now() + timeout;
    loop {
        let n = sock
            .recv(&mut resp)
            .map_err(|e| format!("no answer from {addr}: {e}"))?;
        let t4 = now_unix_micros();
        if n < 48 || resp[24..32] != origin {
            if Instant::now() >= deadline {
                return Err(format!("no matching answer from {addr}"));
            }
            continue; // stray or spoofed packet
        }
        let mode = resp[0] & 0x7;
        let stratum = resp[1];
        if mode != 4 {
            return Err(format!("{addr} answered in mode {mode}, not server mode 4"));
        }
        if stratum == 0 {
            let code = String::from_utf8_lossy(&resp[12..16]).to_string();
            return Err(format!("{addr} sent kiss-of-death {code:?}"));
        }
        let t2 = from_ntp(&resp[32..40]);
        let t3 = from_ntp(&resp[40..48]);
        let server_minus_node = ((t2 - t1) + (t3 - t4)) / 2;
        let delay = (t4 - t1) - (t3 - t2);
        let root_disp = u32::from_be_bytes([resp[8], resp[9], resp[10], resp[11]]) as i64; // 16.16 seconds
        let root_delay = u32::from_be_bytes([resp[4], resp[5], resp[6], resp[7]]) as i64;
        let root_us = ((root_disp + root_delay / 2) * 1_000_000) >> 16;
        return Ok((-server_minus_node, delay.max(0) / 2 + root_us));
    }
}

pub fn ntp_offset(
    root: &Path,
    peer: &str,
    configured_in: &str,
    search: &[PathBuf],
    timeout: Duration,
    spool_dir: &std::path::Path,
) -> Offset {
    let mut o = Offset {
        method: "sntp".into(),
        peer: peer.into(),
        configured_in: configured_in.into(),
        address: None,
        offset_ms: None,
        bound_ms: None,
        error: None,
    };
    let Some((host, port)) = host_port(peer, 123) else {
        o.error = Some("cannot parse peer".into());
        return o;
    };
    let deadline = Instant::now() + timeout;
    let (_, ips, err) = resolve(root, &host, port, search, timeout, spool_dir);
    let Some(ip) = ips.iter().find(|i| i.is_ipv4()).or(ips.first()) else {
        o.error = err.or(Some("no address".into()));
        return o;
    };
    let addr = SocketAddr::new(*ip, port);
    o.address = Some(addr.to_string());
    let Some(left) = left(deadline) else {
        o.error = Some(format!("{addr}: not asked, probe timeout reached"));
        return o;
    };
    match sntp(addr, left) {
        Ok((off, bound)) => {
            o.offset_ms = Some(off / 1000);
            o.bound_ms = Some((bound + 999) / 1000);
        }
        Err(e) => o.error = Some(e),
    }
    o
}

/// Offset from the `Date` header of an HTTPS answer, fetched with the node's
/// curl (a TLS stack would not fit in the collector). The header has one
/// second resolution, so the bound is half the round trip plus 0.5 s.
pub fn https_date(
    url: &str,
    configured_in: &str,
    search: &[PathBuf],
    timeout: Duration,
    spool_dir: &std::path::Path,
) -> Offset {
    let mut o = Offset {
        method: "https-date".into(),
        peer: url.into(),
        configured_in: configured_in.into(),
        address: None,
        offset_ms: None,
        bound_ms: None,
        error: None,
    };
    let target = format!("{}/version", url.trim_end_matches('/'));
    let secs = format!("{:.1}", timeout.as_secs_f64().max(0.1));
    let argv: Vec<String> = [
        "curl",
        "-sk",
        "--noproxy",
        "*",
        "--max-time",
        &secs,
        "-o",
        "/dev/null",
        "-D",
        "-",
        &target,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let t0 = now_unix_micros();
    let mut out = command::run(&command::Run {
        argv: &argv,
        search,
        timeout: timeout + Duration::from_millis(250),
        cap: 64 * 1024,
        spool_dir,
        name: "curl",
        tee: None,
    });
    let t1 = now_unix_micros();
    let mut headers = String::new();
    if let Some(mut k) = out.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut k.reader, &mut headers);
    }
    let date = headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("date")
            .then(|| v.trim().to_string())
    });
    date_offset(&mut o, date.as_deref(), &out, (t0, t1), timeout);
    o
}

/// What all probes found: the clock, reachability and one item per probe.
pub(crate) type Found = (ClockProbe, Reachability, Vec<Item>);

fn probe_item(id: String, src: &str, err: Option<String>, ms: u64) -> Item {
    let mut it = Item::new(id, Kind::Probe, src);
    it.duration_ms = ms;
    if let Some(e) = err {
        it.outcome = Outcome::Failed;
        it.error = Some(e);
    }
    it
}

/// Fill in the offset from a `Date` header seen between `t0` and `t1`, or why not.
fn date_offset(
    o: &mut Offset,
    date: Option<&str>,
    out: &command::Output,
    (t0, t1): (i64, i64),
    timeout: Duration,
) {
    match (date.and_then(bundle::time::parse_http_date), &out.status) {
        (Some(server_secs), _) => {
            let mid = (t0 + t1) / 2;
            let server_us = server_secs * 1_000_000 + 500_000;
            o.offset_ms = Some((mid - server_us) / 1000);
            o.bound_ms = Some((t1 - t0) / 2000 + 500);
        }
        (None, command::Status::Missing) => {
            o.error = Some("curl not found on the node; no HTTPS date measured".into());
        }
        (None, command::Status::TimedOut) => {
            o.error = Some(format!(
                "curl timed out after {:.1}s",
                timeout.as_secs_f64()
            ));
        }
        (None, command::Status::Exited(c)) => {
            o.error = Some(format!(
                "no Date header (curl exit {c}: {})",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        (None, _) => o.error = Some("no Date header".into()),
    }
}

/// One API server: reachability, then the HTTPS date when it connected.
fn api_probe(
    ctx: &Ctx,
    url: &str,
    from: &str,
    timeout: Duration,
) -> (Endpoint, Item, Option<(Offset, Item)>) {
    let opts = ctx.opts;
    let chain = Instant::now() + opts.timeout;
    let t1 = Instant::now();
    let ep = tcp(&opts.root, url, from, &opts.search, timeout, &ctx.spool_dir);
    let ms = t1.elapsed().as_millis() as u64;
    let item = probe_item(format!("probe:tcp:{url}"), url, ep.error.clone(), ms);
    let date = match left(chain) {
        Some(rest) if ep.connected => {
            let t1 = Instant::now();
            let o = https_date(url, from, &opts.search, rest.min(timeout), &ctx.spool_dir);
            let ms = t1.elapsed().as_millis() as u64;
            let it = probe_item(format!("probe:https-date:{url}"), url, o.error.clone(), ms);
            Some((o, it))
        }
        _ => None,
    };
    (ep, item, date)
}

/// One NTP server: the SNTP offset.
fn ntp_probe(ctx: &Ctx, peer: &str, from: &str, timeout: Duration) -> (Offset, Item) {
    let opts = ctx.opts;
    let t1 = Instant::now();
    let o = ntp_offset(
        &opts.root,
        peer,
        from,
        &opts.search,
        timeout,
        &ctx.spool_dir,
    );
    let ms = t1.elapsed().as_millis() as u64;
    let it = probe_item(format!("probe:sntp:{peer}"), peer, o.error.clone(), ms);
    (o, it)
}

/// Node clock, RTC presence and, unless `--no-network`, reachability of the
/// configured API servers and offsets to them and to the NTP servers.
pub(crate) fn run_all(ctx: &Ctx) -> Found {
    let opts = ctx.opts;
    let now = now_unix_micros();
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
    if !opts.network {
        let why = Some("network probes disabled by --no-network".into());
        items.push(probe_item("probe:network".into(), "--no-network", why, 0));
        return (clock, reach, items);
    }
    // Every probe runs at once; each chain (resolve, connect, date) ends
    // within `--timeout` of its start.
    let timeout = opts.timeout.min(Duration::from_secs(5));
    let apis = discover::api_servers(opts);
    let ntps = discover::ntp_servers(opts);
    let (api_found, ntp_found) = std::thread::scope(|s| {
        let api: Vec<_> = apis
            .iter()
            .map(|(url, from)| s.spawn(move || api_probe(ctx, url, from, timeout)))
            .collect();
        let ntp: Vec<_> = ntps
            .iter()
            .map(|(peer, from)| s.spawn(move || ntp_probe(ctx, peer, from, timeout)))
            .collect();
        let api: Vec<_> = api.into_iter().filter_map(|h| h.join().ok()).collect();
        let ntp: Vec<_> = ntp.into_iter().filter_map(|h| h.join().ok()).collect();
        (api, ntp)
    });
    let mut dated = 0;
    for (ep, ep_item, date) in api_found {
        reach.endpoints.push(ep);
        items.push(ep_item);
        // The first two endpoints that answered give the HTTPS date offsets.
        if let Some((o, it)) = date.filter(|_| dated < 2) {
            dated += 1;
            clock.offsets.push(o);
            items.push(it);
        }
    }
    for (o, it) in ntp_found {
        clock.offsets.push(o);
        items.push(it);
    }
    (clock, reach, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports() {
        assert_eq!(
            host_port("https://127.0.0.1:6443", 443),
            Some(("127.0.0.1".into(), 6443))
        );
        assert_eq!(
            host_port("https://k8s.local/", 6443),
            Some(("k8s.local".into(), 6443))
        );
        assert_eq!(host_port("[::1]:123", 123), Some(("::1".into(), 123)));
        assert_eq!(host_port("127.0.0.2", 123), Some(("127.0.0.2".into(), 123)));
    }

    #[test]
    fn ntp_time_round_trip() {
        let t = 1_795_500_000_123_456;
        assert!((from_ntp(&to_ntp(t)) - t).abs() <= 1);
    }
}
