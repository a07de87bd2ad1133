//! The `viben` command: a thin layer over viben-store and viben-db.
//!
//! Exit codes: 0 success; 1 the operation failed (not found, invalid, conflict, unreachable);
//! 2 wrong usage (clap's own, and the commands' usage errors); 141 stdout was closed early.
//! Errors go to stderr as one line, then a hint line; with `--json`, as one JSON object.

mod cli;
mod commands;
mod context;
mod failure;
mod output;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::failure::Failure;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    output::set_json(cli.json);
    trace(cli.verbose);
    let context = context::Context::new(cli.home, cli.database_url);
    let result = commands::run(&context, cli.command).and_then(|()| {
        // Output is line-buffered: the last bytes may only fail here, and must not be lost
        // silently when the device is full.
        std::io::stdout().flush().map_err(Failure::output)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}

/// Sends the libraries' `tracing` events to stderr: with `RUST_LOG` set, as it says;
/// otherwise nothing without `-v`, connections, migrations and writes at `info` with `-v`,
/// and every statement and checkout at `debug` with `-vv`.
fn trace(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("viben_db=info,viben_store=info"),
            _ => EnvFilter::new("viben_db=debug,viben_store=debug"),
        },
    };
    // Only fails when a subscriber is already set, which nothing else here does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Reports what clap refused (exit 2), or prints `--help`/`--version` (exit 0); with `--json`
/// on the line, a refusal is one JSON object on stderr like every other failure.
fn usage_error(err: clap::Error) -> ExitCode {
    let wants_json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if !err.use_stderr() || !wants_json {
        // clap's own printing may fail (a closed stdout after `--help | head -1`); nothing is
        // left to report it to.
        let _ = err.print();
        return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
    }
    // clap renders "error: what\n  details\n\nUsage: ...\n\nFor more information, ...":
    // the lines before `Usage:` are the message, the rest is the hint.
    let rendered = err.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let split = lines
        .iter()
        .position(|l| l.starts_with("Usage:"))
        .unwrap_or(lines.len());
    let message = lines[..split]
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned();
    let hint = lines[split..].join("; ");
    output::eprint_json(&serde_json::json!({
        "error": message,
        "hint": (!hint.is_empty()).then_some(hint),
    }));
    ExitCode::from(2)
}
