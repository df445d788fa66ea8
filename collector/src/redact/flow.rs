//! JSON and YAML flow collections (`{a: b, c: [d]}`): every scalar value is
//! kept only when its key (or an enclosing key) is allowed. Keys are kept.
//! Malformed input is handled best effort: an unterminated string is withheld
//! to the end.

use super::allow::keep_value;
use super::marker_into;

struct Frame {
    /// An object (keys and values) or an array (values of the parent key).
    object: bool,
    /// The key this container is the value of.
    key: Vec<u8>,
    /// Inside an object: the next scalar is a key.
    want_key: bool,
    /// Inside an object: the current key.
    cur: Vec<u8>,
}

pub(super) fn redact(data: &[u8], json: bool) -> (Vec<u8>, u64) {
    redact_in(data, json, &[], b"")
}

/// Redact a flow value found under `key` with `parents` (outermost first).
pub(super) fn redact_in(
    data: &[u8],
    json: bool,
    parents: &[Vec<u8>],
    key: &[u8],
) -> (Vec<u8>, u64) {
    let mut f = Flow {
        data,
        json,
        parents,
        key,
        out: Vec::with_capacity(data.len()),
        count: 0,
        stack: Vec::new(),
    };
    let n = data.len();
    let mut i = 0;
    while i < n {
        let b = data[i];
        i = match b {
            b'{' | b'[' => f.open(b, i),
            b'}' | b']' => f.close(b, i),
            b',' | b':' => f.separator(b, i),
            b' ' | b'\t' | b'\r' | b'\n' => {
                f.out.push(b);
                i + 1
            }
            b'#' if !json => f.comment(i),
            b'"' | b'\'' => f.quoted(i),
            _ => f.bare(i),
        };
    }
    (f.out, f.count)
}

/// One flow collection being redacted.
struct Flow<'a> {
    data: &'a [u8],
    json: bool,
    parents: &'a [Vec<u8>],
    key: &'a [u8],
    out: Vec<u8>,
    count: u64,
    stack: Vec<Frame>,
}

impl Flow<'_> {
    /// The decision for a scalar at the current position.
    fn decide(&self) -> bool {
        let mut ps: Vec<Vec<u8>> = self.parents.to_vec();
        if !self.key.is_empty() {
            ps.push(self.key.to_vec());
        }
        for f in &self.stack {
            if !f.key.is_empty() {
                ps.push(f.key.clone());
            }
        }
        let k = match self.stack.last() {
            Some(f) if f.object => f.cur.clone(),
            // In an array the array's key is the value's key.
            _ => ps.pop().unwrap_or_default(),
        };
        keep_value(&k, &ps)
    }

    /// Inside an object, the next scalar is a key.
    fn is_key(&self) -> bool {
        self.stack.last().is_some_and(|f| f.object && f.want_key)
    }

    fn set_key(&mut self, k: &[u8]) {
        if let Some(f) = self.stack.last_mut() {
            f.cur = k.to_vec();
        }
    }

    fn open(&mut self, b: u8, i: usize) -> usize {
        let k = match self.stack.last() {
            Some(f) if f.object => f.cur.clone(),
            _ => Vec::new(),
        };
        self.stack.push(Frame {
            object: b == b'{',
            key: k,
            want_key: b == b'{',
            cur: Vec::new(),
        });
        self.out.push(b);
        i + 1
    }

    fn close(&mut self, b: u8, i: usize) -> usize {
        self.stack.pop();
        self.separator(b, i)
    }

    /// `,` (and a closing bracket) make the next scalar of an object a key;
    /// `:` makes it a value.
    fn separator(&mut self, b: u8, i: usize) -> usize {
        if let Some(f) = self.stack.last_mut() {
            if f.object {
                f.want_key = b != b':';
            }
        }
        self.out.push(b);
        i + 1
    }

    /// A YAML comment inside a flow collection: withheld.
    fn comment(&mut self, i: usize) -> usize {
        let data = self.data;
        let e = data[i..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(data.len(), |p| i + p);
        self.out.push(b'#');
        if e > i + 1 {
            marker_into(&mut self.out, e - i - 1);
            self.count += 1;
        }
        e
    }

    /// A quoted scalar; unterminated, it is withheld to the end.
    fn quoted(&mut self, i: usize) -> usize {
        let (data, n) = (self.data, self.data.len());
        let q = data[i];
        let s = i + 1;
        let mut j = s;
        let mut closed = false;
        while j < n {
            if data[j] == b'\\' && q == b'"' {
                j += 2;
                continue;
            }
            if data[j] == q {
                if q == b'\'' && data.get(j + 1) == Some(&b'\'') {
                    j += 2;
                    continue;
                }
                closed = true;
                break;
            }
            j += 1;
        }
        let e = j.min(n);
        if self.is_key() {
            self.set_key(&data[s..e]);
            self.out.extend_from_slice(&data[i..(e + 1).min(n)]);
        } else if closed && self.decide() {
            self.out.extend_from_slice(&data[i..e + 1]);
        } else {
            self.out.push(q);
            marker_into(&mut self.out, e - s);
            self.count += 1;
            if closed {
                self.out.push(q);
            }
        }
        if closed {
            e + 1
        } else {
            n
        }
    }

    /// Where a bare scalar starting at `s` ends.
    fn bare_end(&self, s: usize) -> usize {
        let (data, json) = (self.data, self.json);
        let mut j = s;
        while j < data.len() {
            let c = data[j];
            if matches!(c, b',' | b'{' | b'}' | b'[' | b']' | b'\n' | b'\r') {
                break;
            }
            if c == b':' && (json || matches!(data.get(j + 1), None | Some(b' ' | b'\n' | b'\t'))) {
                break;
            }
            if c == b'#' && !json && j > s && data[j - 1] == b' ' {
                break;
            }
            j += 1;
        }
        j
    }

    /// A bare scalar: number, literal, or YAML plain scalar.
    fn bare(&mut self, s: usize) -> usize {
        let data = self.data;
        let j = self.bare_end(s);
        let mut e = j;
        while e > s && matches!(data[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        let v = &data[s..e];
        if self.is_key() {
            self.set_key(v);
            self.out.extend_from_slice(v);
        } else if v == b"true" || v == b"false" || v == b"null" || self.decide() {
            self.out.extend_from_slice(v);
        } else if !v.is_empty() {
            if self.json {
                self.out.push(b'"');
                marker_into(&mut self.out, v.len());
                self.out.push(b'"');
            } else {
                marker_into(&mut self.out, v.len());
            }
            self.count += 1;
        }
        self.out.extend_from_slice(&data[e..j]);
        if j == s {
            // A lone ':' or similar already handled above; copy one byte.
            self.out.push(data[s]);
        }
        j.max(s + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> String {
        String::from_utf8(redact(s.as_bytes(), true).0).unwrap()
    }

    #[test]
    fn json_keeps_allowed_values_only() {
        assert_eq!(
            j(
                r#"{"name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true}}],"auths":{"r":{"auth":"dXNlcjpwdw==","identitytoken":"tok"}}}"#
            ),
            r#"{"name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true}}],"auths":{"r":{"auth":"<redacted len=12>","identitytoken":"<redacted len=3>"}}}"#
        );
        assert_eq!(
            j(r#"{"password": 12345}"#),
            r#"{"password": "<redacted len=5>"}"#
        );
        let out = j(
            r#"{"status":{"conditions":[{"type":"NetworkReady","status":false,"reason":"NetworkPluginNotReady","message":"cni config uninitialized"}]}}"#,
        );
        assert!(out.contains("NetworkPluginNotReady") && out.contains("cni config uninitialized"));
        assert!(serde_json::from_str::<serde_json::Value>(&j(
            r#"{"a": 1, "b": [1, "x"], "c": {"d": null}}"#
        ))
        .is_ok());
    }
}
