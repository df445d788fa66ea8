//! Host prerequisites: swap, cgroups, kernel modules and sysctls, power, disk.

use super::Ctx;
use crate::facts::keys::*;
use crate::facts::Facts;
use crate::parse::host;
use bundle::layout::{self, Content};

pub(super) fn swap(c: &mut Ctx, facts: &mut Facts) {
    let found = c
        .docs(Content::ProcSwaps)
        .map(|d| (host::proc_swaps(&d.text()), d))
        .chain(
            c.docs(Content::SwaponShow)
                .map(|d| (host::swapon_show(&d.text()), d)),
        )
        .chain(
            c.docs(Content::Free)
                .filter_map(|d| Some((host::free(&d.text())?, d))),
        )
        .next();
    if let Some((s, d)) = found {
        let ev = Some(d.at(s.line, s.text));
        facts.set(HOST_SWAP_ACTIVE, s.active, ev.clone());
        facts.set(HOST_SWAP_KB, s.kib, ev);
    }
}

pub(super) fn cgroups(c: &mut Ctx, facts: &mut Facts) {
    if let Some(d) = c.doc(Content::CgroupControllers) {
        let t = d.text();
        facts.set(HOST_CGROUP_VERSION, 2.0, None);
        facts.set(
            HOST_MEMORY_CGROUP,
            host::v2_memory(&t),
            Some(d.at(0, t.trim())),
        );
    } else if let Some(d) = c.doc(Content::ProcCgroups) {
        facts.set(HOST_CGROUP_VERSION, 1.0, None);
        let (on, ev) = match host::proc_cgroups_memory(&d.text()) {
            Some((on, i, l)) => (on, d.at(i, l)),
            None => (false, d.about("no memory line in /proc/cgroups")),
        };
        facts.set(HOST_MEMORY_CGROUP, on, Some(ev));
    } else if let Some((on, i, l, d)) = c
        .docs(Content::ProcSelfCgroup)
        .find_map(|d| host::self_cgroup_memory(&d.text()).map(|(on, i, l)| (on, i, l, d)))
    {
        facts.set(HOST_CGROUP_VERSION, 1.0, None);
        facts.set(HOST_MEMORY_CGROUP, on, Some(d.at(i, l)));
    }
    if let Some(d) = c.doc(Content::ProcCmdline) {
        let t = d.text();
        facts.set(
            BOOT_CMDLINE_MEMORY,
            host::cmdline_memory(&t),
            Some(d.at(0, t.trim())),
        );
    }
    if let (Some(b), Some(fw)) = (c.doc(Content::BootCmdline), c.doc(Content::FirmwareCmdline)) {
        let (bt, ft) = (b.text(), fw.text());
        let wrong = host::cmdline_has_memory_flags(&bt) && !host::cmdline_has_memory_flags(&ft);
        let ev = fw.at(0, format!("firmware reads: {}", ft.trim()));
        facts.set(BOOT_EDITED_WRONG_CMDLINE, wrong, Some(ev));
    }
}

pub(super) fn kernel(c: &mut Ctx, facts: &mut Facts) {
    let modules = c.doc(Content::ProcModules);
    let loaded = modules.map(|d| host::modules(&d.text()));
    let bridge = c.doc(Content::SysctlBridgeNf);
    let bridge_absent = c.missing_file(layout::host::BRIDGE_NF_CALL_IPTABLES);
    for (m, key) in [
        ("br_netfilter", HOST_MODULE_BR_NETFILTER),
        ("overlay", HOST_MODULE_OVERLAY),
        ("vxlan", HOST_MODULE_VXLAN),
    ] {
        let in_list = loaded.as_ref().map(|l| l.iter().any(|x| x == m));
        let value = match (m, in_list) {
            ("br_netfilter", _) if bridge.is_some() => Some(true),
            ("br_netfilter", Some(false)) if bridge_absent => Some(false),
            ("br_netfilter", Some(false)) => None,
            (_, v) => v,
        };
        let Some(v) = value else { continue };
        let ev = match (v, modules) {
            (true, Some(d)) => d.line_with(m),
            (false, Some(d)) => Some(d.about(format!("{m} is not in the module list"))),
            _ => None,
        }
        .or_else(|| bridge.map(|b| b.about("bridge sysctls exist")));
        facts.set(key, v, ev);
    }
    for (kind, key, name) in [
        (
            Content::SysctlBridgeNf,
            HOST_SYSCTL_BRIDGE_NF_CALL_IPTABLES,
            layout::host::BRIDGE_NF_CALL_IPTABLES,
        ),
        (
            Content::SysctlIpForward,
            HOST_SYSCTL_IP_FORWARD,
            layout::host::IP_FORWARD,
        ),
    ] {
        if let Some((v, d)) = c
            .docs(kind)
            .find_map(|d| Some((host::sysctl_value(&d.text())?, d)))
        {
            facts.set(key, v, Some(d.at(0, format!("{name} = {v}"))));
        }
    }
    if let Some(d) = c.doc(Content::IptablesVersion) {
        let t = d.text();
        if let Some(mode) = host::iptables_mode(&t) {
            facts.set(HOST_IPTABLES_MODE, mode, Some(d.at(0, t.trim())));
        }
    }
}

pub(super) fn power(c: &mut Ctx, facts: &mut Facts) {
    let alarm = c
        .docs(Content::HwmonAlarm)
        .find(|d| d.text().trim() == "1")
        .map(|d| d.at(0, "in0_lcrit_alarm = 1 (under-voltage)"));
    let parsed = c
        .docs(Content::Throttled)
        .find_map(|d| Some((host::throttled(&d.text())?, d)));
    if let Some((v, d)) = parsed {
        let ev = Some(d.at(0, d.text().trim()));
        facts.set(POWER_THROTTLED_FLAGS, v as f64, ev.clone());
        facts.set(POWER_UNDERVOLTAGE_NOW, v & 0x1 != 0, ev.clone());
        facts.set(
            POWER_UNDERVOLTAGE_SEEN,
            v & 0x10000 != 0 || alarm.is_some(),
            ev.clone(),
        );
        facts.set(POWER_THROTTLED_SEEN, v & 0x60000 != 0, ev);
    } else if let Some(e) = alarm {
        facts.set(POWER_UNDERVOLTAGE_SEEN, true, Some(e));
    }
}

pub(super) fn cpus(c: &mut Ctx, facts: &mut Facts) {
    if let Some((n, d, i, l)) = c
        .docs(Content::CpuInfo)
        .find_map(|d| host::cpu_count(&d.text()).map(|(n, i, l)| (n, d, i, l)))
    {
        facts.set(HOST_CPU_COUNT, n, Some(d.at(i, l)));
    }
}

pub(super) fn disk(c: &mut Ctx, facts: &mut Facts) {
    if let Some((pct, d, i, l)) = c
        .docs(Content::Df)
        .find_map(|d| host::df_worst(&d.text()).map(|(p, i, l)| (p, d, i, l)))
    {
        facts.set(HOST_DISK_USED_PCT, pct, Some(d.at(i, l)));
    }
}
