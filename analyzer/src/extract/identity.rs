//! Host identity: hostname, node name, machine-id, product_uuid, MACs.

use super::Ctx;
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts};
use crate::policy;
use bundle::layout::{self, Content};

pub(super) fn all(c: &mut Ctx, facts: &mut Facts) {
    let hostname = c
        .manifest
        .as_ref()
        .map(|m| m.host.hostname.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            c.doc(Content::Hostname)
                .map(|d| d.text().trim().to_string())
        })
        .filter(|s| !s.is_empty());
    if let Some(h) = hostname {
        let default = policy::DEFAULT_HOSTNAMES.contains(&h.to_lowercase().as_str());
        let ev = Some(Evidence::new(
            &bundle::file_path(layout::host::HOSTNAME),
            None,
            format!("hostname: {h}"),
        ));
        facts.set(IDENTITY_HOSTNAME, h, ev.clone());
        facts.set(IDENTITY_HOSTNAME_DEFAULT, default, ev);
    }
    if let Some(m) = c.manifest.as_ref().filter(|m| !m.host.node_name.is_empty()) {
        let n = m.host.node_name.clone();
        let text = format!("node name {n} (from {})", m.host.node_name_source);
        facts.set(
            IDENTITY_NODE_NAME,
            n,
            Some(Evidence::new(bundle::MANIFEST, None, text)),
        );
    }
    duplicates(c, facts);
    if let Some(d) = c.doc(Content::MachineId) {
        let id = d.text().trim().to_string();
        let empty = id.is_empty() || id == "uninitialized";
        facts.set(
            IDENTITY_MACHINE_ID_EMPTY,
            empty,
            Some(d.at(0, format!("machine-id: {id:?}"))),
        );
        if !empty {
            facts.set(IDENTITY_MACHINE_ID, id.clone(), Some(d.at(0, id)));
        }
    } else if c.missing_file(layout::host::MACHINE_ID) {
        let ev = Evidence::new(bundle::MANIFEST, None, "/etc/machine-id is missing");
        facts.set(IDENTITY_MACHINE_ID_EMPTY, true, Some(ev));
    }
    product_uuid(c, facts);
    macs(c, facts);
}

/// An id shown for several holders in pasted text; the search stops at the
/// input's deadline.
fn duplicates(c: &mut Ctx, facts: &mut Facts) {
    let mut late = false;
    for d in c.docs(Content::Other) {
        if c.deadline.passed().is_some() {
            late = true;
            break;
        }
        if let Some(dup) = crate::parse::ids::duplicates(&d.text()) {
            let line = dup.lines[0];
            let text = format!(
                "{} is shown for {} holders (lines {})",
                dup.value,
                dup.lines.len(),
                dup.lines
                    .iter()
                    .map(|l| (l + d.first_line as usize).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            facts.set(IDENTITY_DUPLICATE_SEEN, true, Some(d.at(line, text)));
            break;
        }
    }
    if late {
        c.late("the search for duplicate ids in pasted text was cut");
    }
}

/// Where the collector stores the board UUID and the interface lists.
const PRODUCT_UUID: &str = "/sys/class/dmi/id/product_uuid";
const LINK_COMMANDS: &[&str] = &["ip-link", "ip-addr"];

fn product_uuid(c: &Ctx, facts: &mut Facts) {
    let Some(d) = c.host_file(PRODUCT_UUID) else {
        return;
    };
    let id = d.text().trim().to_lowercase();
    // Firmware placeholders are not identities.
    let placeholder = id.is_empty()
        || id.chars().all(|ch| ch == '0' || ch == '-')
        || id.chars().all(|ch| ch == 'f' || ch == '-')
        || id == "03000200-0400-0500-0006-000700080009";
    if !placeholder {
        facts.set(IDENTITY_PRODUCT_UUID, id.clone(), Some(d.at(0, id)));
    }
}

/// Ethernet MACs from `ip -o link` / `ip addr` output (`link/ether XX:...`).
pub(crate) fn parse_macs(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let mut w = l.split_whitespace();
        while let Some(t) = w.next() {
            if t != "link/ether" {
                continue;
            }
            let Some(mac) = w.next().map(str::to_lowercase) else {
                break;
            };
            let ok = mac.len() == 17
                && mac
                    .split(':')
                    .all(|b| b.len() == 2 && b.bytes().all(|x| x.is_ascii_hexdigit()))
                && mac != "00:00:00:00:00:00"
                && mac != "ff:ff:ff:ff:ff:ff";
            if ok && !out.iter().any(|(_, m)| *m == mac) {
                out.push((i, mac));
            }
        }
    }
    out
}

fn macs(c: &Ctx, facts: &mut Facts) {
    for id in LINK_COMMANDS {
        let p = bundle::layout::command_out(id);
        let Some(d) = c.docs.iter().find(|d| d.path == p) else {
            continue;
        };
        let found = parse_macs(&d.text());
        if let Some((line, _)) = found.first() {
            let list: Vec<String> = found.iter().map(|(_, m)| m.clone()).collect();
            let ev = d.at(*line, format!("MAC addresses: {}", list.join(", ")));
            facts.set(IDENTITY_MACS, list, Some(ev));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn macs() {
        let t = "2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether DC:A6:32:01:02:03 brd ff:ff:ff:ff:ff:ff\n1: lo: <LOOPBACK> mtu 65536\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff\n";
        let m = super::parse_macs(t);
        assert_eq!(m, vec![(0, "dc:a6:32:01:02:03".to_string())]);
    }
}
