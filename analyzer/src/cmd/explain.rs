//! `nodejoin explain ID`: one rule's documentation, read from its rule file.

use super::{load_rules, Error, Exit};
use crate::cli::ExplainArgs;
use crate::model;
use crate::render::sanitize;
use crate::rules::{RawClause, Rule, RuleSet};
use std::fmt::Write as _;
use std::io::Write;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    let set = load_rules(&args.rules)?;
    let Some(r) = set.get(&args.id) else {
        return Err(Error::NoRule {
            id: args.id.clone(),
            near: near(&set, &args.id),
        });
    };
    let _ = write!(out, "{}", text(r));
    Ok(Exit::Joined)
}

/// Up to 8 rule ids that look like `id`.
pub fn near(set: &RuleSet, id: &str) -> Vec<String> {
    let stem = id.split('-').next().unwrap_or("");
    set.rules
        .iter()
        .map(|r| r.raw.id.as_str())
        .filter(|x| x.contains(id) || id.contains(x) || x.starts_with(stem))
        .take(8)
        .map(String::from)
        .collect()
}

/// The rule's documentation: what, why, fix, when it fires, references.
/// Rule text comes from user files: every line is escaped like analyze's output.
pub fn text(r: &Rule) -> String {
    let raw = &r.raw;
    let mut s = format!(
        "{}\n{}\n\nphase {} ({}), cause {}, severity {}, confidence {}\n\n{}\n",
        raw.id,
        raw.title,
        raw.phase,
        model::phase_id(raw.phase),
        raw.cause,
        raw.severity.name(),
        raw.confidence,
        raw.explanation.trim()
    );
    s.push_str("\nFix:\n");
    for (i, f) in raw.fix.iter().enumerate() {
        let _ = writeln!(s, "  {}. {f}", i + 1);
    }
    s.push_str("\nFires when:\n");
    for c in &raw.when {
        let _ = writeln!(s, "  - {}", clause(c));
    }
    if !raw.masks.is_empty() {
        let _ = writeln!(
            s,
            "\nExplains (masks) these causes as symptoms: {}",
            raw.masks.join(", ")
        );
    }
    s.push_str("\nReferences:\n");
    for x in &raw.references {
        let _ = writeln!(s, "  {x}");
    }
    if !raw.origin.is_empty() {
        s.push_str("\nWording taken from:\n");
        for x in &raw.origin {
            let _ = writeln!(s, "  {x}");
        }
    }
    let _ = writeln!(s, "\nSource: {}", r.file);
    s.lines().map(|l| sanitize(l) + "\n").collect()
}

/// One `[[when]]` clause in words.
fn clause(c: &RawClause) -> String {
    let mut parts = Vec::new();
    if !c.logs.is_empty() {
        let sources = if c.sources.is_empty() {
            String::new()
        } else {
            format!("{} ", c.sources.join("/"))
        };
        parts.push(format!(
            "a {sources}log line matches one of {} patterns",
            c.logs.len()
        ));
    }
    if !c.facts.is_empty() {
        parts.push(c.facts.join(" and "));
    }
    if !c.unless.is_empty() {
        parts.push(format!("unless {}", c.unless.join(" or ")));
    }
    parts.join(", and ")
}
