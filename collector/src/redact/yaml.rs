//! A small fail-closed YAML reader: block mappings and sequences by
//! indentation, block scalars (`|`, `>-`), single and double quoted scalars
//! over several lines, flow collections over several lines (see `flow`),
//! anchors and tags, comments. Keys are kept; a scalar value is kept only when
//! `allow::keep_value` says so for its key and the keys above it.

use super::allow::keep_value;
use super::{flow, marker_into};

enum State {
    Normal,
    /// Block scalar content: lines indented more than `indent`.
    Block {
        indent: usize,
        keep: bool,
    },
    /// A quoted scalar that did not close on its line. Its later lines are
    /// withheld even for a kept key: an open quote must not carry the rest
    /// of the file along.
    Quoted {
        q: u8,
    },
    /// A flow collection that did not close on its line: the text so far.
    Flow {
        key: Vec<u8>,
        parents: Vec<Vec<u8>>,
        buf: Vec<u8>,
        depth: i32,
    },
}

pub(super) fn redact(data: &[u8]) -> (Vec<u8>, u64) {
    let mut y = Yaml {
        out: Vec::with_capacity(data.len()),
        count: 0,
        stack: Vec::new(),
        state: State::Normal,
    };
    for line in data.split_inclusive(|b| *b == b'\n') {
        let body_end = line.len()
            - line
                .iter()
                .rev()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
        let (text, nl) = line.split_at(body_end);
        let indent = text
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let l = Line {
            line,
            text,
            nl,
            indent,
            blank: indent == text.len(),
        };
        if !y.continues(&l) {
            y.line(&l);
        }
    }
    y.finish()
}

/// One line of the file: with its line break, without, the break alone, its
/// indentation, and whether it is blank.
struct Line<'a> {
    line: &'a [u8],
    text: &'a [u8],
    nl: &'a [u8],
    indent: usize,
    blank: bool,
}

/// The redacted text so far, and where the reader is.
struct Yaml {
    out: Vec<u8>,
    count: u64,
    /// Open mapping keys: (column, key), outermost first.
    stack: Vec<(usize, Vec<u8>)>,
    state: State,
}

impl Yaml {
    /// A line inside a block scalar, a multi-line quoted scalar or a flow
    /// collection; false when the line starts afresh.
    fn continues(&mut self, l: &Line) -> bool {
        let (line, text, nl, indent, blank) = (l.line, l.text, l.nl, l.indent, l.blank);
        match &mut self.state {
            State::Block { indent: bi, keep } => {
                if blank || indent > *bi {
                    if *keep || blank {
                        self.out.extend_from_slice(line);
                    } else {
                        self.out.extend_from_slice(&text[..indent]);
                        marker_into(&mut self.out, text.len() - indent);
                        self.count += 1;
                        self.out.extend_from_slice(nl);
                    }
                    return true;
                }
                self.state = State::Normal;
                false
            }
            State::Quoted { q } => {
                let q = *q;
                match close_quote(text, 0, q) {
                    Some(c) => {
                        self.out.extend_from_slice(&text[..indent]);
                        marker_into(&mut self.out, c - indent);
                        self.count += 1;
                        self.out.push(q);
                        self.out.extend_from_slice(&text[c + 1..]);
                        self.out.extend_from_slice(nl);
                        self.state = State::Normal;
                    }
                    None if blank => self.out.extend_from_slice(line),
                    None => {
                        self.out.extend_from_slice(&text[..indent]);
                        marker_into(&mut self.out, text.len() - indent);
                        self.count += 1;
                        self.out.extend_from_slice(nl);
                    }
                }
                true
            }
            State::Flow {
                key,
                parents,
                buf,
                depth,
            } => {
                buf.extend_from_slice(line);
                *depth += depth_change(line);
                if *depth <= 0 {
                    let (o, n) = flow::redact_in(buf, false, parents, key);
                    self.out.extend_from_slice(&o);
                    self.count += n;
                    self.state = State::Normal;
                }
                true
            }
            State::Normal => false,
        }
    }

    /// A line that starts afresh: comment, document marker, `key: value` or
    /// a sequence item.
    fn line(&mut self, l: &Line) {
        let (line, text, nl, indent) = (l.line, l.text, l.nl, l.indent);
        if l.blank {
            self.out.extend_from_slice(line);
            return;
        }
        let content = &text[indent..];
        if content.starts_with(b"#") {
            self.count += comment(&mut self.out, text, indent) as u64;
            self.out.extend_from_slice(nl);
            return;
        }
        if content.starts_with(b"---") || content.starts_with(b"...") || content.starts_with(b"%") {
            self.stack.clear();
            self.out.extend_from_slice(line);
            return;
        }
        // Sequence dashes: `- - key: v`.
        let mut col = indent;
        while text.get(col) == Some(&b'-') && matches!(text.get(col + 1), None | Some(b' ')) {
            col += 1;
            while text.get(col) == Some(&b' ') {
                col += 1;
            }
        }
        let dashes = col > indent;
        self.out.extend_from_slice(&text[..col]);
        let rest = &text[col..];
        if let Some((key, after)) = parse_key(rest) {
            self.key_value(text, col, rest, key, after);
        } else {
            self.item(text, indent, col, dashes);
        }
        self.out.extend_from_slice(nl);
        if let State::Flow { buf, .. } = &mut self.state {
            buf.extend_from_slice(nl);
        }
    }

    /// `key: value` at column `col`; the value starts `after` bytes into `rest`.
    fn key_value(&mut self, text: &[u8], col: usize, rest: &[u8], key: &[u8], after: usize) {
        while self.stack.last().is_some_and(|(i, _)| *i >= col) {
            self.stack.pop();
        }
        let parents: Vec<Vec<u8>> = self.stack.iter().map(|(_, k)| k.clone()).collect();
        self.out.extend_from_slice(&rest[..after]);
        let v = &rest[after..];
        let key = key.to_vec();
        let vcol = col + after;
        self.state = value(
            &mut self.out,
            &mut self.count,
            text,
            vcol,
            v,
            &key,
            &parents,
            col,
        );
        if matches!(self.state, State::Normal) && trim_comment(v).is_empty() {
            self.stack.push((col, key));
        }
    }

    /// A scalar item of a sequence, or a continuation of a plain scalar.
    fn item(&mut self, text: &[u8], indent: usize, col: usize, dashes: bool) {
        let owner_col = if dashes {
            indent
        } else {
            indent.saturating_sub(1)
        };
        while self.stack.last().is_some_and(|(i, _)| *i > owner_col) {
            self.stack.pop();
        }
        let (key, parents) = match self.stack.split_last() {
            Some(((_, k), ps)) => (k.clone(), ps.iter().map(|(_, k)| k.clone()).collect()),
            None => (Vec::new(), Vec::new()),
        };
        let rest = &text[col..];
        self.state = value(
            &mut self.out,
            &mut self.count,
            text,
            col,
            rest,
            &key,
            &parents,
            indent,
        );
    }

    /// A flow collection still open at the end is redacted as it stands.
    fn finish(mut self) -> (Vec<u8>, u64) {
        if let State::Flow {
            key, parents, buf, ..
        } = self.state
        {
            let (o, n) = flow::redact_in(&buf, false, &parents, &key);
            self.out.extend_from_slice(&o);
            self.count += n;
        }
        (self.out, self.count)
    }
}

/// Leading spaces, anchors (`&a`) and tags (`!!str`) before a value.
fn decoration(v: &[u8]) -> usize {
    let mut j = 0;
    loop {
        while j < v.len() && (v[j] == b' ' || v[j] == b'\t') {
            j += 1;
        }
        if j < v.len() && (v[j] == b'&' || v[j] == b'!') {
            while j < v.len() && v[j] != b' ' {
                j += 1;
            }
            continue;
        }
        break;
    }
    j
}

/// A quoted value; one that does not close on its line goes on.
fn quoted_value(out: &mut Vec<u8>, count: &mut u64, r: &[u8], keep: bool) -> State {
    let q = r[0];
    match close_quote(r, 1, q) {
        Some(c) => {
            if keep {
                out.extend_from_slice(&r[..=c]);
            } else {
                out.push(q);
                marker_into(out, c - 1);
                *count += 1;
                out.push(q);
            }
            tail(out, count, &r[c + 1..]);
            State::Normal
        }
        None => {
            if keep {
                out.extend_from_slice(r);
            } else {
                out.push(q);
                marker_into(out, r.len() - 1);
                *count += 1;
            }
            State::Quoted { q }
        }
    }
}

/// A plain scalar, up to a ` #` comment.
fn plain_value(out: &mut Vec<u8>, count: &mut u64, r: &[u8], keep: bool) {
    let end = r.windows(2).position(|w| w == b" #").unwrap_or(r.len());
    let val = &r[..end];
    let vt = trim(val);
    if keep || vt == b"true" || vt == b"false" || vt == b"null" || vt == b"~" {
        out.extend_from_slice(val);
    } else {
        marker_into(out, vt.len());
        *count += 1;
    }
    if end < r.len() {
        out.push(b' ');
        *count += comment(out, &r[end + 1..], 0) as u64;
    }
}

fn depth_change(s: &[u8]) -> i32 {
    let mut d = 0;
    let mut q: Option<u8> = None;
    for &b in s {
        match q {
            Some(c) if b == c => q = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => q = Some(b),
                b'{' | b'[' => d += 1,
                b'}' | b']' => d -= 1,
                _ => {}
            },
        }
    }
    d
}

/// A comment: `#` kept, its text withheld. Returns 1 when something was withheld.
fn comment(out: &mut Vec<u8>, text: &[u8], at: usize) -> usize {
    out.extend_from_slice(&text[..at]);
    out.push(b'#');
    let c = &text[at + 1..];
    let t = c.iter().filter(|b| !b.is_ascii_whitespace()).count();
    if t == 0 {
        out.extend_from_slice(c);
        return 0;
    }
    out.push(b' ');
    marker_into(out, c.len());
    1
}

fn trim_comment(v: &[u8]) -> &[u8] {
    let t = trim(v);
    if t.starts_with(b"#") {
        return &[];
    }
    t
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(s);
    &v[s..e.max(s)]
}

/// `key:` at the start of `rest`: (key, offset just past the colon).
fn parse_key(rest: &[u8]) -> Option<(&[u8], usize)> {
    if matches!(rest.first(), Some(b'"' | b'\'')) {
        let q = rest[0];
        let c = close_quote(rest, 1, q)?;
        let mut j = c + 1;
        while rest.get(j) == Some(&b' ') {
            j += 1;
        }
        if rest.get(j) == Some(&b':') && matches!(rest.get(j + 1), None | Some(b' ' | b'\t')) {
            return Some((&rest[1..c], j + 1));
        }
        return None;
    }
    if matches!(
        rest.first(),
        Some(b'{' | b'[' | b'|' | b'>' | b'&' | b'!' | b'*')
    ) {
        return None;
    }
    let mut j = 0;
    while j < rest.len() {
        if rest[j] == b':' && matches!(rest.get(j + 1), None | Some(b' ' | b'\t')) {
            let k = trim(&rest[..j]);
            if k.is_empty() {
                return None;
            }
            return Some((k, j + 1));
        }
        if rest[j] == b'#' && j > 0 && rest[j - 1] == b' ' {
            return None;
        }
        j += 1;
    }
    None
}

/// Index of the closing quote at or after `from` (`''` and `\"` escapes).
fn close_quote(s: &[u8], from: usize, q: u8) -> Option<usize> {
    let mut j = from;
    while j < s.len() {
        if q == b'"' && s[j] == b'\\' {
            j += 2;
            continue;
        }
        if s[j] == q {
            if q == b'\'' && s.get(j + 1) == Some(&b'\'') {
                j += 2;
                continue;
            }
            return Some(j);
        }
        j += 1;
    }
    None
}

/// Emit a value `v` (everything after `key:` on the line, or after `- `) and
/// return the state for the following lines.
#[allow(clippy::too_many_arguments)]
fn value(
    out: &mut Vec<u8>,
    count: &mut u64,
    text: &[u8],
    vcol: usize,
    v: &[u8],
    key: &[u8],
    parents: &[Vec<u8>],
    key_col: usize,
) -> State {
    let _ = (text, vcol);
    let keep = keep_value(key, parents);
    // Leading spaces, anchors and tags are kept.
    let j = decoration(v);
    out.extend_from_slice(&v[..j]);
    let r = &v[j..];
    if r.is_empty() {
        return State::Normal;
    }
    match r[0] {
        b'#' => {
            *count += comment(out, r, 0) as u64;
            State::Normal
        }
        b'|' | b'>' => {
            let (ind, com) = match r.iter().position(|b| *b == b'#') {
                Some(p) => (&r[..p], &r[p..]),
                None => (r, &r[r.len()..]),
            };
            out.extend_from_slice(ind);
            if !com.is_empty() {
                *count += comment(out, com, 0) as u64;
            }
            State::Block {
                indent: key_col,
                keep,
            }
        }
        b'"' | b'\'' => quoted_value(out, count, r, keep),
        b'{' | b'[' => {
            let d = depth_change(r);
            if d <= 0 {
                let (o, n) = flow::redact_in(r, false, parents, key);
                out.extend_from_slice(&o);
                *count += n;
                State::Normal
            } else {
                State::Flow {
                    key: key.to_vec(),
                    parents: parents.to_vec(),
                    buf: r.to_vec(),
                    depth: d,
                }
            }
        }
        _ => {
            plain_value(out, count, r, keep);
            State::Normal
        }
    }
}

/// What follows a closed quoted scalar: spaces and a comment.
fn tail(out: &mut Vec<u8>, count: &mut u64, t: &[u8]) {
    match t.iter().position(|b| *b == b'#') {
        Some(p) => {
            out.extend_from_slice(&t[..p]);
            *count += comment(out, &t[p..], 0) as u64;
        }
        None => out.extend_from_slice(t),
    }
}

#[cfg(test)]
mod tests {
    fn y(s: &str) -> String {
        String::from_utf8(crate::redact::structured(crate::redact::Format::Yaml, s.as_bytes()).0)
            .unwrap()
    }

    #[test]
    fn kubeconfig() {
        let kc = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://10.0.0.1:6443\n  name: default\nusers:\n- name: u\n  user:\n    client-key-data: S0VZ\n    token: abc.def\n    password: \"p w\"\n    auth-provider:\n      name: oidc\n      config:\n        id-token: eyJx\n        client-secret: cs\n    exec:\n      command: /usr/bin/aws\n      args: [\"--secret\", \"x\"]\n      env:\n      - name: AWS_SECRET\n        value: s3cr3t\n";
        let out = y(kc);
        for s in ["S0VZ", "abc.def", "p w", "eyJx", "cs\n", "\"x\"", "s3cr3t"] {
            assert!(!out.contains(s), "{s} in\n{out}");
        }
        for s in [
            "Q0E=",
            "https://10.0.0.1:6443",
            "AWS_SECRET",
            "/usr/bin/aws",
            "name: oidc",
        ] {
            assert!(out.contains(s), "{s} missing in\n{out}");
        }
    }

    #[test]
    fn next_line_block_and_quoted_values() {
        let out = y("token:\n  abcsecret\nclient-key-data: >-\n  QUJD\n  REVG\ncertificateKey: \"multi\n  line\"\nnodeName: pi\n");
        assert!(
            !out.contains("abcsecret") && !out.contains("QUJD") && !out.contains("REVG"),
            "{out}"
        );
        assert!(!out.contains("multi") && !out.contains("line\""), "{out}");
        assert!(out.contains("nodeName: pi"), "{out}");
        let out = y("node-name: pi-3\nnode-ip: 10.0.0.5\ntoken: K10abc::server:pw\nagent-token: x\ndatastore-endpoint: postgres://u:p@h/db\netcd-s3-secret-key: sk\nvpn-auth: \"name=tailscale,joinKey=tskey\"\nkubelet-arg:\n  - \"cgroup-driver=systemd\"\n");
        for s in ["K10abc", "pw", "agent-token: x", "u:p", "sk\n", "tskey"] {
            assert!(!out.contains(s), "{s} in\n{out}");
        }
        for s in ["pi-3", "10.0.0.5", "cgroup-driver=systemd"] {
            assert!(out.contains(s), "{s} missing in\n{out}");
        }
    }

    #[test]
    fn kubeadm_and_registries() {
        let out = y("apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n    token: abcdef.0123456789abcdef\n    caCertHashes:\n    - sha256:aaaa\n  tlsBootstrapToken: abcdef.0123456789abcdef\ncontrolPlane:\n  certificateKey: ffee\nnodeRegistration:\n  name: pi-1\n  kubeletExtraArgs:\n    node-ip: 10.0.0.9\n");
        assert!(
            !out.contains("0123456789abcdef") && !out.contains("ffee"),
            "{out}"
        );
        for s in ["sha256:aaaa", "10.0.0.1:6443", "pi-1", "10.0.0.9"] {
            assert!(out.contains(s), "{s} missing in\n{out}");
        }
        let out = y("mirrors:\n  docker.io:\n    endpoint:\n      - \"https://u:p@mirror.local:5000\"\nconfigs:\n  \"reg:5000\":\n    auth:\n      username: bob\n      password: pw\n      auth: YmFzZTY0\n      identitytoken: itok\n    tls:\n      insecure_skip_verify: true\n");
        for s in ["bob", "pw\n", "YmFzZTY0", "itok", "u:p@"] {
            assert!(!out.contains(s), "{s} in\n{out}");
        }
        assert!(
            out.contains("mirror.local:5000") && out.contains("insecure_skip_verify: true"),
            "{out}"
        );
    }
}
