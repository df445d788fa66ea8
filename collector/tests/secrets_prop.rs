//! Property tests for the redactor: a random secret in a random format at a
//! random place in random log text, fed in random chunks, never appears in
//! the output; text with only public values comes out unchanged.

use collector::redact::{self, Format, Redactor};
use proptest::prelude::*;

/// Log words with no secret-named keys: what the node's logs are made of.
const WORDS: &[&str] = &[
    "kubelet",
    "I1124",
    "05:50:01.000001",
    "reflector.go:1]",
    "failed",
    "to",
    "list",
    "*v1.Node:",
    "Get",
    "\"https://10.0.0.10:6443/api/v1/nodes\":",
    "dial",
    "tcp",
    "10.0.0.10:6443:",
    "connect:",
    "connection",
    "refused",
    "level=info",
    "msg=\"starting\"",
    "node=pi-worker-3",
    "sha256:0f5a8e1c",
    "flannel-token-x7k2p",
    "token",
    "id",
    "\"abcdef\"",
    "is",
    "invalid",
    "{\"a\":",
    "1}",
    "[x]",
    "-",
    "--node-ip=10.0.0.21",
    "pi-worker-3",
    "x509:",
    "certificate",
    "has",
    "expired",
    "E1124",
    "secret",
    "password",
    "error:",
    "Unauthorized",
    "key",
    "value",
];

/// How a secret appears: `{}` is replaced by the secret.
const FORMS: &[&str] = &[
    "--token {}",
    "--token={}",
    "'--token' '{}'",
    "--token \\\n    {}",
    "K3S_TOKEN={}",
    "K3S_TOKEN='{}'",
    "Environment=\"K3S_TOKEN={} x\"",
    "PASSWD={}",
    "DB_PASSWORD=\"{} with spaces\"",
    "password: {}",
    "  token: \"{}\"",
    "token:\n  {}",
    "client-key-data: |\n  {}\n  {}",
    "{\"token\":\"{}\"}",
    "{'password': '{}'}",
    "{token: {}, ttl: 1h}",
    "secret_key = \"{}\"",
    "etcd-s3-secret-key: {}",
    "vpn-auth: name=tailscale,joinKey={}",
    "Authorization: Bearer {}",
    "Authorization: Basic {}",
    "authorization: token {}",
    "X-Api-Key: {}",
    "curl -u admin:{} https://h",
    "https://user:{}@proxy.local:3128",
    "datastore-endpoint: mysql://k3s:{}@tcp(h:3306)/k3s",
    "[upload-certs] Using certificate key:\n{}",
    "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----",
    "key \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\" end",
    // Round 8: shapes and commands, mappings of secrets, line announcers.
    "echo 'pi:{}' | sudo chpasswd",
    "pi:$6$rounds=5000$saltsalt${}:19700:0:99999:7:::",
    "sshpass -p '{}' ssh pi@h",
    "docker login -u bob -p {} registry.local",
    "ctr images pull --user bob:{} r/x",
    "bash -c 'echo {} | docker login --password-stdin r'",
    "msg=\"db\" password: {} host=db",
    "machine github.com\n  login pi\n  password {}",
    "data:\n  DB_URL: {}\n  other: {}",
    "chpasswd:\n  list: |\n    pi:{}",
    "Private-Lines: 1\n{}",
    "<auth-user-pass>\npi\n{}",
    "curl https://hooks.slack.com/services/T0/B0/{}",
    "{},kubelet-bootstrap,10001,\"system:bootstrappers\"",
    "GET /o?X-Amz-Signature={}&x=1",
    "auth_pass {}",
];

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,40}".prop_map(|s| format!("Zq9{s}"))
}

fn text() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::collection::vec(prop::sample::select(WORDS), 0..12).prop_map(|w| w.join(" ")),
        0..30,
    )
}

fn feed_chunked(red: &mut Redactor, data: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        let end = (at + c).min(data.len());
        red.feed(&data[at..end], &mut out);
        at = end;
    }
    red.feed(&data[at..], &mut out);
    red.finish(&mut out);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn a_planted_secret_never_survives(
        lines in text(),
        at in any::<prop::sample::Index>(),
        form in prop::sample::select(FORMS),
        s in secret(),
        prefix in prop::sample::select(&["", "2026-11-24T05:50:01.000001+0000 pi k3s[9]: ", "    ", "- "][..]),
        cuts in prop::collection::vec(1usize..300, 0..20),
    ) {
        let mut lines = lines;
        // Continuation lines of a YAML list item are indented, not dashed.
        let cont = prefix.replace("- ", "  ");
        let planted: String = form
            .replace("{}", &s)
            .lines()
            .enumerate()
            .map(|(n, l)| format!("{}{l}", if n == 0 { prefix } else { cont.as_str() }))
            .collect::<Vec<_>>()
            .join("\n");
        let i = at.index(lines.len() + 1);
        lines.insert(i, planted);
        let data = lines.join("\n") + "\n";
        let out = feed_chunked(&mut Redactor::new(), data.as_bytes(), &cuts);
        prop_assert!(!contains(&out, s.as_bytes()), "leaked with {form:?}:\n{}", String::from_utf8_lossy(&out));
        // Also after a cut, and whole.
        let out = Redactor::after_cut().text(data.as_bytes());
        prop_assert!(!contains(&out, s.as_bytes()));
    }

    #[test]
    fn public_text_is_unchanged(lines in text(), cuts in prop::collection::vec(1usize..300, 0..20)) {
        let data = lines.join("\n") + "\n";
        let out = feed_chunked(&mut Redactor::new(), data.as_bytes(), &cuts);
        prop_assert_eq!(String::from_utf8_lossy(&out), data);
    }

    #[test]
    fn structured_values_fail_closed(
        key in "[a-z]{3,10}(-[a-z]{2,8})?",
        s in secret(),
        fmt in prop::sample::select(&[Format::Yaml, Format::Toml, Format::Env, Format::Json][..]),
    ) {
        // A key nobody listed keeps no value, whatever it is called.
        let doc = match fmt {
            Format::Yaml => format!("{key}: {s}\nserver: https://10.0.0.10:6443\n"),
            Format::Toml => format!("{key} = \"{s}\"\nversion = 2\n"),
            Format::Env => format!("{}={s}\nK3S_URL=https://10.0.0.10:6443\n", key.to_uppercase().replace('-', "_")),
            _ => format!("{{\"{key}\": \"{s}\", \"type\": \"flannel\"}}\n"),
        };
        let allowed = redact::allow::keep_value(key.as_bytes(), &[])
            || (fmt == Format::Env && redact::allow::keep_env(key.to_uppercase().replace('-', "_").as_bytes()));
        let (out, _) = redact::structured(fmt, doc.as_bytes());
        if !allowed {
            prop_assert!(!contains(&out, s.as_bytes()), "{fmt:?} kept {key}:\n{}", String::from_utf8_lossy(&out));
        }
        let public: &[u8] = match fmt { Format::Toml => b"version = 2", Format::Json => b"flannel", _ => b"https://10.0.0.10:6443" };
        prop_assert!(contains(&out, public));
    }
}
