//! Host identities that must be unique per node, as tickets show them:
//! `machineID:`/`systemUUID:` lines, `Machine ID:`/`System UUID:` in
//! `describe`, MACHINE-ID/UUID table columns, and Weave's peer names (derived
//! from the machine identity: `Our name is MAC(nickname)`).

use std::collections::BTreeMap;

/// A value seen more than once where each copy should differ, with its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub value: String,
    pub lines: Vec<usize>,
}

fn looks_id(v: &str) -> bool {
    let hex = v.chars().filter(char::is_ascii_hexdigit).count();
    hex >= 12
        && v.chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-' || c == ':')
}

const KEYS: &[&str] = &[
    "machineid",
    "systemuuid",
    "machine id",
    "system uuid",
    "product_uuid",
    "product uuid",
];

/// Values that appear for two or more holders. Table columns and `key: value`
/// lines count each line as a holder; Weave names need different nicknames.
pub fn duplicates(text: &str) -> Option<Duplicate> {
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut weave: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut column: Option<usize> = None;
    // Per-line work stays cheap on hostile text of millions of lines: the
    // Weave phrase is looked for only when the text holds it at all.
    let weave_text = memchr::memmem::find(text.as_bytes(), b"Our name is ").is_some();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some((k, v)) = t.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.len() <= 12 && KEYS.contains(&k.to_lowercase().as_str()) && looks_id(v) {
                seen.entry(v.to_lowercase()).or_default().push(i);
                continue;
            }
        }
        if let Some(rest) = weave_text.then(|| t.split("Our name is ").nth(1)).flatten() {
            if let Some((mac, nick)) = rest.split_once('(') {
                weave
                    .entry(mac.to_lowercase())
                    .or_default()
                    .push((i, nick.trim_end_matches(')').to_string()));
            }
            continue;
        }
        let mut w = t.split_whitespace();
        if t.starts_with("NAME") && w.next() == Some("NAME") {
            column = w
                .position(|c| c.contains("MACHINE") || c.contains("UUID"))
                .map(|p| p + 1);
            continue;
        }
        if let Some(v) = column
            .and_then(|c| t.split_whitespace().nth(c))
            .filter(|v| looks_id(v))
        {
            seen.entry(v.to_lowercase()).or_default().push(i);
        } else if t.is_empty() {
            column = None;
        }
    }
    for (mac, holders) in weave {
        let mut nicks: Vec<&String> = holders.iter().map(|h| &h.1).collect();
        nicks.dedup();
        if nicks.len() > 1 {
            return Some(Duplicate {
                value: mac,
                lines: holders.iter().map(|h| h.0).collect(),
            });
        }
    }
    seen.into_iter()
        .find(|(_, l)| l.len() > 1)
        .map(|(value, lines)| Duplicate { value, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let t = "NAME                 MACHINE-ID\ntalos-2   ad432f2cb0c28bbcd1f87a20199237f9\ntalos-3   ad432f2cb0c28bbcd1f87a20199237f9\n";
        assert_eq!(duplicates(t).unwrap().lines, vec![1, 2]);
        let y = "      systemUUID: 1ad82a4c-2a18-11b2-a85c-82c3099c6263\n      systemUUID: 1ad82a4c-2a18-11b2-a85c-82c3099c6263\n";
        assert!(duplicates(y).is_some());
        let w = "INFO: 2016/09/30 10:26:21.533466 Our name is 92:64:f5:c5:57:a7(compute1)\nINFO: 2016/09/30 10:26:25.478250 Our name is 92:64:f5:c5:57:a7(compute2)\n";
        assert!(duplicates(w).is_some());
        let one =
            "Our name is 92:64:f5:c5:57:a7(compute1)\nOur name is 92:64:f5:c5:57:a7(compute1)\n";
        assert!(duplicates(one).is_none());
        let node = "  machineID: 4f1c2d7e9a8b4c6d8e0f1a2b3c4d5e6f\n  systemUUID: 9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d\n";
        assert!(duplicates(node).is_none());
    }
}
