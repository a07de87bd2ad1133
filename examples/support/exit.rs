//! How an example ends (shared by every example): on failure, the error in plain words on
//! stderr and a non-zero exit code, never the Rust `Debug` form that `main() -> Result` prints.

use std::error::Error;
use std::process::ExitCode;

/// What a part of an example returns.
pub(crate) type Outcome = Result<(), Box<dyn Error>>;

/// Ends the example: success, or `error: <message>` on stderr and exit code 1.
pub(crate) fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            ExitCode::FAILURE
        }
    }
}
