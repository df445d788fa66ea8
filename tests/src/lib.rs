//! Test support shared by the collector and analyzer tests and the benchmark:
//! fake Raspberry Pi trees (kubeadm and k3s) with real certificates and planted
//! secrets, fake commands on PATH, and real clock peers on loopback.

// A `pub` item the crate does not export is a mistake: say pub(crate).
#![warn(unreachable_pub)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::fs;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub mod planted;
pub mod planted_more;
pub mod planted_red8b;

/// Secrets planted in fake trees; none may appear in a bundle.
pub mod secrets {
    pub const BOOTSTRAP_TOKEN: &str = "q7h2kd.9x8c7v6b5n4m3l2k";
    pub const BOOTSTRAP_SECRET: &str = "9x8c7v6b5n4m3l2k";
    pub const K3S_TOKEN: &str = "K1034a1f2e3d4c5b6a79881726354ab00cd11ef22aa33bb44cc55dd66ee77ff8899::server:s3cr3tK3sPassw0rd";
    pub const K3S_PASSWORD: &str = "s3cr3tK3sPassw0rd";
    pub const K3S_PLAIN_TOKEN: &str = "plain-k3s-token-Zq8";
    pub const CERT_KEY: &str = "b1ab0c0ffee0b1ab0c0ffee0b1ab0c0ffee0b1ab0c0ffee0b1ab0c0ffee0cafe";
    pub const SA_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.cGxhbnRlZA.c2lnbmF0dXJlLXBsYW50ZWQ";
    pub const NODE_PASSWORD: &str = "node-passwd-5f0e1d2c";
    pub const REGISTRY_PASSWORD: &str = "registry-Passw0rd-W7";
    /// Every literal secret above.
    pub const ALL: &[&str] = &[
        BOOTSTRAP_SECRET,
        K3S_PASSWORD,
        K3S_PLAIN_TOKEN,
        CERT_KEY,
        SA_TOKEN,
        NODE_PASSWORD,
        REGISTRY_PASSWORD,
    ];
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn odt(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).expect("valid time")
}

/// A cluster CA and a kubelet client certificate signed by it.
pub struct Certs {
    pub ca_pem: String,
    pub client_pem: String,
    pub client_key_pem: String,
}

impl Certs {
    /// The kubelet's rotated `kubelet-client-current.pem`: certificate and key in one file.
    pub fn combined(&self) -> String {
        format!("{}{}", self.client_pem, self.client_key_pem)
    }
}

/// Real X.509: CA `kubernetes`, client `system:node:<node>` in `system:nodes`.
pub fn kubelet_certs(node: &str, not_before: i64, not_after: i64) -> Certs {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
    ];
    ca.not_before = odt(not_before.min(now()) - 365 * 86400);
    ca.not_after = odt(now() + 3650 * 86400);
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name
        .push(DnType::CommonName, format!("system:node:{node}"));
    p.distinguished_name
        .push(DnType::OrganizationName, "system:nodes");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = odt(not_before);
    p.not_after = odt(not_after);
    let cert = p.signed_by(&key, &issuer).expect("sign");
    Certs {
        ca_pem: ca_cert.pem(),
        client_pem: cert.pem(),
        client_key_pem: key.serialize_pem(),
    }
}

/// A self-signed server certificate and key for loopback HTTPS peers.
pub fn server_cert() -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let p = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("params");
    (
        p.self_signed(&key).expect("cert").pem(),
        key.serialize_pem(),
    )
}

pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Write a file under `root`, creating parents.
pub fn put(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(&p, content).expect("write");
}

/// An executable shell script `name` in `bin`.
pub fn fake_cmd(bin: &Path, name: &str, body: &str) {
    fs::create_dir_all(bin).expect("mkdir");
    let p = bin.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A command that prints a file's content.
pub fn fake_cat(bin: &Path, name: &str, file: &Path) {
    fake_cmd(bin, name, &format!("exec /bin/cat '{}'", file.display()));
}

pub struct PiOptions {
    pub node: String,
    pub api: String,
    pub ntp: Option<String>,
    pub cert_not_before: i64,
    pub cert_not_after: i64,
    pub swap: bool,
}

impl PiOptions {
    pub fn new(node: &str) -> Self {
        let n = now();
        PiOptions {
            node: node.into(),
            api: "https://127.0.0.1:6443".into(),
            ntp: None,
            cert_not_before: n - 86400,
            cert_not_after: n + 364 * 86400,
            swap: false,
        }
    }
}

fn kubeconfig(server: &str, ca: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: default-cluster\ncontexts:\n- context:\n    cluster: default-cluster\n    namespace: default\n    user: default-auth\n  name: default-context\ncurrent-context: default-context\nkind: Config\npreferences: {{}}\nusers:\n- name: default-auth\n  user:\n{user}",
        base64(ca.as_bytes())
    )
}

fn common_host(root: &Path, o: &PiOptions) {
    put(root, "/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
    put(root, "/proc/sys/kernel/hostname", format!("{}\n", o.node));
    put(root, "/proc/sys/kernel/osrelease", "6.6.51+rpt-rpi-v8\n");
    put(root, "/etc/hostname", format!("{}\n", o.node));
    put(
        root,
        "/etc/hosts",
        format!("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n", o.node),
    );
    put(
        root,
        "/etc/machine-id",
        "3f5c0e9a7b2d4e6f8a1b2c3d4e5f6a7b\n",
    );
    put(
        root,
        "/proc/device-tree/model",
        "Raspberry Pi 4 Model B Rev 1.4\0",
    );
    put(root, "/proc/cmdline", "coherent_pool=1M 8250.nr_uarts=0 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait cgroup_memory=1 cgroup_enable=memory\n");
    put(root, "/boot/firmware/cmdline.txt", "console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait cgroup_memory=1 cgroup_enable=memory\n");
    put(
        root,
        "/sys/fs/cgroup/cgroup.controllers",
        "cpuset cpu io memory pids\n",
    );
    put(
        root,
        "/proc/swaps",
        if o.swap {
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/var/swap                               file\t\t102396\t\t0\t\t-2\n"
        } else {
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        },
    );
    put(root, "/proc/meminfo", "MemTotal:        3882068 kB\nMemFree:         2512344 kB\nMemAvailable:    3301220 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n");
    put(root, "/proc/modules", "br_netfilter 32768 0 - Live 0x0000000000000000\noverlay 131072 3 - Live 0x0000000000000000\nvxlan 98304 0 - Live 0x0000000000000000\n");
    put(root, "/proc/sys/net/bridge/bridge-nf-call-iptables", "1\n");
    put(root, "/proc/sys/net/ipv4/ip_forward", "1\n");
    put(root, "/proc/uptime", "5231.44 18377.01\n");
    let ntp = o.ntp.clone().unwrap_or_else(|| "127.0.0.1 port 1".into());
    put(root, "/etc/chrony/chrony.conf", format!("# Use Debian vendor zone.\n# pool 2.debian.pool.ntp.org iburst\nserver {ntp} iburst\ndriftfile /var/lib/chrony/chrony.drift\nmakestep 1 3\n"));
    put(root, "/etc/fake-hwclock.data", "2026-11-20 10:00:00\n");
    put(root, "/opt/cni/bin/bridge", "\x7fELF");
    put(root, "/opt/cni/bin/loopback", "\x7fELF");
    put(root, "/opt/cni/bin/portmap", "\x7fELF");
    put(root, "/opt/cni/bin/flannel", "\x7fELF");
    put(root, "/opt/cni/bin/host-local", "\x7fELF");
    put(root, "/etc/cni/net.d/10-flannel.conflist", "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\"type\": \"flannel\", \"delegate\": {\"hairpinMode\": true, \"isDefaultGateway\": true}},\n    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}\n  ]\n}\n");
    put(root, "/etc/rancher/k3s/registries.yaml", format!("configs:\n  \"registry.local:5000\":\n    auth:\n      username: pi\n      password: {}\n", secrets::REGISTRY_PASSWORD));
}

/// A kubeadm worker on a Raspberry Pi, with its secrets planted.
pub fn kubeadm_pi(root: &Path, o: &PiOptions) -> Certs {
    common_host(root, o);
    let c = kubelet_certs(&o.node, o.cert_not_before, o.cert_not_after);
    put(root, "/etc/kubernetes/pki/ca.crt", &c.ca_pem);
    put(
        root,
        "/etc/kubernetes/pki/ca.key",
        "-----BEGIN EC PRIVATE KEY-----\nplanted-ca-key-material\n-----END EC PRIVATE KEY-----\n",
    );
    put(
        root,
        "/var/lib/kubelet/pki/kubelet-client-current.pem",
        c.combined(),
    );
    put(root, "/var/lib/kubelet/pki/kubelet.crt", &c.client_pem);
    put(root, "/var/lib/kubelet/pki/kubelet.key", &c.client_key_pem);
    put(root, "/etc/kubernetes/kubelet.conf", kubeconfig(&o.api, &c.ca_pem, "    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n"));
    put(
        root,
        "/etc/kubernetes/bootstrap-kubelet.conf",
        kubeconfig(
            &o.api,
            &c.ca_pem,
            &format!("    token: {}\n", secrets::BOOTSTRAP_TOKEN),
        ),
    );
    put(root, "/var/lib/kubelet/config.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\nrotateCertificates: true\nstaticPodPath: /etc/kubernetes/manifests\n");
    put(root, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n");
    put(root, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n");
    put(root, "/etc/containerd/config.toml", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n");
    fs::create_dir_all(root.join("run/containerd")).expect("mkdir");
    c
}

/// A k3s agent on a Raspberry Pi, with its secrets planted.
pub fn k3s_pi(root: &Path, o: &PiOptions) -> Certs {
    common_host(root, o);
    let c = kubelet_certs(&o.node, o.cert_not_before, o.cert_not_after);
    let agent = "/var/lib/rancher/k3s/agent";
    put(root, &format!("{agent}/client-ca.crt"), &c.ca_pem);
    put(root, &format!("{agent}/server-ca.crt"), &c.ca_pem);
    put(root, &format!("{agent}/client-kubelet.crt"), &c.client_pem);
    put(
        root,
        &format!("{agent}/client-kubelet.key"),
        &c.client_key_pem,
    );
    put(root, &format!("{agent}/kubelet.kubeconfig"), kubeconfig("https://127.0.0.1:6444", &c.ca_pem, &format!("    client-certificate: {agent}/client-kubelet.crt\n    client-key: {agent}/client-kubelet.key\n")));
    put(root, &format!("{agent}/etc/containerd/config.toml"), "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n");
    put(
        root,
        "/etc/rancher/k3s/config.yaml",
        format!(
            "server: {}\ntoken: {}\nnode-name: {}\n",
            o.api,
            secrets::K3S_TOKEN,
            o.node
        ),
    );
    put(
        root,
        "/etc/systemd/system/k3s-agent.service.env",
        format!(
            "K3S_TOKEN='{}'\nK3S_URL='{}'\n",
            secrets::K3S_PLAIN_TOKEN,
            o.api
        ),
    );
    put(root, "/etc/systemd/system/k3s-agent.service", format!("[Unit]\nDescription=Lightweight Kubernetes\n[Service]\nType=notify\nEnvironmentFile=-/etc/systemd/system/k3s-agent.service.env\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n    '--token={}' \\\n", secrets::K3S_PLAIN_TOKEN));
    put(root, "/etc/rancher/node/password", secrets::NODE_PASSWORD);
    fs::create_dir_all(root.join("run/k3s/containerd")).expect("mkdir");
    c
}

/// Journal lines that quote secrets the way people's shells and tools do.
pub fn secret_log_lines() -> String {
    format!(
        "2026-11-24T05:50:01.000001+0000 pi kubeadm[901]: running: kubeadm join 127.0.0.1:6443 --token {} --discovery-token-ca-cert-hash sha256:0f5a --certificate-key {}\n\
         2026-11-24T05:50:02.000001+0000 pi kubelet[902]: I1124 05:50:02.000001     902 loader.go:395] Config loaded: token={}\n\
         2026-11-24T05:50:03.000001+0000 pi kubelet[902]: E1124 05:50:03.000001     902 dump.go:1] key -----BEGIN RSA PRIVATE KEY-----\\nMIIEplantedinline\\n-----END RSA PRIVATE KEY----- end\n\
         2026-11-24T05:50:04.000001+0000 pi curl[903]: Authorization: Bearer {}\n",
        secrets::BOOTSTRAP_TOKEN,
        secrets::CERT_KEY,
        secrets::K3S_TOKEN,
        secrets::SA_TOKEN
    )
}

/// Decompress a `.tgz` and return (path, bytes) of each entry.
pub fn untar(tgz: &Path) -> Vec<(String, Vec<u8>)> {
    let f = fs::File::open(tgz).expect("open bundle");
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in a.entries().expect("entries") {
        let mut e = e.expect("entry");
        let p = e.path().expect("path").to_string_lossy().into_owned();
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut v).expect("read");
        out.push((p, v));
    }
    out
}

/// Pack a directory into a `.tgz` (fixtures are packed at test time).
pub fn pack_dir(dir: &Path, out: &Path) {
    let f = fs::File::create(out).expect("create");
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    b.follow_symlinks(false);
    b.append_dir_all(".", dir).expect("pack");
    b.into_inner()
        .expect("tar")
        .finish()
        .expect("gz")
        .flush()
        .expect("flush");
}

/// A real SNTP server on loopback whose clock runs `skew` seconds ahead of ours.
pub struct NtpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NtpServer {
    pub fn start(skew: f64) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 128];
            while !s2.load(Ordering::Relaxed) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if n < 48 || buf[0] & 7 != 3 {
                    continue;
                }
                let ts = |t: f64| -> [u8; 8] {
                    let t = t + 2_208_988_800.0;
                    let secs = t.floor() as u64 as u32;
                    let frac = ((t - t.floor()) * 4_294_967_296.0) as u32;
                    let mut b = [0u8; 8];
                    b[..4].copy_from_slice(&secs.to_be_bytes());
                    b[4..].copy_from_slice(&frac.to_be_bytes());
                    b
                };
                let now = || {
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .expect("clock")
                        .as_secs_f64()
                        + skew
                };
                let mut r = [0u8; 48];
                r[0] = 0b00_100_100; // version 4, server mode
                r[1] = 2; // stratum
                r[3] = 0xEC; // precision
                r[12..16].copy_from_slice(&[127, 0, 0, 1]);
                r[24..32].copy_from_slice(&buf[40..48]);
                r[32..40].copy_from_slice(&ts(now()));
                r[16..24].copy_from_slice(&ts(now() - 10.0));
                r[40..48].copy_from_slice(&ts(now()));
                let _ = sock.send_to(&r, peer);
            }
        });
        NtpServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for NtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const HTTPS_PEER: &str = r#"
import http.server, ssl, sys, time, email.utils
skew = float(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(time.time() + skew, usegmt=True)
    def do_GET(self):
        body = b'{"kind":"Status","status":"Failure","code":401}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// A real HTTPS server on loopback (python3's ssl) answering like an API server
/// that refuses anonymous access, with a `Date` header `skew` seconds ahead.
pub struct HttpsServer {
    pub url: String,
    child: std::process::Child,
    _dir: PathBuf,
}

impl HttpsServer {
    pub fn start(dir: &Path, skew: f64) -> Self {
        let (cert, key) = server_cert();
        fs::create_dir_all(dir).expect("mkdir");
        let (cp, kp, sp) = (
            dir.join("srv.crt"),
            dir.join("srv.key"),
            dir.join("peer.py"),
        );
        fs::write(&cp, cert).expect("write");
        fs::write(&kp, key).expect("write");
        fs::write(&sp, HTTPS_PEER).expect("write");
        let mut child = std::process::Command::new("python3")
            .arg(&sp)
            .arg(skew.to_string())
            .arg(&cp)
            .arg(&kp)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is needed for the HTTPS peer");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("port");
        let port: u16 = line.trim().parse().expect("port number");
        HttpsServer {
            url: format!("https://127.0.0.1:{port}"),
            child,
            _dir: dir.to_path_buf(),
        }
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Fake systemd, journal, clock and runtime tools for a node.
pub fn fake_tools(bin: &Path, data: &Path, journals: &[(&str, String)]) {
    fs::create_dir_all(data).unwrap();
    for (unit, text) in journals {
        fs::write(data.join(format!("journal-{unit}.txt")), text).unwrap();
    }
    fake_cmd(bin, "journalctl", &format!("u=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = -u ] && u=\"$2\"; shift; done\nf='{}'/journal-$u.txt\nif [ -f \"$f\" ]; then exec /bin/cat \"$f\"; fi\necho '-- No entries --'", data.display()));
    fs::write(data.join("show.txt"), "Id=kubelet.service\nLoadState=loaded\nActiveState=activating\nSubState=auto-restart\nUnitFileState=enabled\nNRestarts=42\nExecMainStatus=1\nResult=exit-code\n\nId=containerd.service\nLoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=0\n").unwrap();
    fake_cmd(bin, "systemctl", &format!("[ \"$1\" = show ] && exec /bin/cat '{}'/show.txt\necho \"# /lib/systemd/system/$3.service\"", data.display()));
    fs::write(data.join("tracking.txt"), "Reference ID    : 00000000 ()\nStratum         : 0\nRef time (UTC)  : Thu Jan 01 00:00:00 1970\nSystem time     : 0.000000000 seconds fast of NTP time\nLast offset     : +0.000000000 seconds\nLeap status     : Not synchronised\n").unwrap();
    fake_cmd(bin, "chronyc", &format!("[ \"$2\" = tracking ] && exec /bin/cat '{}'/tracking.txt\necho 'MS Name/IP address         Stratum Poll Reach LastRx Last sample'", data.display()));
    fake_cmd(bin, "timedatectl", "echo '               Local time: Tue 2026-11-24 05:58:01 UTC'\necho 'System clock synchronized: no'\necho '              NTP service: active'");
    fake_cmd(bin, "uname", "echo 'Linux pi 6.6.51+rpt-rpi-v8 #1 SMP PREEMPT Debian 1:6.6.51-1+rpt3 (2024-10-08) aarch64 GNU/Linux'");
    fake_cmd(bin, "vcgencmd", "echo throttled=0x50005");
    fake_cmd(
        bin,
        "dmesg",
        "echo '[    5.123456] hwmon hwmon1: Undervoltage detected!'",
    );
    fake_cmd(bin, "crictl", "echo '{\"status\":{\"conditions\":[{\"type\":\"RuntimeReady\",\"status\":true},{\"type\":\"NetworkReady\",\"status\":false,\"reason\":\"NetworkPluginNotReady\"}]}}'");
    fake_cmd(
        bin,
        "kubectl",
        "echo 'apiVersion: v1'\necho 'kind: Node'\necho 'metadata:'\necho '  name: pi-node-1'",
    );
    for real in ["curl", "getent"] {
        for dir in ["/usr/bin", "/bin"] {
            let p = Path::new(dir).join(real);
            if p.exists() && !bin.join(real).exists() {
                std::os::unix::fs::symlink(&p, bin.join(real)).unwrap();
            }
        }
    }
}

pub fn assert_no_secrets(entries: &[(String, Vec<u8>)], key_pems: &[&str]) {
    for (path, data) in entries {
        let text = String::from_utf8_lossy(data);
        for s in secrets::ALL {
            assert!(!text.contains(s), "secret {s:?} leaked into {path}");
        }
        assert!(
            !text.contains("PRIVATE KEY-----"),
            "private key block in {path}"
        );
        assert!(
            !text.contains("planted-ca-key-material"),
            "ca.key content in {path}"
        );
        assert!(!text.contains("MIIEplantedinline"), "inline key in {path}");
        for pem in key_pems {
            for line in pem
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() > 20)
            {
                assert!(!text.contains(line), "private key material in {path}");
            }
        }
    }
}
