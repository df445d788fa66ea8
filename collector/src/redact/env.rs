//! Env files (`NAME=value`, `export NAME=value`, `/etc/default/*`) and systemd
//! units and drop-ins (`[Section]`, `Key=value`, `Environment=`, `ExecStart=`
//! with `\` continuation lines). Fail closed:
//! - an env variable keeps its value only when it is on the allow-list;
//!   variables holding arguments (`*_ARGS`) are read as command lines;
//! - a command line keeps flag names, the program and plain words; a flag's
//!   value is kept only when the flag is on the allow-list;
//! - other unit keys keep their value only when on the unit allow-list.

use super::allow::{keep_env, keep_flag, keep_unit_key, norm, secret_name};
use super::marker_into;

/// A shell word: (start, end) of the raw word, quotes included.
fn words(s: &[u8], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut i = from;
    while i < to {
        // Separators: blanks and `\` + newline.
        if matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        if s[i] == b'\\' && matches!(s.get(i + 1), Some(b'\n' | b'\r')) {
            i += 2;
            continue;
        }
        if s[i] == b'\\' && i + 1 == to {
            i += 1;
            continue;
        }
        let st = i;
        let mut q: Option<u8> = None;
        while i < to {
            let b = s[i];
            match q {
                Some(c) if b == c => q = None,
                Some(b'"') if b == b'\\' => i += 1,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' => q = Some(b),
                    b'\\' if matches!(s.get(i + 1), Some(b'\n' | b'\r')) => break,
                    b'\\' => i += 1,
                    b' ' | b'\t' | b'\r' | b'\n' => break,
                    _ => {}
                },
            }
            i += 1;
        }
        v.push((st, i.min(to)));
    }
    v
}

/// Replace the content of a raw word, keeping its quotes.
fn redact_word(out: &mut Vec<(usize, usize)>, s: &[u8], st: usize, en: usize) {
    let (mut a, mut b) = (st, en);
    if b > a + 1 && matches!(s[a], b'"' | b'\'') && s[b - 1] == s[a] {
        a += 1;
        b -= 1;
    }
    if b > a {
        out.push((a, b));
    }
}

fn unquote(w: &[u8]) -> &[u8] {
    let mut w = w;
    while let [b'"' | b'\'', rest @ ..] = w {
        w = rest;
    }
    while let [rest @ .., b'"' | b'\''] = w {
        w = rest;
    }
    w
}

/// Spans to withhold in a command line held in `s[from..to]`.
fn argv(s: &[u8], from: usize, to: usize, spans: &mut Vec<(usize, usize)>) {
    let ws = words(s, from, to);
    let mut k = 0;
    while k < ws.len() {
        let (st, en) = ws[k];
        let w = unquote(&s[st..en]);
        let off = st + (s[st..en].len() - s[st..en].trim_ascii_start().len());
        let inner = off
            + s[st..en]
                .iter()
                .take_while(|b| matches!(b, b'"' | b'\''))
                .count();
        if w.starts_with(b"-") && w.len() > 1 {
            let (name, val) = match w.iter().position(|b| *b == b'=') {
                Some(p) => (&w[..p], Some(p)),
                None => (w, None),
            };
            let keep = keep_flag(name);
            match val {
                Some(p) => {
                    let vs = inner + p + 1;
                    let ve = inner + w.len();
                    let v = &s[vs..ve];
                    if !keep && !v.is_empty() && !v.starts_with(b"$") {
                        spans.push((vs, ve));
                    }
                    k += 1;
                }
                None => {
                    // The next word is this flag's value unless it is a flag.
                    if let Some(&(ns, ne)) = ws.get(k + 1) {
                        let nw = unquote(&s[ns..ne]);
                        if !nw.starts_with(b"-") && !nw.starts_with(b"$") {
                            if !keep && (secret_name(name) || !boolean_flag(name)) {
                                redact_word(spans, s, ns, ne);
                            }
                            k += 2;
                            continue;
                        }
                    }
                    k += 1;
                }
            }
        } else {
            k += 1;
        }
    }
}

/// Flags that take no value, so the next word is an argument.
fn boolean_flag(name: &[u8]) -> bool {
    const B: &[&str] = &[
        "debug",
        "clusterinit",
        "protectkerneldefaults",
        "selinux",
        "rootless",
        "preferbundledbin",
        "docker",
        "disableapparmor",
        "disablekubeproxy",
        "disablenetworkpolicy",
        "disablecloudcontroller",
        "disablescheduler",
        "disablehelmcontroller",
        "flannelipv6masq",
        "help",
        "version",
        "v",
        "q",
        "quiet",
    ];
    B.contains(&norm(name).as_str())
}

/// `NAME=value` pairs inside `s[from..to]` (an `Environment=` value or one env line).
fn assignments(s: &[u8], from: usize, to: usize, spans: &mut Vec<(usize, usize)>) {
    for (st, en) in words(s, from, to) {
        let raw = &s[st..en];
        let q = matches!(raw.first(), Some(b'"' | b'\''));
        let body_start = st + q as usize;
        let body = unquote(raw);
        let Some(p) = body.iter().position(|b| *b == b'=') else {
            // `export` or a stray word.
            continue;
        };
        let name = &body[..p];
        let vs = body_start + p + 1;
        let mut ve = body_start + body.len();
        // `NAME="a b"` inside an unquoted word: keep the quotes.
        let mut vraw = (vs, ve);
        if ve > vs + 1 && matches!(s[vs], b'"' | b'\'') && s[ve - 1] == s[vs] {
            vraw = (vs + 1, ve - 1);
        } else if ve > vs && matches!(s[vs], b'"' | b'\'') {
            vraw = (vs + 1, ve);
        }
        ve = vraw.1;
        let v = &s[vraw.0..ve];
        if v.is_empty() || v.starts_with(b"$") {
            continue;
        }
        let n = norm(name);
        if n.ends_with("args")
            || n.ends_with("opts")
            || n.ends_with("flags")
            || n == "k3sexec"
            || n == "installk3sexec"
        {
            argv(s, vraw.0, ve, spans);
        } else if !keep_env(name) {
            spans.push((vraw.0, ve));
        }
    }
}

pub(super) fn redact(d: &[u8], unit: bool) -> (Vec<u8>, u64) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    let n = d.len();
    while i < n {
        let le = logical_line_end(d, i);
        let line = &d[i..le];
        let ind = line
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        let t = &line[ind..];
        let ts = i + ind;
        if t.is_empty() || (unit && t.starts_with(b"[")) {
        } else if t.starts_with(b"#") || t.starts_with(b";") {
            // Comments are withheld, except `systemctl cat` file headers.
            let c = &t[1..];
            let header = unit && c.starts_with(b" /") && !c[1..].contains(&b' ');
            if !header && c.iter().any(|b| !b.is_ascii_whitespace()) {
                spans.push((ts + 1, le));
            }
        } else if unit {
            match t.iter().position(|b| *b == b'=') {
                Some(p) => {
                    let key = t[..p].trim_ascii();
                    let vs = ts + p + 1;
                    let nk = norm(key);
                    if nk == "environment" {
                        assignments(d, vs, le, &mut spans);
                    } else if nk.starts_with("exec") {
                        // `ExecStart=-/usr/bin/x ...`
                        argv(d, vs, le, &mut spans);
                    } else if !keep_unit_key(key) && vs < le {
                        spans.push((vs, le));
                    }
                }
                None => spans.push((ts, le)),
            }
        } else {
            let body = t.strip_prefix(b"export ").unwrap_or(t);
            let bs = ts + (t.len() - body.len());
            if body.contains(&b'=') {
                assignments(d, bs, le, &mut spans);
            } else {
                spans.push((ts, le));
            }
        }
        i = le + 1;
    }
    withhold(d, spans)
}

/// Where the logical line starting at `i` ends: physical lines joined by a
/// trailing `\\`.
fn logical_line_end(d: &[u8], i: usize) -> usize {
    let n = d.len();
    let mut le = i;
    loop {
        let e = d[le..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(n, |p| le + p);
        let mut t = e;
        while t > le && matches!(d[t - 1], b' ' | b'\t' | b'\r') {
            t -= 1;
        }
        if t > le && d[t - 1] == b'\\' && e < n {
            le = e + 1;
            continue;
        }
        return e;
    }
}

/// `d` with every span replaced by a marker (overlapping spans: the first).
fn withhold(d: &[u8], mut spans: Vec<(usize, usize)>) -> (Vec<u8>, u64) {
    spans.sort();
    let mut out = Vec::with_capacity(d.len());
    let mut last = 0;
    let mut count = 0;
    for (s, e) in spans {
        if s < last || e <= s {
            continue;
        }
        out.extend_from_slice(&d[last..s]);
        // Keep the line structure of multi-line values.
        let lines = d[s..e].iter().filter(|b| **b == b'\n').count();
        marker_into(&mut out, e - s);
        for _ in 0..lines {
            out.extend_from_slice(b" \\\n");
        }
        count += 1;
        last = e;
    }
    out.extend_from_slice(&d[last..]);
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> String {
        String::from_utf8(redact(s.as_bytes(), true).0).unwrap()
    }
    fn e(s: &str) -> String {
        String::from_utf8(redact(s.as_bytes(), false).0).unwrap()
    }

    #[test]
    fn units() {
        let out = u("[Service]\nEnvironment=K3S_TOKEN=tok1 \"K3S_URL=https://10.0.0.1:6443\" HTTPS_PROXY=http://u:p@proxy:3128\nEnvironment=\"K3S_AGENT_TOKEN=a b\"\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n    '--token' \\\n    'tok2' \\\n    -t tok3 \\\n    --node-ip=10.0.0.5 --server https://10.0.0.1:6443 \\\n    --vpn-auth=name=tailscale,joinKey=tok4 --datastore-endpoint 'mysql://u:tok5@tcp(h)/k3s'\nDescription=Lightweight Kubernetes\n# token tok6\n");
        for s in ["tok1", "a b", "tok2", "tok3", "tok4", "tok5", "tok6"] {
            assert!(!out.contains(s), "{s} in\n{out}");
        }
        for s in [
            "https://10.0.0.1:6443",
            "10.0.0.5",
            "Lightweight Kubernetes",
            "'--token'",
            "agent",
            "K3S_TOKEN=",
        ] {
            assert!(out.contains(s), "{s} missing in\n{out}");
        }
    }

    #[test]
    fn env_files() {
        let out = e("KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --fail-swap-on=false --token=tok1\"\nexport K3S_TOKEN=tok2\nPASSWD=tok3\nFLANNEL_SUBNET=10.42.1.1/24\nMY_VAR=tok4\n");
        for s in ["tok1", "tok2", "tok3", "tok4"] {
            assert!(!out.contains(s), "{s} in\n{out}");
        }
        for s in [
            "--fail-swap-on=false",
            "unix:///run/containerd/containerd.sock",
            "10.42.1.1/24",
        ] {
            assert!(out.contains(s), "{s} missing in\n{out}");
        }
    }
}
