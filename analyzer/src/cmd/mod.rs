//! Subcommands as library functions: each takes its arguments and a writer
//! and returns the exit status or a typed error, so binaries stay thin.

pub mod analyze;
pub mod certs;
pub mod explain;
pub mod facts;
pub mod rules;
pub mod timeline;

use crate::render::sanitize;
use crate::rules::{RuleError, RuleSet};
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit statuses (product contract), in rising order of trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Joined; or the command did what was asked.
    Joined = 0,
    /// A failure was diagnosed, or the result is inconclusive.
    Diagnosed = 1,
    /// An input could not be read, or the command was misused.
    Unreadable = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// Output format shared by the report commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown(crate::ticket::Flavor),
}

/// Why a command could not run; every one exits [`Exit::Unreadable`].
#[derive(Debug)]
pub enum Error {
    /// Rule files with problems, all of them.
    Rules(Vec<RuleError>),
    /// A file named on the command line (not an input) could not be read.
    Read {
        path: PathBuf,
        source: io::Error,
    },
    /// `explain ID` with no such rule; `near` are ids that look alike.
    NoRule {
        id: String,
        near: Vec<String>,
    },
    /// Writing the output failed.
    Io(io::Error),
    Json(serde_json::Error),
}

impl Error {
    /// What the binary prints on stderr, one line each, escaped.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Error::Rules(e) => {
                let mut v: Vec<String> = e
                    .iter()
                    .map(|x| sanitize(&format!("error[{}]: {x}", x.code)))
                    .collect();
                v.push(format!(
                    "nodejoin: {} problem(s) in the rule files",
                    e.len()
                ));
                v
            }
            e => vec![format!("nodejoin: {e}")],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rules(e) => write!(f, "{} problem(s) in the rule files", e.len()),
            Error::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            Error::NoRule { id, near } => {
                write!(f, "no rule {}", sanitize(&format!("{id:?}")))?;
                if !near.is_empty() {
                    write!(f, "; did you mean: {}", near.join(", "))?;
                }
                Ok(())
            }
            Error::Io(e) => e.fmt(f),
            Error::Json(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } | Error::Io(source) => Some(source),
            Error::Json(e) => Some(e),
            Error::Rules(_) | Error::NoRule { .. } => None,
        }
    }
}

impl From<Vec<RuleError>> for Error {
    fn from(e: Vec<RuleError>) -> Self {
        Error::Rules(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

/// Say on stderr that an input could not be read (its text escaped).
#[allow(clippy::print_stderr)]
pub fn cannot_read(e: &dyn std::fmt::Display) {
    eprintln!(
        "nodejoin: cannot read {}",
        crate::render::sanitize(&e.to_string())
    );
}

/// The built-in rules, plus the files of `dir` when given: the one loader of
/// `analyze --rules`, `rules check`, `explain` and the rest.
pub fn load_rules(dir: &Option<PathBuf>) -> Result<RuleSet, Vec<RuleError>> {
    match dir {
        Some(d) => RuleSet::with_dir(d),
        None => RuleSet::embedded(),
    }
}
