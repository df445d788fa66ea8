//! `nodejoin timeline BUNDLE`: the join events in order, table, JSON or
//! Markdown.

use super::{load_rules, Error, Exit, Format};
use crate::cli::{Flavor, InputArgs};
use crate::render::sanitize;
use crate::timeline::{self, Clock, Timeline};
use std::io::Write;

fn short(s: &str, n: usize) -> String {
    let s = sanitize(s);
    if s.chars().count() <= n {
        return s;
    }
    s.chars().take(n).collect::<String>() + "…"
}

pub fn text(t: &Timeline) -> String {
    let mut o = format!(
        "nodejoin timeline  {}\nClock correction: {}\nTimes are the reference clock's; node-clock times are corrected (the node's own reading in brackets).\n\n",
        sanitize(&t.input),
        sanitize(&t.correction.note)
    );
    let mut tb = comfy_table::Table::new();
    tb.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec![
            "time (corrected)",
            "phase",
            "source",
            "event",
            "evidence",
        ]);
    for e in &t.events {
        let time = match (&e.node_time, e.clock) {
            (Some(n), Clock::Node) if t.correction.offset_s != 0.0 => {
                format!("{}\n[node {}]", e.time_rfc3339, n)
            }
            _ => e.time_rfc3339.clone(),
        };
        tb.add_row(vec![
            time,
            format!("{} {}", e.phase, e.phase_name),
            sanitize(&e.source),
            sanitize(&e.label),
            format!(
                "{}{}: {}",
                sanitize(&e.evidence.file),
                e.evidence.line.map(|l| format!(":{l}")).unwrap_or_default(),
                short(&e.evidence.text, 72)
            ),
        ]);
    }
    o.push_str(&tb.to_string());
    o.push_str(&format!("\n{} events", t.events.len()));
    if t.dropped > 0 {
        o.push_str(&format!(
            " ({} repeats not shown: only the first and last of each kind are kept)",
            t.dropped
        ));
    }
    o.push('\n');
    o.push_str(&crate::render::input_problems_text(&t.problems, "timeline"));
    o
}

pub fn markdown(t: &Timeline) -> String {
    let md = crate::escape::md_text;
    let mut o = format!(
        "## nodejoin timeline: `{}`\n\n**Clock correction:** {}\n\n| time (corrected) | node clock | phase | source | event | evidence |\n|---|---|---|---|---|---|\n",
        sanitize(&t.input).replace('`', "'"),
        md(&t.correction.note)
    );
    for e in &t.events {
        o.push_str(&format!(
            "| {} | {} | {} {} | {} | {} | {} {} |\n",
            e.time_rfc3339,
            e.node_time.as_deref().unwrap_or("(cluster)"),
            e.phase,
            e.phase_name,
            md(&e.source),
            md(&e.label),
            crate::escape::md_code(
                &format!(
                    "{}{}",
                    e.evidence.file,
                    e.evidence.line.map(|l| format!(":{l}")).unwrap_or_default()
                ),
                true
            ),
            md(&short(&e.evidence.text, 120))
        ));
    }
    o.push_str(&crate::render::input_problems_markdown(
        &t.problems,
        "timeline",
    ));
    o
}

/// `nodejoin timeline` as the command line gives it.
pub fn run(a: &InputArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    let rules = load_rules(&a.rules)?;
    let t = match timeline::build(&a.input, &rules, &a.options()) {
        Ok(t) => t,
        Err(e) => {
            super::cannot_read(&e);
            return Ok(Exit::Unreadable);
        }
    };
    let s = match a.format.lib(Flavor::Github) {
        Format::Json => serde_json::to_string_pretty(&t)? + "\n",
        Format::Markdown(_) => markdown(&t),
        Format::Table => text(&t),
    };
    out.write_all(s.as_bytes())?;
    Ok(Exit::Joined)
}
