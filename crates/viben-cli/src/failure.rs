//! What the command prints when it fails: one error line, then a hint line where there is one
//! (with `--json`, one JSON object `{"error": …, "hint": …}` on stderr instead), and the exit
//! code that goes with it.

use std::fmt::Display;
use std::io;
use std::process::ExitCode;

use crate::output;

/// How a command failed, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The operation failed: not found, invalid, conflict, unreachable (exit 1).
    Failed,
    /// The command line was wrong: a missing flag, flags that do nothing (exit 2, as clap's own
    /// usage errors).
    Usage,
    /// Whoever read stdout stopped reading (`viben check | head -1`): exit quietly with 141,
    /// the status a shell shows for a program ended by SIGPIPE, as C tools are.
    BrokenPipe,
}

/// A failed command: the message and, where the library said what to do, a hint.
///
/// Library errors carry their hint as data ([`viben_model::Hint`]); the message line is the
/// error and its causes (`what went wrong: cause: cause`). viben-store's errors, which do not
/// implement `Hint` yet, are still split at the last `"; "` ([`Failure::from_message`]).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    kind: Kind,
}

impl Failure {
    /// A failure with an explicit hint.
    pub(crate) fn with_hint(message: impl Display, hint: impl Display) -> Self {
        Self {
            message: message.to_string(),
            hint: Some(hint.to_string()),
            kind: Kind::Failed,
        }
    }

    /// A usage error (exit 2): the command line itself is wrong.
    pub(crate) fn usage(message: impl Display, hint: impl Display) -> Self {
        Self {
            kind: Kind::Usage,
            ..Self::with_hint(message, hint)
        }
    }

    /// Writing the output failed: a closed pipe ends the command quietly, anything else (a full
    /// disk) is an error like any other.
    pub(crate) fn output(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Self {
                message: "standard output was closed".into(),
                hint: None,
                kind: Kind::BrokenPipe,
            };
        }
        Self::with_hint(
            format!("cannot write the output: {err}"),
            "free space on the device the output goes to, or send it elsewhere",
        )
    }

    /// The exit code for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self.kind {
            Kind::Failed => ExitCode::FAILURE,
            Kind::Usage => ExitCode::from(2),
            Kind::BrokenPipe => ExitCode::from(141),
        }
    }

    /// A library error that follows the workspace's design ([`viben_model::Hint`]): its
    /// message and each cause after `: ` on the error line, its hint on the hint line.
    pub(crate) fn from_hinted<E: viben_model::Hint + ?Sized>(err: &E) -> Self {
        Self {
            hint: err.hint().map(|hint| one_line(&hint)),
            ..Self::plain(err)
        }
    }

    /// An error with nothing to say about what to do: its message and causes, no hint.
    fn plain<E: std::error::Error + ?Sized>(err: &E) -> Self {
        Self {
            message: one_line(&viben_model::Chain(err).to_string()),
            hint: None,
            kind: Kind::Failed,
        }
    }

    /// Prints a problem that did not stop the command, as one line on stderr (with `--json`,
    /// one JSON object `{"warning": …}` on its own line).
    pub(crate) fn warn(problem: impl Display) {
        if output::json() {
            output::eprint_json(&serde_json::json!({ "warning": problem.to_string() }));
        } else {
            output::eprint_line(&format!("warning: {problem}"));
        }
    }

    /// Prints the failure to stderr: escaped text, or one JSON object with `--json`. A closed
    /// stdout prints nothing: the reader left on purpose.
    pub(crate) fn report(&self) {
        if self.kind == Kind::BrokenPipe {
            return;
        }
        if output::json() {
            output::eprint_json(&serde_json::json!({
                "error": self.message,
                "hint": self.hint,
            }));
            return;
        }
        output::eprint_line(&format!("error: {}", self.message));
        if let Some(hint) = &self.hint {
            output::eprint_line(&format!("hint: {hint}"));
        }
    }
}

/// `From` impls that turn each error type into a failure with the given constructor.
macro_rules! failure_from {
    ($make:ident: $($error:ty),* $(,)?) => {$(
        impl From<$error> for Failure {
            fn from(err: $error) -> Self {
                Self::$make(&err)
            }
        }
    )*};
}

// Errors that carry their hint as data ([`viben_model::Hint`]).
failure_from!(
    from_hinted: viben_db::ConnectError,
    viben_db::QueryError,
    viben_db::MigrationError,
    viben_db::push::PushError,
    viben_db::generate::GenerateError,
    viben_db::drizzle::ImportError,
    viben_db::migration_files::MigrationFilesError,
    viben_db::users::ParseCursorError,
    viben_model::ValidationError,
    viben_store::StoreError,
    viben_studio::StudioError,
);

// Errors with nothing to say about what to do (reading stdin, writing JSON): the message and
// its causes, no hint.
failure_from!(plain: io::Error, serde_json::Error);

/// Causes quoted from libpq span several lines; an error line must stay one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structured_error_gives_its_causes_on_the_error_line_and_its_hint_apart() {
        let err = viben_db::MigrationError::Failed(Box::new(io::Error::other("disk\nfull")));
        let failure = Failure::from(err);
        assert_eq!(failure.message, "migration failed: disk full");
        assert_eq!(
            failure.hint.as_deref(),
            Some("fix the cause, then run `viben db migrate` again")
        );
    }

    #[test]
    fn a_multi_line_cause_becomes_one_line() {
        let err = viben_db::MigrationError::Failed(Box::new(io::Error::other(
            "refused\n\tIs the server running?",
        )));
        assert_eq!(
            Failure::from(err).message,
            "migration failed: refused Is the server running?"
        );
    }
}
