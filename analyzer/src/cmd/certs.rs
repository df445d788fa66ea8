//! `nodejoin certs BUNDLE`: every certificate with its validity checked
//! against the node clock and the reference clock.

use super::{load_rules, Error, Exit, Format};
use crate::cli::{Flavor, InputArgs};
use crate::facts::keys;
use crate::parse::certs::fmt_time;
use crate::render::sanitize;
use crate::rules::RuleSet;
use crate::timeline::human;
use crate::Options;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct CertRow {
    pub file: String,
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub is_ca: bool,
    /// Against the node's clock at collection.
    pub node_clock: String,
    /// Against the reference clock (node clock minus the measured or inferred offset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_clock: Option<String>,
    /// `ok`, `not-yet-valid`, `expired`, `node-clock-only` (invalid only on the node clock).
    pub verdict: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertReport {
    pub input: String,
    pub node_time: Option<String>,
    pub reference_time: Option<String>,
    /// `measured`, `inferred` or `none`.
    pub reference_basis: &'static str,
    pub certificates: Vec<CertRow>,
    /// What was cut or refused reading the input: the list may be partial.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<crate::input::Problem>,
}

fn check(nb: i64, na: i64, at: f64) -> (String, bool) {
    let at = at.round() as i64;
    if at < nb {
        (
            format!("not yet valid (starts in {})", human((nb - at) as f64)),
            false,
        )
    } else if at > na {
        (format!("expired {} ago", human((at - na) as f64)), false)
    } else {
        (format!("valid ({} left)", human((na - at) as f64)), true)
    }
}

pub fn report(
    path: &Path,
    rules: &RuleSet,
    opts: &Options,
) -> Result<CertReport, crate::input::InputError> {
    let ins = crate::inspect(path, rules, opts)?;
    let node = crate::timeline::node_clock(&ins.facts);
    let (offset, basis) = match (
        ins.facts.num(keys::CLOCK_MEASURED_OFFSET_S),
        ins.facts.num(keys::CLOCK_INFERRED_OFFSET_S),
    ) {
        (Some(o), _) => (Some(o), "measured"),
        (None, Some(o)) => (Some(o), "inferred"),
        _ => (None, "none"),
    };
    let reference = node.zip(offset).map(|(n, o)| n - o);
    let mut rows = Vec::new();
    for c in &ins.certs {
        let (on_node, node_ok) = node
            .map(|n| check(c.not_before, c.not_after, n))
            .unwrap_or_else(|| ("node clock unknown".into(), true));
        let on_ref = reference.map(|r| check(c.not_before, c.not_after, r));
        let ref_ok = on_ref.as_ref().map(|x| x.1).unwrap_or(node_ok);
        let verdict = match (node_ok, ref_ok) {
            (true, true) => "ok",
            (false, true) => "node-clock-only",
            _ => {
                let at = reference.or(node).unwrap_or(0.0) as i64;
                if at < c.not_before {
                    "not-yet-valid"
                } else {
                    "expired"
                }
            }
        };
        rows.push(CertRow {
            file: c.file.clone(),
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            sans: c.sans.clone(),
            not_before: fmt_time(c.not_before),
            not_after: fmt_time(c.not_after),
            is_ca: c.is_ca,
            node_clock: on_node,
            reference_clock: on_ref.map(|x| x.0),
            verdict,
        });
    }
    Ok(CertReport {
        input: path.display().to_string(),
        node_time: node.map(|n| fmt_time(n as i64)),
        reference_time: reference.map(|n| fmt_time(n as i64)),
        reference_basis: basis,
        certificates: rows,
        problems: ins.scanned.problems.clone(),
    })
}

pub fn text(r: &CertReport) -> String {
    let mut o = format!(
        "nodejoin certs  {}\nnode clock at collection: {}\nreference clock: {} ({})\n\n",
        sanitize(&r.input),
        r.node_time.as_deref().unwrap_or("unknown"),
        r.reference_time.as_deref().unwrap_or("unknown"),
        r.reference_basis
    );
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(180)
        .set_header(vec![
            "file",
            "subject",
            "issuer",
            "SANs",
            "NotBefore",
            "NotAfter",
            "node clock",
            "reference clock",
            "verdict",
        ]);
    for c in &r.certificates {
        t.add_row(vec![
            sanitize(&c.file),
            sanitize(&c.subject),
            sanitize(&c.issuer),
            sanitize(&c.sans.join(", ")),
            c.not_before.clone(),
            c.not_after.clone(),
            c.node_clock.clone(),
            c.reference_clock.clone().unwrap_or_else(|| "-".into()),
            c.verdict.to_string(),
        ]);
    }
    o.push_str(&t.to_string());
    o.push_str(&format!("\n{} certificates\n", r.certificates.len()));
    o.push_str(&crate::render::input_problems_text(&r.problems, "list"));
    o
}

pub fn markdown(r: &CertReport) -> String {
    let md = crate::escape::md_text;
    let mut o = format!(
        "## nodejoin certs: `{}`\n\nNode clock at collection: {}; reference clock: {} ({})\n\n| file | subject | issuer | SANs | NotBefore | NotAfter | node clock | reference clock | verdict |\n|---|---|---|---|---|---|---|---|---|\n",
        sanitize(&r.input).replace('`', "'"),
        r.node_time.as_deref().unwrap_or("unknown"),
        r.reference_time.as_deref().unwrap_or("unknown"),
        r.reference_basis
    );
    for c in &r.certificates {
        o.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | **{}** |\n",
            md(&c.file),
            md(&c.subject),
            md(&c.issuer),
            md(&c.sans.join(", ")),
            c.not_before,
            c.not_after,
            c.node_clock,
            c.reference_clock.as_deref().unwrap_or("-"),
            c.verdict
        ));
    }
    o.push_str(&crate::render::input_problems_markdown(&r.problems, "list"));
    o
}

/// `nodejoin certs`: exit 0 when every certificate is valid on the reference
/// clock, 1 when one is not.
pub fn run(a: &InputArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    let rules = load_rules(&a.rules)?;
    let r = match report(&a.input, &rules, &a.options()) {
        Ok(r) => r,
        Err(e) => {
            super::cannot_read(&e);
            return Ok(Exit::Unreadable);
        }
    };
    let s = match a.format.lib(Flavor::Github) {
        Format::Json => serde_json::to_string_pretty(&r)? + "\n",
        Format::Markdown(_) => markdown(&r),
        Format::Table => text(&r),
    };
    out.write_all(s.as_bytes())?;
    let bad = r
        .certificates
        .iter()
        .any(|c| matches!(c.verdict, "expired" | "not-yet-valid" | "node-clock-only"));
    Ok(if bad { Exit::Diagnosed } else { Exit::Joined })
}
