//! nodejoin: name the failed phase and likely cause of a Kubernetes node join.

use analyzer::render::{self, sanitize, Style};
use analyzer::report::Status;
use analyzer::rules::{RuleError, RuleSet};
use analyzer::{facts, input::Limits, model, Options};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit statuses (product contract).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Exit {
    Joined = 0,
    Diagnosed = 1,
    Unreadable = 2,
}

#[derive(Parser)]
#[command(
    name = "nodejoin",
    version,
    about = "Name the failed phase and likely cause of a Kubernetes node join, offline",
    long_about = "Name the failed phase and likely cause of a Kubernetes node join, offline.\n\n\
A join passes five phases: 1 host-prepared, 2 join-initiated, 3 authentication-registration, \
4 readiness-established, 5 scheduling-enabled. `nodejoin analyze` reads a bundle from \
`nodejoin-collect` (or an unpacked bundle, or a log pasted into a ticket), applies the rule set, \
and reports the phase whose invariant the root cause breaks, the cause, the evidence (file, line, \
quoted text) and the fix.",
    after_help = "Examples:\n  nodejoin analyze nodejoin-pi4-20261124T055801Z.tgz\n  nodejoin analyze kubelet-journal.txt --format json\n  nodejoin analyze fixtures/bundles/pi-clock-drift-kubeadm\n  nodejoin rules\n  nodejoin explain clock-drift-cert-not-yet-valid\n\nExit status: 0 joined, 1 a failure was diagnosed or the result is inconclusive, 2 an input could not be read or the command was misused."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Subcommand)]
enum Cmd {
    /// Analyze bundles (.tgz), unpacked bundle directories or plain log files.
    #[command(
        after_help = "Several inputs are analyzed in parallel; results print in the order given.\nWith --format json each input prints one JSON object on its own line."
    )]
    Analyze {
        /// Inputs: bundle .tgz/.tar, a directory, or a log file (.gz is fine).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        /// Also load the rule files (*.toml) in DIR.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Stop reading an input after this many MiB decompressed.
        #[arg(long, value_name = "MIB", default_value_t = 1024)]
        max_mib: u64,
        /// Stop reading an input after this many entries.
        #[arg(long, value_name = "N", default_value_t = 20_000)]
        max_entries: usize,
        /// Stop reading an input after this many seconds (0: no limit).
        #[arg(long, value_name = "S", default_value_t = analyzer::budget::DEFAULT_SECONDS)]
        max_seconds: u64,
    },
    /// List the rule set, or check rule files.
    Rules {
        #[command(subcommand)]
        action: Option<RulesCmd>,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        /// Also load the rule files (*.toml) in DIR.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Print one rule's documentation: what, why, fix, references.
    Explain {
        id: String,
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// List the facts rules can compare, and the cause ids.
    Facts,
}

#[derive(Subcommand)]
enum RulesCmd {
    /// Lint rule files: unknown keys, bad regexes, unknown phases, causes or facts, duplicate ids, missing docs.
    Check {
        /// Directory of *.toml rule files (default: the built-in set).
        dir: Option<PathBuf>,
    },
}

fn load(dir: &Option<PathBuf>) -> Result<RuleSet, Vec<RuleError>> {
    match dir {
        Some(d) => RuleSet::with_dir(d),
        None => RuleSet::embedded(),
    }
}

#[allow(clippy::print_stderr)]
fn rule_errors(e: &[RuleError]) -> ExitCode {
    for x in e {
        eprintln!("{}", sanitize(&x.to_string()));
    }
    eprintln!("nodejoin: {} problem(s) in the rule files", e.len());
    ExitCode::from(Exit::Unreadable as u8)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Unreadable as u8
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut out = std::io::stdout().lock();
    match cli.cmd {
        Cmd::Analyze {
            paths,
            format,
            rules,
            max_mib,
            max_entries,
            max_seconds,
        } => {
            let set = match load(&rules) {
                Ok(s) => s,
                Err(e) => return rule_errors(&e),
            };
            let opts = Options {
                limits: Limits {
                    max_total: analyzer::budget::mib(max_mib),
                    max_entries,
                    max_seconds,
                    ..Limits::default()
                },
            };
            let style = Style::detect();
            let mut exit = Exit::Joined;
            for (i, r) in analyzer::analyze(&paths, &set, &opts)
                .into_iter()
                .enumerate()
            {
                let text = match r {
                    Ok(r) => {
                        let e = if r.verdict.status == Status::Joined {
                            Exit::Joined
                        } else {
                            Exit::Diagnosed
                        };
                        exit = exit.max(e);
                        match format {
                            Format::Json => serde_json::to_string(&r).unwrap_or_default() + "\n",
                            Format::Markdown => render::markdown(&r),
                            Format::Table => render::text(&r, &style),
                        }
                    }
                    Err(e) => {
                        exit = Exit::Unreadable;
                        eprintln!("nodejoin: cannot read {}", sanitize(&e.to_string()));
                        match format {
                            Format::Json => serde_json::json!({"input": e.path.display().to_string(), "error": e.message}).to_string() + "\n",
                            _ => continue,
                        }
                    }
                };
                let sep = if i > 0 && format != Format::Json {
                    "\n"
                } else {
                    ""
                };
                if write!(out, "{sep}{text}").is_err() {
                    break;
                }
            }
            ExitCode::from(exit as u8)
        }
        Cmd::Rules {
            action: Some(RulesCmd::Check { dir }),
            ..
        } => {
            // The same loader as `analyze --rules`: built-ins plus the files,
            // so duplicates of built-in ids and size limits are reported alike.
            let res = load(&dir);
            match res {
                Ok(s) => {
                    let _ = writeln!(out, "{} rules, no problems", s.rules.len());
                    ExitCode::SUCCESS
                }
                Err(e) => rule_errors(&e),
            }
        }
        Cmd::Rules {
            action: None,
            format,
            rules,
        } => {
            let set = match load(&rules) {
                Ok(s) => s,
                Err(e) => return rule_errors(&e),
            };
            if format == Format::Json {
                let v: Vec<serde_json::Value> = set
                    .rules
                    .iter()
                    .map(|r| serde_json::json!({"id": r.raw.id, "cause": r.raw.cause, "phase": r.raw.phase, "phase_name": model::phase_id(r.raw.phase), "severity": r.raw.severity, "confidence": r.raw.confidence, "title": r.raw.title, "file": r.file, "masks": r.raw.masks}))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                );
            } else {
                let mut t = comfy_table::Table::new();
                t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                    .set_header(vec!["id", "phase", "cause", "severity", "title"]);
                for r in &set.rules {
                    t.add_row(vec![
                        sanitize(&r.raw.id),
                        r.raw.phase.to_string(),
                        sanitize(&r.raw.cause),
                        r.raw.severity.name().into(),
                        sanitize(&r.raw.title),
                    ]);
                }
                let _ = writeln!(
                    out,
                    "{t}\n{} rules. `nodejoin explain ID` documents one.",
                    set.rules.len()
                );
            }
            ExitCode::SUCCESS
        }
        Cmd::Explain { id, rules } => {
            let set = match load(&rules) {
                Ok(s) => s,
                Err(e) => return rule_errors(&e),
            };
            let Some(r) = set.get(&id) else {
                let near: Vec<&str> = set
                    .rules
                    .iter()
                    .map(|r| r.raw.id.as_str())
                    .filter(|x| {
                        x.contains(&id)
                            || id.contains(x)
                            || x.starts_with(id.split('-').next().unwrap_or(""))
                    })
                    .take(8)
                    .collect();
                eprintln!(
                    "nodejoin: no rule {}{}",
                    sanitize(&format!("{id:?}")),
                    if near.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean: {}", near.join(", "))
                    }
                );
                return ExitCode::from(Exit::Unreadable as u8);
            };
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
                s.push_str(&format!("  {}. {f}\n", i + 1));
            }
            s.push_str("\nFires when:\n");
            for c in &raw.when {
                let mut parts = Vec::new();
                if !c.logs.is_empty() {
                    parts.push(format!(
                        "a {}log line matches one of {} patterns",
                        if c.sources.is_empty() {
                            String::new()
                        } else {
                            format!("{} ", c.sources.join("/"))
                        },
                        c.logs.len()
                    ));
                }
                if !c.facts.is_empty() {
                    parts.push(c.facts.join(" and "));
                }
                if !c.unless.is_empty() {
                    parts.push(format!("unless {}", c.unless.join(" or ")));
                }
                s.push_str(&format!("  - {}\n", parts.join(", and ")));
            }
            if !raw.masks.is_empty() {
                s.push_str(&format!(
                    "\nExplains (masks) these causes as symptoms: {}\n",
                    raw.masks.join(", ")
                ));
            }
            s.push_str("\nReferences:\n");
            for x in &raw.references {
                s.push_str(&format!("  {x}\n"));
            }
            s.push_str(&format!("\nSource: {}\n", r.file));
            // Rule text comes from user files: escaped like analyze's output.
            let s: String = s.lines().map(|l| sanitize(l) + "\n").collect();
            let _ = write!(out, "{s}");
            ExitCode::SUCCESS
        }
        Cmd::Facts => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header(vec!["fact", "type", "meaning"]);
            for (n, k, m) in facts::KNOWN {
                t.add_row(vec![*n, *k, *m]);
            }
            let mut c = comfy_table::Table::new();
            c.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header(vec!["cause", "phase", "meaning"]);
            for (id, ph, m) in model::CAUSES {
                c.add_row(vec![
                    id.to_string(),
                    ph.iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                    m.to_string(),
                ]);
            }
            let _ = writeln!(out, "Facts rules can compare (`NAME OP VALUE`, ops == != < <= > >= contains exists missing):\n{t}\n\nCause ids:\n{c}");
            ExitCode::SUCCESS
        }
    }
}
