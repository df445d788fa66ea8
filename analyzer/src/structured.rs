//! YAML, JSON and TOML from bundles, parsed safely by construction.
//!
//! Before any parser sees a text it must be small, shallow and (for YAML)
//! free of anchors and aliases: Kubernetes objects never need them, and
//! `serde_yaml_ng` limits alias jumps, not expanded nodes (a 194-byte .tgz
//! reached 2.5 GiB, issue 9). Nesting is measured before parsing because deep
//! flow nesting costs the YAML parser quadratic time. Parsing then holds a
//! permit from the run's shared parsing budget.

use serde::de::DeserializeOwned;
use std::fmt;

/// Largest structured text parsed (bytes).
pub const MAX_BYTES: usize = 4 << 20;
/// Deepest nesting accepted (flow brackets plus block indentation levels).
pub const MAX_DEPTH: usize = 64;
/// Most nodes (an upper estimate: separators and lines) accepted.
pub const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredError {
    /// What was being parsed (a path in the bundle, or a description).
    pub what: String,
    pub message: String,
}

impl fmt::Display for StructuredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.message)
    }
}

impl std::error::Error for StructuredError {}

thread_local! {
    static REFUSED: std::cell::RefCell<Vec<StructuredError>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Structured bytes one input may have parsed in all (many 4 MiB kubeconfigs
/// would otherwise add up to seconds each).
pub const INPUT_BYTES: u64 = 24 << 20;

thread_local! {
    static PARSED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Start a new input on this thread: forget earlier refusals and bytes parsed.
pub fn begin_input() {
    take_refusals();
    PARSED.with(|p| p.set(0));
}

/// Record that something in `what` was left out, to be reported as a problem.
pub fn note(what: &str, message: String) {
    refused(err(what, message));
}

/// Charge `n` bytes to this input's parsing budget.
fn charge(n: usize, what: &str) -> Result<(), StructuredError> {
    let used = PARSED.with(|p| {
        let v = p.get().saturating_add(n as u64);
        p.set(v);
        v
    });
    if used > INPUT_BYTES {
        return Err(refused(err(
            what,
            format!(
                "this input's budget of {} MiB of structured text is used up; not parsed",
                INPUT_BYTES >> 20
            ),
        )));
    }
    Ok(())
}

/// Texts refused by the checks on this thread since the last call, once each:
/// the caller reports them as input problems, so nothing is dropped silently.
pub fn take_refusals() -> Vec<StructuredError> {
    REFUSED.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

fn refused(e: StructuredError) -> StructuredError {
    REFUSED.with(|r| {
        let mut r = r.borrow_mut();
        if r.len() < 100 && !r.contains(&e) {
            r.push(e.clone());
        }
    });
    e
}

fn err(what: &str, message: impl Into<String>) -> StructuredError {
    StructuredError {
        what: what.to_string(),
        message: message.into(),
    }
}

/// Size, flow depth and node estimate, common to the three formats.
fn shape(text: &str, what: &str, brackets: &[(u8, u8)]) -> Result<(), StructuredError> {
    if text.len() > MAX_BYTES {
        return Err(err(
            what,
            format!(
                "{} bytes; structured files above {} MiB are not parsed",
                text.len(),
                MAX_BYTES >> 20
            ),
        ));
    }
    let mut depth = 0usize;
    let mut nodes = 0usize;
    for b in text.bytes() {
        if brackets.iter().any(|(o, _)| *o == b) {
            depth += 1;
            nodes += 1;
            if depth > MAX_DEPTH {
                return Err(err(
                    what,
                    format!("nested deeper than {MAX_DEPTH} levels; not parsed"),
                ));
            }
        } else if brackets.iter().any(|(_, c)| *c == b) {
            depth = depth.saturating_sub(1);
        } else if matches!(b, b',' | b'\n' | b':' | b'=') {
            nodes += 1;
        }
    }
    if nodes > MAX_NODES {
        return Err(err(
            what,
            format!("more than {MAX_NODES} values; not parsed"),
        ));
    }
    Ok(())
}

/// Block nesting of YAML: indentation levels plus `- ` sequence markers.
fn yaml_block_depth(text: &str) -> usize {
    let mut stack: Vec<usize> = Vec::new();
    let mut max = 0;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        while stack.last().is_some_and(|t| *t >= indent) {
            stack.pop();
        }
        stack.push(indent);
        // `- - - x` nests without indentation.
        let mut dashes = 0;
        let mut r = rest;
        while let Some(t) = r.strip_prefix("- ").or_else(|| r.strip_prefix("-\t")) {
            dashes += 1;
            r = t.trim_start();
        }
        max = max.max(stack.len() + dashes);
    }
    max
}

/// Where a YAML anchor (`&a`) or alias (`*a`) may stand: at the start of a
/// node. Conservative by design: an `&` or `*` followed by a name and standing
/// at the start of a line, after `- : ? [ { ,` or after a tag is refused even
/// inside a quoted string, so that no quoting trick can hide an alias.
fn yaml_anchor(text: &str) -> Option<(usize, char)> {
    let b = text.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c != b'&' && *c != b'*' {
            continue;
        }
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        if matches!(
            next,
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
        ) {
            continue;
        }
        // Previous non-blank byte on the line.
        let mut j = i;
        let mut prev = None;
        while j > 0 {
            j -= 1;
            match b[j] {
                b' ' | b'\t' => {}
                b'\n' | b'\r' => break,
                x => {
                    prev = Some((j, x));
                    break;
                }
            }
        }
        let hit = match prev {
            None => true,
            Some((_, b'-' | b':' | b'?' | b'[' | b'{' | b',')) => true,
            Some((j, _)) if j + 1 < i => {
                // After a tag: the blank-separated token before starts with `!`.
                let mut k = j;
                while k > 0 && !matches!(b[k - 1], b' ' | b'\t' | b'\n' | b'\r') {
                    k -= 1;
                }
                b[k] == b'!'
            }
            _ => false,
        };
        if hit {
            let line = text[..i].matches('\n').count() + 1;
            return Some((line, *c as char));
        }
    }
    None
}

/// Check a YAML text without parsing it.
pub fn check_yaml(text: &str, what: &str) -> Result<(), StructuredError> {
    shape(text, what, &[(b'[', b']'), (b'{', b'}')])?;
    if let Some((line, c)) = yaml_anchor(text) {
        let kind = if c == '&' { "anchor" } else { "alias" };
        return Err(err(
            what,
            format!(
                "line {line}: YAML {kind} refused (Kubernetes files never need anchors or aliases)"
            ),
        ));
    }
    if yaml_block_depth(text) > MAX_DEPTH {
        return Err(err(
            what,
            format!("nested deeper than {MAX_DEPTH} levels; not parsed"),
        ));
    }
    Ok(())
}

/// Parse YAML into `T` after the checks above.
pub fn yaml<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StructuredError> {
    check_yaml(text, what).map_err(refused)?;
    charge(text.len(), what)?;
    let _permit = crate::budget::parse_permit(text.len() as u64);
    serde_yaml_ng::from_str(text).map_err(|e| err(what, e.to_string()))
}

/// Parse JSON into `T` after the size, depth and node checks.
pub fn json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StructuredError> {
    json_slice(text.as_bytes(), what)
}

/// [`json`] for bytes as they come out of a bundle.
pub fn json_slice<T: DeserializeOwned>(data: &[u8], what: &str) -> Result<T, StructuredError> {
    let text = std::str::from_utf8(data).map_err(|e| err(what, e.to_string()))?;
    shape(text, what, &[(b'[', b']'), (b'{', b'}')]).map_err(refused)?;
    charge(text.len(), what)?;
    let _permit = crate::budget::parse_permit(text.len() as u64);
    serde_json::from_str(text).map_err(|e| err(what, e.to_string()))
}

/// Check a TOML text (size, depth, node estimate) without parsing it.
pub fn check_toml(text: &str, what: &str) -> Result<(), StructuredError> {
    shape(text, what, &[(b'[', b']'), (b'{', b'}')])
}

/// Parse TOML into `T` after the size, depth and node checks.
pub fn toml<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StructuredError> {
    shape(text, what, &[(b'[', b']'), (b'{', b'}')]).map_err(refused)?;
    charge(text.len(), what)?;
    let _permit = crate::budget::parse_permit(text.len() as u64);
    ::toml::from_str(text).map_err(|e| err(what, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    type Y = serde_yaml_ng::Value;

    #[test]
    fn anchors_and_aliases_are_refused() {
        for bad in [
            "a: &x [1,2]\nb: *x\n",
            "- &a x\n- *a\n",
            "a: [*x]\n",
            "a: {b: *x}\n",
            "a: !!str &x b\n",
            "a:\n  *x\n",
            "--- &top\na: 1\n",
            "\"k\": *a\n",
        ] {
            assert!(yaml::<Y>(bad, "t").is_err(), "{bad:?} accepted");
        }
        for good in [
            "a: b*c\n",
            "url: https://x/?a=1&b=2\n",
            "glob: 'x * y'\n",
            "msg: a *b\n",
            "a: \"*\"\n",
            "a: [1, 2, 3]\n",
        ] {
            yaml::<Y>(good, "t").unwrap_or_else(|e| panic!("{good:?}: {e}"));
        }
    }

    #[test]
    fn depth_is_checked_before_parsing() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let t = std::time::Instant::now();
        let e = yaml::<Y>(&deep, "t").unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
        assert!(json::<serde_json::Value>(&deep, "t").is_err());
        assert!(toml::<::toml::Value>(&format!("a = {deep}"), "t").is_err());
        assert!(t.elapsed().as_millis() < 500);
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(yaml::<Y>(&block, "t").is_err());
        assert!(yaml::<Y>(&"- ".repeat(100), "t").is_err());
    }

    #[test]
    fn size_and_nodes_are_checked() {
        let flat = "a: b\n".repeat(MAX_NODES);
        let e = yaml::<Y>(&flat, "t").unwrap_err();
        assert!(e.message.contains("values"), "{e}");
        let big = "#".repeat(MAX_BYTES + 1);
        assert!(yaml::<Y>(&big, "t").unwrap_err().message.contains("MiB"));
    }
}
