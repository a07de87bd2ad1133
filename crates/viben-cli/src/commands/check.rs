//! `viben init` and `viben check`: the store as a whole.

use viben_store::{Problem, Severity};

use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, print_json, say};

pub(crate) fn init(context: &Context) -> Result<(), Failure> {
    let store = context.store()?;
    store.init()?;
    let root = store.layout().root().display().to_string();
    if output::json() {
        return print_json(&serde_json::json!({ "store": root }));
    }
    say!("store ready at {root}")
}

/// Prints every problem as `path:line:column: message`; fails when any is an error (warnings
/// alone, such as a leftover temporary file, exit 0). With `repair`, first rebuilds the
/// session index from the session folders.
pub(crate) fn check(context: &Context, repair: bool) -> Result<(), Failure> {
    let store = context.store()?;
    let root = store.layout().root().display().to_string();
    let repaired = if repair {
        let sessions = store.sessions().rebuild_index()?;
        if !output::json() {
            say!("rebuilt the session index: {sessions} session(s)")?;
        }
        Some(sessions)
    } else {
        None
    };
    // A spinner: the check reads every file and reports no progress of its own; on a large
    // store it takes seconds, and a terminal should show it is working.
    let spinner = crate::progress::Progress::spinner("checking the store");
    let problems = store.check();
    // Unreadable, it is one of the problems.
    let format = store.format().ok();
    spinner.finish();
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    if output::json() {
        let listed: Vec<_> = problems.iter().map(problem_json).collect();
        let mut document = serde_json::json!({
            "store": root,
            "format": format.map(|f| serde_json::json!({
                "found": f.found,
                "supported": f.supported,
                "recorded": f.recorded,
            })),
            "errors": errors,
            "warnings": warnings,
            "problems": listed,
        });
        if let Some(sessions) = repaired {
            document["repaired"] = serde_json::json!({ "session_index": sessions });
        }
        print_json(&document)?;
    } else {
        for problem in &problems {
            say!("{problem}")?;
            if let Some(hint) = &problem.hint {
                say!("    hint: {hint}")?;
            }
        }
        if let Some(f) = format {
            let upgrade = if f.needs_upgrade() {
                "; the next change upgrades it"
            } else {
                ""
            };
            say!(
                "store format {} (this viben writes format {}){upgrade}",
                f.found,
                f.supported
            )?;
        }
        match (errors, warnings) {
            (0, 0) => say!("no problems in {root}")?,
            (0, n) => say!("no errors in {root}; {n} warning(s)")?,
            _ => {}
        }
    }
    if errors == 0 {
        return Ok(());
    }
    // Problems found by reading a file have a line; others (a missing file, a folder) do not.
    let hint = if problems
        .iter()
        .any(|p| p.severity == Severity::Error && p.line.is_some())
    {
        "fix each file at the line shown, then run `viben check` again"
    } else {
        "fix each file named above, then run `viben check` again"
    };
    Err(Failure::with_hint(
        format!("{errors} error(s) in {root}"),
        hint,
    ))
}

fn problem_json(problem: &Problem) -> serde_json::Value {
    serde_json::json!({
        "severity": match problem.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        },
        "path": problem.path.display().to_string(),
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
    })
}
