//! The verdict vocabulary from the product contract: phases and cause ids.

use serde::Serialize;

pub const PHASES: [(u8, &str, &str); 5] = [
    (1, "host-prepared", "OS prerequisites hold: runtime up, kubelet installed and configured, cgroups, swap, modules, sysctls, time synced, identity stable"),
    (2, "join-initiated", "the node reached the control plane and trusted it: endpoint reachable, token valid, CA pinned, clocks agree"),
    (3, "authentication-registration", "kubelet authenticated, certificate issued, Node object created, heartbeats began"),
    (4, "readiness-established", "Node Ready: runtime responsive, network (CNI) initialized, conditions healthy, heartbeats stable"),
    (5, "scheduling-enabled", "no blocking taints, not cordoned, resources reported correctly, workloads can run"),
];

pub fn phase_id(n: u8) -> &'static str {
    PHASES
        .iter()
        .find(|p| p.0 == n)
        .map(|p| p.1)
        .unwrap_or("unknown")
}

/// Cause id, the phases it may belong to, and its meaning.
pub const CAUSES: &[(&str, &[u8], &str)] = &[
    ("swap-enabled", &[1], "swap on and the kubelet refuses it"),
    ("memory-cgroup-missing", &[1], "memory cgroup controller not enabled (Pi: cgroup_memory=1 cgroup_enable=memory missing from the cmdline.txt the firmware really reads)"),
    ("cgroup-driver-mismatch", &[1], "kubelet and runtime disagree on systemd vs cgroupfs"),
    ("container-runtime-unavailable", &[1], "runtime not running, socket missing, or CRI service not served"),
    ("kernel-prerequisite-missing", &[1], "br_netfilter / overlay / vxlan module missing, bridge-nf-call-iptables or ip_forward not 1"),
    ("kubelet-misconfigured", &[1], "kubelet cannot start: bad or removed flags, unreadable config file"),
    ("host-identity-duplicate", &[1], "cloned image: duplicate machine-id / product_uuid / hostname"),
    ("join-not-started", &[2], "kubelet waits for a config that only kubeadm join (or the k3s agent) writes"),
    ("apiserver-unreachable", &[2], "control-plane endpoint not reachable: refused, timeout, no route, name resolution, wrong URL or port, firewall"),
    ("bootstrap-token-invalid", &[2], "join token expired, deleted or unknown"),
    ("ca-hash-mismatch", &[2], "pinned CA hash does not match the cluster CA"),
    ("clock-drift", &[2, 3], "node clock disagrees with the cluster: certificate not yet valid, implausible time, large measured offset"),
    ("stale-cluster-credentials", &[3], "kubeconfig, CA or certificates left over from a previous cluster"),
    ("client-cert-expired", &[3], "kubelet client certificate really expired (the clock is right)"),
    ("csr-not-approved", &[3], "kubelet's CSR never approved or signed"),
    ("node-name-conflict", &[3], "another node already holds this name"),
    ("node-identity-mismatch", &[3], "credentials are for node A while the kubelet registers as node B"),
    ("cni-not-ready", &[4], "network plugin not ready / no CNI config / CNI daemon failing on this node"),
    ("cni-plugin-missing", &[4], "CNI plugin binaries missing from the plugin path"),
    ("pod-cidr-not-assigned", &[4], "node has no podCIDR, so the CNI cannot start"),
    ("node-pressure", &[4], "MemoryPressure / DiskPressure / PIDPressure, evictions, admission refused"),
    ("pleg-unhealthy", &[4], "PLEG not healthy: runtime too slow (SD card I/O, overload)"),
    ("node-status-stale", &[4], "heartbeats stopped: NodeStatusUnknown, lease not renewed"),
    ("power-undervoltage", &[4], "Pi under-voltage or throttling making the node unstable"),
    ("node-unschedulable", &[5], "node cordoned (spec.unschedulable)"),
    ("blocking-taint", &[5], "NoSchedule/NoExecute taint nobody removes"),
    ("resources-misreported", &[5], "capacity/allocatable zero or absurd, pods capacity 0"),
    ("workload-arch-mismatch", &[5], "images or node selectors for another architecture (exec format error)"),
];

/// A rule whose evidence shows a phase failed without naming why. Such a
/// finding names the phase when no cause can be named; `verdict.cause` stays null.
pub const UNKNOWN_CAUSE: &str = "unknown";

pub fn cause(id: &str) -> Option<&'static (&'static str, &'static [u8], &'static str)> {
    CAUSES.iter().find(|c| c.0 == id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}
