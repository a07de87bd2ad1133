//! Progress bars for operations that can take seconds (import, export, backup, prune, the check
//! of a large store).
//!
//! A bar is drawn on stderr only when stderr is a terminal and `--json` was not given: a script
//! or a pipe sees exactly the output it saw before, and stdout is never touched. Every command
//! that shows progress goes through [`Progress`], so the rule lives in one place.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr, or nothing at all when nobody is watching.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar counting `total` items (rows, files, bytes), labelled with what is being done
    /// (`"importing users"`). With an unknown total, pass `None`: a spinner counts instead.
    pub(crate) fn new(label: &str, total: Option<u64>) -> Self {
        Self::with_unit(label, total, Unit::Items)
    }

    /// A spinner with no count, for work that reports no progress of its own (the check of a
    /// store, a prune): it shows only that the command is working.
    pub(crate) fn spinner(label: &str) -> Self {
        Self::with_unit(label, None, Unit::Nothing)
    }

    /// Like [`Progress::new`], counting bytes (shown as `KiB`/`MiB`).
    pub(crate) fn bytes(label: &str, total: Option<u64>) -> Self {
        Self::with_unit(label, total, Unit::Bytes)
    }

    fn with_unit(label: &str, total: Option<u64>, unit: Unit) -> Self {
        let bar = ProgressBar::with_draw_target(total, draw_target());
        let template = match (unit, total.is_some()) {
            (Unit::Items, true) => "{msg} [{bar:30}] {human_pos}/{human_len} ({eta} left)",
            (Unit::Bytes, true) => "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
            (Unit::Items, false) => "{spinner} {msg} {human_pos}",
            (Unit::Bytes, false) => "{spinner} {msg} {bytes}",
            (Unit::Nothing, _) => "{spinner} {msg}",
        };
        // The template is built from fixed parts above; should indicatif ever refuse it, a bar
        // without a template still counts, which is better than failing the command.
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Self { bar }
    }

    /// Counts `n` more items (or bytes) done.
    pub(crate) fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Removes the bar from the terminal; the command then prints its summary as usual.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    /// A command that fails part-way must not leave a half-drawn bar above its error message.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}

enum Unit {
    Items,
    Bytes,
    Nothing,
}

/// stderr when a person is watching it, else nowhere.
fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() && !crate::output::json() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
