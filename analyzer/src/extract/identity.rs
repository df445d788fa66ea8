//! Host identity: hostname, node name, machine-id.

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
    for d in c.docs(Content::Other) {
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
}
