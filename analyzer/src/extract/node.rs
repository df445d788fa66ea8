//! The Node as the cluster sees it (object, `describe`, `get nodes` row), and
//! the CSRs waiting for it.

use super::{Ctx, Doc};
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts};
use crate::parse::certs::fmt_time;
use crate::parse::node::{self, NodeInfo};
use crate::parse::table;
use bundle::layout::Content;

/// The node a paste is about, with the other nodes it shows. Whole views
/// (objects, `describe`) come before table rows; among several, the worst
/// one (not Ready, then cordoned), else the first.
fn find<'c>(c: &'c Ctx) -> Option<(NodeInfo, &'c Doc<'c>, Vec<NodeInfo>, bool)> {
    let mut whole: Vec<(NodeInfo, &Doc)> = Vec::new();
    for d in c.docs(Content::NodeObject) {
        whole.extend(node::objects(&d.text()).into_iter().map(|n| (n, d)));
    }
    for d in c.docs(Content::KubectlDescribeNode) {
        whole.extend(node::describes(&d.text()).into_iter().map(|n| (n, d)));
    }
    if !whole.is_empty() {
        let cut = whole.len() > node::MAX_NODES;
        whole.truncate(node::MAX_NODES);
        let (mut nodes, docs): (Vec<NodeInfo>, Vec<&Doc>) = whole.into_iter().unzip();
        let i = node::worst_index(&nodes).unwrap_or(0);
        let n = nodes.swap_remove(i);
        return Some((n, docs[i], nodes, cut));
    }
    c.docs(Content::KubectlGetNodes).find_map(|d| {
        let n = node::worst(node::from_get_nodes(&d.text()))?;
        Some((n, d, Vec::new(), false))
    })
}

pub(super) fn object(c: &mut Ctx, facts: &mut Facts) {
    all_ready(c, facts);
    let Some((n, d, others, cut)) = find(c) else {
        return;
    };
    let cut = cut.then(|| d.path.clone());
    let ev = |t: String| Some(d.about(t));
    let seen = match n.shape {
        "node object" => format!("Node {}", n.name),
        shape => format!("Node {} ({shape})", n.name),
    };
    facts.set(NODE_PRESENT, true, ev(seen));
    if !n.name.is_empty() {
        facts.set(
            NODE_NAME,
            n.name.clone(),
            ev(format!("metadata.name: {}", n.name)),
        );
    }
    conditions(&n, d, c.collected, facts);
    if let Some(u) = n.unschedulable {
        facts.set(
            NODE_UNSCHEDULABLE,
            u,
            ev(format!("spec.unschedulable: {u}")),
        );
    }
    taints(&n, d, facts);
    pod_cidr(&n, d, &others, facts);
    resources(&n, d, facts);
    if let Some(a) = &n.arch {
        facts.set(
            NODE_ARCH,
            a.clone(),
            ev(format!("nodeInfo.architecture: {a}")),
        );
    }
    if let (Some(mid), Some(host)) = (
        &n.machine_id,
        facts.str(IDENTITY_MACHINE_ID).map(String::from),
    ) {
        if !mid.is_empty() {
            let text = format!("Node machineID {mid}, this host's /etc/machine-id {host}");
            facts.set(NODE_MACHINE_ID_MISMATCH, *mid != host, ev(text));
        }
    }
    if let (Some(created), Some(now)) = (n.created, c.collected) {
        let text = format!("creationTimestamp {}", fmt_time(created as i64));
        facts.set(NODE_CREATED_AGE_S, (now - created).round(), ev(text));
    }
    if let Some(path) = cut {
        c.problems.push(crate::input::Problem {
            path,
            problem: format!(
                "more than {} Nodes shown; the node judged is among the first {}",
                node::MAX_NODES,
                node::MAX_NODES
            ),
        });
    }
}

/// All taints, and the ones that keep ordinary pods off the node.
fn taints(n: &NodeInfo, d: &Doc, facts: &mut Facts) {
    let ev = |t: String| Some(d.about(t));
    if let Some(ts) = &n.taints {
        let all: Vec<String> = ts.iter().map(crate::parse::node::Taint::describe).collect();
        let blocking: Vec<String> = ts
            .iter()
            .filter(|t| t.blocking())
            .map(crate::parse::node::Taint::describe)
            .collect();
        facts.set(
            NODE_TAINTS,
            all.clone(),
            ev(format!("spec.taints: [{}]", all.join(", "))),
        );
        facts.set(
            NODE_BLOCKING_TAINT_COUNT,
            blocking.len() as f64,
            ev(format!("blocking taints: [{}]", blocking.join(", "))),
        );
        facts.set(
            NODE_BLOCKING_TAINTS,
            blocking.clone(),
            ev(format!("spec.taints: [{}]", blocking.join(", "))),
        );
    }
}

/// spec.podCIDR, when the input says whether it is set.
fn pod_cidr(n: &NodeInfo, d: &Doc, others: &[NodeInfo], facts: &mut Facts) {
    let ev = |t: String| Some(d.about(t));
    match &n.pod_cidr {
        Some(Some(cidr)) => {
            facts.set(
                NODE_POD_CIDR,
                cidr.clone(),
                ev(format!("spec.podCIDR: {cidr}")),
            );
            facts.set(
                NODE_POD_CIDR_MISSING,
                false,
                ev(format!("spec.podCIDR: {cidr}")),
            );
        }
        Some(None) => {
            facts.set(
                NODE_POD_CIDR_MISSING,
                true,
                ev("spec.podCIDR is not set".into()),
            );
            // The cluster hands out podCIDRs, so this node's is missing.
            let peer = others
                .iter()
                .filter(|o| n.name.is_empty() || o.name != n.name)
                .find_map(|o| match &o.pod_cidr {
                    Some(Some(cidr)) => Some((&o.name, cidr)),
                    _ => None,
                });
            if let Some((name, cidr)) = peer {
                let text = format!("Node {name} has spec.podCIDR {cidr}, this one none");
                facts.set(NODE_PEER_POD_CIDR, cidr.clone(), ev(text));
            }
        }
        None => {}
    }
}

/// Pods, memory and CPU the node offers.
fn resources(n: &NodeInfo, d: &Doc, facts: &mut Facts) {
    let ev = |t: String| Some(d.about(t));
    for (key, map, k) in [
        (NODE_CAPACITY_PODS, &n.capacity, "pods"),
        (NODE_ALLOCATABLE_PODS, &n.allocatable, "pods"),
        (NODE_ALLOCATABLE_MEMORY_BYTES, &n.allocatable, "memory"),
        (NODE_CAPACITY_CPU, &n.capacity, "cpu"),
    ] {
        let section = if std::ptr::eq(map, &n.capacity) {
            "capacity"
        } else {
            "allocatable"
        };
        if let Some(v) = map.get(k).and_then(|q| node::quantity(q).map(|v| (v, q))) {
            facts.set(key, v.0, ev(format!("{section}.{k}: {}", v.1)));
        }
    }
    // The kubelet counts CPUs as the host does; a difference means it read
    // another machine's count (a container on a bigger host, say).
    if let (Some(cap), Some(host)) = (facts.num(NODE_CAPACITY_CPU), facts.num(HOST_CPU_COUNT)) {
        let host_ev = facts
            .fact(HOST_CPU_COUNT)
            .and_then(|f| f.evidence.first().cloned());
        let differs = (cap - host).abs() >= 1.0;
        facts.set(
            NODE_CPU_MISCOUNTED,
            differs,
            ev(format!("capacity.cpu: {cap}, the host shows {host} CPUs")),
        );
        if let Some(e) = host_ev {
            facts.push_evidence(NODE_CPU_MISCOUNTED, e);
        }
    }
}

fn conditions(n: &NodeInfo, d: &Doc, collected: Option<f64>, facts: &mut Facts) {
    let ev = |t: String| Some(d.about(t));
    let mut newest: Option<f64> = None;
    for c in &n.conditions {
        let text = format!("{}={} {}: {}", c.kind, c.status, c.reason, c.message);
        if let Some(hb) = c.heartbeat {
            newest = Some(newest.map_or(hb, |x| x.max(hb)));
        }
        let truth = c.status == "True";
        match c.kind.as_str() {
            "Ready" => {
                facts.set(NODE_READY, c.status.clone(), ev(text.clone()));
                facts.set(NODE_READY_REASON, c.reason.clone(), ev(text.clone()));
                facts.set(NODE_READY_MESSAGE, c.message.clone(), ev(text));
            }
            "MemoryPressure" => facts.set(NODE_MEMORY_PRESSURE, truth, ev(text)),
            "DiskPressure" => facts.set(NODE_DISK_PRESSURE, truth, ev(text)),
            "PIDPressure" => facts.set(NODE_PID_PRESSURE, truth, ev(text)),
            "NetworkUnavailable" => facts.set(NODE_NETWORK_UNAVAILABLE, truth, ev(text)),
            _ => {}
        }
    }
    if let (Some(hb), Some(now)) = (newest, collected) {
        let text = format!("newest lastHeartbeatTime {}", fmt_time(hb as i64));
        facts.set(NODE_HEARTBEAT_AGE_S, (now - hb).round(), ev(text));
    }
}

/// Every row of the `kubectl get nodes` tables shown is Ready: the cluster,
/// whichever node the ticket is about, got past its start-up noise. None of
/// two or more is: something cluster-wide keeps them all from Ready.
fn all_ready(c: &Ctx, facts: &mut Facts) {
    let (mut rows, mut ready) = (0, 0);
    let mut first = None;
    for d in c.docs(Content::KubectlGetNodes) {
        let nodes = node::from_get_nodes(&d.text());
        if nodes.is_empty() {
            continue;
        }
        rows += nodes.len();
        ready += nodes
            .iter()
            .filter(|r| r.condition("Ready").is_some_and(|c| c.status == "True"))
            .count();
        first.get_or_insert(d);
    }
    let Some(d) = first else {
        return;
    };
    let ev = || Some(d.about(format!("{rows} node(s) listed, {ready} Ready")));
    facts.set(NODES_ALL_READY, ready == rows, ev());
    if rows >= 2 && ready == 0 {
        facts.set(NODES_NONE_READY, true, ev());
    }
}

/// The last cordon or uncordon shown in pasted text: a cordon nobody undid
/// leaves the node unschedulable.
pub(super) fn cordons(c: &mut Ctx, facts: &mut Facts) {
    let mut last = None;
    for d in c.docs(Content::Other) {
        let t = d.text();
        // One pass over the text spares millions of lines the per-line search.
        let b = t.as_bytes();
        if memchr::memmem::find(b, b"cordoned").is_none()
            && memchr::memmem::find(b, b"drained").is_none()
        {
            continue;
        }
        for (i, l) in t.lines().enumerate() {
            if let Some(cordon) = node::cordon_action(crate::paste::clean(l)) {
                last = Some((cordon, d.at(i, l.trim())));
            }
        }
    }
    if let Some((cordon, ev)) = last {
        facts.set(NODE_LEFT_CORDONED, cordon, Some(ev));
    }
}

pub(super) fn csrs(c: &mut Ctx, facts: &mut Facts) {
    join_waiting_for_csr(c, facts);
    join_waiting_at_discovery(c, facts);
    for d in c.docs(Content::KubectlGetCsr) {
        let rows = table::csrs(&d.text());
        if rows.is_empty() {
            continue;
        }
        let pending: Vec<_> = rows.iter().filter(|r| r.pending()).collect();
        let stuck: Vec<_> = rows.iter().filter(|r| r.approved_not_issued()).collect();
        let ev = |r: Option<&&table::Csr>, what: &str| -> Option<Evidence> {
            Some(match r {
                Some(r) => d.at(
                    r.line,
                    format!("{} from {}: {}", r.name, r.requestor, r.condition),
                ),
                None => d.about(format!("no {what} CSR")),
            })
        };
        facts.set(
            CSR_PENDING,
            pending.len() as f64,
            ev(pending.first(), "pending"),
        );
        facts.set(
            CSR_APPROVED_NOT_ISSUED,
            stuck.len() as f64,
            ev(stuck.first(), "approved-but-unissued"),
        );
        return;
    }
}

/// kubeadm join up to 1.12 printed each discovery step; output that stops
/// at "requesting info from" never heard back from the API server.
fn join_waiting_at_discovery(c: &Ctx, facts: &mut Facts) {
    let start = [
        "[discovery] trying to connect to api server",
        "[discovery] created cluster-info discovery client",
    ];
    // A later kubeadm join step, or its end.
    let went_on = [
        "[discovery] ",
        "[bootstrap]",
        "[join]",
        "[kubelet",
        "[csr]",
        "[tlsbootstrap]",
        "[patchnode]",
        "[preflight] reading configuration",
        "has joined the cluster",
        "join complete",
        "error execution phase",
    ];
    let marker = Some(&b"[discovery] "[..]);
    stalled(c, facts, JOIN_DISCOVERY_WAITING, marker, &start, &went_on);
}

/// kubeadm join up to 1.9 requested the node certificate itself: `[csr]
/// Created API client to obtain unique certificate ...` (1.4: `<node/csr>
/// created ...`), then `received signed certificate` once it was approved.
/// A paste that ends at the request, with no error after it, hung there.
fn join_waiting_for_csr(c: &Ctx, facts: &mut Facts) {
    let start = ["created api client to obtain unique certificate for this node"];
    let went_on = [
        "received signed certificate",
        "join complete",
        "has joined the cluster",
        "error",
        "failed",
    ];
    stalled(c, facts, CSR_JOIN_WAITING, None, &start, &went_on);
}

/// Sets `key` when a pasted text's last line holding one of `start`
/// (lower case) has no line holding one of `went_on` after it. `marker`, when
/// given, is text every such paste holds, so other texts are not read line by
/// line.
fn stalled(
    c: &Ctx,
    facts: &mut Facts,
    key: crate::facts::Key<bool>,
    marker: Option<&[u8]>,
    start: &[&str],
    went_on: &[&str],
) {
    for d in c.docs(Content::Other) {
        let text = d.text();
        if marker.is_some_and(|m| memchr::memmem::find(text.as_bytes(), m).is_none()) {
            continue;
        }
        let mut waiting: Option<(usize, String)> = None;
        for (i, l) in text.lines().enumerate() {
            let t = crate::paste::clean(l).trim();
            let low = t.to_ascii_lowercase();
            if start.iter().any(|w| low.contains(w)) {
                waiting = Some((i, t.to_string()));
            } else if waiting.is_some() && went_on.iter().any(|w| low.contains(w)) {
                waiting = None;
            }
        }
        if let Some((i, t)) = waiting {
            facts.set(key, true, Some(d.at(i, t)));
            return;
        }
    }
}
