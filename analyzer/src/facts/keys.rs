//! Every fact the analyzer can compute, declared once: its typed key, name
//! and meaning. Rules name facts by string; `nodejoin facts` lists these.

use super::Key;

macro_rules! facts {
    ($($id:ident : $t:ty = $name:literal, $doc:literal;)*) => {
        $(#[doc = $doc] pub const $id: Key<$t> = Key::new($name);)*
        /// Name, type and meaning of every fact.
        pub const KNOWN: &[(&str, &str, &str)] = &[
            $(($name, <$t as super::FactType>::KIND, $doc),)*
        ];
    };
}

facts! {
    BUNDLE_COLLECTED_AT: String = "bundle.collected_at", "node clock at collection (RFC 3339), from the manifest";
    CLOCK_YEAR: f64 = "clock.year", "year of the node clock at collection";
    CLOCK_SYNCED: bool = "clock.synced", "chrony / timedatectl say the clock is synchronized";
    CLOCK_SYNC_SOURCE: String = "clock.sync_source", "which tool reported the sync state";
    CLOCK_RTC_PRESENT: bool = "clock.rtc_present", "the node has a real-time clock (/dev/rtc0)";
    CLOCK_MEASURED_OFFSET_S: f64 = "clock.measured_offset_s", "measured node-minus-reference offset in seconds (positive: node ahead)";
    CLOCK_MEASURED_OFFSET_ABS_S: f64 = "clock.measured_offset_abs_s", "absolute measured offset in seconds";
    CLOCK_MEASURED_BOUND_S: f64 = "clock.measured_bound_s", "error bound of the measured offset in seconds";
    CLOCK_INFERRED_OFFSET_S: f64 = "clock.inferred_offset_s", "offset inferred from evidence (certificate NotBefore, x509 errors, registration time); negative: node behind";
    CLOCK_INFERRED_OFFSET_ABS_S: f64 = "clock.inferred_offset_abs_s", "absolute inferred offset in seconds";
    CLOCK_OFFSET_ABS_S: f64 = "clock.offset_abs_s", "largest of measured and inferred absolute offsets";
    CERT_CLIENT_PRESENT: bool = "cert.client.present", "a kubelet client certificate (CN system:node:NAME) was found";
    CERT_CLIENT_FILE: String = "cert.client.file", "where the kubelet client certificate was found";
    CERT_CLIENT_NODE: String = "cert.client.node", "node name in the client certificate's CN";
    CERT_CLIENT_NOT_BEFORE_AHEAD_S: f64 = "cert.client.not_before_ahead_s", "seconds the client certificate's NotBefore lies after the node clock (positive: not yet valid)";
    CERT_CLIENT_EXPIRED_S: f64 = "cert.client.expired_s", "seconds since the client certificate's NotAfter on the node clock (positive: expired)";
    CERT_CLIENT_EXPIRED_REF_S: f64 = "cert.client.expired_ref_s", "the same against the measured reference clock";
    CERT_CLIENT_ISSUED_BY_CLUSTER_CA: bool = "cert.client.issued_by_cluster_ca", "the client certificate verifies against the kubeconfig's CA";
    CERT_MAX_NOT_BEFORE_AHEAD_S: f64 = "cert.max_not_before_ahead_s", "largest NotBefore-after-node-clock over all certificates, in seconds";
    CERT_COUNT: f64 = "cert.count", "certificates parsed";
    KUBECONFIG_CA_MATCHES_PKI: bool = "kubeconfig.ca_matches_pki", "the kubelet kubeconfig's CA equals /etc/kubernetes/pki/ca.crt";
    KUBECONFIG_SERVER: String = "kubeconfig.server", "API server URL in the kubelet kubeconfig";
    HOST_SWAP_ACTIVE: bool = "host.swap_active", "/proc/swaps lists an active swap area";
    HOST_SWAP_KB: f64 = "host.swap_kb", "total active swap in KiB";
    HOST_CPU_COUNT: f64 = "host.cpu_count", "CPUs the host shows (/proc/cpuinfo, nproc, lscpu)";
    HOST_CGROUP_VERSION: f64 = "host.cgroup_version", "1 or 2";
    HOST_MEMORY_CGROUP: bool = "host.memory_cgroup", "the memory cgroup controller is available";
    BOOT_CMDLINE_MEMORY: bool = "boot.cmdline_memory", "the running kernel's /proc/cmdline enables the memory cgroup";
    BOOT_EDITED_WRONG_CMDLINE: bool = "boot.edited_wrong_cmdline", "cgroup flags are in /boot/cmdline.txt but the firmware reads /boot/firmware/cmdline.txt, which lacks them";
    HOST_MODULE_BR_NETFILTER: bool = "host.module.br_netfilter", "br_netfilter is loaded (module list or its sysctl exists)";
    HOST_MODULE_OVERLAY: bool = "host.module.overlay", "overlay is loaded";
    HOST_MODULE_VXLAN: bool = "host.module.vxlan", "vxlan is loaded";
    HOST_SYSCTL_BRIDGE_NF_CALL_IPTABLES: f64 = "host.sysctl.bridge_nf_call_iptables", "net.bridge.bridge-nf-call-iptables";
    HOST_SYSCTL_IP_FORWARD: f64 = "host.sysctl.ip_forward", "net.ipv4.ip_forward";
    HOST_DISK_USED_PCT: f64 = "host.disk_used_pct", "highest use percentage of /, /var or /var/lib* (df)";
    HOST_IPTABLES_MODE: String = "host.iptables_mode", "legacy or nf_tables";
    IDENTITY_HOSTNAME: String = "identity.hostname", "the node's hostname";
    IDENTITY_HOSTNAME_DEFAULT: bool = "identity.hostname_default", "the hostname is an image default (raspberrypi, ubuntu, localhost, ...)";
    IDENTITY_NODE_NAME: String = "identity.node_name", "the node name the kubelet registers as";
    IDENTITY_MACHINE_ID: String = "identity.machine_id", "contents of /etc/machine-id";
    IDENTITY_MACHINE_ID_EMPTY: bool = "identity.machine_id_empty", "/etc/machine-id is empty or 'uninitialized'";
    IDENTITY_MACHINE_ID_SHARED: bool = "identity.machine_id_shared", "another input analyzed in the same run has the same machine-id";
    IDENTITY_PRODUCT_UUID: String = "identity.product_uuid", "/sys/class/dmi/id/product_uuid (the board's SMBIOS UUID)";
    IDENTITY_MACS: Vec<String> = "identity.macs", "Ethernet MAC addresses of the node's interfaces (ip link / ip addr)";
    IDENTITY_PRODUCT_UUID_SHARED: bool = "identity.product_uuid_shared", "another input analyzed in the same run has the same product_uuid";
    IDENTITY_HOSTNAME_SHARED: bool = "identity.hostname_shared", "another input analyzed in the same run has the same hostname";
    IDENTITY_MAC_SHARED: bool = "identity.mac_shared", "another input analyzed in the same run has one of this node's MAC addresses";
    IDENTITY_DUPLICATE_SEEN: bool = "identity.duplicate_seen", "one machine-id, system UUID or Weave peer name is shown for several nodes in the input, or one hostname at several addresses";
    IDENTITY_CERT_NODE_MISMATCH: bool = "identity.cert_node_mismatch", "the client certificate is for another node name than the kubelet registers";
    NODE_PRESENT: bool = "node.present", "a Node object was found";
    NODE_NAME: String = "node.name", "metadata.name";
    NODE_READY: String = "node.ready", "Ready condition status: True, False or Unknown";
    NODE_READY_REASON: String = "node.ready_reason", "Ready condition reason";
    NODE_READY_MESSAGE: String = "node.ready_message", "Ready condition message";
    NODE_MEMORY_PRESSURE: bool = "node.memory_pressure", "MemoryPressure is True";
    NODE_DISK_PRESSURE: bool = "node.disk_pressure", "DiskPressure is True";
    NODE_PID_PRESSURE: bool = "node.pid_pressure", "PIDPressure is True";
    NODE_NETWORK_UNAVAILABLE: bool = "node.network_unavailable", "NetworkUnavailable is True";
    NODE_HEARTBEAT_AGE_S: f64 = "node.heartbeat_age_s", "seconds from the newest condition heartbeat to collection";
    NODE_UNSCHEDULABLE: bool = "node.unschedulable", "spec.unschedulable";
    NODES_ALL_READY: bool = "nodes.all_ready", "every node in a pasted kubectl get nodes table is Ready";
    NODES_NONE_READY: bool = "nodes.none_ready", "the pasted kubectl get nodes tables list two or more nodes and none is Ready";
    NODE_LEFT_CORDONED: bool = "node.left_cordoned", "pasted output shows a cordon (kubectl cordon/drain, a drain handler) with no uncordon after it";
    NODE_TAINTS: Vec<String> = "node.taints", "all taints as key=value:effect";
    NODE_BLOCKING_TAINTS: Vec<String> = "node.blocking_taints", "NoSchedule/NoExecute taints other than the node-condition ones";
    NODE_BLOCKING_TAINT_COUNT: f64 = "node.blocking_taint_count", "how many blocking taints";
    NODE_POD_CIDR: String = "node.pod_cidr", "spec.podCIDR";
    NODE_POD_CIDR_MISSING: bool = "node.pod_cidr_missing", "the Node has no spec.podCIDR";
    NODE_PEER_POD_CIDR: String = "node.peer_pod_cidr", "spec.podCIDR of another Node in the same input, when this one has none";
    NODE_CAPACITY_PODS: f64 = "node.capacity_pods", "status.capacity.pods";
    NODE_ALLOCATABLE_PODS: f64 = "node.allocatable_pods", "status.allocatable.pods";
    NODE_ALLOCATABLE_MEMORY_BYTES: f64 = "node.allocatable_memory_bytes", "status.allocatable.memory";
    NODE_CAPACITY_CPU: f64 = "node.capacity_cpu", "status.capacity.cpu in cores";
    NODE_CPU_MISCOUNTED: bool = "node.cpu_miscounted", "status.capacity.cpu differs from the CPUs the host shows";
    NODE_ARCH: String = "node.arch", "status.nodeInfo.architecture";
    NODE_MACHINE_ID_MISMATCH: bool = "node.machine_id_mismatch", "the Node object's machineID differs from this host's /etc/machine-id";
    NODE_CREATED_AGE_S: f64 = "node.created_age_s", "seconds from the Node's creationTimestamp to collection";
    KUBELET_CONFIG_PRESENT: bool = "kubelet.config_present", "/var/lib/kubelet/config.yaml exists";
    KUBELET_FAIL_SWAP_ON: bool = "kubelet.fail_swap_on", "the kubelet refuses swap (failSwapOn, default true)";
    KUBELET_CGROUP_DRIVER: String = "kubelet.cgroup_driver", "kubelet cgroupDriver";
    KUBELET_EXTERNAL_CLOUD_PROVIDER: bool = "kubelet.external_cloud_provider", "the kubelet waits for an external cloud controller (--cloud-provider=external, k3s/rke2 cloud-provider-name or disable-cloud-controller)";
    KUBELET_SERVICE_ACTIVE: bool = "kubelet.service_active", "systemd says the kubelet (or k3s) unit is active";
    KUBELET_RESTARTS: f64 = "kubelet.restarts", "systemd NRestarts of the kubelet (or k3s) unit";
    RUNTIME_CGROUP_DRIVER: String = "runtime.cgroup_driver", "containerd runc SystemdCgroup: systemd or cgroupfs";
    RUNTIME_CRI_DISABLED: bool = "runtime.cri_disabled", "containerd config disables the cri plugin";
    RUNTIME_SOCKET_PRESENT: bool = "runtime.socket_present", "a container runtime socket exists";
    RUNTIME_SERVICE_ACTIVE: bool = "runtime.service_active", "systemd says containerd (or crio, docker) is active";
    CGROUP_DRIVER_MISMATCH: bool = "cgroup_driver.mismatch", "kubelet and containerd cgroup drivers differ";
    JOIN_FLAVOR: String = "join.flavor", "kubeadm or k3s";
    JOIN_KUBELET_CONF_PRESENT: bool = "join.kubelet_conf_present", "the kubelet's cluster kubeconfig exists (kubelet.conf or k3s kubelet.kubeconfig)";
    JOIN_BOOTSTRAP_CONF_PRESENT: bool = "join.bootstrap_conf_present", "bootstrap-kubelet.conf exists";
    CSR_PENDING: f64 = "csr.pending", "certificate signing requests shown Pending (kubectl get csr)";
    CSR_APPROVED_NOT_ISSUED: f64 = "csr.approved_not_issued", "CSRs approved but never issued: no signer runs";
    CSR_JOIN_WAITING: bool = "csr.join_waiting", "kubeadm join (1.4-1.9) sent its node CSR and printed nothing after it";
    JOIN_DISCOVERY_WAITING: bool = "join.discovery_waiting", "kubeadm join (1.6-1.12) began discovery against the API server and printed nothing after it";
    CNI_CONFIG_COUNT: f64 = "cni.config_count", "CNI config files present";
    CNI_TYPES: Vec<String> = "cni.types", "plugin types named by the CNI configs";
    CNI_MISSING_PLUGINS: Vec<String> = "cni.missing_plugins", "plugin types with no binary in the plugin directories";
    CNI_MISSING_PLUGIN_COUNT: f64 = "cni.missing_plugin_count", "how many plugin binaries are missing";
    CNI_RUNTIME_NETWORK_READY: bool = "cni.runtime_network_ready", "crictl info NetworkReady condition";
    POWER_THROTTLED_FLAGS: f64 = "power.throttled_flags", "vcgencmd get_throttled bit field";
    POWER_UNDERVOLTAGE_NOW: bool = "power.undervoltage_now", "under-voltage right now (bit 0)";
    POWER_UNDERVOLTAGE_SEEN: bool = "power.undervoltage_seen", "under-voltage since boot (bit 16) or hwmon alarm";
    POWER_THROTTLED_SEEN: bool = "power.throttled_seen", "throttling since boot (bits 17-18)";
    APISERVER_REACHABLE: bool = "apiserver.reachable", "a TCP connect to a configured API endpoint succeeded";
    APISERVER_ERROR: String = "apiserver.error", "why the TCP connect failed";
    BUNDLE_VERSION: f64 = "bundle.version", "bundle format version";
}
