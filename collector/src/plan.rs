//! What the collector gathers: files, listings and commands, with their ids.
//! This is the one place a collected thing is named. Paths are host paths,
//! read under `--root`. A `*` matches within one path component.

use crate::files::host;
use crate::Options;
use bundle::layout;

/// One command: its id (bundle path `commands/ID.out`), argv and cap.
pub struct CmdSpec {
    pub id: String,
    pub argv: Vec<String>,
    pub cap: Cap,
    /// Tried when argv[0] is missing (e.g. `k3s crictl` for `crictl`).
    pub alt: Option<Vec<String>>,
}

fn cmd(id: &str, argv: &[&str], cap: Cap) -> CmdSpec {
    CmdSpec {
        id: id.into(),
        argv: argv.iter().map(ToString::to_string).collect(),
        cap,
        alt: None,
    }
}

/// Id of the command wrapped by `--run` (bundle path `commands/run.out`).
pub const RUN_ID: &str = layout::cmd::RUN;

/// At most this many names matched by one `*` are collected; the rest are
/// recorded as skipped.
pub const GLOB_CAP: usize = 256;
/// At most this many entries are listed per directory.
pub const LISTING_CAP: usize = 2000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cap {
    /// Kernel and proc files: 256 KiB, head kept.
    Small,
    /// Configuration files: `--max-file-size`, head kept.
    Config,
    /// Logs: `--max-log-size`, newest part kept.
    Log,
    /// Container logs of CNI and kube-proxy pods: 2 MiB each, newest kept.
    PodLog,
}

pub const FILES: &[(&str, Cap)] = &[
    // Host and OS (phase 1)
    ("/etc/os-release", Cap::Small),
    ("/proc/version", Cap::Small),
    ("/proc/sys/kernel/osrelease", Cap::Small),
    (layout::host::PROC_CMDLINE, Cap::Small),
    (layout::host::BOOT_CMDLINE, Cap::Small),
    (layout::host::FIRMWARE_CMDLINE, Cap::Small),
    ("/boot/config.txt", Cap::Small),
    ("/boot/firmware/config.txt", Cap::Small),
    ("/proc/device-tree/model", Cap::Small),
    ("/sys/firmware/devicetree/base/model", Cap::Small),
    (layout::host::PROC_CPUINFO, Cap::Small),
    ("/proc/meminfo", Cap::Small),
    (layout::host::PROC_SWAPS, Cap::Small),
    ("/etc/fstab", Cap::Small),
    ("/etc/dphys-swapfile", Cap::Small),
    ("/etc/default/zramswap", Cap::Small),
    (layout::host::PROC_CGROUPS, Cap::Small),
    (layout::host::CGROUP_CONTROLLERS, Cap::Small),
    ("/sys/fs/cgroup/cgroup.subtree_control", Cap::Small),
    ("/proc/mounts", Cap::Small),
    (layout::host::PROC_MODULES, Cap::Small),
    ("/etc/modules-load.d/*", Cap::Small),
    ("/etc/modules", Cap::Small),
    ("/etc/sysctl.conf", Cap::Small),
    ("/etc/sysctl.d/*", Cap::Small),
    (layout::host::BRIDGE_NF_CALL_IPTABLES, Cap::Small),
    ("/proc/sys/net/bridge/bridge-nf-call-ip6tables", Cap::Small),
    (layout::host::IP_FORWARD, Cap::Small),
    ("/proc/sys/net/ipv6/conf/all/forwarding", Cap::Small),
    ("/proc/sys/vm/overcommit_memory", Cap::Small),
    ("/proc/sys/kernel/panic", Cap::Small),
    ("/proc/sys/kernel/panic_on_oops", Cap::Small),
    ("/proc/sys/kernel/pid_max", Cap::Small),
    ("/proc/sys/fs/inotify/max_user_instances", Cap::Small),
    ("/proc/sys/kernel/hostname", Cap::Small),
    (layout::host::HOSTNAME, Cap::Small),
    ("/etc/hosts", Cap::Small),
    (layout::host::MACHINE_ID, Cap::Small),
    ("/var/lib/dbus/machine-id", Cap::Small),
    ("/sys/class/dmi/id/product_uuid", Cap::Small),
    ("/etc/resolv.conf", Cap::Small),
    ("/etc/nsswitch.conf", Cap::Small),
    ("/proc/loadavg", Cap::Small),
    ("/proc/uptime", Cap::Small),
    ("/proc/pressure/memory", Cap::Small),
    ("/proc/pressure/io", Cap::Small),
    // Raspberry Pi power
    (layout::host::THROTTLED, Cap::Small),
    ("/sys/class/hwmon/*/name", Cap::Small),
    ("/sys/class/hwmon/*/in0_lcrit_alarm", Cap::Small),
    // Clock
    ("/etc/chrony/chrony.conf", Cap::Config),
    ("/etc/chrony.conf", Cap::Config),
    ("/etc/chrony/conf.d/*", Cap::Config),
    ("/etc/chrony/sources.d/*", Cap::Config),
    ("/etc/systemd/timesyncd.conf", Cap::Config),
    ("/etc/systemd/timesyncd.conf.d/*", Cap::Config),
    ("/etc/ntp.conf", Cap::Config),
    ("/etc/ntpsec/ntp.conf", Cap::Config),
    ("/etc/fake-hwclock.data", Cap::Small),
    ("/etc/timezone", Cap::Small),
    // Kubelet and kubeadm
    (layout::host::KUBELET_CONFIG, Cap::Config),
    (layout::host::KUBEADM_FLAGS, Cap::Config),
    (layout::host::DEFAULT_KUBELET, Cap::Config),
    ("/etc/sysconfig/kubelet", Cap::Config),
    ("/lib/systemd/system/kubelet.service", Cap::Config),
    ("/usr/lib/systemd/system/kubelet.service", Cap::Config),
    ("/etc/systemd/system/kubelet.service", Cap::Config),
    ("/etc/systemd/system/kubelet.service.d/*", Cap::Config),
    ("/usr/lib/systemd/system/kubelet.service.d/*", Cap::Config),
    ("/lib/systemd/system/kubelet.service.d/*", Cap::Config),
    (layout::host::KUBELET_CONF, Cap::Config),
    (layout::host::BOOTSTRAP_KUBELET_CONF, Cap::Config),
    ("/etc/kubernetes/pki/*", Cap::Config),
    ("/var/lib/kubelet/pki/*", Cap::Config),
    // k3s
    (layout::host::K3S_CONFIG, Cap::Config),
    (layout::host::RKE2_CONFIG, Cap::Config),
    ("/etc/rancher/k3s/config.yaml.d/*", Cap::Config),
    ("/etc/rancher/k3s/registries.yaml", Cap::Config),
    ("/etc/rancher/node/password", Cap::Config),
    ("/etc/systemd/system/k3s-agent.service", Cap::Config),
    ("/etc/systemd/system/k3s.service", Cap::Config),
    ("/etc/systemd/system/k3s-agent.service.env", Cap::Config),
    ("/etc/systemd/system/k3s.service.env", Cap::Config),
    ("/var/lib/rancher/k3s/agent/*.kubeconfig", Cap::Config),
    ("/var/lib/rancher/k3s/agent/*.crt", Cap::Config),
    ("/var/lib/rancher/k3s/agent/*.key", Cap::Config),
    (
        "/var/lib/rancher/k3s/agent/etc/k3s-agent-load-balancer.json",
        Cap::Config,
    ),
    (layout::host::K3S_CONTAINERD_CONFIG, Cap::Config),
    (
        "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl",
        Cap::Config,
    ),
    (
        "/var/lib/rancher/k3s/agent/etc/flannel/net-conf.json",
        Cap::Config,
    ),
    ("/var/lib/rancher/k3s/agent/etc/cni/net.d/*", Cap::Config),
    (
        "/var/lib/rancher/k3s/agent/containerd/containerd.log",
        Cap::Log,
    ),
    ("/var/log/k3s.log", Cap::Log),
    ("/var/log/k3s-agent.log", Cap::Log),
    // Runtime and CNI
    (layout::host::CONTAINERD_CONFIG, Cap::Config),
    ("/etc/containerd/conf.d/*", Cap::Config),
    ("/etc/crictl.yaml", Cap::Config),
    ("/etc/docker/daemon.json", Cap::Config),
    ("/etc/crio/crio.conf", Cap::Config),
    ("/etc/cni/net.d/*", Cap::Config),
    ("/run/flannel/subnet.env", Cap::Config),
    ("/etc/kube-flannel/net-conf.json", Cap::Config),
    // Logs where the journal is volatile (Raspberry Pi OS keeps rsyslog files)
    ("/var/log/kubelet.log", Cap::Log),
    ("/var/log/syslog", Cap::Log),
    ("/var/log/daemon.log", Cap::Log),
    ("/var/log/messages", Cap::Log),
];

/// Pod log directories under /var/log/pods whose names contain one of these
/// are collected (newest first, at most `POD_LOG_FILES`).
pub const POD_LOG_NAMES: &[&str] = &[
    "flannel",
    "calico",
    "cilium",
    "kube-proxy",
    "weave",
    "kube-router",
    "canal",
    "antrea",
    "coredns",
    "svclb",
    "metrics-server",
];
pub const POD_LOG_FILES: usize = 24;

/// Directories listed (names, types, sizes, modes), with an optional name prefix filter.
pub const LISTINGS: &[(&str, Option<&str>)] = &[
    ("/opt/cni/bin", None),
    ("/usr/libexec/cni", None),
    ("/var/lib/rancher/k3s/data/current/bin", None),
    (layout::host::CNI_CONF_DIR, None),
    ("/sys/class/rtc", None),
    ("/dev", Some("rtc")),
    ("/run/containerd", None),
    ("/run/k3s/containerd", None),
    ("/run/crio", None),
    ("/var/run", Some("")),
    ("/run/systemd/timesync", None),
    ("/var/lib/systemd/timesync", None),
    ("/etc/kubernetes", None),
    ("/etc/kubernetes/pki", None),
    ("/etc/kubernetes/manifests", None),
    ("/var/lib/kubelet", None),
    ("/var/lib/kubelet/pki", None),
    ("/var/lib/rancher/k3s/agent", None),
    ("/etc/rancher/node", None),
    ("/usr/bin", Some("k")),
    ("/usr/local/bin", None),
];

/// Files that are never copied: presence, size and mode only.
pub fn is_secret_path(p: &str) -> bool {
    let name = p.rsplit('/').next().unwrap_or(p);
    let lower = name.to_ascii_lowercase();
    name.ends_with(".key")
        || name.ends_with("-key.pem")
        || name.ends_with("_key")
        || name == "password"
        || name == "token"
        || name.ends_with("-token")
        || name == "node-token"
        || name.ends_with(".token")
        || [".csv", ".keytab", ".jks", ".keystore", ".kdbx", ".gpg"]
            .iter()
            .any(|x| lower.ends_with(x))
        // Named for a secret and read as free text: the `--token-auth-file`
        // (`known_tokens.txt`), a `secrets` file, an `htpasswd`. Structured
        // files (`config.yaml.d/10-token.yaml`) fail closed by themselves.
        || (["token", "secret", "passw"].iter().any(|w| lower.contains(w))
            && crate::redact::format_for_path(p) == crate::redact::Format::Text)
}

/// Units whose state `systemctl show` records.
pub const UNITS: &[&str] = &[
    "kubelet",
    "k3s-agent",
    "k3s",
    "containerd",
    "docker",
    "crio",
    "cri-docker",
    "chrony",
    "chronyd",
    "systemd-timesyncd",
    "ntp",
    "ntpsec",
    "fake-hwclock",
    "dphys-swapfile",
    "avahi-daemon",
];

pub const JOURNAL_UNITS: &[&str] = &["kubelet", "k3s-agent", "k3s", "containerd"];

/// Commands with a fixed argv: id, argv, cap.
const SIMPLE: &[(&str, &[&str], Cap)] = &[
    ("uname", &["uname", "-a"], Cap::Small),
    (
        "systemctl-cat-kubelet",
        &["systemctl", "cat", "--no-pager", "kubelet"],
        Cap::Config,
    ),
    (
        "systemctl-cat-k3s-agent",
        &["systemctl", "cat", "--no-pager", "k3s-agent"],
        Cap::Config,
    ),
    (layout::cmd::DMESG, &["dmesg"], Cap::PodLog),
    (
        layout::cmd::TIMEDATECTL_STATUS,
        &["timedatectl", "status"],
        Cap::Small,
    ),
    (
        layout::cmd::TIMEDATECTL_SHOW,
        &["timedatectl", "show"],
        Cap::Small,
    ),
    (
        "timedatectl-timesync-status",
        &["timedatectl", "timesync-status"],
        Cap::Small,
    ),
    (
        layout::cmd::CHRONYC_TRACKING,
        &["chronyc", "-n", "tracking"],
        Cap::Small,
    ),
    ("chronyc-sources", &["chronyc", "-n", "sources"], Cap::Small),
    (
        layout::cmd::VCGENCMD_GET_THROTTLED,
        &["vcgencmd", "get_throttled"],
        Cap::Small,
    ),
    (
        layout::cmd::IPTABLES_VERSION,
        &["iptables", "--version"],
        Cap::Small,
    ),
    ("ip-addr", &["ip", "-o", "addr"], Cap::Small),
    ("ip-link", &["ip", "-o", "link"], Cap::Small),
    ("ip-route", &["ip", "route"], Cap::Small),
    ("kubelet-version", &["kubelet", "--version"], Cap::Small),
    (
        "kubeadm-version",
        &["kubeadm", "version", "-o", "short"],
        Cap::Small,
    ),
    ("k3s-version", &["k3s", "--version"], Cap::Small),
    (
        "containerd-version",
        &["containerd", "--version"],
        Cap::Small,
    ),
];

/// crictl subcommands (`k3s crictl` when crictl itself is missing).
const CRICTL: &[(&str, &[&str])] = &[
    (layout::cmd::CRICTL_INFO, &["info"]),
    ("crictl-ps", &["ps", "-a"]),
    ("crictl-version", &["version"]),
];

const SYSTEMCTL_SHOW: &[&str] = &[
    "systemctl",
    "show",
    "--no-pager",
    "--property=Id,LoadState,ActiveState,SubState,UnitFileState,NRestarts,ExecMainStatus,ExecMainCode,Result,ActiveEnterTimestamp,FragmentPath,DropInPaths",
];

const DF_DIRS: &[&str] = &[
    "/",
    "/var/lib/kubelet",
    "/var/lib/containerd",
    "/var/lib/rancher",
];

const KUBECONFIGS: &[&str] = &[
    layout::host::KUBELET_CONF,
    layout::host::K3S_KUBELET_KUBECONFIG,
];

/// `argv` with `k3s` in front: the alternative k3s nodes have.
fn via_k3s(args: &[&str]) -> Option<Vec<String>> {
    Some(
        std::iter::once("k3s")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
    )
}

/// Every command the collector runs, with its id (its bundle path is
/// `commands/ID.out`), in the order they start.
pub fn commands(opts: &Options, node: &str) -> Vec<CmdSpec> {
    let since = format!("--since=-{}s", opts.since.as_secs().max(60));
    let mut show = cmd(layout::cmd::SYSTEMCTL_SHOW, SYSTEMCTL_SHOW, Cap::Config);
    show.argv.extend(UNITS.iter().map(ToString::to_string));
    let mut v = vec![show];
    for u in JOURNAL_UNITS {
        let argv = [
            "journalctl",
            "--no-pager",
            "-o",
            "short-iso-precise",
            &since,
            "-u",
            u,
        ];
        v.push(cmd(&layout::cmd::journal(u), &argv, Cap::Log));
    }
    v.extend(SIMPLE.iter().map(|(id, argv, cap)| cmd(id, argv, *cap)));
    let df_paths: Vec<String> = DF_DIRS
        .iter()
        .map(|d| host(&opts.root, d))
        .filter(|p| p.exists())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut df = cmd(layout::cmd::DF, &["df", "-Pk"], Cap::Small);
    df.argv.extend(df_paths);
    v.push(df);
    for (id, args) in CRICTL {
        let mut c = cmd(id, &[&["crictl"][..], args].concat(), Cap::Config);
        c.alt = via_k3s(&[&["crictl"][..], args].concat());
        v.push(c);
    }
    v.extend(kubectl_get_node(opts, node));
    v
}

/// `kubectl get node NAME -o yaml` with the kubelet's kubeconfig, unless the
/// network is off or the operator brought the node object.
fn kubectl_get_node(opts: &Options, node: &str) -> Option<CmdSpec> {
    if !opts.network || opts.node_yaml.is_some() {
        return None;
    }
    let kc = opts.kubeconfig.clone().or_else(|| {
        KUBECONFIGS
            .iter()
            .map(|p| host(&opts.root, p))
            .find(|p| p.exists())
    })?;
    let kc = kc.to_string_lossy().into_owned();
    let t = format!("--request-timeout={}s", opts.timeout.as_secs().max(1));
    let args = [
        "kubectl",
        "--kubeconfig",
        &kc,
        &t,
        "get",
        "node",
        node,
        "-o",
        "yaml",
    ];
    let mut c = cmd(layout::cmd::KUBECTL_GET_NODE, &args, Cap::Config);
    c.alt = via_k3s(&args);
    Some(c)
}

/// Match one path component against a pattern with `*` wildcards.
pub fn glob_match(pat: &str, name: &str) -> bool {
    let (p, n) = (pat.as_bytes(), name.as_bytes());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.kubeconfig", "kubelet.kubeconfig"));
        assert!(glob_match("*", "ca.crt"));
        assert!(!glob_match("*.crt", "ca.key"));
        assert!(glob_match("hwmon*", "hwmon1"));
    }

    #[test]
    fn secrets() {
        for p in [
            "/etc/kubernetes/pki/ca.key",
            "/var/lib/rancher/k3s/agent/client-kubelet.key",
            "/etc/rancher/node/password",
            "/var/lib/rancher/k3s/server/token",
            "/etc/kubernetes/pki/token.csv",
            "/etc/kubernetes/pki/known_tokens.csv",
            "/etc/kubernetes/pki/basic_auth.csv",
            "/etc/kubernetes/pki/known_tokens.txt",
            "/etc/nginx/htpasswd",
        ] {
            assert!(is_secret_path(p), "{p}");
        }
        for p in [
            "/etc/kubernetes/pki/ca.crt",
            "/var/lib/kubelet/pki/kubelet-client-current.pem",
            "/etc/kubernetes/kubelet.conf",
            "/etc/rancher/k3s/config.yaml.d/10-token.yaml",
        ] {
            assert!(!is_secret_path(p), "{p}");
        }
    }
}
