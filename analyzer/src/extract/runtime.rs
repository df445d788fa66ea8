//! The kubelet and the container runtime: flavor, config, services, sockets,
//! and which of the join's files exist.

use super::Ctx;
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts, Key};
use crate::parse::{kube, runtime};
use bundle::layout::{host, Content, Source};

pub(super) fn flavor(c: &mut Ctx, facts: &mut Facts) {
    let log_lines = |src: &str| c.s.logs.iter().any(|l| l.source == src && l.lines > 1);
    let k3s = c.has_under(host::K3S_DIRS) || log_lines(Source::K3s.name());
    let kubeadm = c.has_under(host::KUBEADM_DIRS)
        || c.s.logs.iter().any(|l| {
            bundle::layout::content_of(&l.file) == Content::Log(Source::Kubelet) && l.lines > 1
        });
    let fl = if k3s {
        "k3s"
    } else if kubeadm {
        "kubeadm"
    } else {
        return;
    };
    facts.set(JOIN_FLAVOR, fl, None);
}

pub(super) fn kubelet(c: &mut Ctx, facts: &mut Facts) {
    if let Some((cfg, d)) = c
        .docs(Content::KubeletConfig)
        .find_map(|d| Some((kube::kubelet_config(&d.text())?, d)))
    {
        let t = d.text();
        let ev = |key: &str, default: &str| {
            kube::yaml_key_line(&t, key)
                .map(|(i, l)| d.at(i, l))
                .unwrap_or_else(|| d.about(default.to_string()))
        };
        facts.set(
            KUBELET_CGROUP_DRIVER,
            cfg.effective_cgroup_driver(),
            Some(ev(
                "cgroupDriver",
                "cgroupDriver unset: kubelet default cgroupfs",
            )),
        );
        facts.set(
            KUBELET_FAIL_SWAP_ON,
            cfg.refuses_swap(),
            Some(ev("failSwapOn", "failSwapOn unset: default true")),
        );
    }
    for d in c.docs(Content::KubeletFlags) {
        let t = d.text();
        if let Some((i, v)) = kube::flag(&t, "fail-swap-on") {
            if v == "false" {
                let line = t.lines().nth(i).unwrap_or("").trim();
                facts.set(KUBELET_FAIL_SWAP_ON, false, Some(d.at(i, line)));
            }
        }
    }
    let flags = c.docs(Content::KubeletFlags).map(|d| {
        (
            d,
            kube::flag(&d.text(), "cloud-provider")
                .filter(|(_, v)| *v == "external")
                .map(|(i, _)| i),
        )
    });
    let from_flags = flags
        .filter_map(|(d, i)| i.map(|i| (d, i)))
        .map(|(d, i)| d.at(i, d.text().lines().nth(i).unwrap_or("").trim().to_string()))
        .next();
    let from_config = c
        .docs(Content::K3sConfig)
        .find_map(|d| kube::external_cloud_provider(&d.text()).map(|(i, l)| d.at(i, l)));
    if let Some(ev) = from_flags.or(from_config) {
        facts.set(KUBELET_EXTERNAL_CLOUD_PROVIDER, true, Some(ev));
    }
    if facts.str(JOIN_FLAVOR) == Some("k3s") && !facts.has(KUBELET_FAIL_SWAP_ON) {
        facts.set(KUBELET_FAIL_SWAP_ON, true, None);
    }
}

pub(super) fn units(c: &mut Ctx, facts: &mut Facts) {
    let mut all = Vec::new();
    for d in c.docs(Content::SystemctlShow) {
        all.extend(
            runtime::systemctl_show(&d.text())
                .into_iter()
                .map(|u| (u, d)),
        );
    }
    for d in c.docs(Content::SystemctlStatus) {
        all.extend(
            runtime::systemctl_status(&d.text())
                .into_iter()
                .map(|u| (u, d)),
        );
    }
    let find = |ids: &[&str]| {
        ids.iter()
            .find_map(|id| all.iter().find(|(u, _)| u.id == *id))
    };
    let kubelet_units: &[&str] = if facts.str(JOIN_FLAVOR) == Some("k3s") {
        &["k3s-agent.service", "k3s.service"]
    } else {
        &["kubelet.service", "k3s-agent.service", "k3s.service"]
    };
    if let Some((u, d)) = find(kubelet_units) {
        let ev = d.at(u.line, u.summary.clone());
        facts.set(
            KUBELET_SERVICE_ACTIVE,
            u.active_state == "active",
            Some(ev.clone()),
        );
        if let Some(n) = u.restarts {
            facts.set(KUBELET_RESTARTS, n, Some(ev));
        }
    }
    if let Some((u, d)) = find(&["containerd.service", "crio.service", "docker.service"]) {
        let ev = d.at(u.line, u.summary.clone());
        facts.set(RUNTIME_SERVICE_ACTIVE, u.active_state == "active", Some(ev));
    }
}

pub(super) fn containerd(c: &mut Ctx, facts: &mut Facts) {
    if let Some(d) = c.doc(Content::ContainerdConfig) {
        let cfg = runtime::containerd_config(&d.text());
        let driver = if cfg.systemd_cgroup == Some(true) {
            "systemd"
        } else {
            "cgroupfs"
        };
        let ev = d
            .line_with("SystemdCgroup")
            .unwrap_or_else(|| d.about("SystemdCgroup unset: runc uses cgroupfs"));
        facts.set(RUNTIME_CGROUP_DRIVER, driver, Some(ev));
        let ev = d
            .line_with("disabled_plugins")
            .unwrap_or_else(|| d.about("no disabled_plugins"));
        facts.set(RUNTIME_CRI_DISABLED, cfg.cri_disabled, Some(ev));
    }
    if facts.str(JOIN_FLAVOR) == Some("kubeadm") {
        if let (Some(k), Some(r)) = (
            facts.fact(KUBELET_CGROUP_DRIVER).cloned(),
            facts.fact(RUNTIME_CGROUP_DRIVER).cloned(),
        ) {
            facts.set(
                CGROUP_DRIVER_MISMATCH,
                k.value != r.value,
                k.evidence.first().cloned(),
            );
            for e in r.evidence {
                facts.push_evidence(CGROUP_DRIVER_MISMATCH, e);
            }
        }
    }
    if let Some(l) = &c.listings {
        let found = host::RUNTIME_SOCKET_DIRS.iter().find_map(|d| {
            l.get(*d)?
                .iter()
                .find(|e| e.kind == "socket" && e.name.ends_with(".sock"))
                .map(|e| format!("{d}/{}", e.name))
        });
        let text = match &found {
            Some(s) => format!("runtime socket {s}"),
            None => format!(
                "no runtime socket in {}",
                host::RUNTIME_SOCKET_DIRS.join(", ")
            ),
        };
        let ev = Evidence::new(bundle::LISTINGS, None, text);
        facts.set(RUNTIME_SOCKET_PRESENT, found.is_some(), Some(ev));
    }
}

/// A presence fact: true when one of `hosts` was collected; false when none
/// was and the collector looked (`expected`, and the manifest says missing, or
/// there is no manifest to say otherwise).
fn presence(
    c: &Ctx,
    facts: &mut Facts,
    key: Key<bool>,
    hosts: &[&str],
    expected: bool,
    what: &str,
) {
    if let Some(d) = hosts.iter().find_map(|h| c.host_file(h)) {
        facts.set(key, true, Some(d.about(format!("{what} exists"))));
    } else if expected && (c.missing_file(hosts[0]) || c.manifest.is_none()) {
        let ev = Evidence::new(
            bundle::MANIFEST,
            None,
            format!("{} does not exist", hosts[0]),
        );
        facts.set(key, false, Some(ev));
    }
}

pub(super) fn presence_facts(c: &mut Ctx, facts: &mut Facts) {
    let flavor = facts.str(JOIN_FLAVOR).map(String::from);
    let kubeadm = flavor.as_deref() == Some("kubeadm");
    presence(
        c,
        facts,
        KUBELET_CONFIG_PRESENT,
        &[host::KUBELET_CONFIG],
        kubeadm,
        "kubelet config",
    );
    presence(
        c,
        facts,
        JOIN_KUBELET_CONF_PRESENT,
        &[host::KUBELET_CONF, host::K3S_KUBELET_KUBECONFIG],
        flavor.is_some(),
        "the kubelet's cluster kubeconfig",
    );
    presence(
        c,
        facts,
        JOIN_BOOTSTRAP_CONF_PRESENT,
        &[host::BOOTSTRAP_KUBELET_CONF],
        kubeadm,
        "bootstrap kubeconfig",
    );
}
