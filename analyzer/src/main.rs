//! nodejoin: name the failed phase and likely cause of a Kubernetes node join.
//! The command line and the commands live in the library (`analyzer::cli`,
//! `analyzer::cmd`); this parses, runs, prints errors and exits.

use analyzer::cli::{self, Cli};
use analyzer::cmd::Exit;
use clap::Parser;
use std::process::ExitCode;

#[allow(clippy::print_stderr)]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Unreadable.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut out = std::io::stdout().lock();
    match cli::run(cli, &mut out) {
        Ok(exit) => exit.into(),
        Err(e) => {
            for line in e.lines() {
                eprintln!("{line}");
            }
            Exit::Unreadable.into()
        }
    }
}
