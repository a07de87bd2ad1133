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
            // A store error's hint is data: print it after the message and its causes.
            match err.downcast_ref::<viben::store::StoreError>() {
                Some(err) => eprintln!("\nerror: {}", viben::model::Report(err)),
                None => eprintln!("\nerror: {err}"),
            }
            ExitCode::FAILURE
        }
    }
}
