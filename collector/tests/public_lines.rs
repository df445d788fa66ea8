//! Over-redaction guard: real-looking kubelet, k3s, containerd, sshd, sudo,
//! dmesg, crictl, ip and df lines with only public values come out of the
//! redactor unchanged (image digests, SSH key fingerprints, sudo PWD, CA
//! hash mismatches, bootstrap-token secret names, failed-password prose).

use collector::redact::Redactor;

#[test]
fn public_lines_unchanged() {
    let lines = [
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"Waiting for control-plane node pi-server-1 startup: nodes \\\"pi-server-1\\\" not found\"",
        "2026-11-24T05:50:01.000001+0000 pi containerd[7]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"PullImage \\\"registry.k8s.io/pause:3.9@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097\\\"\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: E1124 05:50:01.000001     902 kubelet.go:2855] \"Container runtime network not ready\" networkReady=\"NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: I1124 05:50:01.000001     902 reconciler_common.go:258] \"operationExecutor.VerifyControllerAttachedVolume started for volume \\\"flannel-cfg\\\" (UniqueName: \\\"kubernetes.io/configmap/0a1b-flannel-cfg\\\") pod=\\\"kube-flannel/kube-flannel-ds-x7k2p\\\"\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: E1124 05:50:01.000001 902 secret.go:194] Couldn't get secret kube-system/bootstrap-token-abcdef: secret \"bootstrap-token-abcdef\" not found",
        "2026-11-24T05:50:01.000001+0000 pi sudo[1]:       pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/local/bin/k3s check-config",
        "2026-11-24T05:50:01.000001+0000 pi sshd[1]: Accepted publickey for pi from 10.0.0.5 port 50022 ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "2026-11-24T05:50:01.000001+0000 pi sshd[1]: Failed password for invalid user admin from 10.0.0.5 port 50022 ssh2",
        "[    0.000000] Kernel command line: coherent_pool=1M 8250.nr_uarts=1 snd_bcm2835.enable_headphones=0 cgroup_disable=memory console=ttyS0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait cgroup_memory=1 cgroup_enable=memory",
        "[    5.123456] brcmfmac: brcmf_fw_alloc_request: using brcm/brcmfmac43455-sdio for chip BCM4345/6",
        "CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD",
        "0a1b2c3d4e5f6       ab12cd34ef56        2 minutes ago       Running             kube-flannel        0                   9f8e7d6c5b4a3       kube-flannel-ds-x7k2p",
        "default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.21 metric 100",
        "2: eth0    inet 10.0.0.21/24 brd 10.0.0.255 scope global dynamic eth0\\       valid_lft 86000sec preferred_lft 86000sec",
        "Filesystem     1024-blocks    Used Available Capacity Mounted on",
        "/dev/root        30375108 5270456  23820624      19% /",
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=error msg=\"failed to get CA certs: Get \\\"https://10.0.0.10:6443/cacerts\\\": dial tcp 10.0.0.10:6443: connect: connection refused\"",
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=fatal msg=\"Error: token CA hash does not match the Cluster CA certificate hash: 0f5a8e1c != 1a2b3c4d\"",
        "2026-11-24T05:50:01.000001+0000 pi kubeadm[901]: [discovery] Failed to request cluster-info, will try again: Get \"https://10.0.0.10:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s\": x509: certificate has expired or is not yet valid",
        "2026-11-24T05:50:01.000001+0000 pi systemd[1]: k3s-agent.service: Main process exited, code=exited, status=1/FAILURE",
        "2026-11-24T05:50:01.000001+0000 pi chronyd[5]: Selected source 162.159.200.1 (2.debian.pool.ntp.org)",
        "2026-11-24T05:50:01.000001+0000 pi avahi-daemon[4]: Registering new address record for 10.0.0.21 on eth0.IPv4.",
        "2026-11-24T05:50:01.000001+0000 pi containerd[7]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"loading plugin \\\"io.containerd.grpc.v1.cri\\\"...\" type=io.containerd.grpc.v1",        // Round 8b: words like token, secret, password, key and authorization
        // in public prose, escapes that decode to nothing secret.
        "2026-11-24T05:50:01.000001+0000 pi containerd[7]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"trying next host\" error=\"pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed\" host=registry-1.docker.io",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: I1124 05:50:01.000001     902 reflector.go:359] Caches populated for *v1.Secret from object-\"kube-flannel\"/\"flannel-token-x7k2p\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: E1124 05:50:01.000001     902 secret.go:194] Couldn't get secret kube-flannel/flannel-token-x7k2p: failed to sync secret cache: timed out waiting for the condition",
        "2026-11-24T05:50:01.000001+0000 pi kube-controller-manager[9]: I1124 05:50:01.000001       9 controllermanager.go:1] \"Waiting for token controller\"",
        "[discovery] Using token-based discovery with the API server \"10.0.0.10:6443\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: W1124 05:50:01.000001     902 reflector.go:561] k8s.io/client-go/informers/factory.go:160: failed to list *v1.ConfigMap: configmaps \"kube-root-ca.crt\" is forbidden: User \"system:node:pi2\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-flannel\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: E1124 05:50:01.000001     902 reflector.go:158] \"Unhandled Error\" err=\"failed to list *v1.Node: Get \\\"https://10.0.0.10:6443/api/v1/nodes?fieldSelector=metadata.name%3Dpi2&limit=500&resourceVersion=0\\\": dial tcp 10.0.0.10:6443: connect: connection refused\" logger=\"UnhandledError\"",
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"Annotations changed: {\\u0022k3s.io/node-args\\u0022:\\u0022[\\u0022agent\\u0022]\\u0022}\"",
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"Waiting to retrieve agent configuration; server is not ready: Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag\"",
        "2026-11-24T05:50:01.000001+0000 pi kubelet[902]: E1124 05:50:01.000001     902 token_manager.go:121] \"Couldn't update token\" err=\"serviceaccounts \\\"coredns\\\" is forbidden\"",
        "2026-11-24T05:50:01.000001+0000 pi containerd[7]: time=\"2026-11-24T05:50:01Z\" level=error msg=\"PullImage \\\"r.io/x:1\\\" failed\" error=\"failed to fetch anonymous token: unexpected status from GET request to https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io: 401 Unauthorized\"",
        "2026-11-24 05:50:01.000 [INFO][1] felix/wireguard.go 1: Wireguard public key updated ipVersion=0x4 nodename=\"pi2\" publicKey=\"abcdEFGH1234abcdEFGH1234abcdEFGH1234abcd/+E=\"",
        "[    0.000000] Kernel command line: coherent_pool=1M console=ttyS0,115200 systemd.unified_cgroup_hierarchy=1 cgroup_enable=memory",
        "I1124 05:50:01.000001  1 round_trippers.go:553] GET https://10.0.0.10:6443/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token&limit=500 200 OK in 3 milliseconds",
        "I1124 05:50:01.000001  1 request.go:1] GET https://10.43.0.1:443/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane%3Dtrue%2Cpassword-rotation%3Ddone 200",
        "2026-11-24T05:50:01.000001+0000 pi k3s[903]: time=\"2026-11-24T05:50:01Z\" level=info msg=\"Running kubelet --address=0.0.0.0 --anonymous-auth=false --authentication-token-webhook=true --authorization-mode=Webhook --client-ca-file=/var/lib/rancher/k3s/agent/client-ca.crt --tls-private-key-file=/var/lib/rancher/k3s/agent/serving-kubelet.key\"",
        "{\"log\":\"I1124 05:50:01.000001       1 main.go:1] Created subnet manager: Kubernetes Subnet Manager - pi2\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:50:01.000000001Z\"}",
        "{\"log\":\"time=\\\"2026-11-24T05:50:01Z\\\" level=info msg=\\\"secret \\\\\\\"x\\\\\\\" not found \\u003cnil\\u003e\\\"\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:50:01.000000001Z\"}",
        "    k3s.io/node-env: '{\"K3S_DATA_DIR\":\"/var/lib/rancher/k3s/data/abc\",\"K3S_TOKEN\":\"********\",\"K3S_URL\":\"https://10.0.0.10:6443\"}'",
    ];
    let mut bad = Vec::new();
    for l in lines {
        let o = String::from_utf8(Redactor::new().text(format!("{l}\n").as_bytes())).unwrap();
        if o.trim_end() != l {
            bad.push(format!("IN : {l}\nOUT: {}", o.trim_end()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
