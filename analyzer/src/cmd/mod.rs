//! Subcommands as library functions: each takes its arguments and a writer
//! and returns the exit status, so binaries stay thin.

pub mod analyze;
pub mod certs;
pub mod timeline;

use crate::rules::{RuleError, RuleSet};
use std::path::PathBuf;

/// Exit statuses (product contract).
pub const JOINED: u8 = 0;
pub const DIAGNOSED: u8 = 1;
pub const UNREADABLE: u8 = 2;

/// Output format shared by the report commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown(crate::ticket::Flavor),
}

/// Say on stderr that an input could not be read (its text escaped).
#[allow(clippy::print_stderr)]
pub fn cannot_read(e: &dyn std::fmt::Display) {
    eprintln!(
        "nodejoin: cannot read {}",
        crate::render::sanitize(&e.to_string())
    );
}

pub fn load_rules(dir: &Option<PathBuf>) -> Result<RuleSet, Vec<RuleError>> {
    match dir {
        Some(d) => RuleSet::with_dir(d),
        None => RuleSet::embedded(),
    }
}
