//! Red-team round 8b: secrets in places and encodings the earlier rounds
//! missed, each fed whole and in small chunks (so escapes and names are split
//! across buffer edges), and the public lines next to them kept.

use collector::redact::{format_for_path, redact_all, Format, Redactor};

const SEC: &str = "Zq7XvR2mK9pLw4TnB8sYc";

fn chunked(input: &str, step: usize) -> String {
    let mut r = Redactor::new();
    let mut out = Vec::new();
    for c in input.as_bytes().chunks(step) {
        r.feed(c, &mut out);
    }
    r.finish(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn escaped_and_tool_specific_secrets_are_withheld() {
    let cases = [
        // systemd credentials on the kernel command line (and dmesg's echo of it).
        format!("console=tty1 systemd.set_credential_binary=k3s.token:{SEC} rootwait"),
        format!("[    0.000000] Kernel command line: systemd.set_credential=mycred:{SEC} quiet"),
        format!("SetCredential=token:{SEC}"),
        // ntpd's key password.
        format!("crypto randfile /dev/urandom pw {SEC}"),
        format!("crypto pw {SEC}"),
        // JSON \u0022 and \x22 quotes, URL-encoded separators.
        format!("msg=\"{{\\u0022token\\u0022:\\u0022{SEC}\\u0022}}\""),
        format!("{{\\u0022password\\u0022: \\u0022{SEC}\\u0022}}"),
        format!("args=[\\x22--token\\x22, \\x22{SEC}\\x22]"),
        format!("GET /login?user=pi%26password%3D{SEC} HTTP/1.1"),
        format!("GET /cb?state=x&client_secret%3d{SEC}%26a=b"),
        // Tools and placements.
        format!("kubectl create secret generic db --from-literal=DB_URL={SEC}"),
        format!("kubectl create secret generic db --from-literal 'conn={SEC}'"),
        format!("k3s ctr images pull -u bob:{SEC} registry.local/app:1"),
        format!("ctr -n k8s.io i pull --user bob:{SEC} r.local/x:1"),
        format!("curl -sfL https://get.example.org/install.sh | sh -s - agent -t {SEC}"),
        format!("dsn=\"app:{SEC}@tcp(10.0.0.30:3306)/app?parseTime=true\""),
        format!("DSN=root:{SEC}@unix(/run/mysqld/mysqld.sock)/db"),
        // A lower-case header name is still a header when its value is one.
        format!("req authorization: bearer {SEC}"),
        format!("req authorization: {SEC} accept: */*"),
    ];
    for c in &cases {
        for step in [usize::MAX, 1, 3, 7] {
            let input = format!("2026-11-24T05:50:01.000001+0000 pi k3s[903]: {c}\r\n");
            let out = chunked(&input, step.min(input.len()));
            assert!(!out.contains(SEC), "step {step}\nIN : {input}OUT: {out}");
            assert!(!out.contains(&SEC[..10]), "partial: {out}");
            assert!(out.contains("<redacted"), "{out}");
        }
    }
}

#[test]
fn names_next_to_the_secrets_are_kept() {
    let r = |s: &str| String::from_utf8(Redactor::new().text(s.as_bytes())).unwrap();
    assert_eq!(
        r(&format!(
            "systemd.set_credential_binary=k3s.token:{SEC} quiet\n"
        )),
        "systemd.set_credential_binary=k3s.token:<redacted len=21> quiet\n"
    );
    assert_eq!(
        r(&format!("--from-literal=DB_URL={SEC} x\n")),
        "--from-literal=DB_URL=<redacted len=21> x\n"
    );
    // The escapes around the value stay as they were.
    assert_eq!(
        r(&format!("{{\\u0022token\\u0022:\\u0022{SEC}\\u0022}}\n")),
        "{\\u0022token\\u0022:\\u0022<redacted len=21>\\u0022}\n"
    );
    assert_eq!(
        r(&format!("a?password%3D{SEC}%26b=1\n")),
        "a?password%3D<redacted len=21>%26b=1\n"
    );
    assert_eq!(
        r(&format!("app:{SEC}@tcp(10.0.0.30:3306)/db\n")),
        "app:<redacted len=21>@tcp(10.0.0.30:3306)/db\n"
    );
}

#[test]
fn text_cut_in_the_middle_of_a_line_withholds_that_line() {
    // A log cut with no newline near the cut point starts mid-line: the
    // fragment may be the tail of `password: ...`.
    let mut r = Redactor::after_cut_mid_line();
    let mut out = Vec::new();
    r.feed(format!("sword: {SEC} more\nnext ").as_bytes(), &mut out);
    r.feed(b"line kept\n", &mut out);
    r.finish(&mut out);
    let o = String::from_utf8(out).unwrap();
    assert_eq!(o, "<redacted len=33>\nnext line kept\n");
    // Split over several feeds before its newline.
    let mut r = Redactor::after_cut_mid_line();
    let mut out = Vec::new();
    for c in format!("ssword={SEC}\nok\n").as_bytes().chunks(4) {
        r.feed(c, &mut out);
    }
    r.finish(&mut out);
    let o = String::from_utf8(out).unwrap();
    assert!(!o.contains(&SEC[..8]) && o.ends_with("\nok\n"), "{o}");
}

#[test]
fn unicode_blanks_between_a_name_and_its_value() {
    for sep in ["\u{a0}", " \u{2003}", "\u{202f}", "\u{3000}", "\t\u{a0}"] {
        for line in [
            format!("k3s agent --token{sep}{SEC} --server https://10.0.0.10:6443\n"),
            format!("password{sep}={sep}{SEC} x\n"),
            format!("token:{sep}{SEC}\n"),
        ] {
            let o = String::from_utf8(Redactor::new().text(line.as_bytes())).unwrap();
            assert!(!o.contains(&SEC[..10]), "{line:?} -> {o:?}");
        }
    }
}

#[test]
fn calico_kubeconfig_is_read_as_yaml() {
    let p = "/etc/cni/net.d/calico-kubeconfig";
    assert_eq!(format_for_path(p), Format::Yaml);
    let text = format!(
        "# Kubeconfig file for Calico CNI plugin.\napiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: https://10.96.0.1:443\nusers:\n- name: calico\n  user:\n    token: >-\n      {SEC}\n    exec:\n      env:\n      - name: API_KEY\n        value: {SEC}x\n"
    );
    let (o, n) = redact_all(format_for_path(p), text.as_bytes());
    let o = String::from_utf8(o).unwrap();
    assert!(!o.contains(&SEC[..10]) && n >= 2, "{o}");
    assert!(o.contains("server: https://10.96.0.1:443"), "{o}");
}

/// A Docker json-file record, as `/var/log/pods` holds under cri-dockerd.
fn dj(msg: &str) -> String {
    let esc = msg.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{{\"log\":\"{esc}\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-24T05:50:01.000000001Z\"}}\n")
}

#[test]
fn docker_json_file_records_are_read_as_lines() {
    let body = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2";
    let input = [
        dj("-----BEGIN RSA PRIVATE KEY-----"),
        dj(&format!("MIIEowIBAAKCAQEA{SEC}{}", &body[..40])),
        dj(&format!("{SEC}{body}")),
        dj("-----END RSA PRIVATE KEY-----"),
        dj("k3s agent --server https://10.0.0.10:6443 --token \\"),
        dj(&format!("    {SEC}")),
        dj(&format!("level=info msg=\"cfg\" password=\"{SEC}\"")),
    ]
    .concat();
    let public = dj("I1124 05:50:01.000001       1 main.go:1] \"Using interface\" iface=\"eth0\" \\u003cnil\\u003e");
    for step in [usize::MAX, 5] {
        let out = chunked(&format!("{input}{public}"), step);
        assert!(!out.contains(&SEC[..10]), "{out}");
        assert!(out.contains(&public), "{out}");
        // Every record is still one JSON line.
        assert!(
            out.lines()
                .all(|l| l.starts_with("{\"log\":\"") && l.ends_with("\"}")),
            "{out}"
        );
    }
}

#[test]
fn nul_separated_proc_files() {
    // `--include /proc/PID/cmdline` or `environ`: NUL between the words.
    for input in [
        format!("/usr/local/bin/k3s\0agent\0--token\0{SEC}\0--node-ip\010.0.0.2\0"),
        format!("/usr/local/bin/k3s\0agent\0-t\0{SEC}\0"),
        format!("PATH=/usr/bin\0K3S_TOKEN={SEC}\0HOME=/root\0"),
    ] {
        let o = Redactor::new().text(input.as_bytes());
        let o = String::from_utf8_lossy(&o);
        assert!(!o.contains(&SEC[..10]), "{input:?} -> {o:?}");
        assert!(
            o.starts_with("/usr/local/bin/k3s\0agent") || o.starts_with("PATH=/usr/bin\0"),
            "{o:?}"
        );
    }
}
