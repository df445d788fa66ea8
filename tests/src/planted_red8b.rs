//! Planted secrets of red-team round 8b: places and encodings the earlier
//! suites missed. systemd credentials on the kernel command line, ntpd's
//! `crypto pw`, JSON `\u0022` and URL `%3D` escapes, `kubectl create secret
//! --from-literal`, `ctr -u`, the k3s install script's `-t`, Go SQL DSNs.

use crate::planted::{Gen, Plant, Public};
use crate::put;
use std::path::Path;

fn s(g: &mut Gen, plants: &mut Vec<Plant>, what: &str, len: usize) -> String {
    let v = g.secret(len);
    plants.push(Plant {
        what: format!("red8b: {what}"),
        needles: vec![v.as_bytes().to_vec()],
    });
    v
}

/// Plant the round-8b formats under `root` and in `extra`; returns journal
/// lines, and files for `--include` are added to `includes`.
pub fn plant_red8b(
    g: &mut Gen,
    plants: &mut Vec<Plant>,
    public: &mut Public,
    (root, extra): (&Path, &Path),
    includes: &mut Vec<std::path::PathBuf>,
    pre: &str,
) -> String {
    let mut s = |what: &str, len: usize| s(g, plants, what, len);
    let cred = s("/proc/cmdline systemd.set_credential_binary=NAME:VALUE", 24);
    let cred2 = s(
        "/boot/firmware/cmdline.txt systemd.set_credential=NAME:VALUE",
        18,
    );
    put(root, "/proc/cmdline", format!("coherent_pool=1M console=tty1 root=PARTUUID=6c586e13-02 rootwait systemd.set_credential_binary=wifi.conf:{cred} cgroup_enable=memory\n"));
    put(root, "/boot/firmware/cmdline.txt", format!("console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait cgroup_memory=1 cgroup_enable=memory systemd.set_credential=tmpfiles.extra:{cred2}\n"));
    public.push((
        "/proc/cmdline cgroup flag".into(),
        "cgroup_enable=memory".into(),
    ));
    let ntp = s("/etc/ntp.conf crypto pw PASSWORD", 14);
    put(root, "/etc/ntp.conf", format!("driftfile /var/lib/ntp/ntp.drift\npool 2.debian.pool.ntp.org iburst\nkeysdir /etc/ntp/\ncrypto randfile /dev/urandom pw {ntp}\n"));
    public.push((
        "ntp.conf pool".into(),
        "pool 2.debian.pool.ntp.org iburst".into(),
    ));
    // Calico's CNI kubeconfig has no extension; its token is a service
    // account JWT, here an opaque one folded onto the next line.
    let calico = s("/etc/cni/net.d/calico-kubeconfig token: >- (folded)", 32);
    put(root, "/etc/cni/net.d/calico-kubeconfig", format!("# Kubeconfig file for Calico CNI plugin. Installed by calico/node.\napiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: https://10.96.0.1:443\n    certificate-authority-data: \"LS0tLS1CRUdJTg==\"\nusers:\n- name: calico\n  user:\n    token: >-\n      {calico}\ncontexts:\n- name: calico-context\n  context:\n    cluster: local\n    user: calico\ncurrent-context: calico-context\n"));
    public.push((
        "calico-kubeconfig server".into(),
        "server: https://10.96.0.1:443".into(),
    ));
    // A pod log in Docker's json-file format (cri-dockerd links
    // /var/log/pods to these): a key over several records, a `--token \`
    // continuation in the next record.
    let dk = g_key_body(&mut s);
    let dt = s(
        "pod log (Docker json-file): --token \\ then the value in the next record",
        26,
    );
    let rec = |m: &str| {
        let esc = m.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{{\"log\":\"{esc}\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:50:01.000000001Z\"}}\n")
    };
    let dlog = [
        rec("-----BEGIN RSA PRIVATE KEY-----"),
        rec(&format!("MIIEowIBAAKCAQEA{}", dk.0)),
        rec(&dk.1),
        rec("-----END RSA PRIVATE KEY-----"),
        rec("+ k3s agent --server https://10.0.0.10:6443 --token \\"),
        rec(&format!("    {dt}")),
        rec("I1124 05:50:01.000001       1 main.go:1] Using interface with name eth0"),
    ]
    .concat();
    put(
        root,
        "/var/log/pods/kube-flannel_kube-flannel-ds-d0ck3_0a1b/kube-flannel/0.log",
        dlog,
    );
    public.push((
        "pod log (Docker json-file) public record".into(),
        "Using interface with name eth0".into(),
    ));
    // An operator's copy of the agent's /proc/PID/cmdline (NUL-separated).
    let nul = s(
        "--include copy of /proc/PID/cmdline: NUL-separated --token",
        24,
    );
    let cmdline = extra.join("k3s-agent.cmdline");
    std::fs::write(
        &cmdline,
        format!("# cat /proc/$(pidof k3s-agent)/cmdline\n/usr/local/bin/k3s\0agent\0--server\0https://10.0.0.10:6443\0--token\0{nul}\0"),
    )
    .unwrap();
    includes.push(cmdline);
    let nb = s("journal: --token then a no-break space", 22);
    let u22 = s("journal: JSON \\u0022token\\u0022:\\u0022...\\u0022", 24);
    let pct = s("journal: URL-encoded password%3D... in a query", 16);
    let lit = s(
        "journal: kubectl create secret --from-literal=KEY=VALUE",
        20,
    );
    let ctr = s("journal: k3s ctr images pull -u user:pass", 14);
    let t = s("journal: install script 'sh -s - agent -t TOKEN'", 26);
    let dsn = s("journal: Go SQL DSN user:pass@tcp(host)", 16);
    let cl = s(
        "journal: dmesg Kernel command line systemd.set_credential_binary",
        20,
    );
    public.push((
        "journal: containerd 'require authorization: server message' prose".into(),
        "may require authorization: server message: insufficient_scope: authorization failed"
            .into(),
    ));
    format!(
        "{pre}level=info msg=\"node env {{\\u0022K3S_URL\\u0022:\\u0022https://10.0.0.10:6443\\u0022,\\u0022token\\u0022:\\u0022{u22}\\u0022}}\"\n\
         {pre}GET /api/login?user=pi%26password%3D{pct}%26next=%2F HTTP/1.1\n\
         {pre}sudo[1]: pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/local/bin/kubectl create secret generic db --from-literal=DB_URL={lit}\n\
         {pre}sudo[1]: pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/local/bin/k3s ctr images pull -u bob:{ctr} registry.local/app:1\n\
         {pre}curl -sfL https://get.example.org/install.sh | sh -s - agent --server https://10.0.0.10:6443 -t {t}\n\
         {pre}level=info msg=\"connecting\" dsn=\"app:{dsn}@tcp(10.0.0.30:3306)/app?parseTime=true\"\n\
         {pre}kernel: Kernel command line: console=tty1 systemd.set_credential_binary=firstboot.locale:{cl} rootwait\n\
         {pre}+ k3s agent --server https://10.0.0.10:6443 --token\u{a0}{nb}\n\
         {pre}level=info msg=\"trying next host\" error=\"pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed\" host=registry-1.docker.io\n"
    )
}

/// Two lines of a key body (base64), both planted.
fn g_key_body(s: &mut impl FnMut(&str, usize) -> String) -> (String, String) {
    let a = s("pod log (Docker json-file): RSA key body, first line", 48);
    let b = s("pod log (Docker json-file): RSA key body, second line", 64);
    (a, b)
}
