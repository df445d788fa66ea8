//! Writes the real X.509 certificates and kubeconfigs that fixtures need, with
//! validity relative to the fixtures' collection time (2026-11-24T06:00:00Z).
//! Run from the workspace root: `cargo run -p testkit --example fixture-certs`.
//! Only public certificates are written; keys are thrown away, as the collector
//! would have stripped them.

#![allow(clippy::print_stdout)]

use std::path::Path;
use testkit::{base64, kubelet_certs, put};

const T: i64 = 1_795_500_000;
const DAY: i64 = 86_400;

enum Flavor {
    Kubeadm,
    K3s,
}

fn write(dir: &str, flavor: Flavor, node: &str, not_before: i64, not_after: i64, foreign_ca: bool) {
    let root = Path::new(dir).join("files");
    let c = kubelet_certs(node, not_before, not_after);
    // A client certificate from an old cluster: same CA name, another key.
    let ca = if foreign_ca {
        kubelet_certs(node, not_before, not_after).ca_pem
    } else {
        c.ca_pem.clone()
    };
    let client = format!(
        "{}# nodejoin-collect: private key block removed\n",
        c.client_pem
    );
    let kubeconfig = |server: &str, cert_path: &str| {
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    user: default-auth\n  name: default-context\ncurrent-context: default-context\nkind: Config\npreferences: {{}}\nusers:\n- name: default-auth\n  user:\n    client-certificate: {cert_path}\n    client-key: {cert_path}\n",
            base64(ca.as_bytes())
        )
    };
    match flavor {
        Flavor::Kubeadm => {
            put(&root, "/etc/kubernetes/pki/ca.crt", &ca);
            put(
                &root,
                "/var/lib/kubelet/pki/kubelet-client-current.pem",
                &client,
            );
            put(
                &root,
                "/etc/kubernetes/kubelet.conf",
                kubeconfig(
                    "https://127.0.0.1:6443",
                    "/var/lib/kubelet/pki/kubelet-client-current.pem",
                ),
            );
        }
        Flavor::K3s => {
            let a = "/var/lib/rancher/k3s/agent";
            put(&root, &format!("{a}/client-ca.crt"), &ca);
            put(&root, &format!("{a}/server-ca.crt"), &ca);
            put(&root, &format!("{a}/client-kubelet.crt"), &c.client_pem);
            put(
                &root,
                &format!("{a}/kubelet.kubeconfig"),
                kubeconfig("https://127.0.0.1:6444", &format!("{a}/client-kubelet.crt")),
            );
        }
    }
}

fn main() {
    use Flavor::*;
    let year = 365 * DAY;
    write(
        "fixtures/rules/clock-drift-credentials/fail",
        Kubeadm,
        "pi-node-1",
        T + 3 * DAY,
        T + 3 * DAY + year,
        false,
    );
    write(
        "fixtures/rules/clock-drift-credentials/pass",
        Kubeadm,
        "pi-node-1",
        T - 300,
        T + year,
        false,
    );
    write(
        "fixtures/rules/client-cert-expired/fail",
        Kubeadm,
        "pi-node-1",
        T - year - 10 * DAY,
        T - 10 * DAY,
        false,
    );
    write(
        "fixtures/rules/client-cert-expired/pass",
        Kubeadm,
        "pi-node-1",
        T - year - 10 * DAY,
        T - 10 * DAY,
        false,
    );
    write(
        "fixtures/rules/stale-credentials-unknown-authority/fail",
        Kubeadm,
        "pi-node-1",
        T - 30 * DAY,
        T + 300 * DAY,
        true,
    );
    write(
        "fixtures/rules/stale-credentials-unknown-authority/pass",
        Kubeadm,
        "pi-node-1",
        T - 30 * DAY,
        T + 300 * DAY,
        false,
    );
    write(
        "fixtures/bundles/healthy-kubeadm-pi4",
        Kubeadm,
        "pi-node-1",
        T - 40 * DAY,
        T + 325 * DAY,
        false,
    );
    write(
        "fixtures/bundles/healthy-k3s-agent-pi3",
        K3s,
        "pi-k3s-2",
        T - 12 * DAY,
        T + 353 * DAY,
        false,
    );
    write(
        "fixtures/bundles/pi-clock-drift-kubeadm",
        Kubeadm,
        "pi-node-3",
        T + 3 * DAY,
        T + 3 * DAY + year,
        false,
    );
    write(
        "fixtures/bundles/kubeadm-client-cert-expired",
        Kubeadm,
        "pi-node-4",
        T - year - 20 * DAY,
        T - 20 * DAY,
        false,
    );
}
