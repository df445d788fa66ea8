//! `nodejoin analyze`: one report per input; with several inputs (or a
//! directory of bundles) one line per input and the fleet summary.

use super::{load_rules, Error, Exit, Format};
use crate::cli::AnalyzeArgs;
use crate::input::{InputError, Limits};
use crate::render::{self, Style};
use crate::report::{Report, Status};
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

/// `nodejoin analyze` as the command line gives it.
pub fn run(a: AnalyzeArgs, out: &mut dyn Write) -> Result<Exit, Error> {
    let set = load_rules(&a.rules)?;
    let opts = Options {
        limits: Limits {
            max_total: crate::budget::mib(a.max_mib),
            max_entries: a.max_entries,
            max_seconds: a.max_seconds,
            ..Limits::default()
        },
        ..Options::default()
    };
    let args = Args {
        format: a.format.lib(a.markdown_flavor),
        paths: a.paths,
        summary: a.summary,
        node_yaml: a.node_yaml,
        events: a.events,
    };
    reports(args, &set, opts, out)
}

/// The extra evidence files, read into `opts.extra`. Each is held in memory
/// and fed to every input, so it must be small: /dev/zero or a multi-GiB
/// file is refused, not read to the end.
fn read_extra(args: &Args, opts: &mut Options) -> Result<(), Error> {
    use std::io::Read;
    const MAX: u64 = crate::scan::SMALL_FILE;
    for (file, at) in [(&args.node_yaml, EXTRA_NODE), (&args.events, EXTRA_EVENTS)] {
        if let Some(f) = file {
            let fail = |source| Error::Read {
                path: f.clone(),
                source,
            };
            let mut data = Vec::new();
            let deadline = crate::budget::Deadline::after(opts.limits.max_seconds);
            crate::input::open_input(f, deadline)
                .and_then(|h| h.take(MAX + 1).read_to_end(&mut data))
                .map_err(fail)?;
            if data.len() as u64 > MAX {
                let msg = format!("larger than {} MiB; not read", MAX >> 20);
                return Err(fail(std::io::Error::other(msg)));
            }
            opts.extra.push((at.to_string(), data));
        }
    }
    Ok(())
}

/// Analyze every input, in parallel, with a progress bar on a terminal.
fn analyze_all(paths: &[PathBuf], rules: &RuleSet, opts: &Options) -> Vec<Analyzed> {
    let pb = progress(paths.len());
    let tick = || {
        if let Some(p) = &pb {
            p.inc(1);
        }
    };
    let results = crate::analyze_with(paths, rules, opts, &tick);
    if let Some(p) = &pb {
        p.finish_and_clear();
    }
    results
}

type Analyzed = Result<Report, InputError>;

/// One input's text in the chosen format; `None` when it prints nothing.
fn render_one(
    r: &Analyzed,
    format: Format,
    fleet_run: bool,
    style: &Style,
) -> Result<Option<String>, Error> {
    Ok(Some(match r {
        Ok(r) => match format {
            Format::Json => serde_json::to_string(r)? + "\n",
            Format::Table if fleet_run => fleet::report_line(r),
            Format::Table => render::text(r, style),
            Format::Markdown(f) => ticket::render(r, f),
        },
        Err(e) => match format {
            Format::Json => {
                serde_json::json!({"input": e.path.display().to_string(), "error": e.message})
                    .to_string()
                    + "\n"
            }
            Format::Table if fleet_run => fleet::error_line(e),
            Format::Markdown(_) | Format::Table => return Ok(None),
        },
    }))
}

/// The exit status one input's result asks for.
fn exit_of(r: &Analyzed) -> Exit {
    match r {
        Ok(r) if r.verdict.status == Status::Joined => Exit::Joined,
        Ok(_) => Exit::Diagnosed,
        Err(_) => Exit::Unreadable,
    }
}

/// The fleet summary in the chosen format.
fn summary(results: &[Analyzed], args: &Args, cut: bool) -> Result<String, Error> {
    let mut s = fleet::summarize(results);
    if cut {
        s.unreadable.push(fleet::Unreadable {
            input: "(inputs)".into(),
            reason: format!(
                "more than {} inputs; the rest were not analyzed",
                fleet::MAX_INPUTS
            ),
        });
    }
    Ok(match args.format {
        Format::Json => serde_json::to_string(&s)? + "\n",
        Format::Markdown(_) => "\n".to_string() + &fleet::render_markdown(&s),
        Format::Table if args.summary => fleet::render_text(&s).trim_start().to_string(),
        Format::Table => fleet::render_text(&s),
    })
}

/// Analyze `args.paths` and write one report per input (or one line per
/// input and the fleet summary); the exit status is the worst input's.
pub fn reports(
    args: Args,
    rules: &RuleSet,
    mut opts: Options,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    read_extra(&args, &mut opts)?;
    let (paths, fleet_run, cut) = fleet::expand_capped(&args.paths);
    let results = analyze_all(&paths, rules, &opts);
    let style = Style::detect();
    let mut exit = Exit::Joined;
    for (i, r) in results.iter().enumerate() {
        exit = exit.max(exit_of(r));
        if let Err(e) = r {
            super::cannot_read(&e);
        }
        if args.summary {
            continue;
        }
        let Some(text) = render_one(r, args.format, fleet_run, &style)? else {
            continue;
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
        let _ = write!(out, "{}", summary(&results, &args, cut)?);
    }
    Ok(exit)
}
