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
/// Library errors follow one convention: `what is wrong; what to do`. The part after the last
/// `"; "` becomes the hint line.
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

    /// Splits a library error's message into the error and its hint.
    pub(crate) fn from_message(text: &str) -> Self {
        // Causes quoted from libpq span several lines; the error must stay one line.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match text.rsplit_once("; ") {
            Some((message, hint)) => Self {
                message: message.to_owned(),
                hint: Some(hint.to_owned()),
                kind: Kind::Failed,
            },
            None => Self {
                message: text,
                hint: None,
                kind: Kind::Failed,
            },
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

impl<E: std::error::Error + 'static> From<E> for Failure {
    fn from(err: E) -> Self {
        // The store's errors carry their hint as data (issue 9): message with causes, and hint.
        if let Some(err) = (&err as &dyn std::any::Any).downcast_ref::<viben_store::StoreError>() {
            let message = viben_model::Causes(err).to_string();
            return match viben_model::Hint::hint(err) {
                Some(hint) => Self::with_hint(message, hint),
                None => Self::from_message(&message),
            };
        }
        Self::from_message(&err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_clause_after_a_semicolon_becomes_the_hint() {
        let failure = Failure::from_message("a; b; do this");
        assert_eq!(failure.message, "a; b");
        assert_eq!(failure.hint.as_deref(), Some("do this"));
        assert_eq!(Failure::from_message("plain").hint, None);
    }

    #[test]
    fn a_multi_line_cause_becomes_one_line() {
        let failure =
            Failure::from_message("cannot connect: refused\n\tIs the server running?; check it");
        assert_eq!(
            failure.message,
            "cannot connect: refused Is the server running?"
        );
    }
}
