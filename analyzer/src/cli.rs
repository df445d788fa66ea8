//! The command line of `nodejoin` (and `kubectl nodejoin`): the clap types and
//! the dispatch to one `cmd` module per subcommand. Printing errors and
//! exiting stay in the binary.

use crate::cmd::{self, Error, Exit};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

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
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// Jira wiki markup.
    Jira,
}

/// Which Markdown dialect `--format markdown` targets.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Flavor {
    Github,
    Gitlab,
}

impl Format {
    /// The report format this flag (and `--markdown-flavor`) asks for.
    pub fn lib(self, flavor: Flavor) -> cmd::Format {
        use crate::ticket::Flavor as F;
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
pub enum Cmd {
    /// Analyze bundles (.tgz), unpacked bundle directories or plain log files.
    #[command(
        after_help = "Several inputs are analyzed in parallel; results print in the order given.\nA directory that is not itself a bundle stands for every bundle (.tgz, .tar, a directory with manifest.json) and paste (.log, .txt) under it.\nWith several inputs the table format prints one line per input and the fleet summary.\nWith --format json each input prints one JSON object on its own line; a fleet run ends with a {\"kind\": \"summary\"} object (docs/json.md)."
    )]
    Analyze(AnalyzeArgs),
    /// The join's events of every source in one order, node-clock times corrected.
    Timeline(InputArgs),
    /// Every certificate, checked against the node clock and the reference clock.
    Certs(InputArgs),
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
    /// List the rule set, or check rule files.
    Rules(RulesArgs),
    /// Print one rule's documentation: what, why, fix, references.
    Explain(ExplainArgs),
    /// List the facts rules can compare, and the cause ids.
    Facts,
}

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Inputs: bundle .tgz/.tar, a directory, or a log file (.gz is fine).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
    /// Also load the rule files (*.toml) in DIR.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Stop reading an input after this many MiB decompressed.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_mib: u64,
    /// Stop reading an input after this many entries.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_entries: usize,
    /// Print the fleet summary alone.
    #[arg(long)]
    pub summary: bool,
    /// Markdown dialect for --format markdown.
    #[arg(long, value_enum, default_value = "github")]
    pub markdown_flavor: Flavor,
    /// Extra evidence: the Node object (`kubectl get node NAME -o yaml`) fetched from the cluster.
    #[arg(long, value_name = "FILE")]
    pub node_yaml: Option<PathBuf>,
    /// Extra evidence: `kubectl get events` output fetched from the cluster.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Stop reading an input after this many seconds (0: no limit).
    #[arg(long, value_name = "S", default_value_t = crate::budget::DEFAULT_SECONDS)]
    pub max_seconds: u64,
}

// `timeline` and `certs`: one input.
#[derive(clap::Args)]
pub struct InputArgs {
    #[arg(value_name = "PATH")]
    pub input: PathBuf,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Stop reading the input after this many seconds (0: no limit).
    #[arg(long, value_name = "S", default_value_t = crate::budget::DEFAULT_SECONDS)]
    pub max_seconds: u64,
}

impl InputArgs {
    /// The options `timeline` and `certs` read their input with.
    pub fn options(&self) -> crate::Options {
        crate::Options {
            limits: crate::input::Limits {
                max_seconds: self.max_seconds,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

#[derive(clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: Option<RulesCmd>,
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: Format,
    /// Also load the rule files (*.toml) in DIR.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Lint rule files: unknown keys, bad regexes, unknown phases, causes or facts, duplicate ids, missing docs.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Directory of *.toml rule files (default: the built-in set).
    pub dir: Option<PathBuf>,
    /// json: one object on stdout, every problem with its code, file and line [default: rules --format]
    #[arg(long, short, value_enum, value_name = "FORMAT")]
    pub format: Option<CheckFormat>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum CheckFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    pub id: String,
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// Run one parsed command line, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Exit, Error> {
    match cli.cmd {
        Cmd::Analyze(a) => cmd::analyze::run(a, out),
        Cmd::Timeline(a) => cmd::timeline::run(&a, out),
        Cmd::Certs(a) => cmd::certs::run(&a, out),
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "nodejoin", out);
            Ok(Exit::Joined)
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(Exit::Joined)
        }
        Cmd::Rules(a) => cmd::rules::run(a, out),
        Cmd::Explain(a) => cmd::explain::run(&a, out),
        Cmd::Facts => cmd::facts::run(out),
    }
}
