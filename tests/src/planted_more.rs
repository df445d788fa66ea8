//! More planted secrets (red-team round 8): formats the first suite did not
//! plant. Raspberry Pi Imager and cloud-init first-boot files, password
//! hashes, `.netrc`, passwords piped into logins or given to login tools,
//! registry credentials on command lines, Secret data maps in text, OpenVPN
//! and PuTTY keys, vendor token shapes, signed URLs, JSON escaped twice, a
//! value cut by a CRI partial record, and `--token-auth-file` CSVs.

use crate::planted::{Gen, Plant, Public};
use crate::put;
use std::fs;
use std::path::{Path, PathBuf};

struct M<'a> {
    g: &'a mut Gen,
    plants: &'a mut Vec<Plant>,
}

impl M<'_> {
    fn s(&mut self, what: &str, len: usize) -> String {
        let s = self.g.secret(len);
        self.add(what, &s);
        s
    }
    fn add(&mut self, what: &str, needle: &str) {
        self.plants.push(Plant {
            what: format!("red8: {what}"),
            needles: vec![needle.as_bytes().to_vec()],
        });
    }
    /// A crypt(3)-style hash `$id$salt$hash` whose salt and hash are planted.
    fn hash(&mut self, what: &str, id: &str) -> String {
        let salt = self.g.secret(12);
        let h = self.g.secret(43).replace('Z', "/");
        self.add(&format!("{what} (salt)"), &salt);
        self.add(&format!("{what} (hash)"), &h);
        format!("${id}${salt}${h}")
    }
    fn hex(&mut self, what: &str, len: usize) -> String {
        let h = self.g.hex(len);
        self.add(what, &h);
        h
    }
}

/// What the caller adds to the journal, the pod logs and `--include`.
pub struct More {
    pub journal: String,
    pub includes: Vec<PathBuf>,
}

/// Plant the round-8 formats under `root` and in `extra`.
pub fn plant_more(
    g: &mut Gen,
    plants: &mut Vec<Plant>,
    public: &mut Public,
    root: &Path,
    extra: &Path,
    journal_prefix: &str,
) -> More {
    let mut m = M { g, plants };
    let mut includes = first_boot(&mut m, public, extra);
    includes.extend(shell_and_clients(&mut m, public, extra));
    root_files(&mut m, public, root);
    let mut journal = journal_lines(&mut m, public, journal_prefix);
    journal.push_str(&key_shapes(&mut m, public, journal_prefix));
    pod_log(&mut m, root);
    More { journal, includes }
}

/// Pi Imager `userconf.txt` and `firstrun.sh`, cloud-init `user-data`.
fn first_boot(m: &mut M, public: &mut Public, extra: &Path) -> Vec<PathBuf> {
    let uc = m.hash("userconf.txt sha512-crypt", "6");
    let userconf = extra.join("userconf.txt");
    fs::write(&userconf, format!("pi:{uc}\n")).unwrap();
    let fr_hash = m.hash("firstrun.sh userconf sha256-crypt", "5");
    let fr_hash2 = m.hash("firstrun.sh echo | chpasswd -e", "5");
    let psk = m.hex("firstrun.sh imager_custom set_wlan PSK", 64);
    let psk2 = m.hex("firstrun.sh wpa_supplicant heredoc psk=", 64);
    let plain = m.s("firstrun.sh echo 'pi:plain' | chpasswd", 14);
    let firstrun = extra.join("firstrun.sh");
    fs::write(&firstrun, format!("#!/bin/bash\nset +e\nFIRSTUSER=`getent passwd 1000 | cut -d: -f1`\nif [ -f /usr/lib/userconf-pi/userconf ]; then\n   /usr/lib/userconf-pi/userconf 'pi' '{fr_hash}'\nelse\n   echo \"$FIRSTUSER:\"'{fr_hash2}' | chpasswd -e\nfi\necho 'pi:{plain}' | sudo chpasswd\nif [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then\n   /usr/lib/raspberrypi-sys-mods/imager_custom set_wlan 'MyWiFi' '{psk}' 'GB'\nelse\ncat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\ncountry=GB\nnetwork={{\n\tssid=\"MyWiFi\"\n\tpsk={psk2}\n}}\nWPAEOF\nfi\n")).unwrap();
    public.push(("firstrun.sh SSID".into(), "ssid=\"MyWiFi\"".into()));
    public.push((
        "firstrun.sh command".into(),
        "/usr/lib/raspberrypi-sys-mods/imager_custom set_wlan 'MyWiFi'".into(),
    ));
    let ci_hash = m.hash("cloud-init hashed_passwd (value starts with $)", "6");
    let ci_list = m.s("cloud-init chpasswd list block scalar", 16);
    let ci_users = m.s("cloud-init chpasswd users password", 16);
    let userdata = extra.join("user-data");
    fs::write(&userdata, format!("#cloud-config\nhostname: pi-worker-3\nusers:\n  - name: pi\n    groups: sudo\n    hashed_passwd: {ci_hash}\n    lock_passwd: false\nchpasswd:\n  list: |\n    pi:{ci_list}\n  expire: false\n  users:\n    - name: root\n      password: {ci_users}\n      type: text\nruncmd:\n  - [systemctl, restart, k3s-agent]\n")).unwrap();
    public.push(("cloud-init hostname".into(), "hostname: pi-worker-3".into()));
    vec![userconf, firstrun, userdata]
}

/// Shell history with logins and client tools, `.netrc`, OpenVPN, PuTTY,
/// age, and a Secret printed as JSON.
fn shell_and_clients(m: &mut M, public: &mut Public, extra: &Path) -> Vec<PathBuf> {
    let mut h = String::new();
    let mut line = |m: &mut M, what: &str, len: usize, f: &dyn Fn(&str) -> String| {
        let s = m.s(what, len);
        h.push_str(&f(&s));
        h.push('\n');
    };
    line(
        m,
        "history: echo PW | docker login --password-stdin",
        18,
        &|s| format!("echo \"{s}\" | docker login -u bob --password-stdin registry.local:5000"),
    );
    line(m, "history: nerdctl login -p", 18, &|s| {
        format!("sudo nerdctl login -u bob -p {s} registry.local:5000")
    });
    line(m, "history: skopeo --src-creds user:pw", 18, &|s| {
        format!("skopeo copy --src-creds bob:{s} docker://registry.local:5000/a docker://b")
    });
    line(m, "history: ctr images pull --user user:pw", 18, &|s| {
        format!("ctr -n k8s.io images pull --user bob:{s} registry.local:5000/pause:3.9")
    });
    line(m, "history: sshpass -p", 16, &|s| {
        format!("sshpass -p '{s}' ssh pi@10.0.0.21")
    });
    line(m, "history: mysql -pPW (glued)", 16, &|s| {
        format!("mysql -h 10.0.0.30 -u k3s -p{s} k3s")
    });
    line(m, "history: redis-cli -a", 16, &|s| {
        format!("redis-cli -h 10.0.0.30 -a {s} ping")
    });
    line(m, "history: htpasswd -bc", 16, &|s| {
        format!("htpasswd -bc /etc/registry/htpasswd bob {s}")
    });
    line(m, "history: tailscale up --authkey=", 30, &|s| {
        format!("sudo tailscale up --authkey=tskey-auth-{s}")
    });
    line(m, "history: nmcli wifi password", 14, &|s| {
        format!("nmcli dev wifi connect MyWiFi password {s}")
    });
    line(
        m,
        "history: curl presigned S3 URL X-Amz-Signature",
        40,
        &|s| {
            format!("curl -o k3s 'https://b.s3.amazonaws.com/k3s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={s}'")
        },
    );
    line(m, "history: Stripe sk_live_ key", 24, &|s| {
        format!("export STRIPE=sk_live_{s}")
    });
    line(m, "history: GitLab runner glrt- token", 20, &|s| {
        format!("gitlab-runner register --url https://gitlab.local glrt-{s}")
    });
    line(m, "history: Slack xoxe- refresh token", 30, &|s| {
        format!("echo xoxe-1-{s} > /dev/null")
    });
    line(m, "history: openssl -k", 16, &|s| {
        format!("openssl enc -d -aes-256-cbc -k {s} -in backup.enc")
    });
    line(
        m,
        "history: ssh ... \"echo pi:pw | sudo chpasswd\"",
        14,
        &|s| format!("ssh pi@10.0.0.22 \"echo pi:{s} | sudo chpasswd\""),
    );
    line(m, "history: Slack webhook URL path", 24, &|s| {
        format!(
            "curl -X POST -d @msg.json https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/{s}"
        )
    });
    line(m, "history: Telegram bot token in URL path", 35, &|s| {
        format!("curl -s \"https://api.telegram.org/bot123456789:{s}/sendMessage?chat_id=42\"")
    });
    line(m, "history: MQTT_PW= (a *_PW variable)", 14, &|s| {
        format!("MQTT_PW={s} ./notify.sh")
    });
    line(
        m,
        "history: http_proxy=user:pass@host (no scheme)",
        14,
        &|s| format!("export http_proxy=proxyuser:{s}@proxy.local:3128"),
    );
    line(
        m,
        "history: raspi-config do_wifi_ssid_passphrase",
        14,
        &|s| format!("sudo raspi-config nonint do_wifi_ssid_passphrase MyWiFi {s} 0 1"),
    );
    line(
        m,
        "history: usermod --password $(openssl passwd -6 PW)",
        14,
        &|s| format!("sudo usermod --password \"$(openssl passwd -6 '{s}')\" pi"),
    );
    line(m, "history: mc alias set ... SECRET", 30, &|s| {
        format!("mc alias set backup http://10.0.0.30:9000 minioadmin {s}")
    });
    line(m, "history: pihole -a -p", 14, &|s| {
        format!("pihole -a -p {s}")
    });
    line(m, "history: chpasswd heredoc", 14, &|s| {
        format!("sudo chpasswd <<END\npi:{s}\nEND")
    });
    public.push((
        "history: program and user".into(),
        "docker login -u bob --password-stdin registry.local:5000".into(),
    ));
    public.push(("history: ssh target".into(), "pi@10.0.0.21".into()));
    let hist = extra.join("pi.bash_history");
    fs::write(&hist, h).unwrap();

    let np = m.s(".netrc multi-line password", 20);
    let netrc = extra.join("netrc.txt");
    fs::write(&netrc, format!("machine github.com\n  login pi\n  password {np}\nmachine registry.local\tlogin bob\tpassword\t{np}x\n")).unwrap();
    public.push((".netrc machine".into(), "machine github.com".into()));

    let ovpn_pw = m.s("OpenVPN inline <auth-user-pass> password", 16);
    let sk = m.hex("OpenVPN tls-auth Static key V1 body", 32);
    let ovpn = extra.join("client.ovpn");
    fs::write(&ovpn, format!("client\nremote vpn.example.org 1194\n<auth-user-pass>\npi\n{ovpn_pw}\n</auth-user-pass>\n<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n{sk}\n{}\n-----END OpenVPN Static key V1-----\n</tls-auth>\n", m.g.hex(32))).unwrap();
    public.push((
        "OpenVPN remote".into(),
        "remote vpn.example.org 1194".into(),
    ));

    let ppk_line = m.s("PuTTY .ppk Private-Lines", 60);
    let age = format!(
        "AGE-SECRET-KEY-1{}",
        m.g.from(b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
    );
    m.add("age secret key", &age);
    let keys = extra.join("keys.txt");
    fs::write(&keys, format!("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: pi-worker-3\nPublic-Lines: 1\nAAAAC3NzaC1lZDI1NTE5AAAAIPUBLICPUBLIC\nPrivate-Lines: 1\n{ppk_line}\nPrivate-MAC: 00ff\n# created: 2026-11-24T05:50:01Z\n{age}\n")).unwrap();

    let d1 = m.s("kubectl get secret -o json: data map (multi-line JSON)", 24);
    let d2 = m.s("kubectl get secret -o json: stringData", 20);
    let sec = extra.join("secret.json");
    fs::write(&sec, format!("{{\n    \"apiVersion\": \"v1\",\n    \"data\": {{\n        \"DB_URL\": \"{d1}\",\n        \"config.json\": \"{d1}x\"\n    }},\n    \"stringData\": {{\n        \"extra\": \"{d2}\"\n    }},\n    \"kind\": \"Secret\",\n    \"metadata\": {{\n        \"name\": \"flannel-token-x7k2p\"\n    }}\n}}\n")).unwrap();
    public.push(("Secret keys".into(), "\"DB_URL\": ".into()));
    let mvn = m.s("XML <password> element (settings.xml)", 18);
    let xml = extra.join("settings.xml");
    fs::write(&xml, format!("<settings>\n  <servers>\n    <server>\n      <id>registry.local</id>\n      <username>bob</username>\n      <password>{mvn}</password>\n    </server>\n  </servers>\n</settings>\n")).unwrap();
    public.push(("XML server id".into(), "<id>registry.local</id>".into()));
    let na = m.s("node-args annotation: JSON array \"--token\",\"VALUE\"", 24);
    let yl = m.s(
        "static pod command: YAML list '- --token' then '- VALUE'",
        24,
    );
    let rb = m.s("Ruby/Puppet hash :password => \"VALUE\"", 16);
    let objs = extra.join("objects.txt");
    fs::write(&objs, format!("metadata:\n  annotations:\n    k3s.io/node-args: '[\"agent\",\"--server\",\"https://10.0.0.10:6443\",\"--token\",\"{na}\"]'\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --token\n    - {yl}\n    - --secure-port=6443\npuppet: {{ :user => 'bob', :password => \"{rb}\" }}\n")).unwrap();
    public.push((
        "node-args server".into(),
        "\"--server\",\"https://10.0.0.10:6443\"".into(),
    ));
    public.push(("static pod flag".into(), "- --secure-port=6443".into()));
    let cred = m.s("k3s server/cred/passwd CSV (token,node,node,group)", 32);
    let passwd = extra.join("cred-passwd");
    fs::write(
        &passwd,
        format!(
            "{cred},node,node,k3s:agent\n{}0,server,server,k3s:server\n",
            m.g.hex(32)
        ),
    )
    .unwrap();
    public.push(("cred CSV group".into(), ",node,node,k3s:agent".into()));
    vec![hist, netrc, ovpn, keys, sec, passwd, xml, objs]
}

/// Files the collector reads by path.
fn root_files(m: &mut M, public: &mut Public, root: &Path) {
    let csv_tok = m.s("/etc/kubernetes/pki/token.csv (--token-auth-file)", 32);
    put(
        root,
        "/etc/kubernetes/pki/token.csv",
        format!("{csv_tok},kubelet-bootstrap,10001,\"system:bootstrappers\"\n"),
    );
    let csv_pw = m.s("/etc/kubernetes/pki/basic_auth.csv", 16);
    put(
        root,
        "/etc/kubernetes/pki/basic_auth.csv",
        format!("{csv_pw},admin,admin\n"),
    );
    let my = m.s("k3s.service ExecStartPre mysql -pPW", 16);
    let dl = m.s(
        "k3s.service ExecStartPre sh -c 'echo PW | docker login --password-stdin'",
        16,
    );
    put(root, "/etc/systemd/system/k3s.service", format!("[Unit]\nDescription=Lightweight Kubernetes\n[Service]\nType=notify\nExecStartPre=-/usr/bin/mysql -h 10.0.0.30 -uk3s -p{my} -e 'select 1'\nExecStartPre=/bin/sh -c 'echo {dl} | docker login -u bob --password-stdin registry.local'\nExecStart=/usr/local/bin/k3s server\n"));
    public.push((
        "k3s.service ExecStart".into(),
        "ExecStart=/usr/local/bin/k3s".into(),
    ));
    let fs_pw = m.s("/etc/fstab cifs password=", 16);
    put(root, "/etc/fstab", format!("proc /proc proc defaults 0 0\nPARTUUID=6c586e13-02 / ext4 defaults,noatime 0 1\n//nas.local/k3s /mnt/nas cifs username=pi,password={fs_pw},uid=1000 0 0\n"));
    public.push((
        "/etc/fstab root".into(),
        "PARTUUID=6c586e13-02 / ext4".into(),
    ));
}

/// Journal lines (the caller appends them to the kubelet and k3s journals).
fn journal_lines(m: &mut M, public: &mut Public, pre: &str) -> String {
    let esc2 = m.s("journal: JSON escaped twice \\\\\\\"password\\\\\\\"", 16);
    let manifest = m.s(
        "journal: Secret YAML inside a JSON string (data:\\n  key: value)",
        20,
    );
    let sig = m.s("journal: Azure SAS sig= in a URL", 30);
    let gsig = m.s("journal: GCS X-Goog-Signature in a URL", 40);
    let cookie = m.s("journal: Set-Cookie", 24);
    let ya29 = format!("ya29.{}", m.g.secret(40));
    m.add("journal: Google OAuth access token ya29.", &ya29);
    let shadow = m.hash("journal: shadow line yescrypt", "y");
    let sudo = m.s("journal: sudo log COMMAND=/usr/bin/sshpass -p", 12);
    let short = format!("pw{}", m.g.from(b"abcdefghijkmnopqrstuvwxyz", 6));
    m.add("journal: short password after 'password:' in prose", &short);
    let dollar = format!("${}!", m.g.secret(10));
    m.add("journal: password=$... (a value, not a variable)", &dollar);
    public.push((
        "journal: sudo PWD".into(),
        "PWD=/home/pi ; USER=root".into(),
    ));
    public.push((
        "journal: Azure blob host".into(),
        "https://acct.blob.core.windows.net/c/k3s".into(),
    ));
    format!(
        "{pre}level=error msg=\"{{\\\\\\\"user\\\\\\\":\\\\\\\"x\\\\\\\",\\\\\\\"password\\\\\\\":\\\\\\\"{esc2}\\\\\\\"}}\"\n\
         {pre}{{\"level\":\"info\",\"msg\":\"applied\",\"manifest\":\"apiVersion: v1\\nkind: Secret\\ndata:\\n  pw: {manifest}\\n\"}}\n\
         {pre}GET https://acct.blob.core.windows.net/c/k3s?sv=2020-08-04&sp=r&sig={sig}%3D 200\n\
         {pre}GET https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={gsig} 200\n\
         {pre}< Set-Cookie: session={cookie}; Path=/; HttpOnly\n\
         {pre}using Google access token {ya29}\n\
         {pre}pi:{shadow}:19700:0:99999:7:::\n\
         {pre}     pi : TTY=pts/0 ; PWD=/home/pi ; USER=root ; COMMAND=/usr/bin/sshpass -p {sudo} ssh pi@10.0.0.22\n\
         {pre}msg=\"db connect\" password: {short} host=10.0.0.30\n\
         {pre}DB_PASSWORD=\"{dollar}\" ./migrate\n"
    )
}

/// Key material in shapes the first suite lacked: a PEM body whose BEGIN
/// line is missing, base64 of a PEM under a name that says nothing, and the
/// private members of a JSON Web Key. Lines for the journal.
fn key_shapes(m: &mut M, public: &mut Public, pre: &str) -> String {
    let pem = rcgen::KeyPair::generate().expect("key").serialize_pem();
    let body: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----BEGIN"))
        .collect();
    for l in body
        .iter()
        .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
    {
        m.add("journal: PEM key body without its BEGIN line", l);
    }
    let pem2 = rcgen::KeyPair::generate().expect("key").serialize_pem();
    let b64 = crate::base64(pem2.as_bytes());
    m.add("journal: TLS_KEY_B64=<base64 of a PEM key>", &b64[40..100]);
    let d = m.s("journal: JWK private exponent \"d\"", 43);
    let q = m.s("journal: JWK prime \"q\"", 43);
    public.push(("JWK public exponent".into(), "\"e\":\"AQAB\"".into()));
    let mut j = String::new();
    for l in body {
        j.push_str(&format!("{pre}{l}\n"));
    }
    j.push_str(&format!("{pre}TLS_KEY_B64={b64}\n"));
    j.push_str(&format!(
        "{pre}jwk {{\"kty\":\"RSA\",\"e\":\"AQAB\",\"d\":\"{d}\",\"q\":\"{q}\"}}\n"
    ));
    j
}

/// A CNI pod log whose `--token=` value is cut by a CRI partial record.
fn pod_log(m: &mut M, root: &Path) {
    let a = m.s(
        "pod log: value cut by a CRI partial record (first part)",
        12,
    );
    let b = m.s("pod log: value cut by a CRI partial record (rest)", 12);
    put(root, "/var/log/pods/kube-system_calico-node-x7k2p_0a1b/calico-node/0.log", format!("2026-11-24T05:50:01.000000001Z stdout P I1124 startup.go:1] using --token={a}\n2026-11-24T05:50:01.000000002Z stdout F {b} tail\n2026-11-24T05:50:01.000000003Z stdout F E1124 startup.go:2] failed to get secret flannel-token-x7k2p\n"));
}
