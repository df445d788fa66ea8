//! Clock facts: when the input was taken, sync state, measured and inferred offsets.

use super::Ctx;
use crate::facts::keys::*;
use crate::facts::{Evidence, Facts};
use crate::parse::certs::{fmt_time, Cert};
use crate::parse::{clock, logline};
use crate::policy;
use bundle::layout::Content;

/// The node clock at collection: the manifest, the clock probe, or in a
/// paste what `timedatectl` or `date` printed.
pub(super) fn collected(c: &mut Ctx, facts: &mut Facts) {
    if let Some(m) = &c.manifest {
        facts.set(BUNDLE_VERSION, m.version as f64, None);
        c.collected = Some(m.collected_at_unix_ms as f64 / 1000.0);
        facts.set(
            BUNDLE_COLLECTED_AT,
            m.collected_at.clone(),
            Some(Evidence::new(
                bundle::MANIFEST,
                None,
                format!("collected_at: {}", m.collected_at),
            )),
        );
    }
    if c.collected.is_none() {
        c.collected = c
            .doc(Content::ClockProbe)
            .and_then(|d| {
                crate::structured::json_slice::<bundle::ClockProbe>(&d.data, bundle::CLOCK).ok()
            })
            .map(|p| p.node_time_unix_ms as f64 / 1000.0);
    }
    let mut source: Option<Evidence> = None;
    if c.collected.is_none() {
        let pasted =
            c.docs(Content::TimedatectlStatus)
                .find_map(|d| {
                    let t = d.text();
                    let (i, line) = t.lines().enumerate().find(|(_, l)| {
                        l.contains("Universal time:") || l.contains("Local time:")
                    })?;
                    Some((clock::timedatectl_now(&t)?, d.at(i, line.trim())))
                })
                .or_else(|| {
                    c.docs(Content::Date).find_map(|d| {
                        let t = d.text();
                        Some((clock::date_output(t.trim())?, d.at(0, t.trim())))
                    })
                });
        c.collected = pasted.as_ref().map(|p| p.0 as f64);
        source = pasted.map(|p| p.1);
    }
    // A `date` in a local zone is only good to a day: enough for the year.
    let year_only = || {
        c.docs(Content::Date).find_map(|d| {
            let t = d.text();
            let (at, _) = clock::date_any_zone(t.trim())?;
            Some((at as f64, d.at(0, t.trim())))
        })
    };
    let now = match c.collected {
        Some(t) => Some((t, source)),
        None => year_only().map(|(t, e)| (t, Some(e))),
    };
    if let Some((t, source)) = now {
        if let Some(d) = chrono::DateTime::from_timestamp(t as i64, 0) {
            let ev = source.unwrap_or_else(|| {
                Evidence::new(
                    bundle::MANIFEST,
                    None,
                    format!("node clock at collection: {}", fmt_time(t as i64)),
                )
            });
            facts.set(CLOCK_YEAR, chrono::Datelike::year(&d) as f64, Some(ev));
        }
    }
}

/// Sync state: chrony first (it is what disciplines the clock), then timedatectl.
pub(super) fn sync(c: &mut Ctx, facts: &mut Facts) {
    let from_chrony = c.docs(Content::ChronyTracking).find_map(|d| {
        let s = clock::chrony_tracking(&d.text())?;
        Some((s.synced, d.at(s.line, s.text), "chrony"))
    });
    let from_timedatectl = || {
        c.docs(Content::TimedatectlStatus)
            .chain(c.docs(Content::TimedatectlShow))
            .find_map(|d| {
                let s = clock::timedatectl_sync(&d.text())?;
                Some((s.synced, d.at(s.line, s.text), "timedatectl"))
            })
    };
    if let Some((synced, ev, source)) = from_chrony.or_else(from_timedatectl) {
        facts.set(CLOCK_SYNCED, synced, Some(ev));
        facts.set(CLOCK_SYNC_SOURCE, source, None);
    }
}

/// What the collector measured: RTC presence and the best offset.
pub(super) fn probe(c: &mut Ctx, facts: &mut Facts) {
    let Some(d) = c.doc(Content::ClockProbe) else {
        return;
    };
    let p = match crate::structured::json_slice::<bundle::ClockProbe>(&d.data, bundle::CLOCK) {
        Ok(p) => p,
        Err(e) => {
            c.problems.push(crate::input::Problem {
                path: bundle::CLOCK.into(),
                problem: format!("unreadable ({e}); clock offsets are missing"),
            });
            return;
        }
    };
    if let Some(r) = p.rtc_present {
        let ev = Evidence::new(bundle::CLOCK, None, format!("rtc_present: {r}"));
        facts.set(CLOCK_RTC_PRESENT, r, Some(ev));
    }
    let best = p
        .offsets
        .iter()
        .filter(|o| o.offset_ms.is_some())
        .min_by_key(|o| o.bound_ms.unwrap_or(i64::MAX));
    if let Some(best) = best {
        let off = best.offset_ms.unwrap_or(0) as f64 / 1000.0;
        let bound = best.bound_ms.unwrap_or(0) as f64 / 1000.0;
        let ev = Some(Evidence::new(
            bundle::CLOCK,
            None,
            format!(
                "{} against {} ({}): node clock {:+.3}s ± {:.3}s",
                best.method, best.peer, best.configured_in, off, bound
            ),
        ));
        facts.set(CLOCK_MEASURED_OFFSET_S, off, ev.clone());
        facts.set(CLOCK_MEASURED_OFFSET_ABS_S, off.abs(), ev.clone());
        facts.set(CLOCK_MEASURED_BOUND_S, bound, ev);
    }
}

/// Offsets inferred from evidence; the largest wins. Negative: node behind.
pub(super) fn inferred(c: &mut Ctx, facts: &mut Facts, certs: &[Cert]) {
    let mut cands: Vec<(f64, Evidence)> = Vec::new();
    if let Some(now) = c.collected {
        cands.extend(from_certs(certs, now));
    }
    cands.extend(from_x509_lines(c));
    if let Some(x) = from_registration(c, facts) {
        cands.push(x);
    }
    if let Some((v, e)) = cands
        .into_iter()
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
    {
        facts.set(CLOCK_INFERRED_OFFSET_S, v.round(), Some(e.clone()));
        facts.set(CLOCK_INFERRED_OFFSET_ABS_S, v.abs().round(), Some(e));
    }
    let measured = facts
        .num(CLOCK_MEASURED_OFFSET_ABS_S)
        .filter(|m| *m > facts.num(CLOCK_MEASURED_BOUND_S).unwrap_or(0.0));
    let inferred = facts.num(CLOCK_INFERRED_OFFSET_ABS_S);
    let best = match (measured, inferred) {
        (Some(m), Some(i)) if i > m => Some((CLOCK_INFERRED_OFFSET_ABS_S, i)),
        (Some(m), _) => Some((CLOCK_MEASURED_OFFSET_ABS_S, m)),
        (None, Some(i)) => Some((CLOCK_INFERRED_OFFSET_ABS_S, i)),
        _ => None,
    };
    if let Some((from, v)) = best {
        let ev = facts.fact(from).and_then(|f| f.evidence.first().cloned());
        facts.set(CLOCK_OFFSET_ABS_S, v, ev);
    }
}

/// Signers backdate NotBefore by minutes; beyond that the node is behind.
fn from_certs(certs: &[Cert], now: f64) -> Vec<(f64, Evidence)> {
    certs
        .iter()
        .filter(|cert| cert.not_before as f64 - now > policy::CERT_BACKDATE_S)
        .map(|cert| {
            let ahead = cert.not_before as f64 - now;
            let text = format!(
                "{} NotBefore {} is {:.0}s after the node clock {}",
                cert.subject,
                fmt_time(cert.not_before),
                ahead,
                fmt_time(now as i64)
            );
            (-ahead, Evidence::new(&cert.file, None, text))
        })
        .collect()
}

/// x509 errors that state both clocks: "current time X is before Y".
fn from_x509_lines(c: &Ctx) -> Vec<(f64, Evidence)> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(crate::scan::X509_TIME).expect("built-in"));
    let Some(h) = c.s.milestones.get("x509-time") else {
        return Vec::new();
    };
    h.all()
        .filter_map(|hit| {
            let m = re.captures(&hit.text)?;
            let now = logline::parse_iso(&m[1])?;
            let bound = logline::parse_iso(&m[3])?;
            (&m[2] == "before" && bound - now > policy::CERT_BACKDATE_S)
                .then(|| (now - bound, hit.evidence()))
        })
        .collect()
}

/// The kubelet logged its registration (node clock) when the API server
/// stamped creationTimestamp (cluster clock).
fn from_registration(c: &Ctx, facts: &Facts) -> Option<(f64, Evidence)> {
    let age = facts.num(NODE_CREATED_AGE_S)?;
    let now = c.collected?;
    let reg = c.s.milestones.get("registered")?.first.first()?;
    let logged = logline::timestamp(&reg.text, now)?;
    let created = now - age;
    let skew = logged - created;
    (skew.abs() > policy::CERT_BACKDATE_S).then(|| {
        let text = format!(
            "registered at {} on the node clock; the API server's creationTimestamp says {}",
            fmt_time(logged as i64),
            fmt_time(created as i64)
        );
        (skew, Evidence::new(&reg.file, Some(reg.line), text))
    })
}
