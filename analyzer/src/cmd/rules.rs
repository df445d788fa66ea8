//! `nodejoin rules`: the rule set as a table or JSON. `nodejoin rules check`:
//! lint rule files, each problem with its code, file and line.

use super::{load_rules, Error, Exit};
use crate::cli::{CheckArgs, CheckFormat, Format, RulesArgs, RulesCmd};
use crate::model::{self, Severity};
use crate::render::sanitize;
use crate::rules::{RuleError, RuleSet};
use serde::Serialize;
use std::io::Write;

/// One rule in the listing. Fields are in name order, the order the JSON
/// listing has always had.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    pub cause: String,
    pub confidence: f64,
    pub file: String,
    pub id: String,
    pub masks: Vec<String>,
    pub phase: u8,
    pub phase_name: &'static str,
    pub severity: Severity,
    pub title: String,
}

/// The rule set as `nodejoin rules` shows it.
pub fn listing(set: &RuleSet) -> Vec<RuleSummary> {
    set.rules
        .iter()
        .map(|r| RuleSummary {
            cause: r.raw.cause.clone(),
            confidence: r.raw.confidence,
            file: r.file.clone(),
            id: r.raw.id.clone(),
            masks: r.raw.masks.clone(),
            phase: r.raw.phase,
            phase_name: model::phase_id(r.raw.phase),
            severity: r.raw.severity,
            title: r.raw.title.clone(),
        })
        .collect()
}

/// The listing as a table, rule text escaped.
pub fn text(rules: &[RuleSummary]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(vec!["id", "phase", "cause", "severity", "title"]);
    for r in rules {
        t.add_row(vec![
            sanitize(&r.id),
            r.phase.to_string(),
            sanitize(&r.cause),
            r.severity.name().into(),
            sanitize(&r.title),
        ]);
    }
    format!(
        "{t}\n{} rules. `nodejoin explain ID` documents one.\n",
        rules.len()
    )
}

/// What `rules check --format json` prints: the number of rules loaded (none
/// when there are problems) and every problem.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub rules: Option<usize>,
    pub problems: Vec<RuleError>,
}

pub fn run(args: RulesArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    match args.action {
        Some(RulesCmd::Check(c)) => check(&c, args.format, out),
        None => list(&args, out),
    }
}

fn list(args: &RulesArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    let rules = listing(&load_rules(&args.rules)?);
    let s = if args.format == Format::Json {
        serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
    } else {
        text(&rules)
    };
    let _ = write!(out, "{s}");
    Ok(Exit::Joined)
}

/// The same loader as `analyze --rules`: built-ins plus the files, so
/// duplicates of built-in ids and size limits are reported alike.
fn check(args: &CheckArgs, parent: Format, out: &mut dyn Write) -> Result<Exit, Error> {
    let res = load_rules(&args.dir);
    let json = args
        .format
        .map_or(parent == Format::Json, |f| f == CheckFormat::Json);
    if !json {
        let set = res?;
        let _ = writeln!(out, "{} rules, no problems", set.rules.len());
        return Ok(Exit::Joined);
    }
    let (report, exit) = match res {
        Ok(set) => (
            CheckReport {
                rules: Some(set.rules.len()),
                problems: Vec::new(),
            },
            Exit::Joined,
        ),
        Err(problems) => (
            CheckReport {
                rules: None,
                problems,
            },
            Exit::Unreadable,
        ),
    };
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(exit)
}
