//! The bundle's vocabulary, spelled once: command ids, host paths the analyzer
//! reads, log sources, and what kind of content lives at each bundle path.
//! The collector writes by these names; the analyzer reads by content kind,
//! so a parser never knows whether its text came from a bundle or a ticket.

use crate::{command_path, file_path, COMMANDS_DIR, EXTRA_DIR, FILES_DIR};

/// Ids of collected commands (`commands/<id>.out`).
pub mod cmd {
    pub const JOURNAL_KUBELET: &str = "journal-kubelet";
    pub const JOURNAL_K3S: &str = "journal-k3s";
    pub const JOURNAL_K3S_AGENT: &str = "journal-k3s-agent";
    pub const JOURNAL_CONTAINERD: &str = "journal-containerd";
    pub const DMESG: &str = "dmesg";
    pub const CHRONYC_TRACKING: &str = "chronyc-tracking";
    pub const TIMEDATECTL_STATUS: &str = "timedatectl-status";
    pub const TIMEDATECTL_SHOW: &str = "timedatectl-show";
    pub const SYSTEMCTL_SHOW: &str = "systemctl-show";
    pub const IPTABLES_VERSION: &str = "iptables-version";
    pub const CRICTL_INFO: &str = "crictl-info";
    pub const VCGENCMD_GET_THROTTLED: &str = "vcgencmd-get-throttled";
    pub const KUBECTL_GET_NODE: &str = "kubectl-get-node";
    pub const DF: &str = "df";
    /// The join command run by `nodejoin-collect --run`.
    pub const RUN: &str = "run";

    /// Id of a unit's journal: `journal-kubelet`.
    pub fn journal(unit: &str) -> String {
        format!("journal-{unit}")
    }
}

/// Host paths the analyzer reads facts from (stored under `files/`).
pub mod host {
    pub const PROC_SWAPS: &str = "/proc/swaps";
    pub const CGROUP_CONTROLLERS: &str = "/sys/fs/cgroup/cgroup.controllers";
    pub const PROC_CGROUPS: &str = "/proc/cgroups";
    pub const PROC_CMDLINE: &str = "/proc/cmdline";
    pub const BOOT_CMDLINE: &str = "/boot/cmdline.txt";
    pub const FIRMWARE_CMDLINE: &str = "/boot/firmware/cmdline.txt";
    pub const PROC_MODULES: &str = "/proc/modules";
    pub const PROC_CPUINFO: &str = "/proc/cpuinfo";
    pub const BRIDGE_NF_CALL_IPTABLES: &str = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    pub const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
    pub const HOSTNAME: &str = "/etc/hostname";
    pub const MACHINE_ID: &str = "/etc/machine-id";
    pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";
    pub const KUBEADM_FLAGS: &str = "/var/lib/kubelet/kubeadm-flags.env";
    pub const DEFAULT_KUBELET: &str = "/etc/default/kubelet";
    pub const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";
    pub const K3S_CONTAINERD_CONFIG: &str = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml";
    pub const K3S_CONFIG: &str = "/etc/rancher/k3s/config.yaml";
    pub const RKE2_CONFIG: &str = "/etc/rancher/rke2/config.yaml";
    pub const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";
    pub const K3S_KUBELET_KUBECONFIG: &str = "/var/lib/rancher/k3s/agent/kubelet.kubeconfig";
    pub const BOOTSTRAP_KUBELET_CONF: &str = "/etc/kubernetes/bootstrap-kubelet.conf";
    pub const PKI_CA: &str = "/etc/kubernetes/pki/ca.crt";
    pub const THROTTLED: &str = "/sys/devices/platform/soc/soc:firmware/get_throttled";
    pub const CNI_CONF_DIR: &str = "/etc/cni/net.d";
    pub const K3S_CNI_CONF_DIR: &str = "/var/lib/rancher/k3s/agent/etc/cni/net.d";
    pub const CNI_BIN_DIRS: &[&str] = &[
        "/opt/cni/bin",
        "/usr/libexec/cni",
        "/var/lib/rancher/k3s/data/current/bin",
    ];
    pub const RUNTIME_SOCKET_DIRS: &[&str] = &[
        "/run/containerd",
        "/run/k3s/containerd",
        "/run/crio",
        "/var/run",
    ];
    pub const K3S_DIRS: &[&str] = &["/etc/rancher/k3s/", "/var/lib/rancher/k3s/"];
    pub const KUBEADM_DIRS: &[&str] = &["/etc/kubernetes/", "/var/lib/kubelet/"];
    pub const POD_LOGS: &str = "/var/log/pods/";
    pub const VAR_LOG: &str = "/var/log/";
    pub const HWMON: &str = "/sys/class/hwmon/";
}

/// An operator-supplied Node object (`--node-yaml`).
pub const NODE_YAML: &str = "extra/node.yaml";

/// Manifest item id of a host file: `file:/etc/os-release`.
pub fn file_item_id(host_path: &str) -> String {
    format!("file:{host_path}")
}

/// Which component wrote a log line. Rules filter on these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Kubelet,
    K3s,
    Containerd,
    Kubeadm,
    Kernel,
    Cni,
    KubeProxy,
    Scheduler,
    Kubectl,
    Any,
}

impl Source {
    pub const ALL: [Source; 10] = [
        Source::Kubelet,
        Source::K3s,
        Source::Containerd,
        Source::Kubeadm,
        Source::Kernel,
        Source::Cni,
        Source::KubeProxy,
        Source::Scheduler,
        Source::Kubectl,
        Source::Any,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::Kubelet => "kubelet",
            Source::K3s => "k3s",
            Source::Containerd => "containerd",
            Source::Kubeadm => "kubeadm",
            Source::Kernel => "kernel",
            Source::Cni => "cni",
            Source::KubeProxy => "kube-proxy",
            Source::Scheduler => "scheduler",
            Source::Kubectl => "kubectl",
            Source::Any => "any",
        }
    }

    pub fn from_name(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// What a piece of text is, whatever carried it. Parsers are chosen by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Content {
    Manifest,
    Listings,
    ClockProbe,
    Reachability,
    Log(Source),
    ChronyTracking,
    TimedatectlStatus,
    TimedatectlShow,
    ProcSwaps,
    SwaponShow,
    Free,
    CgroupControllers,
    ProcCgroups,
    /// `/proc/self/cgroup`: a process's cgroup memberships (pasted, not collected).
    ProcSelfCgroup,
    /// The running kernel's command line.
    ProcCmdline,
    /// `/boot/cmdline.txt`, which older Pi firmware reads.
    BootCmdline,
    /// `/boot/firmware/cmdline.txt`, which Bookworm's firmware reads.
    FirmwareCmdline,
    ProcModules,
    /// `/proc/cpuinfo`, or a CPU count as `nproc`, `grep -c processor` or `lscpu` print it.
    CpuInfo,
    SysctlBridgeNf,
    SysctlIpForward,
    IptablesVersion,
    Hostname,
    MachineId,
    KubeletConfig,
    KubeletFlags,
    /// k3s or rke2 `config.yaml` (flags as YAML keys).
    K3sConfig,
    SystemctlShow,
    SystemctlStatus,
    ContainerdConfig,
    CrictlInfo,
    CniConfig,
    Throttled,
    HwmonAlarm,
    NodeObject,
    KubectlDescribeNode,
    KubectlGetNodes,
    KubectlGetCsr,
    Kubeconfig,
    Certificate,
    OpensslDates,
    Date,
    Df,
    /// Anything else: kept for facts only if some extractor asks by path.
    Other,
}

impl Content {
    /// The name shown in reports and used in docs.
    pub fn name(self) -> &'static str {
        match self {
            Content::Manifest => "manifest",
            Content::Listings => "listings",
            Content::ClockProbe => "clock-probe",
            Content::Reachability => "reachability-probe",
            Content::Log(_) => "log",
            Content::ChronyTracking => "chronyc-tracking",
            Content::TimedatectlStatus => "timedatectl-status",
            Content::TimedatectlShow => "timedatectl-show",
            Content::ProcSwaps => "proc-swaps",
            Content::SwaponShow => "swapon-show",
            Content::Free => "free",
            Content::CgroupControllers => "cgroup-controllers",
            Content::ProcCgroups => "proc-cgroups",
            Content::ProcSelfCgroup => "proc-self-cgroup",
            Content::ProcCmdline => "proc-cmdline",
            Content::BootCmdline => "boot-cmdline",
            Content::FirmwareCmdline => "firmware-cmdline",
            Content::ProcModules => "proc-modules",
            Content::CpuInfo => "cpuinfo",
            Content::SysctlBridgeNf => "sysctl-bridge-nf-call-iptables",
            Content::SysctlIpForward => "sysctl-ip-forward",
            Content::IptablesVersion => "iptables-version",
            Content::Hostname => "hostname",
            Content::MachineId => "machine-id",
            Content::KubeletConfig => "kubelet-config",
            Content::KubeletFlags => "kubelet-flags",
            Content::K3sConfig => "k3s-config",
            Content::SystemctlShow => "systemctl-show",
            Content::SystemctlStatus => "systemctl-status",
            Content::ContainerdConfig => "containerd-config",
            Content::CrictlInfo => "crictl-info",
            Content::CniConfig => "cni-config",
            Content::Throttled => "get-throttled",
            Content::HwmonAlarm => "hwmon-alarm",
            Content::NodeObject => "node-object",
            Content::KubectlDescribeNode => "kubectl-describe-node",
            Content::KubectlGetNodes => "kubectl-get-nodes",
            Content::KubectlGetCsr => "kubectl-get-csr",
            Content::Kubeconfig => "kubeconfig",
            Content::Certificate => "certificate",
            Content::OpensslDates => "openssl-dates",
            Content::Date => "date",
            Content::Df => "df",
            Content::Other => "other",
        }
    }
}

/// Host files with a fixed content kind.
const HOST_FILES: &[(&str, Content)] = &[
    (host::PROC_SWAPS, Content::ProcSwaps),
    (host::CGROUP_CONTROLLERS, Content::CgroupControllers),
    (host::PROC_CGROUPS, Content::ProcCgroups),
    (host::PROC_CMDLINE, Content::ProcCmdline),
    (host::BOOT_CMDLINE, Content::BootCmdline),
    (host::FIRMWARE_CMDLINE, Content::FirmwareCmdline),
    (host::PROC_MODULES, Content::ProcModules),
    (host::PROC_CPUINFO, Content::CpuInfo),
    (host::BRIDGE_NF_CALL_IPTABLES, Content::SysctlBridgeNf),
    (host::IP_FORWARD, Content::SysctlIpForward),
    (host::HOSTNAME, Content::Hostname),
    (host::MACHINE_ID, Content::MachineId),
    (host::KUBELET_CONFIG, Content::KubeletConfig),
    (host::KUBEADM_FLAGS, Content::KubeletFlags),
    (host::DEFAULT_KUBELET, Content::KubeletFlags),
    (host::K3S_CONFIG, Content::K3sConfig),
    (host::RKE2_CONFIG, Content::K3sConfig),
    (host::CONTAINERD_CONFIG, Content::ContainerdConfig),
    (host::K3S_CONTAINERD_CONFIG, Content::ContainerdConfig),
    (host::THROTTLED, Content::Throttled),
];

/// Commands with a fixed content kind (standard output).
const COMMANDS: &[(&str, Content)] = &[
    (cmd::JOURNAL_KUBELET, Content::Log(Source::Kubelet)),
    (cmd::JOURNAL_K3S, Content::Log(Source::K3s)),
    (cmd::JOURNAL_K3S_AGENT, Content::Log(Source::K3s)),
    (cmd::JOURNAL_CONTAINERD, Content::Log(Source::Containerd)),
    (cmd::DMESG, Content::Log(Source::Kernel)),
    (cmd::RUN, Content::Log(Source::Any)),
    (cmd::CHRONYC_TRACKING, Content::ChronyTracking),
    (cmd::TIMEDATECTL_STATUS, Content::TimedatectlStatus),
    (cmd::TIMEDATECTL_SHOW, Content::TimedatectlShow),
    (cmd::SYSTEMCTL_SHOW, Content::SystemctlShow),
    (cmd::IPTABLES_VERSION, Content::IptablesVersion),
    (cmd::CRICTL_INFO, Content::CrictlInfo),
    (cmd::VCGENCMD_GET_THROTTLED, Content::Throttled),
    (cmd::KUBECTL_GET_NODE, Content::NodeObject),
    (cmd::DF, Content::Df),
];

/// Log source of a pod log, from its pod directory name.
fn pod_source(path: &str) -> Source {
    let pod = path.split('/').nth(4).unwrap_or("");
    const CNI: &[&str] = &[
        "flannel",
        "calico",
        "cilium",
        "weave",
        "kube-router",
        "canal",
        "antrea",
    ];
    if CNI.iter().any(|n| pod.contains(n)) {
        Source::Cni
    } else if pod.contains("kube-proxy") {
        Source::KubeProxy
    } else {
        Source::Any
    }
}

fn host_file(path: &str, host: &str) -> Content {
    let name = host.rsplit('/').next().unwrap_or(host);
    if let Some(c) = HOST_FILES.iter().find(|(p, _)| *p == host).map(|x| x.1) {
        return c;
    }
    let in_dir = |d: &str| host.starts_with(d) && host.as_bytes().get(d.len()) == Some(&b'/');
    if host.starts_with(host::POD_LOGS) {
        return Content::Log(pod_source(path));
    }
    if host.starts_with(host::VAR_LOG) || name.ends_with(".log") {
        return Content::Log(match name {
            n if n.starts_with("kubelet") => Source::Kubelet,
            n if n.starts_with("k3s") => Source::K3s,
            n if n.starts_with("containerd") => Source::Containerd,
            _ => Source::Any,
        });
    }
    if (in_dir(host::CNI_CONF_DIR) || in_dir(host::K3S_CNI_CONF_DIR))
        && (name.ends_with(".conf") || name.ends_with(".conflist") || name.ends_with(".json"))
    {
        return Content::CniConfig;
    }
    if host.starts_with(host::HWMON) && name == "in0_lcrit_alarm" {
        return Content::HwmonAlarm;
    }
    let cert_like = [".crt", ".pem", ".der", ".cert"]
        .iter()
        .any(|e| name.ends_with(e))
        || (host.contains("/pki/") && !name.ends_with(".key"));
    if cert_like {
        return Content::Certificate;
    }
    if name.ends_with(".conf") || name.ends_with(".kubeconfig") || name == "kubeconfig" {
        return Content::Kubeconfig;
    }
    Content::Other
}

/// The content kind stored at a bundle path.
pub fn content_of(path: &str) -> Content {
    match path {
        crate::MANIFEST => return Content::Manifest,
        crate::LISTINGS => return Content::Listings,
        crate::CLOCK => return Content::ClockProbe,
        crate::REACHABILITY => return Content::Reachability,
        NODE_YAML => return Content::NodeObject,
        _ => {}
    }
    if let Some(c) = path.strip_prefix(COMMANDS_DIR) {
        if c.ends_with(".err") {
            return Content::Log(Source::Any);
        }
        let id = c.strip_suffix(".out").unwrap_or(c);
        return COMMANDS
            .iter()
            .find(|(i, _)| *i == id)
            .map(|x| x.1)
            .unwrap_or(Content::Other);
    }
    if let Some(f) = path.strip_prefix(FILES_DIR) {
        return host_file(path, &format!("/{f}"));
    }
    if path.starts_with(EXTRA_DIR) {
        // Operator includes: what they are is found by their shape.
        return Content::Other;
    }
    Content::Other
}

/// Bundle path of a collected command's standard output.
pub fn command_out(id: &str) -> String {
    command_path(id, "out")
}

/// Bundle path of a host file (re-exported for one import).
pub fn host_file_path(host: &str) -> String {
    file_path(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path() {
        assert_eq!(
            content_of("commands/journal-kubelet.out"),
            Content::Log(Source::Kubelet)
        );
        assert_eq!(
            content_of("commands/chronyc-tracking.out"),
            Content::ChronyTracking
        );
        assert_eq!(content_of("files/proc/swaps"), Content::ProcSwaps);
        assert_eq!(
            content_of("files/var/log/pods/kube-flannel_kube-flannel-ds-x_1/kube-flannel/0.log"),
            Content::Log(Source::Cni)
        );
        assert_eq!(
            content_of("files/etc/cni/net.d/10-flannel.conflist"),
            Content::CniConfig
        );
        assert_eq!(
            content_of("files/var/lib/kubelet/pki/kubelet-client-current.pem"),
            Content::Certificate
        );
        assert_eq!(
            content_of("files/etc/kubernetes/kubelet.conf"),
            Content::Kubeconfig
        );
        assert_eq!(content_of("extra/kubeadm-join.log"), Content::Other);
    }

    #[test]
    fn journal_ids() {
        assert_eq!(cmd::journal("kubelet"), cmd::JOURNAL_KUBELET);
        assert_eq!(cmd::journal("k3s-agent"), cmd::JOURNAL_K3S_AGENT);
        assert_eq!(cmd::journal("containerd"), cmd::JOURNAL_CONTAINERD);
    }

    #[test]
    fn sources_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::from_name(s.name()), Some(s));
        }
    }
}
