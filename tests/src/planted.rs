//! A fake kubeadm + k3s node with secrets planted in the formats real nodes
//! have, in every place the collector reads: files, the journal, pod logs,
//! command output and `--include` files; on the same line as their key, on the
//! next line, in block scalars, quoted, in flow style and JSON, across a log
//! cap and across the 1 MiB long-line split. Each plant records the bytes that
//! must not appear anywhere in a bundle. Public values that must survive are
//! recorded too.

use crate::{base64, fake_cmd, kubelet_certs, now, put};
use std::fs;
use std::path::{Path, PathBuf};

/// One planted secret.
pub struct Plant {
    /// Where and how: `file:/etc/rancher/k3s/config.yaml token (same line)`.
    pub what: String,
    /// Byte strings none of which may appear in the bundle.
    pub needles: Vec<Vec<u8>>,
}

/// Public values that must survive redaction: (what, value).
pub type Public = Vec<(String, String)>;

pub struct Planted {
    pub plants: Vec<Plant>,
    pub public: Public,
    /// Files to pass with `--include`.
    pub includes: Vec<PathBuf>,
}

/// Deterministic, distinct secret strings.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn from(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
    /// Letters and digits, starting with a marker so it is easy to spot.
    pub fn secret(&mut self, len: usize) -> String {
        format!(
            "Zq{}",
            self.from(
                b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
                len - 2
            )
        )
    }
    pub fn hex(&mut self, len: usize) -> String {
        self.from(b"0123456789abcdef", len)
    }
    /// A bootstrap token: (id, secret).
    pub fn bootstrap(&mut self) -> (String, String) {
        let a = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (self.from(a, 6), self.from(a, 16))
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

struct P<'a> {
    g: Gen,
    plants: &'a mut Vec<Plant>,
}

impl P<'_> {
    /// A fresh secret of `len` characters, recorded as planted at `what`.
    fn s(&mut self, what: &str, len: usize) -> String {
        let s = self.g.secret(len);
        self.add(what, &s);
        s
    }
    fn add(&mut self, what: &str, needle: &str) {
        self.plants.push(Plant {
            what: what.to_string(),
            needles: vec![needle.as_bytes().to_vec()],
        });
    }
    fn add_bytes(&mut self, what: &str, needles: Vec<Vec<u8>>) {
        self.plants.push(Plant {
            what: what.to_string(),
            needles,
        });
    }
    /// A PEM private key: (pem, body lines as needles).
    fn pem_key(&mut self, what: &str) -> String {
        let k = rcgen::KeyPair::generate().expect("key");
        let pem = k.serialize_pem();
        self.add_bytes(what, key_needles(&pem));
        pem
    }
}

/// The body lines of a PEM block (each a needle), and the whole base64 body.
pub fn key_needles(pem: &str) -> Vec<Vec<u8>> {
    let body: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
        .collect();
    let mut v: Vec<Vec<u8>> = body
        .iter()
        .filter(|l| l.len() >= 16)
        .map(|l| l.as_bytes().to_vec())
        .collect();
    v.push(body.concat().into_bytes());
    v
}

/// An RSA-shaped PKCS#1 PEM block with random body (no real key needed to test).
fn fake_pem(g: &mut Gen, label: &str, lines: usize) -> String {
    let mut der = vec![
        0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01,
    ];
    der.extend(g.bytes(lines * 48 - der.len()));
    let b = base64(&der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for c in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(c).unwrap());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn kubeconfig(server: &str, ca_b64: &str, users: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca_b64}\n    server: {server}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: u0\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {{}}\nusers:\n{users}"
    )
}

/// Plant everything under `root`, fake tools in `bin`, includes in `extra`.
pub fn plant_node(root: &Path, bin: &Path, extra: &Path, node: &str) -> Planted {
    let mut plants = Vec::new();
    let mut public: Public = Vec::new();
    let mut p = P {
        g: Gen::new(0x5eed),
        plants: &mut plants,
    };
    fs::create_dir_all(extra).unwrap();
    let n = now();
    let certs = kubelet_certs(node, n - 86400, n + 300 * 86400);
    let ca_b64 = base64(certs.ca_pem.as_bytes());
    let ca_hash = p.g.hex(64);
    let (tid, tsec) = p.g.bootstrap();
    p.add("bootstrap token secret (everywhere)", &tsec);
    let api = "https://10.0.0.10:6443";
    public.push(("node name".into(), node.into()));
    public.push(("api server".into(), api.into()));
    public.push(("CA hash".into(), format!("sha256:{ca_hash}")));
    public.push(("token id".into(), tid.clone()));
    public.push(("object name".into(), "flannel-token-x7k2p".into()));
    public.push(("node ip".into(), "10.0.0.21".into()));
    public.push((
        "error message".into(),
        format!("token id \"{tid}\" is invalid for this cluster or it has expired"),
    ));
    for l in certs
        .ca_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .take(3)
    {
        public.push(("CA certificate body".into(), l.to_string()));
    }
    public.push(("CA certificate (kubeconfig data)".into(), ca_b64.clone()));

    // Common host files the collector expects.
    put(root, "/proc/sys/kernel/hostname", format!("{node}\n"));
    put(root, "/etc/hostname", format!("{node}\n"));
    put(root, "/etc/kubernetes/pki/ca.crt", &certs.ca_pem);

    // ---- kubeconfigs ----
    let key_pem = p.pem_key("kubeconfig client-key-data (base64 of PEM, same line)");
    let key_b64 = base64(key_pem.as_bytes());
    p.add("kubeconfig client-key-data base64", &key_b64);
    let key2 = p.pem_key("kubeconfig client-key-data (block scalar)");
    let key2_b64 = base64(key2.as_bytes());
    p.add("kubeconfig client-key-data block scalar base64", &key2_b64);
    let tok_next = p.s("kubeconfig token (next line)", 40);
    let pw_q = p.s("kubeconfig password (quoted, spaces)", 18);
    let idt = p.s("kubeconfig auth-provider id-token", 60);
    let rft = p.s("kubeconfig auth-provider refresh-token", 30);
    let cls = p.s("kubeconfig auth-provider client-secret", 24);
    let exec_env = p.s("kubeconfig exec env value", 28);
    let exec_arg = p.s("kubeconfig exec args flow list", 22);
    let basic_user_pw = p.s("kubeconfig username/password", 16);
    let users = format!(
        "- name: u0\n  user:\n    client-certificate-data: {ca_b64}\n    client-key-data: {key_b64}\n- name: u1\n  user:\n    client-key-data: |\n{}\n- name: u2\n  user:\n    token:\n      {tok_next}\n- name: u3\n  user:\n    username: admin\n    password: \"{pw_q} with spaces\"\n- name: u4\n  user:\n    auth-provider:\n      name: oidc\n      config:\n        id-token: {idt}\n        refresh-token: '{rft}'\n        client-secret: \"{cls}\"\n- name: u5\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /usr/local/bin/aws-iam-authenticator\n      args: [\"token\", \"--secret\", \"{exec_arg}\"]\n      env:\n      - name: AWS_SECRET_ACCESS_KEY\n        value: {exec_env}\n- name: u6\n  user: {{username: admin, password: {basic_user_pw}}}\n",
        key2_b64
            .as_bytes()
            .chunks(76)
            .map(|c| format!("      {}", std::str::from_utf8(c).unwrap()))
            .collect::<Vec<_>>()
            .join("\n")
    );
    put(
        root,
        "/etc/kubernetes/kubelet.conf",
        kubeconfig(api, &ca_b64, &users),
    );
    put(
        root,
        "/etc/kubernetes/bootstrap-kubelet.conf",
        kubeconfig(
            api,
            &ca_b64,
            &format!("- name: tls-bootstrap-token-user\n  user:\n    token: {tid}.{tsec}\n"),
        ),
    );
    let k3s_tok = p.s("k3s kubeconfig token (JSON style)", 32);
    put(
        root,
        "/var/lib/rancher/k3s/agent/k3scontroller.kubeconfig",
        format!("{{\"apiVersion\": \"v1\", \"kind\": \"Config\", \"clusters\": [{{\"cluster\": {{\"server\": \"https://127.0.0.1:6444\", \"certificate-authority-data\": \"{ca_b64}\"}}, \"name\": \"local\"}}], \"users\": [{{\"name\": \"u\", \"user\": {{\"token\": \"{k3s_tok}\"}}}}]}}\n"),
    );

    // ---- kubelet and kubeadm config ----
    let hdr = p.s("kubelet config staticPodURLHeader Authorization", 30);
    put(root, "/var/lib/kubelet/config.yaml", format!("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nfailSwapOn: false\nresolvConf: /run/systemd/resolve/resolv.conf\nclusterDNS:\n- 10.96.0.10\nstaticPodURLHeader:\n  Authorization:\n  - \"Bearer {hdr}\"\n"));
    public.push((
        "kubelet cgroupDriver".into(),
        "cgroupDriver: systemd".into(),
    ));
    public.push(("kubelet failSwapOn".into(), "failSwapOn: false".into()));
    public.push((
        "kubelet resolvConf".into(),
        "resolvConf: /run/systemd/resolve/resolv.conf".into(),
    ));
    let ckey = p.g.hex(64);
    p.add("kubeadm config certificateKey", &ckey);
    let (_, tls_sec) = p.g.bootstrap();
    p.add("kubeadm config tlsBootstrapToken", &tls_sec);
    let (_, bt2) = p.g.bootstrap();
    p.add("kubeadm bootstrapTokens list token", &bt2);
    let kubeadm_cfg = format!("apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.10:6443\n    token: {tid}.{tsec}\n    caCertHashes:\n    - sha256:{ca_hash}\n  tlsBootstrapToken: \"abcdef.{tls_sec}\"\ncontrolPlane:\n  certificateKey: {ckey}\nnodeRegistration:\n  name: {node}\n  kubeletExtraArgs:\n    node-ip: 10.0.0.21\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n- token: \"zzzzzz.{bt2}\"\n  ttl: 24h0m0s\n");
    let kubeadm_path = extra.join("kubeadm-join.yaml");
    fs::write(&kubeadm_path, &kubeadm_cfg).unwrap();

    // ---- k3s config ----
    let k3s_server_pw = p.s("k3s token K10 server password", 24);
    let k10 = format!("K10{}::server:{k3s_server_pw}", p.g.hex(64));
    p.add("k3s K10 token (whole)", &k10);
    let agent_tok = p.s("k3s agent-token", 26);
    let ds_pw = p.s("k3s datastore-endpoint password", 20);
    let s3a = p.g.from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16);
    let s3a = format!("AKIA{s3a}");
    p.add("k3s etcd-s3-access-key (AKIA)", &s3a);
    let s3s = p.s("k3s etcd-s3-secret-key", 40);
    let vpn = p.s("k3s vpn-auth joinKey", 30);
    put(root, "/etc/rancher/k3s/config.yaml", format!("server: {api}\ntoken: {k10}\nagent-token: \"{agent_tok}\"\nnode-name: {node}\nnode-ip: 10.0.0.21\ndatastore-endpoint: postgres://k3s:{ds_pw}@10.0.0.30:5432/k3s\netcd-s3-access-key: {s3a}\netcd-s3-secret-key: '{s3s}'\nvpn-auth: \"name=tailscale,joinKey={vpn}\"\nkubelet-arg:\n  - \"cgroup-driver=systemd\"\n"));
    let blk = p.s("k3s config.yaml.d token block scalar", 36);
    let flow = p.s("k3s config.yaml.d flow mapping", 20);
    let jtok = p.s("k3s config.yaml.d JSON token", 20);
    put(
        root,
        "/etc/rancher/k3s/config.yaml.d/10-token.yaml",
        format!(
            "token: >-\n  {blk}\nextra: {{etcd-s3-secret-key: {flow}, node-label: [\"a=b\"]}}\n"
        ),
    );
    put(
        root,
        "/etc/rancher/k3s/config.yaml.d/20-json.yaml",
        format!("{{\"token\": \"{jtok}\", \"node-ip\": \"10.0.0.21\"}}\n"),
    );

    // ---- registries ----
    let rpw = p.s("registries.yaml password", 18);
    let rauth = base64(format!("bob:{}", p.g.secret(14)).as_bytes());
    p.add("registries.yaml auth (base64 user:pass)", &rauth);
    let ridt = p.s("registries.yaml identitytoken", 40);
    let mirror_pw = p.s("registries.yaml mirror endpoint URL password", 16);
    put(root, "/etc/rancher/k3s/registries.yaml", format!("mirrors:\n  docker.io:\n    endpoint:\n      - \"https://puller:{mirror_pw}@mirror.local:5000\"\nconfigs:\n  \"registry.local:5000\":\n    auth:\n      username: bob\n      password: {rpw}\n      auth: {rauth}\n      identitytoken: \"{ridt}\"\n    tls:\n      insecure_skip_verify: true\n"));
    public.push(("registry mirror host".into(), "mirror.local:5000".into()));

    // ---- containerd ----
    let cpw = p.s("containerd config.toml registry password", 18);
    let cauth = p.s("containerd config.toml registry auth", 24);
    let cidt = p.s(
        "containerd config.toml identitytoken (multi-line string)",
        30,
    );
    let cinl = p.s("containerd config.toml inline-table password", 18);
    put(root, "/etc/containerd/config.toml", format!("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"gcr.io\".auth]\n  username = \"_json_key\"\n  password = \"{cpw}\"\n  auth = '{cauth}'\n  identitytoken = \"\"\"\n{cidt}\n\"\"\"\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"quay.io\"]\n  auth = {{ username = \"x\", password = \"{cinl}\" }}\n"));
    public.push((
        "containerd SystemdCgroup".into(),
        "SystemdCgroup = true".into(),
    ));
    let tmpl_pw = p.s("k3s containerd config.toml.tmpl password", 18);
    put(root, "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl", format!("{{{{ template \"base\" . }}}}\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r\".auth]\n  password = \"{tmpl_pw}\"\n"));

    // ---- systemd units, drop-ins, env files ----
    let u_tok = p.s(
        "k3s unit ExecStart '--token' then value on the next line",
        28,
    );
    let u_t = p.s("k3s unit ExecStart -t value", 22);
    let u_env = p.s("k3s unit Environment=K3S_TOKEN", 22);
    let u_eq = p.s("k3s unit ExecStart --agent-token=", 22);
    put(root, "/etc/systemd/system/k3s-agent.service", format!("[Unit]\nDescription=Lightweight Kubernetes\n[Service]\nType=notify\nEnvironment=K3S_TOKEN={u_env}\nEnvironmentFile=-/etc/systemd/system/k3s-agent.service.env\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n    '--server' \\\n    '{api}' \\\n    '--token' \\\n    '{u_tok}' \\\n    -t {u_t} \\\n    --agent-token={u_eq} \\\n    --node-ip=10.0.0.21 \\\n"));
    let e_tok = p.s("k3s service env K3S_TOKEN", 24);
    let e_proxy = p.s("service env HTTP_PROXY URL password", 14);
    let e_ds = p.s("service env K3S_DATASTORE_ENDPOINT", 18);
    put(root, "/etc/systemd/system/k3s-agent.service.env", format!("K3S_TOKEN='{e_tok}'\nK3S_URL='{api}'\nHTTP_PROXY=http://proxyuser:{e_proxy}@proxy.local:3128\nK3S_DATASTORE_ENDPOINT=\"mysql://k3s:{e_ds}@tcp(10.0.0.30:3306)/k3s\"\n"));
    let d_proxy = p.s("kubelet drop-in Environment HTTPS_PROXY password", 14);
    let d_aws = p.s("kubelet drop-in Environment AWS_SECRET_ACCESS_KEY", 40);
    put(root, "/etc/systemd/system/kubelet.service.d/20-proxy.conf", format!("[Service]\nEnvironment=\"HTTPS_PROXY=http://user:{d_proxy}@proxy.local:3128\" \"AWS_SECRET_ACCESS_KEY={d_aws}\"\nEnvironment=\"KUBELET_EXTRA_ARGS=--node-ip=10.0.0.21\"\n"));
    let dk_tok = p.s(
        "/etc/default/kubelet KUBELET_EXTRA_ARGS --bootstrap-token",
        20,
    );
    let dk_pw = p.s("/etc/default/kubelet MYSQL_PWD", 16);
    let dk_pass = p.s("/etc/default/kubelet DB_PASS", 16);
    put(root, "/etc/default/kubelet", format!("KUBELET_EXTRA_ARGS=\"--node-ip=10.0.0.21 --fail-swap-on=false --bootstrap-token {dk_tok}\"\nMYSQL_PWD={dk_pw}\nexport DB_PASS={dk_pass}\n"));
    public.push(("kubelet flag".into(), "--fail-swap-on=false".into()));
    let kf = p.s("kubeadm-flags.env --token=", 20);
    put(root, "/var/lib/kubelet/kubeadm-flags.env", format!("KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --token={kf}\"\n"));
    let sub = p.s("/run/flannel/subnet.env FLANNEL_PSK", 20);
    put(
        root,
        "/run/flannel/subnet.env",
        format!("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_PSK={sub}\n"),
    );
    public.push(("flannel subnet".into(), "10.244.1.1/24".into()));

    // ---- CNI ----
    let cni_tok = p.s("CNI conflist token", 24);
    put(root, "/etc/cni/net.d/10-flannel.conflist", format!("{{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {{\"type\": \"flannel\", \"delegate\": {{\"hairpinMode\": true, \"isDefaultGateway\": true}}}},\n    {{\"type\": \"calico\", \"kubernetes\": {{\"kubeconfig\": \"/etc/cni/net.d/calico-kubeconfig\"}}, \"etcd_key\": \"{cni_tok}\", \"policy\": {{\"type\": \"k8s\", \"k8s_auth_token\": \"{cni_tok}\"}}}}\n  ]\n}}\n"));
    public.push(("CNI plugin type".into(), "\"type\": \"flannel\"".into()));

    // ---- keys by content under pki ----
    let pem_in_pem = p.pem_key("PEM key inside a .pem with a certificate");
    put(
        root,
        "/var/lib/kubelet/pki/kubelet-client-current.pem",
        format!("{}{pem_in_pem}", certs.client_pem),
    );
    let k = rcgen::KeyPair::generate().expect("key");
    let der = k.serialize_der();
    let tail = der[der.len() - 24..].to_vec();
    p.add_bytes(
        "PKCS#8 DER key in a .der file",
        vec![tail.clone(), der[8..32].to_vec()],
    );
    put(
        root,
        "/etc/kubernetes/pki/apiserver-kubelet-client.der",
        &der,
    );
    let mut p12 = vec![
        0x30, 0x82, 0x02, 0x00, 0x02, 0x01, 0x03, 0x30, 0x82, 0x01, 0xf0,
    ];
    let p12body = p.g.bytes(512 - 7);
    p12.extend_from_slice(&p12body);
    p.add_bytes(
        "PKCS#12 in a .p12 file",
        vec![p12body[40..72].to_vec(), p12body[400..430].to_vec()],
    );
    put(root, "/var/lib/kubelet/pki/kubelet.p12", &p12);
    let ssh2 = format!("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key-20261124\"\n{}\n{}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n", p.g.secret(64), p.g.secret(40));
    p.add_bytes("RFC 4716 SSH2 private key", key_needles(&ssh2));
    put(root, "/var/lib/kubelet/pki/node-ssh2.txt", &ssh2);
    let mut ossh = b"openssh-key-v1\0".to_vec();
    ossh.extend(p.g.bytes(300));
    let ob = base64(&ossh);
    let openssh = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        ob.as_bytes()
            .chunks(70)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    p.add_bytes("OpenSSH private key", key_needles(&openssh));
    put(root, "/var/lib/kubelet/pki/id_node.txt", &openssh);
    let encpem = fake_pem(&mut p.g, "ENCRYPTED PRIVATE KEY", 10);
    p.add_bytes("PKCS#8 encrypted PEM", key_needles(&encpem));
    put(root, "/etc/kubernetes/pki/etcd-client.pem", &encpem);

    // ---- the journal ----
    let ck2 = p.g.hex(64);
    p.add(
        "journal: kubeadm init 'Using certificate key:' then the key on the next line",
        &ck2,
    );
    let jcont = p.s("journal: '--token \\' then value on next journal line", 24);
    let jjson = p.s("journal: JSON \"password\":\"...\"", 12);
    let jrepr = p.s("journal: python repr 'secret_key': '...'", 14);
    let jlogfmt = p.s("journal: logfmt password=\"with spaces\"", 14);
    let jbasic = base64(format!("admin:{}", p.g.secret(12)).as_bytes());
    p.add("journal: Authorization: Basic", &jbasic);
    let jtokhdr = format!("ghp_{}", p.g.secret(36));
    p.add("journal: Authorization: token ghp_", &jtokhdr);
    let jxapi = p.s("journal: x-api-key header", 32);
    let jwt = format!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ{}.{}",
        p.g.secret(30),
        p.g.secret(40)
    );
    p.add("journal: bare JWT (service account token)", &jwt);
    let jakia = format!("AKIA{}", p.g.from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    p.add("journal: AWS access key id", &jakia);
    let jaws = p.s("journal: aws_secret_access_key =", 40);
    let jurl = p.s("journal: proxy URL credentials", 14);
    let jcurl = p.s("journal: curl -u user:pass", 14);
    let jk10pw = p.s("journal: K10 token password", 20);
    let jk10 = format!("K10{}::node:{jk10pw}", p.g.hex(64));
    let jvpn = p.s("journal: --vpn-auth joinKey", 20);
    let jpasswd = p.s("journal: PASSWD= / *_PASSWORD=", 14);
    let jpem = p.pem_key("journal: PEM key over journal lines with an interleaved line");
    let jinline_body = p.g.secret(48);
    p.add(
        "journal: PEM key inline with escaped newlines",
        &jinline_body,
    );
    let jb64key = base64(&rcgen::KeyPair::generate().expect("key").serialize_der());
    p.add("journal: base64 PKCS#8 DER in a line", &jb64key[..60]);
    let jflow = p.s("journal: YAML flow {token: ...}", 16);
    let pre =
        |unit: &str, pid: u32| format!("2026-11-24T05:50:01.000001+0000 {node} {unit}[{pid}]: ");
    let mut journal = String::new();
    let kj = pre("kubeadm", 901);
    journal.push_str(&format!("{kj}running: kubeadm join 10.0.0.10:6443 --token {tid}.{tsec} --discovery-token-ca-cert-hash sha256:{ca_hash}\n"));
    journal.push_str(&format!(
        "{kj}[upload-certs] Using certificate key:\n{kj}{ck2}\n"
    ));
    journal.push_str(&format!("{kj}+ k3s agent --server {api} --token \\\n{kj}    {jcont} \\\n{kj}    --node-ip 10.0.0.21\n"));
    let kl = pre("kubelet", 902);
    journal.push_str(&format!("{kl}E1124 05:50:02.000001     902 reflector.go:1] secret \"flannel-token-x7k2p\" not found\n"));
    journal.push_str(&format!("{kl}I1124 05:50:02.000001     902 dump.go:1] config {{\"password\":\"{jjson}\",\"user\":\"x\"}}\n"));
    journal.push_str(&format!("{kl}I1124 05:50:02.000001     902 dump.go:1] creds {{'secret_key': '{jrepr}', 'region': 'eu'}}\n"));
    journal.push_str(&format!(
        "{kl}level=info msg=\"connecting\" password=\"{jlogfmt} and more words\" node={node}\n"
    ));
    journal.push_str(&format!("{kl}> GET / HTTP/1.1\n{kl}> Authorization: Basic {jbasic}\n{kl}> authorization: token {jtokhdr}\n{kl}> X-Api-Key: {jxapi}\n"));
    journal.push_str(&format!(
        "{kl}using service account token {jwt} for the API\n"
    ));
    journal.push_str(&format!(
        "{kl}aws: key={jakia} aws_secret_access_key = {jaws}\n"
    ));
    journal.push_str(&format!(
        "{kl}proxy is https://proxyuser:{jurl}@proxy.local:3128 now\n"
    ));
    journal.push_str(&format!(
        "{kl}+ curl -sk -u admin:{jcurl} https://10.0.0.10:6443/healthz\n"
    ));
    journal.push_str(&format!("{kl}joining with {jk10}\n"));
    journal.push_str(&format!("{kl}flags: --vpn-auth=name=tailscale,joinKey={jvpn} PASSWD={jpasswd} DB_PASSWORD={jpasswd}\n"));
    journal.push_str(&format!("{kl}E1124 05:50:03.000001     902 dump.go:1] key \"-----BEGIN PRIVATE KEY-----\\n{jinline_body}\\n-----END PRIVATE KEY-----\" end\n"));
    journal.push_str(&format!("{kl}loaded MIIC blob {jb64key} done\n"));
    journal.push_str(&format!("{kl}settings: {{token: {jflow}, ttl: 24h}}\n"));
    journal.push_str(&format!("{kl}[discovery] Failed to connect to API Server \"10.0.0.10:6443\": token id \"{tid}\" is invalid for this cluster or it has expired\n"));
    let pem_lines: Vec<&str> = jpem.lines().collect();
    for (i, l) in pem_lines.iter().enumerate() {
        journal.push_str(&format!("{kl}{l}\n"));
        if i == 2 {
            journal.push_str(&format!(
                "{}unrelated line from another process\n",
                pre("containerd", 77)
            ));
        }
    }
    journal.push_str(&format!("{kl}after the key\n"));

    // Long-line boundary through the journal pipe: a secret across 1 MiB.
    let ll = p.s("journal: secret straddling the 1 MiB long-line split", 40);
    let mut long = pre("k3s", 903);
    long.push_str("level=info msg=\"");
    while long.len() < (1 << 20) - 30 {
        long.push_str("padding ");
    }
    long.push_str(&format!("--token {ll}\" tail\n"));
    journal.push_str(&long);

    // ---- pod logs (CRI format) ----
    let pod_tok = p.s("pod log: token= in CRI line", 24);
    let pod_pem = p.pem_key("pod log: PEM key over CRI lines");
    let mut podlog = format!(
        "2026-11-24T05:50:01.000000001Z stderr F I1124 flannel.go:1] using token={pod_tok}\n"
    );
    for l in pod_pem.lines() {
        podlog.push_str(&format!("2026-11-24T05:50:01.000000002Z stderr F {l}\n"));
    }
    podlog.push_str("2026-11-24T05:50:01.000000003Z stderr F E1124 main.go:1] failed to get secret flannel-token-x7k2p\n");
    put(
        root,
        "/var/log/pods/kube-flannel_kube-flannel-ds-x7k2p_0a1b/kube-flannel/0.log",
        &podlog,
    );

    // ---- a log file with a long line across the split ----
    let fl = p.s("file log: secret straddling the 1 MiB long-line split", 40);
    let mut flog = String::from("time=\"2026-11-24T05:50:01Z\" level=info msg=\"start\"\ntime=\"2026-11-24T05:50:01Z\" msg=\"");
    while flog.len() < (1 << 20) + 64 * 1024 - 20 {
        flog.push_str("padding ");
    }
    flog.push_str(&format!("password={fl} end\"\nlast line\n"));
    put(root, "/var/log/k3s-agent.log", &flog);

    // ---- round 8: formats the first suite did not plant ----
    let more = crate::planted_more::plant_more(
        &mut p.g,
        &mut *p.plants,
        &mut public,
        root,
        extra,
        &pre("kubelet", 904),
    );
    journal.push_str(&more.journal);
    let mut red8b_includes = Vec::new();
    journal.push_str(&crate::planted_red8b::plant_red8b(
        &mut p.g,
        &mut *p.plants,
        &mut public,
        (root, extra),
        &mut red8b_includes,
        &pre("kubelet", 905),
    ));

    // ---- commands ----
    let data = root.parent().unwrap().join("cmd-data");
    fs::create_dir_all(&data).unwrap();
    for (unit, text) in [("kubelet", &journal), ("k3s-agent", &journal)] {
        fs::write(data.join(format!("journal-{unit}.txt")), text).unwrap();
    }
    fake_cmd(bin, "journalctl", &format!("u=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = -u ] && u=\"$2\"; shift; done\nf='{}'/journal-$u.txt\nif [ -f \"$f\" ]; then exec /bin/cat \"$f\"; fi\necho '-- No entries --'", data.display()));
    let cr_auth = p.s("crictl info: registry auth", 24);
    let cr_pw = p.s("crictl info: registry password", 16);
    let cr_idt = p.s("crictl info: identitytoken", 24);
    fs::write(data.join("crictl-info.json"), format!("{{\n  \"status\": {{\"conditions\": [{{\"type\": \"RuntimeReady\", \"status\": true}}, {{\"type\": \"NetworkReady\", \"status\": false, \"reason\": \"NetworkPluginNotReady\", \"message\": \"cni config uninitialized\"}}]}},\n  \"config\": {{\"registry\": {{\"configs\": {{\"r.local\": {{\"auth\": {{\"username\": \"bob\", \"password\": \"{cr_pw}\", \"auth\": \"{cr_auth}\", \"identitytoken\": \"{cr_idt}\"}}}}}}}}, \"sandboxImage\": \"registry.k8s.io/pause:3.9\"}}\n}}\n")).unwrap();
    public.push(("crictl condition".into(), "NetworkPluginNotReady".into()));
    fake_cmd(
        bin,
        "crictl",
        &format!("exec /bin/cat '{}'/crictl-info.json", data.display()),
    );
    let sc_tok = p.s("systemctl cat: ExecStart '--token' continuation", 22);
    fs::write(data.join("cat.txt"), format!("# /etc/systemd/system/k3s-agent.service\n[Service]\nExecStart=/usr/local/bin/k3s \\\n    agent \\\n    '--token' \\\n    '{sc_tok}' \\\n")).unwrap();
    fake_cmd(bin, "systemctl", &format!("[ \"$1\" = cat ] && exec /bin/cat '{}'/cat.txt\necho 'Id=kubelet.service'\necho 'ActiveState=active'", data.display()));
    let up = p.s("uname output: stray token= (command output)", 18);
    fake_cmd(
        bin,
        "uname",
        &format!("echo 'Linux {node} 6.6.51 aarch64 GNU/Linux token={up}'"),
    );

    // ---- --include files ----
    let h_tok = p.s("shell history: export K3S_TOKEN=", 22);
    let h_curl = p.s("shell history: curl -u", 14);
    let h_t = p.s("shell history: k3s agent -t", 20);
    let (_, h_bt) = p.g.bootstrap();
    p.add(
        "shell history: kubeadm join --token with continuation",
        &h_bt,
    );
    let hist = extra.join("root.bash_history");
    fs::write(&hist, format!("sudo kubeadm join 10.0.0.10:6443 --token {tid}.{h_bt} \\\n    --discovery-token-ca-cert-hash sha256:{ca_hash}\nexport K3S_TOKEN={h_tok}\ncurl -u admin:{h_curl} https://10.0.0.10:6443/version\ncurl -sfL https://get.k3s.io | K3S_URL={api} sh -s - agent -t {h_t}\n")).unwrap();
    let ck3 = p.g.hex(64);
    p.add(
        "kubeadm init log: certificate key on the line after 'Using certificate key:'",
        &ck3,
    );
    let (_, init_bt) = p.g.bootstrap();
    p.add("kubeadm init log: join command token", &init_bt);
    let initlog = extra.join("kubeadm-init.log");
    fs::write(&initlog, format!("[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace\n[upload-certs] Using certificate key:\n{ck3}\n[bootstrap-token] Using token: abcdef.{init_bt}\nYou can now join any number of machines by running the following on each node\nas root:\n\n  kubeadm join 10.0.0.10:6443 --token abcdef.{init_bt} \\\n\t--discovery-token-ca-cert-hash sha256:{ca_hash}\n")).unwrap();
    let nt_pw = p.s("k3s server node-token file (K10)", 24);
    let node_token = extra.join("node-token");
    fs::write(&node_token, format!("K10{}::server:{nt_pw}\n", p.g.hex(64))).unwrap();
    let st = p.s("k3s server token file (bare)", 32);
    let server_token = extra.join("token");
    fs::write(&server_token, format!("{st}\n")).unwrap();
    let np = p.s("/etc/rancher/node/password", 32);
    put(root, "/etc/rancher/node/password", format!("{np}\n"));
    let mut includes = vec![hist, initlog, node_token, server_token, kubeadm_path];
    includes.extend(more.includes);
    includes.extend(red8b_includes);
    Planted {
        plants,
        public,
        includes,
    }
}

/// Every (plant, entry) where a needle shows up; empty when nothing leaked.
pub fn leaks(plants: &[Plant], entries: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut v = Vec::new();
    for pl in plants {
        for n in &pl.needles {
            for (path, data) in entries {
                if n.len() >= 8 && data.windows(n.len()).any(|w| w == &n[..]) {
                    v.push(format!("{} -> {path}", pl.what));
                }
            }
        }
    }
    v
}

/// Public values missing from every entry.
pub fn lost(public: &Public, entries: &[(String, Vec<u8>)]) -> Vec<String> {
    public
        .iter()
        .filter(|(_, val)| {
            !entries
                .iter()
                .any(|(_, d)| d.windows(val.len()).any(|w| w == val.as_bytes()))
        })
        .map(|(what, val)| format!("{what}: {val}"))
        .collect()
}
