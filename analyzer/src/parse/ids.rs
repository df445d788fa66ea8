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

/// Files whose content is the host identity, as commands print them.
const ID_FILES: &[&str] = &["machine-id", "product_uuid", "product_serial"];

/// A lone id printed by a command that reads an identity file (`cat
/// /etc/machine-id`, `ssh host cat ...`), or under an Ansible host header
/// (`pi1 | CHANGED | rc=0 >>`). Its holder is the command with the line
/// before it unless that is output (a shell prompt names the host), or the Ansible host.
#[derive(Default)]
struct Printed {
    holder: Option<String>,
    prev: String,
    ids: BTreeMap<String, Vec<(usize, String)>>,
}

impl Printed {
    fn line(&mut self, i: usize, t: &str) {
        if t.is_empty() {
            return;
        }
        if let Some(h) = self.holder.take() {
            if looks_id(t) && t.len() >= 32 {
                self.ids.entry(t.to_lowercase()).or_default().push((i, h));
                self.prev.clear();
                return;
            }
        }
        if ID_FILES.iter().any(|f| t.contains(f)) && !t.contains(": ") {
            self.holder = Some(format!("{}\n{t}", self.prev));
        } else if let Some((host, rest)) = t.split_once(" | ") {
            if rest.ends_with(">>") && !host.contains(' ') {
                self.holder = Some(host.to_string());
            }
        }
        self.prev.clear();
        self.prev.push_str(t);
    }

    /// An id printed for two different holders.
    fn duplicate(self) -> Option<Duplicate> {
        self.ids.into_iter().find_map(|(value, mut hs)| {
            let lines = hs.iter().map(|h| h.0).collect();
            hs.sort_by(|a, b| a.1.cmp(&b.1));
            hs.dedup_by(|a, b| a.1 == b.1);
            (hs.len() > 1).then_some(Duplicate { value, lines })
        })
    }
}

/// Values that appear for two or more holders. Table columns and `key: value`
/// lines count each line as a holder; Weave names need different nicknames;
/// printed ids need different commands or hosts.
pub fn duplicates(text: &str) -> Option<Duplicate> {
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut weave: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut printed = Printed::default();
    let mut column: Option<usize> = None;
    // Per-line work stays cheap on hostile text of millions of lines: the
    // Weave phrase is looked for only when the text holds it at all.
    let weave_text = memchr::memmem::find(text.as_bytes(), b"Our name is ").is_some();
    for (i, l) in text.lines().enumerate() {
        let t = crate::paste::clean(l).trim();
        printed.line(i, t);
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
        .or_else(|| printed.duplicate())
        .or_else(|| hostname_at_several_addresses(text))
}

/// One hostname answering at several addresses in a network scan: `nmap`'s
/// `Nmap scan report for NAME (IP)` or `arp -a`'s `NAME (IP) at MAC`.
fn hostname_at_several_addresses(text: &str) -> Option<Duplicate> {
    let mut names: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        let t = t.strip_prefix("Nmap scan report for ").unwrap_or(t);
        let Some((name, rest)) = t.split_once(" (") else {
            continue;
        };
        let Some((ip, after)) = rest.split_once(')') else {
            continue;
        };
        let scan = l.trim_start().starts_with("Nmap scan report for ");
        let arp = after.starts_with(" at ") && after.len() > 4;
        let hostish = !name.is_empty()
            && name != "?"
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if (scan || arp) && hostish && ip.parse::<std::net::IpAddr>().is_ok() {
            names
                .entry(name.to_lowercase())
                .or_default()
                .push((i, ip.to_string()));
        }
    }
    names.into_iter().find_map(|(name, seen)| {
        let mut ips: Vec<&String> = seen.iter().map(|s| &s.1).collect();
        ips.sort();
        ips.dedup();
        (ips.len() > 1).then(|| Duplicate {
            value: format!("hostname {name}"),
            lines: seen.iter().map(|s| s.0).collect(),
        })
    })
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

    #[test]
    fn one_hostname_at_several_addresses() {
        let scan = "Nmap scan report for raspberrypi (192.168.1.64)\nHost is up.\nNmap scan report for raspberrypi (192.168.1.90)\n";
        let d = duplicates(scan).unwrap();
        assert_eq!(
            (d.value.as_str(), d.lines.clone()),
            ("hostname raspberrypi", vec![0, 2])
        );
        let arp = "raspberrypi (192.168.1.64) at b8:27:eb:00:00:01 [ether] on eth0\nraspberrypi (192.168.1.90) at b8:27:eb:00:00:02 [ether] on eth0\n? (192.168.1.1) at 00:11:22:33:44:55 [ether] on eth0\n";
        assert!(duplicates(arp).is_some());
        let distinct = "Nmap scan report for pi1 (192.168.1.64)\nNmap scan report for pi2 (192.168.1.90)\nNmap scan report for pi1 (192.168.1.64)\n";
        assert!(duplicates(distinct).is_none());
        let prose = "I ran it on node (10.0.0.1) and node (10.0.0.2) both\n";
        assert!(duplicates(prose).is_none());
    }

    #[test]
    fn ids_printed_for_several_hosts() {
        let prompts = "pirate@athenas in ~\n$ cat /var/lib/dbus/machine-id\n9989a26f06984d6dbadc01770f018e3b\n\npirate@zeus in ~\n$ cat /var/lib/dbus/machine-id\n9989a26f06984d6dbadc01770f018e3b\n";
        assert_eq!(duplicates(prompts).unwrap().lines, vec![2, 6]);
        let ssh = "$ ssh root@node0 cat /etc/machine-id\nebb19c6b226f48fa86a541fd060e8762\n$ ssh root@node1 cat /etc/machine-id\nebb19c6b226f48fa86a541fd060e8762\n";
        assert!(duplicates(ssh).is_some());
        let ansible = "$ ansible pis -a 'cat /etc/machine-id'\npi1 | CHANGED | rc=0 >>\n9989a26f06984d6dbadc01770f018e3b\npi2 | CHANGED | rc=0 >>\n9989a26f06984d6dbadc01770f018e3b\n";
        assert!(duplicates(ansible).is_some());
        // One host asked twice, and two hosts with their own ids.
        let twice = "$ cat /etc/machine-id\n9989a26f06984d6dbadc01770f018e3b\n$ cat /etc/machine-id\n9989a26f06984d6dbadc01770f018e3b\n";
        assert!(duplicates(twice).is_none());
        let distinct = "$ ssh a cat /etc/machine-id\n9989a26f06984d6dbadc01770f018e3b\n$ ssh b cat /etc/machine-id\n1c4ad377574c4263adbb7c624b6a3429\n";
        assert!(duplicates(distinct).is_none());
    }
}
