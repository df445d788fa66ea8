//! Pod network and API reachability: CNI configs and plugins, the runtime's
//! network condition, TCP connects to the configured API endpoints.

use super::Ctx;
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts};
use crate::parse::runtime;
use bundle::layout::{host, Content};

pub(super) fn cni(c: &mut Ctx, facts: &mut Facts) {
    let k3s = facts.str(JOIN_FLAVOR) == Some("k3s");
    let confs: Vec<_> = c.docs(Content::CniConfig).collect();
    let listed = c
        .listings
        .as_ref()
        .and_then(|l| l.get(host::CNI_CONF_DIR))
        .is_some();
    if (!confs.is_empty() || listed || (c.is_bundle() && !k3s)) && (!confs.is_empty() || !k3s) {
        let n = confs.len();
        let ev = match confs.first() {
            Some(d) => d.about(format!("{n} CNI config file(s)")),
            None => Evidence::new(bundle::LISTINGS, None, "no CNI config in /etc/cni/net.d"),
        };
        facts.set(CNI_CONFIG_COUNT, n as f64, Some(ev));
    }
    let mut types: Vec<String> = Vec::new();
    for d in &confs {
        for t in runtime::cni_types(&d.text()).unwrap_or_default() {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    if !types.is_empty() {
        let ev = confs
            .first()
            .map(|d| d.about(format!("plugin types: {}", types.join(", "))));
        facts.set(CNI_TYPES, types.clone(), ev);
    }
    if let (Some(l), false) = (&c.listings, types.is_empty()) {
        let present: Vec<&str> = host::CNI_BIN_DIRS
            .iter()
            .filter_map(|d| l.get(*d))
            .flatten()
            .map(|e| e.name.as_str())
            .collect();
        let looked: Vec<&str> = host::CNI_BIN_DIRS
            .iter()
            .copied()
            .filter(|d| l.contains_key(*d))
            .collect();
        let missing: Vec<String> = types
            .iter()
            .filter(|t| !present.contains(&t.as_str()))
            .cloned()
            .collect();
        let text = format!(
            "plugin directories {}: {} present; missing: {}",
            if looked.is_empty() {
                "(none exist)".into()
            } else {
                looked.join(", ")
            },
            present.len(),
            if missing.is_empty() {
                "none".into()
            } else {
                missing.join(", ")
            }
        );
        let ev = Some(Evidence::new(bundle::LISTINGS, None, text));
        facts.set(CNI_MISSING_PLUGIN_COUNT, missing.len() as f64, ev.clone());
        facts.set(CNI_MISSING_PLUGINS, missing, ev);
    }
    if let Some((ok, reason, msg, d)) = c
        .docs(Content::CrictlInfo)
        .find_map(|d| runtime::crictl_network_ready(&d.text()).map(|(a, b, m)| (a, b, m, d)))
    {
        let ev = d.about(format!("NetworkReady={ok} {reason} {msg}"));
        facts.set(CNI_RUNTIME_NETWORK_READY, ok, Some(ev));
    }
}

pub(super) fn reachability(c: &mut Ctx, facts: &mut Facts) {
    let Some(r) = c.doc(Content::Reachability).and_then(|d| {
        crate::structured::json_slice::<bundle::Reachability>(&d.data, bundle::REACHABILITY).ok()
    }) else {
        return;
    };
    // The k3s agent's local load balancer (loopback:6444) only says the agent runs.
    let local =
        |e: &&bundle::Endpoint| e.port == 6444 && (e.host == "127.0.0.1" || e.host == "localhost");
    let real: Vec<&bundle::Endpoint> = r.endpoints.iter().filter(|e| !local(e)).collect();
    let eps = if real.is_empty() {
        r.endpoints.iter().collect()
    } else {
        real
    };
    let Some(first) = eps.first() else { return };
    let ok = eps.iter().find(|e| e.connected);
    let text = match ok {
        Some(e) => format!("{} connected in {} ms", e.url, e.connect_ms.unwrap_or(0)),
        None => format!(
            "{} ({}): {}",
            first.url,
            first.configured_in,
            first.error.clone().unwrap_or_default()
        ),
    };
    let ev = Evidence::new(bundle::REACHABILITY, None, text);
    facts.set(APISERVER_REACHABLE, ok.is_some(), Some(ev.clone()));
    if ok.is_none() {
        facts.set(
            APISERVER_ERROR,
            first.error.clone().unwrap_or_default(),
            Some(ev),
        );
    }
}
