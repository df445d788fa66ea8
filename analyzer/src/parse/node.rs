//! The Node, however it was shown: the object (`kubectl get node -o
//! yaml|json`), `kubectl describe node`, or a row of `kubectl get nodes`.
//! Fields a shape does not show stay unknown (None), never "absent".

use super::columns;
use serde_yaml_ng::Value as Y;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub heartbeat: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

impl Taint {
    pub fn describe(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}:{}", self.key, self.effect),
            None => format!("{}:{}", self.key, self.effect),
        }
    }

    /// NoSchedule/NoExecute taints other than the ones mirroring node
    /// conditions (node.kubernetes.io/*) or roles.
    pub fn blocking(&self) -> bool {
        self.effect != "PreferNoSchedule"
            && !self.key.starts_with("node.kubernetes.io/")
            && !self.key.starts_with("node-role.kubernetes.io/")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub conditions: Vec<Condition>,
    pub unschedulable: Option<bool>,
    pub taints: Option<Vec<Taint>>,
    /// Outer None: not shown; Some(None): shown to be unset.
    pub pod_cidr: Option<Option<String>>,
    pub capacity: BTreeMap<String, String>,
    pub allocatable: BTreeMap<String, String>,
    pub arch: Option<String>,
    pub machine_id: Option<String>,
    pub created: Option<f64>,
    /// The ROLES column of a `kubectl get nodes` row.
    pub roles: Option<String>,
    /// Which shape it came from, for evidence.
    pub shape: &'static str,
}

impl NodeInfo {
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

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

fn string_map(v: Option<&Y>) -> BTreeMap<String, String> {
    v.and_then(|m| m.as_mapping())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((s(Some(k))?, s(Some(v))?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A Node object in YAML or JSON (a `List` holding one counts); None when
/// the text is not one.
/// Nodes read from one object or `describe` output: a ticket shows a few,
/// a fleet dump hundreds; more are cut (and the cut is reported).
pub const MAX_NODES: usize = 1000;

/// Every Node a pasted or collected object shows: one Node, each Node of
/// a List (`kubectl get nodes -o yaml` lists the control plane first), or
/// a fragment (`| jq .status.capacity`, `| jq .spec`).
pub fn objects(text: &str) -> Vec<NodeInfo> {
    let Some(doc) = super::yaml::<Y>(text) else {
        return Vec::new();
    };
    match s(doc.get("kind")).as_deref() {
        Some("Node") => vec![node_info(&doc)],
        Some("List" | "NodeList") => doc
            .get("items")
            .and_then(|i| i.as_sequence())
            .map(|items| {
                items
                    .iter()
                    .filter(|n| s(n.get("kind")).as_deref() == Some("Node"))
                    .take(MAX_NODES + 1)
                    .map(node_info)
                    .collect()
            })
            .unwrap_or_default(),
        None if doc.get("cpu").is_some() && doc.get("pods").is_some() => vec![NodeInfo {
            capacity: string_map(Some(&doc)),
            shape: "capacity fragment",
            ..Default::default()
        }],
        None if spec_fragment(&doc) => {
            let spec = Y::Mapping([(Y::from("spec"), doc)].into_iter().collect());
            vec![NodeInfo {
                shape: "spec fragment",
                ..node_info(&spec)
            }]
        }
        _ => Vec::new(),
    }
}

/// A Node's `.spec` alone: a mapping of spec keys only, with a taint list
/// or a podCIDR in it.
fn spec_fragment(doc: &Y) -> bool {
    const KEYS: [&str; 7] = [
        "podCIDR",
        "podCIDRs",
        "taints",
        "unschedulable",
        "providerID",
        "externalID",
        "configSource",
    ];
    let Some(m) = doc.as_mapping() else {
        return false;
    };
    !m.is_empty()
        && m.keys()
            .all(|k| k.as_str().is_some_and(|k| KEYS.contains(&k)))
        && (m.contains_key("taints") || m.contains_key("podCIDR"))
}

/// Role names from `node-role.kubernetes.io/NAME` labels, as `kubectl get
/// nodes` prints them.
fn roles(labels: Option<&Y>) -> Option<String> {
    let names: Vec<String> = string_map(labels)
        .keys()
        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
        .map(String::from)
        .collect();
    (!names.is_empty()).then(|| names.join(","))
}

fn node_info(node: &Y) -> NodeInfo {
    let conditions = get(node, &["status", "conditions"])
        .and_then(|c| c.as_sequence())
        .map(|cs| {
            cs.iter()
                .map(|c| Condition {
                    kind: s(c.get("type")).unwrap_or_default(),
                    status: s(c.get("status")).unwrap_or_default(),
                    reason: s(c.get("reason")).unwrap_or_default(),
                    message: s(c.get("message")).unwrap_or_default(),
                    heartbeat: s(c.get("lastHeartbeatTime"))
                        .and_then(|h| super::logline::parse_iso(&h)),
                })
                .collect()
        })
        .unwrap_or_default();
    let taints = get(node, &["spec", "taints"])
        .and_then(|t| t.as_sequence())
        .map(|ts| {
            ts.iter()
                .map(|t| Taint {
                    key: s(t.get("key")).unwrap_or_default(),
                    value: s(t.get("value")),
                    effect: s(t.get("effect")).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    NodeInfo {
        name: s(get(node, &["metadata", "name"])).unwrap_or_default(),
        conditions,
        unschedulable: Some(matches!(
            get(node, &["spec", "unschedulable"]),
            Some(Y::Bool(true))
        )),
        taints: Some(taints),
        pod_cidr: Some(s(get(node, &["spec", "podCIDR"])).filter(|c| !c.is_empty())),
        capacity: string_map(get(node, &["status", "capacity"])),
        allocatable: string_map(get(node, &["status", "allocatable"])),
        arch: s(get(node, &["status", "nodeInfo", "architecture"])),
        machine_id: s(get(node, &["status", "nodeInfo", "machineID"])),
        created: s(get(node, &["metadata", "creationTimestamp"]))
            .and_then(|c| super::logline::parse_iso(&c)),
        roles: roles(get(node, &["metadata", "labels"])),
        shape: "node object",
    }
}

/// RFC 1123 with a numeric zone, as `kubectl describe` prints times.
fn describe_time(s: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| d.timestamp() as f64)
}

/// `kubectl describe node`. Sections it does not include stay unknown; a
/// description that shows Capacity and Conditions but no PodCIDR has none.
/// One row of `kubectl describe node`'s Conditions table (not its header).
fn describe_condition(row: &str) -> Option<Condition> {
    let c = columns(row);
    if c.len() < 2 || c[0].starts_with("Type") || c[0].starts_with("----") {
        return None;
    }
    Some(Condition {
        kind: c[0].to_string(),
        status: c[1].to_string(),
        heartbeat: c.get(2).and_then(|h| describe_time(h)),
        reason: c.get(4).unwrap_or(&"").to_string(),
        message: c.get(5..).map(|m| m.join(" ")).unwrap_or_default(),
    })
}

/// Each node of `kubectl describe node(s)`: a new node starts at a
/// `Name:` line in the first column.
pub fn describes(text: &str) -> Vec<NodeInfo> {
    let mut starts: Vec<usize> = text
        .match_indices("Name:")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts.push(text.len());
    starts
        .windows(2)
        .filter_map(|w| from_describe(&text[w[0]..w[1]]))
        .take(MAX_NODES + 1)
        .collect()
}

pub fn from_describe(text: &str) -> Option<NodeInfo> {
    let lines: Vec<&str> = text.lines().collect();
    // Without `Name:` (a pasted excerpt) a known section must be there.
    let name = match lines.iter().find_map(|l| l.strip_prefix("Name:")) {
        Some(n) => n.trim().to_string(),
        None if lines.iter().any(|l| {
            ["Capacity:", "Allocatable:", "Conditions:", "Taints:"].contains(&l.trim_end())
                || l.starts_with("Taints:")
        }) =>
        {
            String::new()
        }
        None => return None,
    };
    let mut n = NodeInfo {
        name,
        shape: "kubectl describe node",
        ..Default::default()
    };
    let mut section = "";
    for l in &lines {
        let top = !l.starts_with(' ') && !l.starts_with('\t');
        if top {
            if let Some((k, v)) = l.split_once(':') {
                section = k.trim();
                let v = v.trim();
                match section {
                    "Taints" => {
                        n.taints = Some(parse_taint(v).into_iter().collect());
                    }
                    "Unschedulable" => n.unschedulable = Some(v == "true"),
                    "Roles" if !v.is_empty() && v != "<none>" => n.roles = Some(v.to_string()),
                    "PodCIDR" => n.pod_cidr = Some(Some(v.to_string()).filter(|v| !v.is_empty())),
                    "CreationTimestamp" => n.created = describe_time(v),
                    _ => {}
                }
            }
            continue;
        }
        let t = l.trim();
        match section {
            "Taints" => {
                if let (Some(ts), Some(t)) = (n.taints.as_mut(), parse_taint(t)) {
                    ts.push(t);
                }
            }
            "Conditions" => n.conditions.extend(describe_condition(t)),
            "Capacity" | "Allocatable" => {
                if let Some((k, v)) = t.split_once(':') {
                    let m = if section == "Capacity" {
                        &mut n.capacity
                    } else {
                        &mut n.allocatable
                    };
                    m.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            "System Info" => {
                if let Some((k, v)) = t.split_once(':') {
                    match k.trim() {
                        "Architecture" => n.arch = Some(v.trim().to_string()),
                        "Machine ID" => n.machine_id = Some(v.trim().to_string()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if n.pod_cidr.is_none()
        && !n.capacity.is_empty()
        && !n.conditions.is_empty()
        && text.contains("Non-terminated Pods")
    {
        n.pod_cidr = Some(None);
    }
    Some(n)
}

fn parse_taint(s: &str) -> Option<Taint> {
    let s = s.trim();
    if s.is_empty() || s == "<none>" {
        return None;
    }
    let (kv, effect) = s.rsplit_once(':')?;
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (kv, None),
    };
    Some(Taint {
        key: key.to_string(),
        value,
        effect: effect.to_string(),
    })
}

/// Rows of `kubectl get nodes` (plain or `-o wide`): name, STATUS, ROLES.
pub fn from_get_nodes(text: &str) -> Vec<NodeInfo> {
    let mut out = Vec::new();
    let mut header = false;
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.first() == Some(&"NAME") && w.get(1) == Some(&"STATUS") && w.contains(&"AGE") {
            header = true;
            continue;
        }
        if !header || w.len() < 3 {
            continue;
        }
        let status = w[1];
        let ready = if status.split(',').any(|s| s == "Ready") {
            "True"
        } else if status.contains("NotReady") {
            "False"
        } else if status.contains("Unknown") {
            "Unknown"
        } else {
            continue;
        };
        out.push(NodeInfo {
            name: w[0].to_string(),
            conditions: vec![Condition {
                kind: "Ready".into(),
                status: ready.into(),
                reason: String::new(),
                message: format!("STATUS {status}"),
                heartbeat: None,
            }],
            unschedulable: Some(status.contains("SchedulingDisabled")),
            roles: w.get(2).map(ToString::to_string),
            shape: "kubectl get nodes",
            ..Default::default()
        });
    }
    out
}

/// The row a ticket is about: the first that is not Ready, then the first
/// that is cordoned; a lone row is the node itself, unless it is a healthy
/// control-plane node: a worker that never registered leaves only the server
/// listed (k3s-io/k3s#5376), which says nothing about the worker. Several
/// healthy rows say nothing about which node the ticket means: None.
pub fn worst(rows: Vec<NodeInfo>) -> Option<NodeInfo> {
    let i = worst_index(&rows)?;
    rows.into_iter().nth(i)
}

/// Where `worst` finds its node. A Node that shows only its spec is not
/// Ready while it carries the not-ready or unreachable taint.
pub fn worst_index(rows: &[NodeInfo]) -> Option<usize> {
    let not_ready = |r: &NodeInfo| match r.condition("Ready") {
        Some(c) => c.status != "True",
        None => r.taints.iter().flatten().any(|t| {
            t.key == "node.kubernetes.io/not-ready" || t.key == "node.kubernetes.io/unreachable"
        }),
    };
    let server = |r: &NodeInfo| {
        let role = |x: &str| x.contains("master") || x.contains("control-plane");
        r.roles.as_deref().is_some_and(role)
            || r.taints
                .iter()
                .flatten()
                .any(|t| t.key.starts_with("node-role.kubernetes.io/") && role(&t.key))
    };
    // Workers first: the control plane is often NotReady for the same
    // network reason, but the ticket is about the node that joins.
    let worker_not_ready = rows.iter().position(|r| not_ready(r) && !server(r));
    let any_not_ready = rows.iter().position(not_ready);
    let cordoned = rows.iter().position(|r| r.unschedulable == Some(true));
    let lone = (rows.len() == 1 && !server(&rows[0])).then_some(0);
    worker_not_ready.or(any_not_ready).or(cordoned).or(lone)
}

/// A cordon or uncordon as command output prints it: kubectl's `node/NAME
/// cordoned` (`node "NAME" cordoned` before 1.11, `already cordoned`) and
/// drain handlers' `Node successfully cordoned`. True for a cordon; a drain
/// leaves the node cordoned too.
pub fn cordon_action(line: &str) -> Option<bool> {
    let l = line.trim_end();
    for (word, cordon) in [("uncordoned", false), ("cordoned", true), ("drained", true)] {
        let Some(at) = l.find(word) else { continue };
        // Only structured key=value fields may follow (drain handlers' logs).
        let rest = l[at + word.len()..].trim();
        if !rest.split_whitespace().all(|t| t.contains('=')) {
            continue;
        }
        let before = l[..at].trim_end();
        let before = before.strip_suffix("already").unwrap_or(before).trim_end();
        let kubectl = before
            .rsplit_once(char::is_whitespace)
            .map_or(before, |(_, w)| w)
            .starts_with("node/")
            || (before.ends_with('"') && before.contains("node \""));
        let handler = before.ends_with("Node successfully");
        if kubectl || handler {
            return Some(cordon);
        }
    }
    None
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
        let n = objects(y).remove(0);
        assert_eq!(n.condition("Ready").unwrap().status, "False");
        assert_eq!(n.capacity.get("pods").map(String::as_str), Some("0"));
        assert_eq!(
            n.taints
                .as_ref()
                .unwrap()
                .iter()
                .filter(|t| t.blocking())
                .count(),
            1
        );
        assert_eq!(n.pod_cidr, Some(None));
        assert!(objects("kind: Pod\n").is_empty());
        let cap =
            objects("{\"cpu\": \"0\", \"memory\": \"1531128Ki\", \"pods\": \"110\"}").remove(0);
        assert_eq!(cap.capacity.get("cpu").map(String::as_str), Some("0"));
        assert!(objects("{{{{ not yaml").is_empty());
    }

    #[test]
    fn every_node_of_a_list_and_a_spec_fragment() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: Node\n  metadata: {name: cp}\n  spec: {podCIDR: 10.244.0.0/24}\n  status:\n    conditions: [{type: Ready, status: \"True\"}]\n- kind: Node\n  metadata: {name: w1}\n  spec: {}\n  status:\n    conditions: [{type: Ready, status: \"False\"}]\n";
        let nodes = objects(list);
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[worst_index(&nodes).unwrap()].name, "w1");
        let spec = "{\n  \"taints\": [\n    {\"effect\": \"NoSchedule\", \"key\": \"node.kubernetes.io/not-ready\"}\n  ]\n}";
        let n = objects(spec).remove(0);
        assert_eq!(n.shape, "spec fragment");
        assert_eq!(n.pod_cidr, Some(None));
        assert_eq!(worst_index(&[n]), Some(0));
        // A mapping with other keys is not a spec.
        assert!(objects("{\"taints\": [], \"image\": \"x\"}").is_empty());
        assert!(objects("{\"unschedulable\": true}").is_empty());
    }

    const DESCRIBE: &str = "Name:               pi-worker-1
Roles:              <none>
Labels:             beta.kubernetes.io/arch=arm64
                    kubernetes.io/hostname=pi-worker-1
CreationTimestamp:  Tue, 24 Nov 2026 05:00:00 +0000
Taints:             node.kubernetes.io/not-ready:NoExecute
                    node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule
Unschedulable:      false
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Tue, 24 Nov 2026 05:59:00 +0000   Tue, 24 Nov 2026 05:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  Ready            False   Tue, 24 Nov 2026 05:59:00 +0000   Tue, 24 Nov 2026 05:00:00 +0000   KubeletNotReady              container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized
Addresses:
  InternalIP:  192.168.1.51
Capacity:
  cpu:                4
  pods:               110
System Info:
  Architecture:               arm64
Non-terminated Pods:          (1 in total)
";

    #[test]
    fn describe() {
        let n = from_describe(DESCRIBE).unwrap();
        assert_eq!(n.name, "pi-worker-1");
        let r = n.condition("Ready").unwrap();
        assert_eq!(r.status, "False");
        assert_eq!(r.reason, "KubeletNotReady");
        assert!(r.message.contains("cni plugin not initialized"));
        assert_eq!(n.taints.as_ref().unwrap().len(), 2);
        assert_eq!(n.unschedulable, Some(false));
        assert_eq!(n.pod_cidr, Some(None));
        assert_eq!(n.arch.as_deref(), Some("arm64"));
        assert_eq!(n.capacity.get("pods").map(String::as_str), Some("110"));
    }

    #[test]
    fn describe_of_several_nodes() {
        let cp = DESCRIBE
            .replace("pi-worker-1", "cp")
            .replace("False", "True");
        let both = format!("{cp}\n{DESCRIBE}");
        let nodes = describes(&both);
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[worst_index(&nodes).unwrap()].name, "pi-worker-1");
        assert_eq!(describes(DESCRIBE).len(), 1);
    }

    #[test]
    fn cordons() {
        assert_eq!(cordon_action("node/pi-2 cordoned"), Some(true));
        assert_eq!(
            cordon_action("node \"e2e-minion\" already cordoned"),
            Some(true)
        );
        assert_eq!(cordon_action("node/pi-2 uncordoned"), Some(false));
        assert_eq!(
            cordon_action("2021/06/25 06:57:02 INF Node successfully cordoned node_name=ip-1"),
            Some(true)
        );
        assert_eq!(cordon_action("node/pi-2 drained"), Some(true));
        assert_eq!(
            cordon_action("06:57:02 INF Node successfully cordoned"),
            Some(true)
        );
        assert_eq!(cordon_action("the node got cordoned"), None);
        assert_eq!(cordon_action("node/pi-2 cordoned and drained"), None);
    }

    #[test]
    fn get_nodes() {
        let t = "NAME          STATUS                     ROLES           AGE   VERSION
pi-master     Ready                      control-plane   10d   v1.28.2
pi-worker-1   Ready,SchedulingDisabled   <none>          3d    v1.28.2
pi-worker-2   NotReady                   <none>          5m    v1.28.2
";
        let rows = from_get_nodes(t);
        assert_eq!(rows.len(), 3);
        let w = worst(rows.clone()).unwrap();
        assert_eq!(w.name, "pi-worker-2");
        let master = rows[0].clone();
        assert!(
            worst(vec![master.clone()]).is_none(),
            "a lone healthy server says nothing about the worker"
        );
        assert_eq!(worst(vec![rows[1].clone()]).unwrap().name, "pi-worker-1");
        assert!(
            worst(vec![master.clone(), master]).is_none(),
            "several healthy rows name no node"
        );
        assert_eq!(w.condition("Ready").unwrap().status, "False");
    }
}
