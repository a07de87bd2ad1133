//! The `viben` command: a thin layer over viben-store and viben-db.
//!
//! Exit codes: 0 success; 1 the operation failed (not found, invalid, conflict, unreachable);
//! 2 wrong usage (clap's own exit code). Errors go to stderr as one line, then a hint line.

mod cli;
mod commands;
mod context;
mod failure;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let context = context::Context::new(cli.home, cli.database_url);
    match commands::run(&context, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::FAILURE
        }
    }
}
