//! Services and the container runtime: `systemctl show|status`, containerd's
//! config, `crictl info`, CNI configs.

use serde_json::Value as J;
use std::collections::BTreeMap;

/// One unit's state, from `systemctl show` or `systemctl status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    pub id: String,
    pub active_state: String,
    pub sub_state: String,
    pub restarts: Option<f64>,
    /// 0-based line where the unit's block starts.
    pub line: usize,
    pub summary: String,
}

/// `systemctl show` output: `Key=value` blocks separated by blank lines.
pub fn systemctl_show(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut line = 0;
    for block in text.split("\n\n") {
        let props: BTreeMap<&str, &str> = block.lines().filter_map(|l| l.split_once('=')).collect();
        let start = line;
        line += block.lines().count() + 1;
        let Some(id) = props.get("Id") else { continue };
        if props.get("LoadState") == Some(&"not-found") {
            continue;
        }
        let summary = ["ActiveState", "SubState", "NRestarts", "Result"]
            .iter()
            .filter_map(|k| props.get(*k).map(|v| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Unit {
            id: id.to_string(),
            active_state: props.get("ActiveState").unwrap_or(&"").to_string(),
            sub_state: props.get("SubState").unwrap_or(&"").to_string(),
            restarts: props.get("NRestarts").and_then(|n| n.parse().ok()),
            line: start,
            summary: format!("{id}: {summary}"),
        });
    }
    out
}

/// `systemctl status UNIT`: `● kubelet.service - ...` then `Active: activating (auto-restart) ...`.
pub fn systemctl_status(text: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        let head = t
            .strip_prefix('●')
            .or_else(|| t.strip_prefix('×'))
            .or_else(|| t.strip_prefix('○'))
            .or_else(|| t.strip_prefix('*'))
            .map(str::trim_start)
            .unwrap_or(t);
        if let Some((id, _)) = head.split_once(" - ") {
            if id.ends_with(".service") && !id.contains(' ') {
                out.push(Unit {
                    id: id.to_string(),
                    line: i,
                    ..Default::default()
                });
                continue;
            }
        }
        if let (Some(u), Some(v)) = (out.last_mut(), t.strip_prefix("Active:")) {
            let mut w = v.split_whitespace();
            u.active_state = w.next().unwrap_or("").to_string();
            u.sub_state = w
                .next()
                .unwrap_or("")
                .trim_matches(|c| c == '(' || c == ')')
                .to_string();
            u.summary = format!("{}: Active: {}", u.id, v.trim());
        }
    }
    out.retain(|u| !u.active_state.is_empty());
    out
}

/// What containerd's config says about cgroups and the CRI plugin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Containerd {
    /// `SystemdCgroup` anywhere under the runc options; None when unset.
    pub systemd_cgroup: Option<bool>,
    pub cri_disabled: bool,
}

fn find_key<'a>(v: &'a toml::Value, key: &str, depth: usize) -> Option<&'a toml::Value> {
    if depth > 12 {
        return None;
    }
    let t = v.as_table()?;
    if let Some(x) = t.get(key) {
        return Some(x);
    }
    t.values().find_map(|x| find_key(x, key, depth + 1))
}

/// containerd `config.toml` (v1 to v3 layouts). Falls back to line reading
/// when the file is not valid TOML (a snippet pasted into a ticket).
pub fn containerd_config(text: &str) -> Containerd {
    let is_cri = |s: &str| s == "cri" || s.starts_with("io.containerd.grpc.v1.cri");
    if let Some(v) = super::toml::<toml::Value>(text) {
        let cri_disabled = v
            .get("disabled_plugins")
            .and_then(|d| d.as_array())
            .is_some_and(|a| a.iter().filter_map(|x| x.as_str()).any(is_cri));
        return Containerd {
            systemd_cgroup: find_key(&v, "SystemdCgroup", 0).and_then(toml::Value::as_bool),
            cri_disabled,
        };
    }
    let sys = text
        .lines()
        .find(|l| l.trim_start().starts_with("SystemdCgroup"))
        .map(|l| l.contains("true"));
    let cri_disabled = text
        .lines()
        .find(|l| l.trim_start().starts_with("disabled_plugins"))
        .is_some_and(|l| {
            l.contains("\"cri\"") || l.contains("'cri'") || l.contains("io.containerd.grpc.v1.cri")
        });
    Containerd {
        systemd_cgroup: sys,
        cri_disabled,
    }
}

/// `crictl info`: the NetworkReady condition (ready, reason, message).
pub fn crictl_network_ready(text: &str) -> Option<(bool, String, String)> {
    let j: J = super::json(text)?;
    let conds = j.pointer("/status/conditions")?.as_array()?;
    let n = conds
        .iter()
        .find(|x| x.get("type").and_then(|t| t.as_str()) == Some("NetworkReady"))?;
    let s = |k: &str| n.get(k).and_then(|s| s.as_str()).unwrap_or("").to_string();
    Some((
        n.get("status")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        s("reason"),
        s("message"),
    ))
}

/// Plugin types named by a CNI config or conflist.
pub fn cni_types(text: &str) -> Option<Vec<String>> {
    let j: J = super::json(text)?;
    let plugins = j
        .get("plugins")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_else(|| vec![j.clone()]);
    Some(
        plugins
            .iter()
            .filter_map(|p| p.get("type")?.as_str().map(String::from))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_output() {
        let t = "● kubelet.service - kubelet: The Kubernetes Node Agent
     Loaded: loaded (/lib/systemd/system/kubelet.service; enabled; vendor preset: enabled)
    Drop-In: /etc/systemd/system/kubelet.service.d
             └─10-kubeadm.conf
     Active: activating (auto-restart) (Result: exit-code) since Mon 2023-03-20 10:00:00 UTC; 3s ago
       Docs: https://kubernetes.io/docs/home/
    Process: 2345 ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS (code=exited, status=1/FAILURE)
   Main PID: 2345 (code=exited, status=1/FAILURE)
";
        let u = systemctl_status(t);
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].id, "kubelet.service");
        assert_eq!(u[0].active_state, "activating");
        assert_eq!(u[0].sub_state, "auto-restart");
    }

    #[test]
    fn show_output() {
        let t = "Id=kubelet.service\nLoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=3\n\nId=crio.service\nLoadState=not-found\n";
        let u = systemctl_show(t);
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].restarts, Some(3.0));
    }

    #[test]
    fn containerd() {
        let v2 = "version = 2\ndisabled_plugins = [\"cri\"]\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n";
        let c = containerd_config(v2);
        assert!(c.cri_disabled);
        assert_eq!(c.systemd_cgroup, Some(true));
        let snippet = "            SystemdCgroup = false\n  [not toml";
        assert_eq!(containerd_config(snippet).systemd_cgroup, Some(false));
        assert_eq!(containerd_config("version = 2\n").systemd_cgroup, None);
    }

    #[test]
    fn cni() {
        let t = r#"{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel"},{"type":"portmap"}]}"#;
        assert_eq!(cni_types(t).unwrap(), vec!["flannel", "portmap"]);
        let n = r#"{"status":{"conditions":[{"type":"NetworkReady","status":false,"reason":"NetworkPluginNotReady","message":"cni plugin not initialized"}]}}"#;
        assert!(!crictl_network_ready(n).unwrap().0);
    }
}
