//! `nodejoin facts`: the facts rules can compare, and the cause ids.

use super::{Error, Exit};
use crate::{facts, model};
use std::io::Write;

pub fn run(out: &mut dyn Write) -> Result<Exit, Error> {
    let _ = writeln!(out, "{}", text());
    Ok(Exit::Joined)
}

/// Both vocabularies as tables.
pub fn text() -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec!["fact", "type", "meaning"]);
    for (n, k, m) in facts::KNOWN {
        t.add_row(vec![*n, *k, *m]);
    }
    let mut c = comfy_table::Table::new();
    c.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec!["cause", "phase", "meaning"]);
    for (id, ph, m) in model::CAUSES {
        let phases: Vec<String> = ph.iter().map(u8::to_string).collect();
        c.add_row(vec![(*id).to_string(), phases.join("/"), (*m).to_string()]);
    }
    format!("Facts rules can compare (`NAME OP VALUE`, ops == != < <= > >= contains exists missing):\n{t}\n\nCause ids:\n{c}")
}
