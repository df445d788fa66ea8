//! nodejoin: name the failed phase and likely cause of a Kubernetes node join.

use analyzer::cmd;
use analyzer::render::sanitize;
use analyzer::rules::{RuleError, RuleSet};
use analyzer::{facts, input::Limits, model, Options};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
    after_help = "Examples:\n  nodejoin analyze nodejoin-pi4-20261124T055801Z.tgz\n  nodejoin analyze kubelet-journal.txt --format json\n  nodejoin analyze fixtures/bundles/pi-clock-drift-kubeadm\n  nodejoin rules\n  nodejoin explain clock-drift-credentials\n\nExit status: 0 joined, 1 a failure was diagnosed or the result is inconclusive, 2 an input could not be read or the command was misused."
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
    /// Jira wiki markup.
    Jira,
}

/// Which Markdown dialect `--format markdown` targets.
#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Flavor {
    Github,
    Gitlab,
}

impl Format {
    fn lib(self, flavor: Flavor) -> cmd::Format {
        use analyzer::ticket::Flavor as F;
        match self {
            Format::Table => cmd::Format::Table,
            Format::Json => cmd::Format::Json,
            Format::Markdown if flavor == Flavor::Gitlab => cmd::Format::Markdown(F::Gitlab),
            Format::Markdown => cmd::Format::Markdown(F::Github),
            Format::Jira => cmd::Format::Markdown(F::Jira),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Analyze bundles (.tgz), unpacked bundle directories or plain log files.
    #[command(
        after_help = "Several inputs are analyzed in parallel; results print in the order given.\nA directory that is not itself a bundle stands for every bundle (.tgz, .tar, a directory with manifest.json) and paste (.log, .txt) under it.\nWith several inputs the table format prints one line per input and the fleet summary.\nWith --format json each input prints one JSON object on its own line; a fleet run ends with a {\"kind\": \"summary\"} object (docs/json.md)."
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
        /// Print the fleet summary alone.
        #[arg(long)]
        summary: bool,
        /// Markdown dialect for --format markdown.
        #[arg(long, value_enum, default_value = "github")]
        markdown_flavor: Flavor,
        /// Extra evidence: the Node object (`kubectl get node NAME -o yaml`) fetched from the cluster.
        #[arg(long, value_name = "FILE")]
        node_yaml: Option<PathBuf>,
        /// Extra evidence: `kubectl get events` output fetched from the cluster.
        #[arg(long, value_name = "FILE")]
        events: Option<PathBuf>,
        /// Stop reading an input after this many seconds (0: no limit).
        #[arg(long, value_name = "S", default_value_t = analyzer::budget::DEFAULT_SECONDS)]
        max_seconds: u64,
    },
    /// The join's events of every source in one order, node-clock times corrected.
    Timeline {
        #[arg(value_name = "PATH")]
        input: PathBuf,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Every certificate, checked against the node clock and the reference clock.
    Certs {
        #[arg(value_name = "PATH")]
        input: PathBuf,
        #[arg(long, short, value_enum, default_value = "table")]
        format: Format,
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
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
    ExitCode::from(cmd::UNREADABLE)
}

#[allow(clippy::print_stderr)]
fn done(r: anyhow::Result<u8>) -> ExitCode {
    match r {
        Ok(c) => ExitCode::from(c),
        Err(e) => {
            eprintln!("nodejoin: {e:#}");
            ExitCode::from(cmd::UNREADABLE)
        }
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { cmd::UNREADABLE } else { 0 };
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
            summary,
            markdown_flavor,
            node_yaml,
            events,
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
                ..Options::default()
            };
            let args = cmd::analyze::Args {
                paths,
                format: format.lib(markdown_flavor),
                summary,
                node_yaml,
                events,
            };
            done(cmd::analyze::run(args, &set, opts, &mut out))
        }
        Cmd::Timeline {
            input,
            format,
            rules,
        } => match load(&rules) {
            Ok(set) => done(cmd::timeline::run(
                &input,
                format.lib(Flavor::Github),
                &set,
                &Options::default(),
                &mut out,
            )),
            Err(e) => rule_errors(&e),
        },
        Cmd::Certs {
            input,
            format,
            rules,
        } => match load(&rules) {
            Ok(set) => done(cmd::certs::run(
                &input,
                format.lib(Flavor::Github),
                &set,
                &Options::default(),
                &mut out,
            )),
            Err(e) => rule_errors(&e),
        },
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "nodejoin", &mut out);
            ExitCode::SUCCESS
        }
        Cmd::Man => done(
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map(|_| 0)
                .map_err(Into::into),
        ),
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
                return ExitCode::from(cmd::UNREADABLE);
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
            if !raw.origin.is_empty() {
                s.push_str("\nWording taken from:\n");
                for x in &raw.origin {
                    s.push_str(&format!("  {x}\n"));
                }
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
