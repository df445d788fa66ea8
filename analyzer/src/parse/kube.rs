//! Kubernetes node configuration: kubelet config and flags, kubeconfigs.

use serde::Deserialize;

/// The fields of a `KubeletConfiguration` that diagnosis needs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfig {
    pub kind: Option<String>,
    pub cgroup_driver: Option<String>,
    pub fail_swap_on: Option<bool>,
    pub resolv_conf: Option<String>,
}

impl KubeletConfig {
    /// The driver the kubelet uses: its default is cgroupfs.
    pub fn effective_cgroup_driver(&self) -> &str {
        self.cgroup_driver.as_deref().unwrap_or("cgroupfs")
    }

    /// The kubelet refuses swap unless failSwapOn is false (default true).
    pub fn refuses_swap(&self) -> bool {
        self.fail_swap_on != Some(false)
    }
}

/// Parse a kubelet config file; None when it is not YAML of that shape.
pub fn kubelet_config(text: &str) -> Option<KubeletConfig> {
    let c: KubeletConfig = super::yaml(text)?;
    match c.kind.as_deref() {
        Some("KubeletConfiguration") | None => Some(c),
        Some(_) => None,
    }
}

/// The 0-based line that sets `key:` in a YAML text, for evidence.
pub fn yaml_key_line(text: &str, key: &str) -> Option<(usize, String)> {
    text.lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with(&format!("{key}:")))
        .map(|(i, l)| (i, l.trim().to_string()))
}

/// `--flag=value` or `--flag value` in kubeadm-flags.env, /etc/default/kubelet,
/// a unit's ExecStart or a pasted command line.
pub fn flag<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let want = format!("--{name}");
    for (i, l) in text.lines().enumerate() {
        let mut words = l
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .filter(|w| !w.is_empty());
        while let Some(w) = words.next() {
            if let Some(v) = w.strip_prefix(&want) {
                if let Some(v) = v.strip_prefix('=') {
                    return Some((i, v));
                }
                if v.is_empty() {
                    return words.next().map(|v| (i, v));
                }
            }
        }
    }
    None
}

/// Whether the kubelet waits for an external cloud controller to initialize
/// the node (which then carries node.cloudprovider.kubernetes.io/uninitialized
/// until one does): a kubelet flag `--cloud-provider=external`, or in a k3s or
/// rke2 config `disable-cloud-controller: true` or a `cloud-provider-name`
/// other than the built-in one. Returns the 0-based line that says so.
pub fn external_cloud_provider(text: &str) -> Option<(usize, String)> {
    for (i, l) in text.lines().enumerate() {
        let t = l.trim().trim_start_matches("- ").trim_matches('"');
        let (k, v) = match t.split_once([':', '=']) {
            Some((k, v)) => (
                k.trim().trim_start_matches("--"),
                v.trim().trim_matches('"'),
            ),
            None => continue,
        };
        let external = match k {
            "cloud-provider" => v == "external",
            "disable-cloud-controller" => v == "true",
            "cloud-provider-name" => !matches!(v, "" | "none" | "rke2" | "k3s"),
            _ => false,
        };
        if external {
            return Some((i, l.trim().to_string()));
        }
    }
    None
}

/// What a kubeconfig says about the cluster and the client.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kubeconfig {
    pub server: Option<String>,
    pub ca_data: Option<String>,
    pub client_cert_data: Option<String>,
    pub client_cert_path: Option<String>,
}

#[derive(Deserialize)]
struct RawKubeconfig {
    #[serde(default)]
    clusters: Vec<Named<RawCluster>>,
    #[serde(default)]
    users: Vec<Named<RawUser>>,
}

#[derive(Deserialize)]
struct Named<T> {
    cluster: Option<T>,
    user: Option<T>,
}

#[derive(Deserialize)]
struct RawCluster {
    server: Option<String>,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<String>,
    #[serde(rename = "client-certificate")]
    cert_path: Option<String>,
}

/// The first cluster and user of a kubeconfig; None when the text is not one.
pub fn kubeconfig(text: &str) -> Option<Kubeconfig> {
    let raw: RawKubeconfig = super::yaml(text)?;
    let cluster = raw.clusters.into_iter().find_map(|c| c.cluster)?;
    let user = raw.users.into_iter().find_map(|u| u.user);
    Some(Kubeconfig {
        server: cluster.server,
        ca_data: cluster.ca_data,
        client_cert_data: user.as_ref().and_then(|u| u.cert_data.clone()),
        client_cert_path: user.and_then(|u| u.cert_path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet() {
        let c = kubelet_config(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nfailSwapOn: false\n",
        )
        .unwrap();
        assert_eq!(c.effective_cgroup_driver(), "systemd");
        assert!(!c.refuses_swap());
        let d = kubelet_config("kind: KubeletConfiguration\n").unwrap();
        assert_eq!(d.effective_cgroup_driver(), "cgroupfs");
        assert!(d.refuses_swap());
        assert!(kubelet_config("kind: Pod\n").is_none());
    }

    #[test]
    fn flags() {
        let env = "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9 --fail-swap-on=false\"\n";
        assert_eq!(flag(env, "fail-swap-on"), Some((0, "false")));
        assert_eq!(
            flag("kubelet --node-ip 10.0.0.5", "node-ip"),
            Some((0, "10.0.0.5"))
        );
        assert_eq!(flag(env, "node-ip"), None);
    }

    #[test]
    fn cloud_provider() {
        assert!(external_cloud_provider("cloud-provider-name: ovirt\nprime: true\n").is_some());
        assert!(external_cloud_provider("cloud-provider-name: rke2\n").is_none());
        assert!(external_cloud_provider("kubelet-arg:\n- cloud-provider=external\n").is_some());
        assert!(
            external_cloud_provider("KUBELET_KUBEADM_ARGS=\"--cloud-provider=external\"").is_none()
        );
        assert!(external_cloud_provider("disable-cloud-controller: true\n").is_some());
    }

    #[test]
    fn kubeconfigs() {
        let k = kubeconfig("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: QUJD\n    server: https://127.0.0.1:6443\n  name: default-cluster\nusers:\n- name: default-auth\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n").unwrap();
        assert_eq!(k.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(k.ca_data.as_deref(), Some("QUJD"));
        assert_eq!(
            k.client_cert_path.as_deref(),
            Some("/var/lib/kubelet/pki/kubelet-client-current.pem")
        );
        assert!(kubeconfig("server 1\n").is_none());
    }
}
