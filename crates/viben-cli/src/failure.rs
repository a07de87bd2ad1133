//! What the command prints when it fails: one error line, then a hint line where there is one.

use std::fmt::Display;

/// A failed command: the message and, where the library said what to do, a hint.
///
/// Library errors follow one convention: `what is wrong; what to do`. The part after the last
/// `"; "` becomes the hint line.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Failure {
    /// A failure with an explicit hint.
    pub(crate) fn with_hint(message: impl Display, hint: impl Display) -> Self {
        Self {
            message: message.to_string(),
            hint: Some(hint.to_string()),
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
            },
            None => Self {
                message: text,
                hint: None,
            },
        }
    }

    /// Prints a problem that did not stop the command, as one line on stderr.
    pub(crate) fn warn(problem: impl Display) {
        eprintln!("warning: {problem}");
    }

    /// Prints the failure to stderr.
    pub(crate) fn report(&self) {
        eprintln!("error: {}", self.message);
        if let Some(hint) = &self.hint {
            eprintln!("hint: {hint}");
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
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
