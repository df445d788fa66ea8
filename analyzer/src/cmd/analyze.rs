//! `nodejoin analyze`: one report per input; with several inputs (or a
//! directory of bundles) one line per input and the fleet summary.

use super::{Format, DIAGNOSED, JOINED, UNREADABLE};
use crate::render::{self, Style};
use crate::report::Status;
use crate::rules::RuleSet;
use crate::{fleet, ticket, Options};
use std::io::Write;
use std::path::PathBuf;

pub struct Args {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    /// The summary alone.
    pub summary: bool,
    /// `kubectl get node NAME -o yaml` (or JSON) an admin fetched.
    pub node_yaml: Option<PathBuf>,
    /// `kubectl get events` output an admin fetched.
    pub events: Option<PathBuf>,
}

/// Where extra evidence goes inside each input: the node object where a
/// bundle keeps it, the events as pasted text (scanned like any paste).
pub const EXTRA_NODE: &str = bundle::layout::NODE_YAML;
pub const EXTRA_EVENTS: &str = "extra/kubectl-get-events.txt";

fn progress(n: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if n < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(n as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(st) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} inputs {elapsed}")
    {
        pb.set_style(st);
    }
    Some(pb)
}

#[allow(clippy::print_stderr)]
pub fn run(
    args: Args,
    rules: &RuleSet,
    mut opts: Options,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    for (file, at) in [(&args.node_yaml, EXTRA_NODE), (&args.events, EXTRA_EVENTS)] {
        if let Some(f) = file {
            let data = std::fs::read(f)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
            opts.extra.push((at.to_string(), data));
        }
    }
    let (paths, fleet_run) = fleet::expand(&args.paths);
    let pb = progress(paths.len());
    let tick = || {
        if let Some(p) = &pb {
            p.inc(1);
        }
    };
    let results = crate::analyze_with(&paths, rules, &opts, &tick);
    if let Some(p) = &pb {
        p.finish_and_clear();
    }
    let style = Style::detect();
    let mut exit = JOINED;
    for (i, r) in results.iter().enumerate() {
        let text = match r {
            Ok(r) => {
                exit = exit.max(if r.verdict.status == Status::Joined {
                    JOINED
                } else {
                    DIAGNOSED
                });
                if args.summary {
                    continue;
                }
                match args.format {
                    Format::Json => serde_json::to_string(r)? + "\n",
                    Format::Table if fleet_run => fleet::report_line(r),
                    Format::Table => render::text(r, &style),
                    Format::Markdown(f) => ticket::render(r, f),
                }
            }
            Err(e) => {
                exit = UNREADABLE;
                super::cannot_read(&e);
                if args.summary {
                    continue;
                }
                match args.format {
                    Format::Json => {
                        serde_json::json!({"input": e.path.display().to_string(), "error": e.message})
                            .to_string()
                            + "\n"
                    }
                    Format::Table if fleet_run => fleet::error_line(e),
                    _ => continue,
                }
            }
        };
        let sep = match args.format {
            Format::Markdown(_) | Format::Table if i > 0 && !fleet_run => "\n",
            Format::Markdown(_) if i > 0 => "\n---\n\n",
            _ => "",
        };
        if write!(out, "{sep}{text}").is_err() {
            return Ok(exit);
        }
    }
    if fleet_run || args.summary {
        let s = fleet::summarize(&results);
        let text = match args.format {
            Format::Json => serde_json::to_string(&s)? + "\n",
            Format::Markdown(_) => "\n".to_string() + &fleet::render_markdown(&s),
            Format::Table if args.summary => fleet::render_text(&s).trim_start().to_string(),
            Format::Table => fleet::render_text(&s),
        };
        let _ = write!(out, "{text}");
    }
    Ok(exit)
}
