//! Renderers. They only present a `Report`; nothing here decides anything.
//! Text from bundles is untrusted: control characters are escaped so a log
//! line cannot drive the operator's terminal.

use crate::report::{PhaseStatus, Report, Status};
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

/// Escape control characters (ANSI escapes, C1 codes, backspaces) for display.
pub fn sanitize(s: &str) -> String {
    crate::escape::terminal(s)
}

pub struct Style {
    pub color: bool,
    pub width: u16,
}

impl Style {
    /// Colour only on a terminal, and never with NO_COLOR set.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let width = if tty {
            comfy_table::Table::new().width().unwrap_or(120)
        } else {
            120
        };
        Style {
            color,
            width: width.max(80),
        }
    }
}

fn paint(style: &Style, text: &str, code: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn table(style: &Style) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn cell(style: &Style, text: &str, color: Option<Color>) -> Cell {
    let c = Cell::new(sanitize(text));
    match (style.color, color) {
        (true, Some(col)) => c.fg(col),
        _ => c,
    }
}

pub fn verdict_line(r: &Report) -> String {
    let v = &r.verdict;
    match v.status {
        Status::Failed => format!(
            "FAILED at phase {} ({}): cause {} (confidence {:.2})",
            v.phase.unwrap_or(0),
            v.phase_name.as_deref().unwrap_or("?"),
            v.cause.as_deref().unwrap_or("not named"),
            v.confidence.unwrap_or(0.0)
        ),
        Status::Joined => "JOINED: no failure cause".to_string(),
        Status::Inconclusive => "INCONCLUSIVE".to_string(),
    }
}

/// "Also possible: ..." and "To tell them apart: ...", when the verdict has them.
pub(crate) fn alternatives(v: &crate::report::Verdict) -> Vec<String> {
    let mut out = Vec::new();
    if !v.alternatives.is_empty() {
        let list: Vec<String> = v
            .alternatives
            .iter()
            .map(|a| {
                format!(
                    "{} (phase {}, confidence {:.2})",
                    a.cause, a.phase, a.confidence
                )
            })
            .collect();
        out.push(format!("Also possible: {}", list.join("; ")));
    }
    if let Some(d) = &v.distinguish {
        out.push(format!("To tell them apart: {d}"));
    }
    out
}

/// Human report: verdict, fix, phase ladder, findings, problems.
pub fn text(r: &Report, style: &Style) -> String {
    let mut o = verdict_text(r, style);
    o.push_str(&format!("\nPhase ladder\n{}\n", ladder_table(r, style)));
    if !r.findings.is_empty() {
        o.push_str(&format!("\nFindings\n{}\n", findings_table(r, style)));
    }
    o.push_str(&problems_text(r, style));
    o.push_str(&format!(
        "\n{} entries, {} log lines in {} files, {} rules\n",
        r.stats.entries, r.stats.log_lines, r.stats.log_files, r.analyzer.rules
    ));
    o
}

/// The input, the verdict, its evidence, alternatives and fix.
fn verdict_text(r: &Report, style: &Style) -> String {
    let mut o = String::new();
    let v = &r.verdict;
    let code = match v.status {
        Status::Failed => "1;31",
        Status::Joined => "1;32",
        Status::Inconclusive => "1;33",
    };
    o.push_str(&format!(
        "{}  {}\n",
        paint(style, "nodejoin", "1"),
        sanitize(&r.input)
    ));
    o.push_str(&format!(
        "{}\n  {}\n",
        paint(style, &verdict_line(r), code),
        sanitize(&v.title)
    ));
    if !v.evidence.is_empty() {
        o.push_str("\nEvidence:\n");
        for e in &v.evidence {
            let at = e
                .line
                .map(|l| format!("{}:{l}", e.file))
                .unwrap_or_else(|| e.file.clone());
            o.push_str(&format!(
                "  {}\n      {}\n",
                paint(style, &sanitize(&at), "36"),
                sanitize(&e.text)
            ));
        }
    }
    for line in alternatives(v) {
        o.push_str(&format!("\n  {}", sanitize(&line)));
    }
    if !v.alternatives.is_empty() || v.distinguish.is_some() {
        o.push('\n');
    }
    if !v.fix.is_empty() {
        o.push_str("\nFix:\n");
        for (i, f) in v.fix.iter().enumerate() {
            o.push_str(&format!("  {}. {}\n", i + 1, sanitize(f)));
        }
    }
    if let Some(id) = &v.rule_id {
        o.push_str(&format!("\n  More: nodejoin explain {id}\n"));
    }
    o
}

/// One row per phase: passed, failed or unknown, and why.
fn ladder_table(r: &Report, style: &Style) -> Table {
    let mut t = table(style);
    t.set_header(vec!["#", "phase", "status", "why"]);
    for p in &r.ladder {
        let (s, c) = match p.status {
            PhaseStatus::Passed => ("passed", Color::Green),
            PhaseStatus::Failed => ("FAILED", Color::Red),
            PhaseStatus::Unknown => ("unknown", Color::DarkGrey),
        };
        let why = match p.evidence.first() {
            Some(e) => format!("{} ({})", p.note, e.file),
            None => p.note.clone(),
        };
        t.add_row(vec![
            cell(style, &p.phase.to_string(), None),
            cell(style, &p.id, None),
            cell(style, s, Some(c)),
            cell(style, &why, None),
        ]);
    }
    t
}

/// One row per finding, with its first evidence.
fn findings_table(r: &Report, style: &Style) -> Table {
    let mut t = table(style);
    t.set_header(vec![
        "severity", "rule", "phase", "cause", "status", "evidence",
    ]);
    for f in &r.findings {
        let sev_color = match f.severity {
            crate::model::Severity::Error => Color::Red,
            crate::model::Severity::Warning => Color::Yellow,
            crate::model::Severity::Info => Color::Blue,
        };
        let status = f.status.name();
        let ev = f
            .evidence
            .first()
            .map(crate::facts::Evidence::quoted)
            .unwrap_or_default();
        let ev = if f.count > 1 {
            format!("{ev} (+{} more lines)", f.count - 1)
        } else {
            ev
        };
        t.add_row(vec![
            cell(style, f.severity.name(), Some(sev_color)),
            cell(style, &f.rule_id, None),
            cell(style, &f.phase.to_string(), None),
            cell(style, &f.cause, None),
            cell(style, status, None),
            cell(style, &ev, None),
        ]);
    }
    t
}

/// What could not be read, refused or cut, when anything was.
fn problems_text(r: &Report, style: &Style) -> String {
    if r.problems.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "\n{}\n",
        paint(style, "Input problems (the report may be partial):", "33")
    );
    for p in &r.problems {
        let path = if p.path.is_empty() {
            "(archive)"
        } else {
            &p.path
        };
        o.push_str(&format!("  {}: {}\n", sanitize(path), sanitize(&p.problem)));
    }
    o
}

/// What was cut or refused reading an input, for the `timeline` and `certs`
/// reports (`what` may be partial); empty when nothing was.
pub(crate) fn input_problems_text(problems: &[crate::input::Problem], what: &str) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut o = format!("\nInput problems (the {what} may be partial):\n");
    for p in problems {
        o.push_str(&format!(
            "  {}: {}\n",
            sanitize(&p.path),
            sanitize(&p.problem)
        ));
    }
    o
}

/// The same list in Markdown.
pub(crate) fn input_problems_markdown(problems: &[crate::input::Problem], what: &str) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let md = crate::escape::md_text;
    let mut o = format!("\n**Input problems (the {what} may be partial):**\n\n");
    for p in problems {
        o.push_str(&format!("- {}: {}\n", md(&p.path), md(&p.problem)));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(sanitize("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(sanitize("tab\there"), "tab here");
        assert_eq!(sanitize("\u{202e}evil"), "\\u{202e}evil");
    }
}
