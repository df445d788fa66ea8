//! nodejoin-collect: run once on the node that will not join; attach the bundle to the ticket.
//! Flags, defaults and `--help` come from one table: `collector::options::FLAGS`.

use collector::options::{self, Cli};
use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = match options::parse_args(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(m) => {
            eprintln!("nodejoin-collect: error: {m}\nTry 'nodejoin-collect --help'.");
            return ExitCode::from(2);
        }
    };
    if cli.help {
        print!("{}", options::help());
        return ExitCode::SUCCESS;
    }
    if cli.version {
        println!("nodejoin-collect {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    collect(&cli)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn collect(cli: &Cli) -> ExitCode {
    match collector::collect(&cli.opts) {
        Ok(s) => {
            if !cli.quiet {
                eprintln!("nodejoin-collect: {}", s.totals_line());
            }
            println!("{}", s.path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nodejoin-collect: error: {e}");
            ExitCode::from(1)
        }
    }
}
