//! Reports for tickets: Markdown that renders on GitHub and GitLab (findings
//! and the phase ladder folded into `<details>`, evidence in code blocks), and
//! Jira wiki markup. Renders a `Report` and decides nothing.

use crate::facts::Evidence;
use crate::render::{sanitize, verdict_line};
use crate::report::{PhaseStatus, Report, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Github,
    Gitlab,
    Jira,
}

pub fn render(r: &Report, f: Flavor) -> String {
    match f {
        Flavor::Jira => jira(r),
        _ => markdown(r, f),
    }
}

/// Inline text in Markdown: no HTML, no table breaks, no code spans.
fn md(s: &str) -> String {
    crate::escape::md_text(s)
}

/// A fenced code block whose fence no line of the text can close.
fn code_block(lines: &[String]) -> String {
    let mut longest = 0;
    for l in lines {
        let mut run = 0;
        for c in l.chars() {
            run = if c == '`' { run + 1 } else { 0 };
            longest = longest.max(run);
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    let mut o = format!("{fence}text\n");
    for l in lines {
        o.push_str(&sanitize(l));
        o.push('\n');
    }
    o.push_str(&fence);
    o.push('\n');
    o
}

fn quoted(e: &[Evidence]) -> Vec<String> {
    e.iter().map(crate::facts::Evidence::quoted).collect()
}

fn markdown(r: &Report, f: Flavor) -> String {
    let v = &r.verdict;
    let mut o = format!(
        "## nodejoin: `{}`\n\n",
        sanitize(&r.input).replace('`', "'")
    );
    let head = format!("**{}**: {}", md(&verdict_line(r)), md(&v.title));
    match f {
        Flavor::Github => {
            let alert = match v.status {
                Status::Failed => "CAUTION",
                Status::Joined => "NOTE",
                Status::Inconclusive => "WARNING",
            };
            o.push_str(&format!("> [!{alert}]\n> {head}\n\n"));
        }
        _ => o.push_str(&format!("> {head}\n\n")),
    }
    if !v.fix.is_empty() {
        o.push_str("**Fix:**\n\n");
        for (i, x) in v.fix.iter().enumerate() {
            o.push_str(&format!("{}. {}\n", i + 1, md(x)));
        }
        o.push('\n');
    }
    if !v.evidence.is_empty() {
        o.push_str("**Evidence:**\n\n");
        o.push_str(&code_block(&quoted(&v.evidence)));
        o.push('\n');
    }
    for line in crate::render::alternatives(v) {
        o.push_str(&format!("{}\n\n", md(&line)));
    }
    o.push_str(&markdown_details(r));
    o.push_str(&format!(
        "<sub>nodejoin {}, {} rules, {} entries, {} log lines</sub>\n",
        r.analyzer.version, r.analyzer.rules, r.stats.entries, r.stats.log_lines
    ));
    o
}

/// The phase ladder, findings and problems, each folded in `<details>`.
fn markdown_details(r: &Report) -> String {
    let mut o = String::from("<details>\n<summary>Phase ladder</summary>\n\n");
    o.push_str("| # | phase | status | why |\n|---|---|---|---|\n");
    for p in &r.ladder {
        let st = match p.status {
            PhaseStatus::Passed => "passed",
            PhaseStatus::Failed => "**failed**",
            PhaseStatus::Unknown => "unknown",
        };
        o.push_str(&format!(
            "| {} | {} | {st} | {} |\n",
            p.phase,
            p.id,
            md(&p.note)
        ));
    }
    o.push_str("\n</details>\n\n");
    if !r.findings.is_empty() {
        o.push_str(&format!(
            "<details>\n<summary>Findings ({})</summary>\n\n",
            r.findings.len()
        ));
        for x in &r.findings {
            o.push_str(&format!(
                "**{}**: {} (phase {}, cause {}, {}, {}, confidence {:.2})\n\n",
                md(&x.rule_id),
                md(&x.title),
                x.phase,
                md(&x.cause),
                x.severity.name(),
                x.status.name(),
                x.confidence
            ));
            if !x.evidence.is_empty() {
                o.push_str(&code_block(&quoted(&x.evidence)));
                o.push('\n');
            }
        }
        o.push_str("</details>\n\n");
    }
    if !r.problems.is_empty() {
        o.push_str(&format!(
            "<details>\n<summary>Input problems ({})</summary>\n\n",
            r.problems.len()
        ));
        let lines: Vec<String> = r
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.problem))
            .collect();
        o.push_str(&code_block(&lines));
        o.push_str("\n</details>\n\n");
    }
    o
}

/// Inline text in Jira wiki markup: markup characters escaped.
fn jt(s: &str) -> String {
    let mut o = String::new();
    for c in sanitize(s).chars() {
        if "{}[]|*_+-^~?!#".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

fn noformat(lines: &[String]) -> String {
    let mut o = String::from("{noformat}\n");
    for l in lines {
        o.push_str(&sanitize(l).replace("{noformat}", "{ noformat}"));
        o.push('\n');
    }
    o.push_str("{noformat}\n");
    o
}

fn jira(r: &Report) -> String {
    let v = &r.verdict;
    let color = match v.status {
        Status::Failed => "#DE350B",
        Status::Joined => "#00875A",
        Status::Inconclusive => "#FF991F",
    };
    let mut o = format!("h2. nodejoin: {{{{{}}}}}\n\n", jt(&r.input));
    o.push_str(&format!(
        "{{panel:borderColor={color}}}\n*{}*\n{}\n{{panel}}\n\n",
        jt(&verdict_line(r)),
        jt(&v.title)
    ));
    if !v.fix.is_empty() {
        o.push_str("*Fix:*\n");
        for x in &v.fix {
            o.push_str(&format!("# {}\n", jt(x)));
        }
        o.push('\n');
    }
    if !v.evidence.is_empty() {
        o.push_str("*Evidence:*\n");
        o.push_str(&noformat(&quoted(&v.evidence)));
        o.push('\n');
    }
    o.push_str("h3. Phase ladder\n||#||phase||status||why||\n");
    for p in &r.ladder {
        let st = match p.status {
            PhaseStatus::Failed => "*failed*",
            s => s.name(),
        };
        o.push_str(&format!(
            "|{}|{}|{st}|{} |\n",
            p.phase,
            jt(&p.id),
            jt(&p.note)
        ));
    }
    if !r.findings.is_empty() {
        o.push_str(&format!("\nh3. Findings ({})\n", r.findings.len()));
        for x in &r.findings {
            o.push_str(&format!(
                "*{}*: {} (phase {}, cause {}, {}, {}, confidence {:.2})\n",
                jt(&x.rule_id),
                jt(&x.title),
                x.phase,
                jt(&x.cause),
                x.severity.name(),
                x.status.name(),
                x.confidence
            ));
            if !x.evidence.is_empty() {
                o.push_str(&noformat(&quoted(&x.evidence)));
            }
        }
    }
    if !r.problems.is_empty() {
        o.push_str("\nh3. Input problems\n");
        let lines: Vec<String> = r
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.problem))
            .collect();
        o.push_str(&noformat(&lines));
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn fence_outlasts_backticks() {
        let b = super::code_block(&["a ```` b".to_string()]);
        assert!(
            b.starts_with("`````text\n") && b.ends_with("\n`````\n"),
            "{b}"
        );
    }
}
