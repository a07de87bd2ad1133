//! How an example ends (shared by every example): on failure, the error in plain words on
//! stderr and a non-zero exit code, never the Rust `Debug` form that `main() -> Result` prints.

use std::error::Error;
use std::process::ExitCode;

use viben::db::{ConnectError, MigrationError, QueryError};
use viben::model::{Chain, Hint, ValidationError};
use viben::store::StoreError;

/// What a part of an example returns.
pub(crate) type Outcome = Result<(), Box<dyn Error>>;

/// Ends the example: success, or `error: <message>: <causes>` (and `hint: <what to do>` where
/// the error says) on stderr and exit code 1.
pub(crate) fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {}", Chain(err.as_ref()));
            if let Some(hint) = hint(err.as_ref()) {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The hint of an error that carries one ([`Hint`]), whichever of the libraries' it is.
fn hint(err: &(dyn Error + 'static)) -> Option<String> {
    if let Some(err) = err.downcast_ref::<ConnectError>() {
        return err.hint();
    }
    if let Some(err) = err.downcast_ref::<QueryError>() {
        return err.hint();
    }
    if let Some(err) = err.downcast_ref::<MigrationError>() {
        return err.hint();
    }
    if let Some(err) = err.downcast_ref::<StoreError>() {
        return err.hint();
    }
    err.downcast_ref::<ValidationError>().and_then(Hint::hint)
}
