//! The Node object (`kubectl get node -o yaml|json`).

use crate::facts::{Evidence, Facts, Value};
use serde_yaml_ng::Value as Y;

fn get<'a>(v: &'a Y, path: &[&str]) -> Option<&'a Y> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

fn s(v: Option<&Y>) -> Option<String> {
    match v? {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Kubernetes quantities: `4`, `500m`, `3882068Ki`, `4Gi`, `1e3`.
pub fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e')
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let m = match unit {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        _ => return None,
    };
    Some(n * m)
}

/// Parse a Node object; None when the text is not one. Sets `node.*` facts.
pub fn facts(
    file: &str,
    text: &str,
    collected: Option<f64>,
    host_machine_id: Option<&str>,
    f: &mut Facts,
) -> bool {
    let Ok(doc) = crate::structured::yaml::<Y>(text, file) else {
        return false;
    };
    // A List from `kubectl get nodes -o yaml` holds the node in items.
    let node = match s(doc.get("kind")).as_deref() {
        Some("Node") => &doc,
        Some("List") => match doc
            .get("items")
            .and_then(|i| i.as_sequence())
            .and_then(|i| i.first())
        {
            Some(n) if s(n.get("kind")).as_deref() == Some("Node") => n,
            _ => return false,
        },
        _ => return false,
    };
    let ev = |t: String| Some(Evidence::new(file, None, t));
    let name = s(get(node, &["metadata", "name"])).unwrap_or_default();
    f.set_bool("node.present", true, ev(format!("Node {name}")));
    f.set_str(
        "node.name",
        name.clone(),
        ev(format!("metadata.name: {name}")),
    );
    let mut newest_hb: Option<f64> = None;
    if let Some(conds) = get(node, &["status", "conditions"]).and_then(|c| c.as_sequence()) {
        for c in conds {
            let t = s(c.get("type")).unwrap_or_default();
            let st = s(c.get("status")).unwrap_or_default();
            let reason = s(c.get("reason")).unwrap_or_default();
            let msg = s(c.get("message")).unwrap_or_default();
            let text = format!("{t}={st} {reason}: {msg}");
            if let Some(hb) = s(c.get("lastHeartbeatTime")).and_then(|h| crate::logs::parse_iso(&h))
            {
                newest_hb = Some(newest_hb.map_or(hb, |n: f64| n.max(hb)));
            }
            match t.as_str() {
                "Ready" => {
                    f.set_str("node.ready", st.clone(), ev(text.clone()));
                    f.set_str("node.ready_reason", reason, ev(text.clone()));
                    f.set_str("node.ready_message", msg, ev(text));
                }
                "MemoryPressure" => f.set_bool("node.memory_pressure", st == "True", ev(text)),
                "DiskPressure" => f.set_bool("node.disk_pressure", st == "True", ev(text)),
                "PIDPressure" => f.set_bool("node.pid_pressure", st == "True", ev(text)),
                "NetworkUnavailable" => {
                    f.set_bool("node.network_unavailable", st == "True", ev(text))
                }
                _ => {}
            }
        }
    }
    if let (Some(hb), Some(now)) = (newest_hb, collected) {
        f.set_num(
            "node.heartbeat_age_s",
            (now - hb).round(),
            ev(format!(
                "newest lastHeartbeatTime {}",
                crate::certs::fmt_time(hb as i64)
            )),
        );
    }
    let unsched = matches!(get(node, &["spec", "unschedulable"]), Some(Y::Bool(true)));
    f.set_bool(
        "node.unschedulable",
        unsched,
        ev(format!("spec.unschedulable: {unsched}")),
    );
    let mut taints = Vec::new();
    let mut blocking = Vec::new();
    if let Some(ts) = get(node, &["spec", "taints"]).and_then(|t| t.as_sequence()) {
        for t in ts {
            let key = s(t.get("key")).unwrap_or_default();
            let value = s(t.get("value"))
                .map(|v| format!("={v}"))
                .unwrap_or_default();
            let effect = s(t.get("effect")).unwrap_or_default();
            let desc = format!("{key}{value}:{effect}");
            // node.kubernetes.io/* taints mirror conditions (not-ready, unreachable,
            // pressure, unschedulable): symptoms, judged through those facts.
            if effect != "PreferNoSchedule"
                && !key.starts_with("node.kubernetes.io/")
                && !key.starts_with("node-role.kubernetes.io/")
            {
                blocking.push(desc.clone());
            }
            taints.push(desc);
        }
    }
    f.set(
        "node.taints",
        Value::List(taints.clone()),
        ev(format!("spec.taints: [{}]", taints.join(", "))),
    );
    f.set_num(
        "node.blocking_taint_count",
        blocking.len() as f64,
        ev(format!("blocking taints: [{}]", blocking.join(", "))),
    );
    f.set(
        "node.blocking_taints",
        Value::List(blocking.clone()),
        ev(format!("spec.taints: [{}]", blocking.join(", "))),
    );
    match s(get(node, &["spec", "podCIDR"])) {
        Some(c) if !c.is_empty() => {
            f.set_str("node.pod_cidr", c.clone(), ev(format!("spec.podCIDR: {c}")));
            f.set_bool(
                "node.pod_cidr_missing",
                false,
                ev(format!("spec.podCIDR: {c}")),
            );
        }
        _ => f.set_bool(
            "node.pod_cidr_missing",
            true,
            ev("spec.podCIDR is not set".into()),
        ),
    }
    for (fact, path) in [
        ("node.capacity_pods", ["status", "capacity", "pods"]),
        ("node.allocatable_pods", ["status", "allocatable", "pods"]),
        (
            "node.allocatable_memory_bytes",
            ["status", "allocatable", "memory"],
        ),
        ("node.capacity_cpu", ["status", "capacity", "cpu"]),
    ] {
        if let Some(q) = s(get(node, &path)) {
            if let Some(v) = quantity(&q) {
                f.set_num(fact, v, ev(format!("{}: {q}", path[1..].join("."))));
            }
        }
    }
    if let Some(a) = s(get(node, &["status", "nodeInfo", "architecture"])) {
        f.set_str(
            "node.arch",
            a.clone(),
            ev(format!("nodeInfo.architecture: {a}")),
        );
    }
    if let (Some(mid), Some(host)) = (
        s(get(node, &["status", "nodeInfo", "machineID"])),
        host_machine_id,
    ) {
        if !mid.is_empty() && !host.is_empty() {
            f.set_bool(
                "node.machine_id_mismatch",
                mid != host,
                ev(format!(
                    "Node machineID {mid}, this host's /etc/machine-id {host}"
                )),
            );
        }
    }
    if let (Some(c), Some(now)) = (
        s(get(node, &["metadata", "creationTimestamp"])).and_then(|c| crate::logs::parse_iso(&c)),
        collected,
    ) {
        f.set_num(
            "node.created_age_s",
            (now - c).round(),
            ev(format!(
                "creationTimestamp {}",
                crate::certs::fmt_time(c as i64)
            )),
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity("110"), Some(110.0));
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("3882068Ki"), Some(3882068.0 * 1024.0));
        assert_eq!(quantity("junk"), None);
    }

    #[test]
    fn node_yaml() {
        let y = "apiVersion: v1\nkind: Node\nmetadata:\n  name: pi-1\n  creationTimestamp: \"2026-11-24T05:00:00Z\"\nspec:\n  taints:\n  - key: node.cloudprovider.kubernetes.io/uninitialized\n    value: \"true\"\n    effect: NoSchedule\n  - key: node.kubernetes.io/not-ready\n    effect: NoSchedule\nstatus:\n  capacity: {pods: \"0\", cpu: \"4\"}\n  conditions:\n  - {type: Ready, status: \"False\", reason: KubeletNotReady, message: \"container runtime network not ready\", lastHeartbeatTime: \"2026-11-24T05:59:00Z\"}\n";
        let mut f = Facts::default();
        assert!(facts("n.yaml", y, Some(1_795_500_000.0), None, &mut f));
        assert_eq!(f.str("node.ready"), Some("False"));
        assert_eq!(f.num("node.capacity_pods"), Some(0.0));
        assert_eq!(f.num("node.blocking_taint_count"), Some(1.0));
        assert_eq!(f.bool("node.pod_cidr_missing"), Some(true));
        assert_eq!(f.num("node.heartbeat_age_s"), Some(60.0));
        assert!(!facts("x", "kind: Pod\n", None, None, &mut f));
        assert!(!facts("x", "{{{{ not yaml", None, None, &mut f));
    }
}
