//! nodejoin-collect: run once on the node that will not join; attach the bundle to the ticket.
//! Flags, defaults and `--help` come from one table: `collector::options::FLAGS`.

use collector::options::{self, Cli};
use std::io::Write;
use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    stop_on_signals();
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
    if cli.opts.run.is_empty() {
        report(&cli, collector::collect(&cli.opts))
    } else {
        wrap(&cli)
    }
}

/// SIGINT, SIGTERM and SIGHUP are taken by one thread (they are blocked in
/// every other; commands start with them unblocked): it kills the commands'
/// process groups, removes the partial bundle and exits 128 + the signal.
fn stop_on_signals() {
    // SAFETY: the sigset is initialised by sigemptyset before use; the calls
    // only change this process's signal mask.
    let set = unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut sig = 0;
        // SAFETY: sigwait(3) with a valid set and out pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            collector::procs::abort();
            std::process::exit(128 + sig);
        }
    });
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn report(cli: &Cli, r: Result<collector::Summary, collector::Error>) -> ExitCode {
    match r {
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

/// `--run -- CMD ...`: exit with the command's status, collecting if it failed.
#[allow(clippy::print_stderr)]
fn wrap(cli: &Cli) -> ExitCode {
    let tee = |b: &[u8]| {
        let _ = std::io::stderr().write_all(b);
    };
    match collector::run_and_collect(&cli.opts, &tee) {
        Ok(w) => {
            if let Some(r) = w.collected {
                eprintln!(
                    "nodejoin-collect: `{}` ended with status {}; collected:",
                    cli.opts.run[0], w.code
                );
                let _ = report(cli, r);
            }
            ExitCode::from(w.code.clamp(0, 255) as u8)
        }
        Err(e) => {
            eprintln!("nodejoin-collect: error: {e}");
            ExitCode::from(1)
        }
    }
}
