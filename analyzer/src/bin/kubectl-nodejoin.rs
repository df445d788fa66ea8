//! `kubectl nodejoin ...`: kubectl runs `kubectl-nodejoin` from PATH as a
//! plugin. The same program as `nodejoin`.

#[path = "../main.rs"]
mod nodejoin;

fn main() -> std::process::ExitCode {
    nodejoin::main()
}
