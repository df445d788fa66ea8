//! Certificates and kubeconfigs: the kubelet's client certificate against
//! the node clock, the reference clock and the cluster CA.

use super::{Ctx, Doc};
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts};
use crate::input::Problem;
use crate::parse::certs::{self, fmt_time, Cert};
use crate::parse::kube;
use bundle::layout::{host, Content};

struct Kubeconfig {
    file: String,
    server: Option<String>,
    ca: Option<Cert>,
    client: Option<Cert>,
    client_path: Option<String>,
}

fn kubeconfig(d: &Doc) -> Option<Kubeconfig> {
    let k = kube::kubeconfig(&d.text())?;
    let data_cert = |v: &Option<String>, what: &str| -> Option<Cert> {
        let b = certs::base64_decode(v.as_deref()?)?;
        certs::parse(&format!("{} ({what})", d.path), &b)
            .0
            .into_iter()
            .next()
    };
    Some(Kubeconfig {
        file: d.path.clone(),
        server: k.server.clone(),
        ca: data_cert(&k.ca_data, "certificate-authority-data"),
        client: data_cert(&k.client_cert_data, "client-certificate-data"),
        client_path: k.client_cert_path,
    })
}

/// Certificates parsed from one input (a bundle holds a few dozen): each
/// costs memory, and the `certs` report lists every one.
pub(super) const MAX_CERTS: usize = 256;

/// Every certificate of the input, up to [`MAX_CERTS`]; what was left out
/// or could not be parsed is reported. Kubeconfigs come first (they name the
/// kubelet's certificates), with at most half of the budget.
fn collect(c: &mut Ctx) -> (Vec<Cert>, Vec<Kubeconfig>) {
    let mut cut = false;
    let mut kcs = Vec::new();
    let mut from_kcs = Vec::new();
    for d in c.docs(Content::Kubeconfig) {
        if from_kcs.len() + 2 > MAX_CERTS / 2 {
            cut = true;
            break;
        }
        if let Some(k) = kubeconfig(d) {
            from_kcs.extend(k.ca.clone());
            from_kcs.extend(k.client.clone());
            kcs.push(k);
        }
    }
    let mut all = Vec::new();
    let mut bad = 0;
    let mut late = false;
    for d in c.docs(Content::Certificate) {
        if c.deadline.passed().is_some() {
            late = true;
            break;
        }
        let room = MAX_CERTS - from_kcs.len() - all.len();
        let (cs, b) = certs::parse_at_most(&d.path, &d.data, room);
        cut |= cs.len() == room;
        all.extend(cs);
        bad += b;
    }
    all.extend(from_kcs);
    if late {
        c.late("the remaining certificate files were not parsed");
    }
    if bad > 0 {
        c.problems.push(Problem {
            path: "certificates".into(),
            problem: format!("{bad} certificate block(s) could not be parsed"),
        });
    }
    if cut {
        c.problems.push(Problem {
            path: "certificates".into(),
            problem: format!(
                "the input's budget of {MAX_CERTS} certificates is used up; the rest were not parsed"
            ),
        });
    }
    (all, kcs)
}

pub(super) fn all(c: &mut Ctx, facts: &mut Facts) -> Vec<Cert> {
    let (all, kcs) = collect(c);
    facts.set(CERT_COUNT, all.len() as f64, None);
    let Some(now) = c.collected else { return all };
    // Kubelet kubeconfig: kubelet.conf (kubeadm) or kubelet.kubeconfig (k3s).
    let kc = kcs
        .iter()
        .find(|k| k.file.ends_with("kubelet.conf"))
        .or_else(|| kcs.iter().find(|k| k.file.ends_with("kubelet.kubeconfig")));
    if let Some(s) = kc.and_then(|k| k.server.as_ref()) {
        let ev = Evidence::new(
            &kc.map(|k| k.file.clone()).unwrap_or_default(),
            None,
            format!("server: {s}"),
        );
        facts.set(KUBECONFIG_SERVER, s.clone(), Some(ev));
    }
    if let Some(cl) = client_cert(kc, &all) {
        client_facts(facts, &cl, now);
        let ca = kc.and_then(|k| k.ca.clone()).or_else(|| {
            all.iter()
                .find(|c| c.file.ends_with("pki/ca.crt") || c.file.ends_with("client-ca.crt"))
                .cloned()
        });
        if let Some(ca) = ca {
            let ok = cl.signed_by(&ca);
            let text = format!(
                "client certificate {} by the CA in {} ({})",
                if ok { "is signed" } else { "is NOT signed" },
                ca.file,
                ca.subject
            );
            facts.set(
                CERT_CLIENT_ISSUED_BY_CLUSTER_CA,
                ok,
                Some(Evidence::new(&cl.file, None, text)),
            );
        }
        if let (Some(node), Some(cn)) = (
            facts.str(IDENTITY_NODE_NAME).map(String::from),
            cl.node_name(),
        ) {
            let text = format!("certificate CN system:node:{cn}, kubelet registers as {node}");
            let mismatch = !node.eq_ignore_ascii_case(cn);
            facts.set(
                IDENTITY_CERT_NODE_MISMATCH,
                mismatch,
                Some(Evidence::new(&cl.file, None, text)),
            );
        }
    }
    ca_matches_pki(facts, &kcs, &all);
    if let Some(max) = all.iter().max_by_key(|c| c.not_before) {
        facts.set(
            CERT_MAX_NOT_BEFORE_AHEAD_S,
            (max.not_before as f64 - now).round(),
            Some(window(max, max.not_before, now, "NotBefore")),
        );
    }
    all
}

/// The kubelet's client certificate: embedded, referenced, or the newest
/// `system:node:` certificate found.
fn client_cert(kc: Option<&Kubeconfig>, all: &[Cert]) -> Option<Cert> {
    let referenced = kc
        .and_then(|k| k.client_path.as_ref())
        .map(|p| bundle::file_path(p));
    kc.and_then(|k| k.client.clone())
        .or_else(|| {
            let r = referenced.as_ref()?;
            all.iter()
                .find(|c| &c.file == r && c.node_name().is_some())
                .cloned()
        })
        .or_else(|| {
            all.iter()
                .filter(|c| c.node_name().is_some() && !c.is_ca)
                .max_by_key(|c| c.not_before)
                .cloned()
        })
}

fn window(cert: &Cert, at: i64, now: f64, what: &str) -> Evidence {
    let d = at as f64 - now;
    let d = if what == "NotAfter" { -d } else { d };
    Evidence::new(
        &cert.file,
        None,
        format!(
            "{what} {} vs node clock {} ({d:+.0}s)",
            fmt_time(at),
            fmt_time(now as i64)
        ),
    )
}

fn client_facts(facts: &mut Facts, cl: &Cert, now: f64) {
    let ev = Some(Evidence::new(&cl.file, None, cl.describe()));
    facts.set(CERT_CLIENT_PRESENT, true, ev.clone());
    facts.set(CERT_CLIENT_FILE, cl.file.clone(), ev.clone());
    if let Some(n) = cl.node_name() {
        facts.set(CERT_CLIENT_NODE, n, ev);
    }
    let ahead = cl.not_before as f64 - now;
    facts.set(
        CERT_CLIENT_NOT_BEFORE_AHEAD_S,
        ahead.round(),
        Some(window(cl, cl.not_before, now, "NotBefore")),
    );
    let expired = now - cl.not_after as f64;
    facts.set(
        CERT_CLIENT_EXPIRED_S,
        expired.round(),
        Some(window(cl, cl.not_after, now, "NotAfter")),
    );
    if let Some(off) = facts.num(CLOCK_MEASURED_OFFSET_S) {
        let reference = now - off;
        let text = format!(
            "NotAfter {} vs reference clock {}",
            fmt_time(cl.not_after),
            fmt_time(reference as i64)
        );
        facts.set(
            CERT_CLIENT_EXPIRED_REF_S,
            (reference - cl.not_after as f64).round(),
            Some(Evidence::new(&cl.file, None, text)),
        );
    }
}

fn ca_matches_pki(facts: &mut Facts, kcs: &[Kubeconfig], all: &[Cert]) {
    let pki = bundle::file_path(host::PKI_CA);
    let (Some(k), Some(pki)) = (
        kcs.iter().find(|k| k.file.ends_with("kubelet.conf")),
        all.iter().find(|c| c.file == pki),
    ) else {
        return;
    };
    if let Some(kca) = &k.ca {
        let same = kca.der == pki.der;
        let text = format!(
            "kubeconfig CA {} {}",
            if same { "equals" } else { "differs from" },
            host::PKI_CA
        );
        facts.set(
            KUBECONFIG_CA_MATCHES_PKI,
            same,
            Some(Evidence::new(&k.file, None, text)),
        );
    }
}
