//! Parsers by content kind: each is a pure function from text of one kind to
//! typed values. They never know whether the text came from a bundle file, a
//! command's output or a section of a pasted ticket.

pub mod certs;
pub mod clock;
pub mod host;
pub mod ids;
pub mod kube;
pub mod logline;
pub mod node;
pub mod runtime;
pub mod table;

/// Parse YAML (or JSON, a subset) into `T`; None when it is not that. Size,
/// depth, node count and anchors are checked first (`structured`); what is
/// refused is reported as an input problem.
pub fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    crate::structured::yaml(text, &current()).ok()
}

/// Parse JSON into `T`; None when it is not that.
pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    crate::structured::json(text, &current()).ok()
}

/// Parse TOML into `T`; None when it is not that.
pub fn toml<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    crate::structured::toml(text, &current()).ok()
}

thread_local! {
    static CURRENT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Name the text parsers are about to read, for problems they report.
pub fn set_current(name: &str) {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        c.push_str(name);
    });
}

fn current() -> String {
    CURRENT.with(|c| {
        let c = c.borrow();
        if c.is_empty() {
            "structured text".to_string()
        } else {
            c.clone()
        }
    })
}

/// Split `s` on runs of two or more spaces or tabs (tabwriter columns).
pub fn columns(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let gap = b[i] == b'\t'
            || (b[i] == b' ' && b.get(i + 1).is_some_and(|c| *c == b' ' || *c == b'\t'));
        if gap {
            if let Some(st) = start.take() {
                out.push(s[st..i].trim());
            }
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        i += 1;
    }
    if let Some(st) = start {
        out.push(s[st..].trim());
    }
    out.retain(|c| !c.is_empty());
    out
}

/// `key: value` or `key = value` lines, keys trimmed.
pub fn key_values(text: &str, sep: char) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines().enumerate().filter_map(move |(i, l)| {
        let (k, v) = l.split_once(sep)?;
        Some((i, k.trim(), v.trim()))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_split_on_wide_gaps() {
        assert_eq!(
            super::columns(
                "Ready            False   Sun, 24 Nov 2026 06:10:00 +0000   KubeletNotReady"
            ),
            vec![
                "Ready",
                "False",
                "Sun, 24 Nov 2026 06:10:00 +0000",
                "KubeletNotReady"
            ]
        );
    }
}
