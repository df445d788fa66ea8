//! Secret scrubbing applied to every byte of text that enters a bundle.
//!
//! Works line by line, so it can run over a 100 MiB journal in one pass with
//! constant memory. What it removes:
//! - PEM private key blocks (any `BEGIN ... PRIVATE KEY`), even inside one log line;
//! - bootstrap tokens (`abcdef.0123456789abcdef`): the secret half;
//! - k3s tokens (`K10<hash>::user:password`);
//! - values of `--token`, `--discovery-token`, `--tls-bootstrap-token`,
//!   `--certificate-key`, `--agent-token`, `--password`, `*TOKEN=`, `*PASSWORD=`,
//!   `token:`, `client-key-data:`, `password:`, `certificateKey:`,
//!   `Authorization: Bearer`.

pub const MARK: &[u8] = b"REDACTED";
pub const KEY_BLOCK_MARK: &[u8] = b"# nodejoin-collect: private key block removed\n";

#[derive(Default)]
pub struct Redactor {
    in_key_block: bool,
    /// The text starts somewhere inside a stream (a log cut to its newest
    /// part), so it may start inside a key block. Cleared at the first marker.
    after_cut: bool,
    /// Set when everything emitted so far must be thrown away: an END marker
    /// came before any BEGIN, so the text so far was the tail of a key block.
    discard: bool,
    /// Secrets replaced and key blocks dropped so far.
    pub count: u64,
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = 0;
    while let Some(p) = hay.get(i..)?.iter().position(|b| *b == first) {
        let at = i + p;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Bytes where a secret can start: the hot loop skips everything else.
const TRIGGER: [bool; 256] = {
    let mut t = [false; 256];
    let s = b".K-tTpPsScCbB";
    let mut i = 0;
    while i < s.len() {
        t[s[i] as usize] = true;
        i += 1;
    }
    t
};

/// Cheap second-byte test before the full keyword match.
fn may_start_keyword(b: u8, next: u8) -> bool {
    let n = next | 0x20;
    match b | 0x20 {
        b't' => n == b'o',
        b'p' => n == b'a',
        b's' => n == b'e',
        b'c' => n == b'l' || n == b'e',
        b'b' => n == b'e',
        b'-' => next == b'-',
        _ => false,
    }
}

/// End of a value that starts at `i`: stops at white space, quotes, commas,
/// semicolons, closing brackets.
fn value_end(line: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < line.len() {
        match line[j] {
            b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b',' | b';' | b'}' | b']' | b')'
            | b'\\' => break,
            _ => j += 1,
        }
    }
    j
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// `--flag value` or `--flag=value`: always secret.
    Flag,
    /// `KEY=value` or `key: value`: secret when it looks like one (see `looks_secret`).
    Assign,
    /// `key: value` where the key is always secret-bearing.
    AlwaysAssign,
    /// `Bearer value`.
    Bearer,
}

const KEYWORDS: &[(&[u8], Form)] = &[
    (b"--tls-bootstrap-token", Form::Flag),
    (b"--discovery-token", Form::Flag),
    (b"--certificate-key", Form::Flag),
    (b"--agent-token", Form::Flag),
    (b"--token", Form::Flag),
    (b"--password", Form::Flag),
    (b"client-key-data", Form::AlwaysAssign),
    (b"certificatekey", Form::AlwaysAssign),
    (b"certificate-key", Form::AlwaysAssign),
    (b"password", Form::Assign),
    (b"secret", Form::Assign),
    (b"token", Form::Assign),
    (b"bearer", Form::Bearer),
];

fn looks_secret(v: &[u8], key_at_line_start: bool, eq: bool) -> bool {
    if v.is_empty() || v.starts_with(MARK) || v.starts_with(b"/") || v.starts_with(b"<") {
        return false;
    }
    if eq || key_at_line_start {
        return true;
    }
    // Prose like `failed to get token: Unauthorized` keeps its word.
    v.len() >= 20 || (v.len() >= 8 && v.iter().any(|b| b.is_ascii_digit()))
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor for text that starts after a cut (see `take_discard`).
    pub fn after_cut() -> Self {
        Redactor {
            after_cut: true,
            ..Self::default()
        }
    }

    /// True once: the caller must drop all output it has so far, because it
    /// was the tail of a key block whose BEGIN was cut off.
    pub fn take_discard(&mut self) -> bool {
        std::mem::take(&mut self.discard)
    }

    /// True while inside a private key block that began on an earlier line.
    pub fn in_key_block(&self) -> bool {
        self.in_key_block
    }

    /// Scrub one line (with or without its newline) and append it to `out`.
    pub fn line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let mut line = line;
        if self.after_cut && find(line, b"PRIVATE KEY").is_some() {
            self.after_cut = false;
            let end = find_key_end(line);
            let begin = find_key_begin(line);
            if let (Some(e), b) = (end, begin) {
                if b.is_none_or(|b| e < b) {
                    // The stream was cut inside a key block: all before is key.
                    self.discard = true;
                    self.count += 1;
                    out.clear();
                    out.extend_from_slice(KEY_BLOCK_MARK);
                    line = &line[e..];
                    if line.iter().all(|b| b.is_ascii_whitespace()) {
                        return;
                    }
                }
            }
        }
        if self.in_key_block {
            match find_key_end(line) {
                Some(end) => {
                    self.in_key_block = false;
                    line = &line[end..];
                    if line.iter().all(|b| b.is_ascii_whitespace()) {
                        return;
                    }
                }
                None => return,
            }
        }
        // Key blocks starting on this line.
        let mut owned;
        // `PRIVATE KEY` is rare in logs; `-----BEGIN` is searched only then.
        let begin = if find(line, b"PRIVATE KEY").is_some() {
            find_key_begin(line)
        } else {
            None
        };
        if let Some(start) = begin {
            self.count += 1;
            let prefix = &line[..start];
            let rest = &line[start..];
            owned = Vec::with_capacity(line.len());
            owned.extend_from_slice(prefix);
            match find_key_end(rest) {
                Some(end) => {
                    owned.extend_from_slice(b"[private key removed]");
                    owned.extend_from_slice(&rest[end..]);
                }
                None => {
                    self.in_key_block = true;
                    if prefix.iter().all(|b| b.is_ascii_whitespace()) {
                        out.extend_from_slice(KEY_BLOCK_MARK);
                        return;
                    }
                    owned.extend_from_slice(b"[private key removed]\n");
                }
            }
            // A second block on the same line is rare; scrub the result again.
            let mut again = Redactor::new();
            let mut tmp = Vec::with_capacity(owned.len());
            again.line(&owned, &mut tmp);
            self.count += again.count;
            if again.in_key_block {
                self.in_key_block = true;
            }
            owned = tmp;
            line = &owned;
            return self.values(line, out);
        }
        self.values(line, out)
    }

    fn values(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let spans = secret_spans(line);
        if spans.is_empty() {
            out.extend_from_slice(line);
            return;
        }
        let mut last = 0;
        for (s, e) in spans {
            if s < last {
                continue;
            }
            out.extend_from_slice(&line[last..s]);
            out.extend_from_slice(MARK);
            last = e;
            self.count += 1;
        }
        out.extend_from_slice(&line[last..]);
    }

    /// Scrub a whole in-memory text.
    pub fn text(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        for l in data.split_inclusive(|b| *b == b'\n') {
            self.line(l, &mut out);
        }
        out
    }
}

fn find_key_begin(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = find(&line[from..], b"-----BEGIN ") {
        let at = from + p;
        let after = &line[at + 11..];
        let head_end = find(after, b"-----").unwrap_or(after.len());
        if find(&after[..head_end], b"PRIVATE KEY").is_some() {
            return Some(at);
        }
        from = at + 11;
    }
    None
}

/// Offset just past the `-----END ... PRIVATE KEY-----` marker.
fn find_key_end(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = find(&line[from..], b"-----END ") {
        let at = from + p + 9;
        let after = &line[at..];
        if let Some(close) = find(after, b"-----") {
            if find(&after[..close], b"PRIVATE KEY").is_some() {
                return Some(at + close + 5);
            }
        }
        from = at;
    }
    None
}

/// Byte ranges of secret values in one line, in order.
pub fn secret_spans(line: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let n = line.len();
    let mut i = 0;
    let line_start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'-' | b'"' | b'\''))
        .unwrap_or(n);
    while i < n {
        let b = line[i];
        if !TRIGGER[b as usize] {
            i += 1;
            continue;
        }
        let next = if i + 1 < n { line[i + 1] } else { 0 };
        // Bootstrap token: [a-z0-9]{6}\.[a-z0-9]{16}; the secret is the second half.
        if b == b'.' {
            let sec_end = i + 17;
            if i >= 6
                && sec_end <= n
                && is_token_char(line[i - 1])
                && line[i - 6..i].iter().all(|c| is_token_char(*c))
                && (i == 6 || !is_alnum(line[i - 7]))
                && line[i + 1..sec_end].iter().all(|c| is_token_char(*c))
                && (sec_end == n || !is_alnum(line[sec_end]))
            {
                spans.push((i + 1, sec_end));
                i = sec_end;
                continue;
            }
            i += 1;
            continue;
        }
        // k3s secure token: K10<sha256 hex>::<user>:<password>
        if b == b'K'
            && next == b'1'
            && line[i..].starts_with(b"K10")
            && (i == 0 || !is_alnum(line[i - 1]))
        {
            let hex_end = i
                + 3
                + line[i + 3..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
            if hex_end - i - 3 >= 32 && line[hex_end..].starts_with(b"::") {
                let e = value_end(line, hex_end);
                spans.push((i, e));
                i = e;
                continue;
            }
        }
        if may_start_keyword(b, next) {
            if let Some((s, e)) = keyword_value(line, i, line_start) {
                spans.push((s, e));
                i = e.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    spans
}

fn keyword_value(line: &[u8], i: usize, line_start: usize) -> Option<(usize, usize)> {
    let hay = &line[i..];
    for (kw, form) in KEYWORDS {
        if !starts_with_ci(hay, kw) {
            continue;
        }
        // Word boundary before, or a camelCase boundary (`tlsBootstrapToken`).
        if i > 0 && *form != Form::Flag {
            let prev = line[i - 1];
            let camel = prev.is_ascii_lowercase() && line[i].is_ascii_uppercase();
            if is_alnum(prev) && !camel {
                return None;
            }
        }
        if *form == Form::Flag && i > 0 && (is_alnum(line[i - 1]) || line[i - 1] == b'-') {
            return None;
        }
        let mut j = i + kw.len();
        // The key must end here (`token-file` and `tokens` are other keys).
        if j < line.len() && (is_alnum(line[j]) || line[j] == b'-' || line[j] == b'_') {
            return None;
        }
        if j < line.len() && line[j] == b'"' {
            j += 1;
        }
        let sep_start = j;
        let mut eq = false;
        let mut colon = false;
        while j < line.len() && matches!(line[j], b' ' | b'\t') {
            j += 1;
        }
        if j < line.len() && line[j] == b'=' {
            eq = true;
            j += 1;
        } else if j < line.len() && line[j] == b':' {
            colon = true;
            j += 1;
        }
        while j < line.len() && matches!(line[j], b' ' | b'\t') {
            j += 1;
        }
        match form {
            Form::Flag => {
                if !eq && j == sep_start {
                    return None;
                }
            }
            Form::Bearer => {
                if eq || colon || j == sep_start {
                    return None;
                }
            }
            Form::Assign | Form::AlwaysAssign => {
                if !eq && !colon {
                    return None;
                }
            }
        }
        if j < line.len() && matches!(line[j], b'"' | b'\'') {
            j += 1;
        }
        let e = value_end(line, j);
        let v = &line[j..e];
        let secret = match form {
            Form::Flag | Form::AlwaysAssign => {
                !v.is_empty() && !v.starts_with(MARK) && !v.starts_with(b"-")
            }
            Form::Bearer => v.len() >= 8 && !v.starts_with(MARK),
            Form::Assign => {
                // The whole key word (`tlsBootstrapToken`) starting the line marks a YAML key.
                let mut ws = i;
                while ws > 0
                    && (is_alnum(line[ws - 1]) || line[ws - 1] == b'_' || line[ws - 1] == b'-')
                {
                    ws -= 1;
                }
                looks_secret(v, ws <= line_start, eq)
            }
        };
        if secret {
            return Some((j, e));
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        String::from_utf8(Redactor::new().text(s.as_bytes())).unwrap()
    }

    #[test]
    fn bootstrap_token_secret_half() {
        assert_eq!(
            r("kubeadm join 127.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00ff\n"),
            "kubeadm join 127.0.0.1:6443 --token REDACTED --discovery-token-ca-cert-hash sha256:00ff\n"
        );
        assert_eq!(
            r("token id abcdef.0123456789abcdef\n"),
            "token id abcdef.REDACTED\n"
        );
        // A version string is not a token.
        assert_eq!(
            r("v1.28.2 kube.example.local\n"),
            "v1.28.2 kube.example.local\n"
        );
    }

    #[test]
    fn flags_and_env() {
        assert_eq!(
            r("ExecStart=/usr/local/bin/k3s agent --token=supersecret\n"),
            "ExecStart=/usr/local/bin/k3s agent --token=REDACTED\n"
        );
        assert_eq!(r("K3S_TOKEN='hunter2'\n"), "K3S_TOKEN='REDACTED'\n");
        assert_eq!(
            r("--certificate-key 0a1b2c3d\n"),
            "--certificate-key REDACTED\n"
        );
        assert_eq!(
            r("--token-file /etc/k3s/token\n"),
            "--token-file /etc/k3s/token\n"
        );
    }

    #[test]
    fn yaml_keys() {
        assert_eq!(
            r("    client-key-data: LS0tLS1CRUdJTg==\n"),
            "    client-key-data: REDACTED\n"
        );
        assert_eq!(r("    token: mysecret\n"), "    token: REDACTED\n");
        assert_eq!(
            r("  tlsBootstrapToken: x1y2z3\n"),
            "  tlsBootstrapToken: REDACTED\n"
        );
        assert_eq!(
            r("{\"token\":\"eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.abc\"}\n"),
            "{\"token\":\"REDACTED\"}\n"
        );
        assert_eq!(
            r("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9xyz\n"),
            "Authorization: Bearer REDACTED\n"
        );
    }

    #[test]
    fn prose_survives() {
        let lines = [
            "[discovery] Failed to connect to API Server \"127.0.0.1:6443\": token id \"abcdef\" is invalid for this cluster or it has expired\n",
            "level=fatal msg=\"Error: token CA hash does not match the Cluster CA certificate hash\"\n",
            "failed to get token: Unauthorized\n",
            "client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
        ];
        for l in lines {
            assert_eq!(r(l), l);
        }
    }

    #[test]
    fn a_cut_inside_a_key_block_drops_the_tail_of_the_key() {
        let mut red = Redactor::after_cut();
        let mut out = Vec::new();
        for l in [
            "MIIEowIBAAKCAQEAkeyline1\n",
            "keyline2keyline2\n",
            "-----END RSA PRIVATE KEY-----\n",
            "after the key\n",
        ] {
            red.line(l.as_bytes(), &mut out);
            if red.take_discard() {
                // The caller drops what it wrote before; `out` restarts with the mark.
            }
        }
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("keyline"), "{text}");
        assert!(text.ends_with("after the key\n"));
        // A cut that is not inside a block changes nothing.
        let mut red = Redactor::after_cut();
        assert_eq!(
            String::from_utf8(red.text(b"plain\n-----BEGIN CERTIFICATE-----\n")).unwrap(),
            "plain\n-----BEGIN CERTIFICATE-----\n"
        );
    }

    #[test]
    fn key_blocks() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
        let mut red = Redactor::new();
        let out = String::from_utf8(red.text(pem.as_bytes())).unwrap();
        assert!(out.contains("BEGIN CERTIFICATE"));
        assert!(!out.contains("MHcCAQEE"));
        assert!(!out.contains("PRIVATE KEY-----"));
        assert_eq!(red.count, 1);
        // Inline, as a log line with escaped newlines.
        let l = "msg=\"key -----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY----- done\"\n";
        assert_eq!(r(l), "msg=\"key [private key removed] done\"\n");
    }
}
