//! Facts: what Rust code computed from a bundle, by name, each with the
//! evidence it came from. Rules compare facts; they never see raw files.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Value::Num(n) => write!(f, "{n:.3}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::List(l) => write!(f, "[{}]", l.join(", ")),
        }
    }
}

/// Where something was seen: a file inside the input, a line, quoted text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub text: String,
}

impl Evidence {
    pub fn new(file: &str, line: Option<u64>, text: impl Into<String>) -> Self {
        let mut text: String = text.into();
        if text.len() > 400 {
            let mut cut = 400;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        Evidence {
            file: file.into(),
            line,
            text: text.trim_end().to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub value: Value,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Default, Clone)]
pub struct Facts {
    map: BTreeMap<String, Fact>,
}

impl Facts {
    pub fn set(&mut self, name: &str, value: Value, evidence: Option<Evidence>) {
        debug_assert!(known(name).is_some(), "unregistered fact {name}");
        self.map.insert(
            name.to_string(),
            Fact {
                value,
                evidence: evidence.into_iter().collect(),
            },
        );
    }

    pub fn set_bool(&mut self, name: &str, v: bool, e: Option<Evidence>) {
        self.set(name, Value::Bool(v), e)
    }

    pub fn set_num(&mut self, name: &str, v: f64, e: Option<Evidence>) {
        self.set(name, Value::Num(v), e)
    }

    pub fn set_str(&mut self, name: &str, v: impl Into<String>, e: Option<Evidence>) {
        self.set(name, Value::Str(v.into()), e)
    }

    /// Add evidence to a fact that is already set.
    pub fn push_evidence(&mut self, name: &str, e: Evidence) {
        if let Some(f) = self.map.get_mut(name) {
            if !f.evidence.contains(&e) {
                f.evidence.push(e);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.map.get(name)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)?.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn num(&self, name: &str) -> Option<f64> {
        match self.get(name)?.value {
            Value::Num(n) => Some(n),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match &self.get(name)?.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Fact)> {
        self.map.iter()
    }
}

/// Every fact the analyzer can compute: name, type, meaning. Rules may only
/// name these (`nodejoin facts` lists them).
pub const KNOWN: &[(&str, &str, &str)] = &[
    ("bundle.collected_at", "str", "node clock at collection (RFC 3339), from the manifest"),
    ("clock.year", "num", "year of the node clock at collection"),
    ("clock.synced", "bool", "chrony / timedatectl say the clock is synchronized"),
    ("clock.sync_source", "str", "which tool reported the sync state"),
    ("clock.rtc_present", "bool", "the node has a real-time clock (/dev/rtc0)"),
    ("clock.measured_offset_s", "num", "measured node-minus-reference offset in seconds (positive: node ahead)"),
    ("clock.measured_offset_abs_s", "num", "absolute measured offset in seconds"),
    ("clock.measured_bound_s", "num", "error bound of the measured offset in seconds"),
    ("clock.inferred_offset_s", "num", "offset inferred from evidence (certificate NotBefore, x509 errors, registration time); negative: node behind"),
    ("clock.inferred_offset_abs_s", "num", "absolute inferred offset in seconds"),
    ("clock.offset_abs_s", "num", "largest of measured and inferred absolute offsets"),
    ("cert.client.present", "bool", "a kubelet client certificate (CN system:node:NAME) was found"),
    ("cert.client.file", "str", "where the kubelet client certificate was found"),
    ("cert.client.node", "str", "node name in the client certificate's CN"),
    ("cert.client.not_before_ahead_s", "num", "seconds the client certificate's NotBefore lies after the node clock (positive: not yet valid)"),
    ("cert.client.expired_s", "num", "seconds since the client certificate's NotAfter on the node clock (positive: expired)"),
    ("cert.client.expired_ref_s", "num", "the same against the measured reference clock"),
    ("cert.client.issued_by_cluster_ca", "bool", "the client certificate verifies against the kubeconfig's CA"),
    ("cert.max_not_before_ahead_s", "num", "largest NotBefore-after-node-clock over all certificates, in seconds"),
    ("cert.count", "num", "certificates parsed"),
    ("kubeconfig.ca_matches_pki", "bool", "the kubelet kubeconfig's CA equals /etc/kubernetes/pki/ca.crt"),
    ("kubeconfig.server", "str", "API server URL in the kubelet kubeconfig"),
    ("host.swap_active", "bool", "/proc/swaps lists an active swap area"),
    ("host.swap_kb", "num", "total active swap in KiB"),
    ("host.cgroup_version", "num", "1 or 2"),
    ("host.memory_cgroup", "bool", "the memory cgroup controller is available"),
    ("boot.cmdline_memory", "bool", "the running kernel's /proc/cmdline enables the memory cgroup"),
    ("boot.edited_wrong_cmdline", "bool", "cgroup flags are in /boot/cmdline.txt but the firmware reads /boot/firmware/cmdline.txt, which lacks them"),
    ("host.module.br_netfilter", "bool", "br_netfilter is loaded (module list or its sysctl exists)"),
    ("host.module.overlay", "bool", "overlay is loaded"),
    ("host.module.vxlan", "bool", "vxlan is loaded"),
    ("host.sysctl.bridge_nf_call_iptables", "num", "net.bridge.bridge-nf-call-iptables"),
    ("host.sysctl.ip_forward", "num", "net.ipv4.ip_forward"),
    ("host.iptables_mode", "str", "legacy or nf_tables"),
    ("identity.hostname", "str", "the node's hostname"),
    ("identity.hostname_default", "bool", "the hostname is an image default (raspberrypi, ubuntu, localhost, ...)"),
    ("identity.node_name", "str", "the node name the kubelet registers as"),
    ("identity.machine_id", "str", "/etc/machine-id"),
    ("identity.machine_id_empty", "bool", "/etc/machine-id is empty or 'uninitialized'"),
    ("identity.machine_id_shared", "bool", "another input analyzed in the same run has the same machine-id"),
    ("identity.cert_node_mismatch", "bool", "the client certificate is for another node name than the kubelet registers"),
    ("node.present", "bool", "a Node object was found"),
    ("node.name", "str", "metadata.name"),
    ("node.ready", "str", "Ready condition status: True, False or Unknown"),
    ("node.ready_reason", "str", "Ready condition reason"),
    ("node.ready_message", "str", "Ready condition message"),
    ("node.memory_pressure", "bool", "MemoryPressure is True"),
    ("node.disk_pressure", "bool", "DiskPressure is True"),
    ("node.pid_pressure", "bool", "PIDPressure is True"),
    ("node.network_unavailable", "bool", "NetworkUnavailable is True"),
    ("node.heartbeat_age_s", "num", "seconds from the newest condition heartbeat to collection"),
    ("node.unschedulable", "bool", "spec.unschedulable"),
    ("node.taints", "list", "all taints as key=value:effect"),
    ("node.blocking_taints", "list", "NoSchedule/NoExecute taints other than the node-condition ones"),
    ("node.blocking_taint_count", "num", "how many blocking taints"),
    ("node.pod_cidr", "str", "spec.podCIDR"),
    ("node.pod_cidr_missing", "bool", "the Node has no spec.podCIDR"),
    ("node.capacity_pods", "num", "status.capacity.pods"),
    ("node.allocatable_pods", "num", "status.allocatable.pods"),
    ("node.allocatable_memory_bytes", "num", "status.allocatable.memory"),
    ("node.capacity_cpu", "num", "status.capacity.cpu in cores"),
    ("node.arch", "str", "status.nodeInfo.architecture"),
    ("node.machine_id_mismatch", "bool", "the Node object's machineID differs from this host's /etc/machine-id"),
    ("node.created_age_s", "num", "seconds from the Node's creationTimestamp to collection"),
    ("kubelet.config_present", "bool", "/var/lib/kubelet/config.yaml exists"),
    ("kubelet.fail_swap_on", "bool", "the kubelet refuses swap (failSwapOn, default true)"),
    ("kubelet.cgroup_driver", "str", "kubelet cgroupDriver"),
    ("kubelet.service_active", "bool", "systemd says the kubelet (or k3s) unit is active"),
    ("kubelet.restarts", "num", "systemd NRestarts of the kubelet (or k3s) unit"),
    ("runtime.cgroup_driver", "str", "containerd runc SystemdCgroup: systemd or cgroupfs"),
    ("runtime.cri_disabled", "bool", "containerd config disables the cri plugin"),
    ("runtime.socket_present", "bool", "a container runtime socket exists"),
    ("runtime.service_active", "bool", "systemd says containerd (or crio, docker) is active"),
    ("cgroup_driver.mismatch", "bool", "kubelet and containerd cgroup drivers differ"),
    ("join.flavor", "str", "kubeadm or k3s"),
    ("join.kubelet_conf_present", "bool", "the kubelet's cluster kubeconfig exists (kubelet.conf or k3s kubelet.kubeconfig)"),
    ("join.bootstrap_conf_present", "bool", "bootstrap-kubelet.conf exists"),
    ("cni.config_count", "num", "CNI config files present"),
    ("cni.types", "list", "plugin types named by the CNI configs"),
    ("cni.missing_plugins", "list", "plugin types with no binary in the plugin directories"),
    ("cni.missing_plugin_count", "num", "how many plugin binaries are missing"),
    ("cni.runtime_network_ready", "bool", "crictl info NetworkReady condition"),
    ("power.throttled_flags", "num", "vcgencmd get_throttled bit field"),
    ("power.undervoltage_now", "bool", "under-voltage right now (bit 0)"),
    ("power.undervoltage_seen", "bool", "under-voltage since boot (bit 16) or hwmon alarm"),
    ("power.throttled_seen", "bool", "throttling since boot (bits 17-18)"),
    ("apiserver.reachable", "bool", "a TCP connect to a configured API endpoint succeeded"),
    ("apiserver.error", "str", "why the TCP connect failed"),
    ("bundle.version", "num", "bundle format version"),
];

pub fn known(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    KNOWN.iter().find(|k| k.0 == name)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Exists,
    Missing,
}

/// One fact condition from a rule: `name op literal`.
#[derive(Debug, Clone)]
pub struct Cond {
    pub name: String,
    pub op: Op,
    pub value: Option<Value>,
    pub text: String,
}

impl Cond {
    pub fn parse(s: &str) -> Result<Cond, String> {
        let t = s.trim();
        let mut parts = t.splitn(3, char::is_whitespace).filter(|p| !p.is_empty());
        let name = parts.next().ok_or("empty condition")?.to_string();
        let op_s = parts.next().ok_or_else(|| {
            format!("{t:?}: expected `NAME OP VALUE`, `NAME exists` or `NAME missing`")
        })?;
        let op = match op_s {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "exists" => Op::Exists,
            "missing" => Op::Missing,
            o => return Err(format!("{t:?}: unknown operator {o:?}")),
        };
        let (kind, ..) = known(&name)
            .map(|k| (k.1, ()))
            .ok_or_else(|| format!("{t:?}: unknown fact {name:?} (see `nodejoin facts`)"))?;
        let rest = parts.next().map(str::trim);
        let value = match (op, rest) {
            (Op::Exists | Op::Missing, None) => None,
            (Op::Exists | Op::Missing, Some(_)) => {
                return Err(format!("{t:?}: {op_s} takes no value"))
            }
            (_, None) => return Err(format!("{t:?}: missing value")),
            (_, Some(v)) => Some(parse_literal(v, kind).map_err(|e| format!("{t:?}: {e}"))?),
        };
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && kind != "num" {
            return Err(format!("{t:?}: {name} is {kind}; ordering needs a number"));
        }
        if op == Op::Contains && kind != "list" && kind != "str" {
            return Err(format!("{t:?}: contains needs a list or string fact"));
        }
        Ok(Cond {
            name,
            op,
            value,
            text: t.to_string(),
        })
    }

    pub fn eval(&self, facts: &Facts) -> bool {
        let f = facts.get(&self.name);
        match (self.op, f) {
            (Op::Exists, f) => {
                f.is_some_and(|f| !matches!(&f.value, Value::List(l) if l.is_empty()))
            }
            (Op::Missing, f) => f.is_none(),
            (_, None) => false,
            (op, Some(f)) => compare(
                op,
                &f.value,
                self.value.as_ref().expect("value checked at parse"),
            ),
        }
    }
}

fn parse_literal(v: &str, kind: &str) -> Result<Value, String> {
    match kind {
        "bool" => match v {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got {v:?}")),
        },
        "num" => v
            .parse()
            .map(Value::Num)
            .map_err(|_| format!("expected a number, got {v:?}")),
        _ => Ok(Value::Str(v.trim_matches('"').to_string())),
    }
}

fn compare(op: Op, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            Op::Lt => x < y,
            Op::Le => x <= y,
            Op::Gt => x > y,
            Op::Ge => x >= y,
            _ => false,
        },
        (Value::Bool(x), Value::Bool(y)) => match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            _ => false,
        },
        (Value::Str(x), Value::Str(y)) => match op {
            Op::Eq => x.eq_ignore_ascii_case(y),
            Op::Ne => !x.eq_ignore_ascii_case(y),
            Op::Contains => x.to_lowercase().contains(&y.to_lowercase()),
            _ => false,
        },
        (Value::List(l), Value::Str(y)) => match op {
            Op::Contains => l
                .iter()
                .any(|i| i.to_lowercase().contains(&y.to_lowercase())),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        let mut f = Facts::default();
        f.set_bool("clock.synced", false, None);
        f.set_num("cert.client.not_before_ahead_s", 259200.0, None);
        f.set(
            "node.taints",
            Value::List(vec![
                "node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule".into(),
            ]),
            None,
        );
        assert!(Cond::parse("clock.synced == false").unwrap().eval(&f));
        assert!(Cond::parse("cert.client.not_before_ahead_s > 300")
            .unwrap()
            .eval(&f));
        assert!(!Cond::parse("cert.client.not_before_ahead_s < 300")
            .unwrap()
            .eval(&f));
        assert!(Cond::parse("node.taints contains uninitialized")
            .unwrap()
            .eval(&f));
        assert!(Cond::parse("node.ready missing").unwrap().eval(&f));
        assert!(
            !Cond::parse("node.ready == True").unwrap().eval(&f),
            "missing facts never compare"
        );
        assert!(Cond::parse("clock.synced == maybe").is_err());
        assert!(Cond::parse("clock.sycned == false")
            .unwrap_err()
            .contains("unknown fact"));
        assert!(Cond::parse("clock.synced > 1").is_err());
    }
}
