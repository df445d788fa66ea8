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
    let mut out = Vec::with_capacity(data.len());
    let mut count = 0u64;
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let n = data.len();
    // The decision for a scalar at the current position.
    let decide = |stack: &[Frame]| -> bool {
        let mut ps: Vec<Vec<u8>> = parents.to_vec();
        if !key.is_empty() {
            ps.push(key.to_vec());
        }
        for f in stack {
            if !f.key.is_empty() {
                ps.push(f.key.clone());
            }
        }
        let k = match stack.last() {
            Some(f) if f.object => f.cur.clone(),
            Some(_) => ps.pop().unwrap_or_default(),
            None => ps.pop().unwrap_or_default(),
        };
        // Deduplicate the array case: the array's key is the value's key.
        keep_value(&k, &ps)
    };
    while i < n {
        let b = data[i];
        match b {
            b'{' | b'[' => {
                let k = match stack.last() {
                    Some(f) if f.object => f.cur.clone(),
                    _ => Vec::new(),
                };
                stack.push(Frame {
                    object: b == b'{',
                    key: k,
                    want_key: b == b'{',
                    cur: Vec::new(),
                });
                out.push(b);
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                if let Some(f) = stack.last_mut() {
                    if f.object {
                        f.want_key = true;
                    }
                }
                out.push(b);
                i += 1;
            }
            b',' => {
                if let Some(f) = stack.last_mut() {
                    if f.object {
                        f.want_key = true;
                    }
                }
                out.push(b);
                i += 1;
            }
            b':' => {
                if let Some(f) = stack.last_mut() {
                    if f.object {
                        f.want_key = false;
                    }
                }
                out.push(b);
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {
                out.push(b);
                i += 1;
            }
            b'#' if !json => {
                // A YAML comment inside a flow collection.
                let e = data[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map(|p| i + p)
                    .unwrap_or(n);
                out.push(b'#');
                if e > i + 1 {
                    marker_into(&mut out, e - i - 1);
                    count += 1;
                }
                i = e;
            }
            b'"' | b'\'' => {
                let q = b;
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
                let is_key = stack.last().is_some_and(|f| f.object && f.want_key);
                if is_key {
                    if let Some(f) = stack.last_mut() {
                        f.cur = data[s..e].to_vec();
                    }
                    out.extend_from_slice(&data[i..(e + 1).min(n)]);
                } else if closed && decide(&stack) {
                    out.extend_from_slice(&data[i..e + 1]);
                } else {
                    out.push(q);
                    marker_into(&mut out, e - s);
                    count += 1;
                    if closed {
                        out.push(q);
                    }
                }
                i = if closed { e + 1 } else { n };
            }
            _ => {
                // A bare scalar: number, literal, or YAML plain scalar.
                let s = i;
                let mut j = i;
                while j < n {
                    let c = data[j];
                    if matches!(c, b',' | b'{' | b'}' | b'[' | b']' | b'\n' | b'\r') {
                        break;
                    }
                    if c == b':'
                        && (json || matches!(data.get(j + 1), None | Some(b' ' | b'\n' | b'\t')))
                    {
                        break;
                    }
                    if c == b'#' && !json && j > s && data[j - 1] == b' ' {
                        break;
                    }
                    j += 1;
                }
                let mut e = j;
                while e > s && matches!(data[e - 1], b' ' | b'\t') {
                    e -= 1;
                }
                let v = &data[s..e];
                let is_key = stack.last().is_some_and(|f| f.object && f.want_key);
                if is_key {
                    if let Some(f) = stack.last_mut() {
                        f.cur = v.to_vec();
                    }
                    out.extend_from_slice(v);
                } else if v == b"true" || v == b"false" || v == b"null" || decide(&stack) {
                    out.extend_from_slice(v);
                } else if !v.is_empty() {
                    if json {
                        out.push(b'"');
                        marker_into(&mut out, v.len());
                        out.push(b'"');
                    } else {
                        marker_into(&mut out, v.len());
                    }
                    count += 1;
                }
                out.extend_from_slice(&data[e..j]);
                i = j.max(s + 1);
                if j == s {
                    // A lone ':' or similar already handled above; copy one byte.
                    out.push(data[s]);
                }
            }
        }
    }
    (out, count)
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
