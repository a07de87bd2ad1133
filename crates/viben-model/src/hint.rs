//! What every error of the workspace says beyond what went wrong: what to do next.
//!
//! Errors of viben-model, viben-db and viben-store keep three things apart, as miette's
//! `Diagnostic` keeps `help()` apart from the message:
//! - their `Display`: what went wrong, one line, lowercase, without the cause;
//! - [`std::error::Error::source`]: the cause (an I/O error, the server's error), never repeated
//!   in the message;
//! - [`Hint::hint`]: what to do about it (a command to run, a file to fix), when there is
//!   something to say.
//!
//! A front end prints each in its place (the `viben` command: `error:` and `hint:` lines, or
//! both fields of one JSON object); [`Report`] puts all three on one line for a log.
//!
//! ```
//! use viben_model::{Hint, Report, ValidationError};
//!
//! let err = ValidationError::TemperatureOutOfRange { value: 3.5 };
//! assert_eq!(err.to_string(), "temperature 3.5 is out of range");
//! assert_eq!(err.hint().as_deref(), Some("use a value from 0.0 to 2.0"));
//! assert_eq!(
//!     Report(&err).to_string(),
//!     "temperature 3.5 is out of range; use a value from 0.0 to 2.0"
//! );
//! ```

use std::error::Error;
use std::fmt;

/// An error that can say what to do about it.
pub trait Hint: Error {
    /// What the person can do next: a command to run, a value to use, a file to fix. `None`
    /// when the error has nothing to add to its message.
    fn hint(&self) -> Option<String>;
}

/// One line for people or logs: the message, each cause after `: `, then the hint after `; `.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a, E: ?Sized>(pub &'a E);

/// The message and each cause after `: `, without the hint: the error line of a front end
/// that shows the hint apart ([`Report`] adds the hint after `; `).
#[derive(Debug, Clone, Copy)]
pub struct Causes<'a, E: ?Sized>(pub &'a E);

impl<E: Error + ?Sized> fmt::Display for Causes<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl<E: Hint + ?Sized> fmt::Display for Report<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Causes(self.0))?;
        if let Some(hint) = self.0.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}
