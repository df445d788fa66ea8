//! What the node says about itself: its hostname, the node name the kubelet
//! registers, and the API and NTP servers it is configured with. Only these
//! (and what the operator names) are ever contacted.

use crate::files::{expand, read_small};
use crate::Options;
use bundle::layout;

/// The node's hostname, as the kernel or /etc/hostname has it.
pub fn hostname(opts: &Options) -> String {
    read_small(&opts.root, "/proc/sys/kernel/hostname")
        .or_else(|| read_small(&opts.root, layout::host::HOSTNAME))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Node name as the kubelet will register it.
pub fn node_name(opts: &Options, hostname: &str) -> (String, String) {
    if let Some(n) = &opts.node_name {
        return (n.clone(), "command line".into());
    }
    for f in [
        layout::host::KUBEADM_FLAGS,
        layout::host::DEFAULT_KUBELET,
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
        layout::host::K3S_CONFIG,
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
pub fn api_servers(opts: &Options) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = opts
        .api_servers
        .iter()
        .map(|s| (s.clone(), "command line".to_string()))
        .collect();
    let mut files: Vec<String> = vec![
        layout::host::KUBELET_CONF.into(),
        layout::host::BOOTSTRAP_KUBELET_CONF.into(),
        layout::host::K3S_CONFIG.into(),
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
pub fn ntp_servers(opts: &Options) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
