//! `viben watch`: the store's changes as they happen, one line each, until interrupted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use viben_store::{Event, WatchError, WatchResult};

use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, say};

/// How often the loop looks whether Ctrl-C was pressed while no change comes (an event is
/// printed as soon as it arrives, whatever this is).
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Prints every change until SIGINT (exit 0) or until stdout is closed (a quiet exit, as
/// every command does). With `--json`, one JSON object per line: a stream, not one document.
pub(crate) fn run(context: &Context) -> Result<(), Failure> {
    let store = context.store()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    ctrlc::set_handler(move || stop_flag.store(true, Ordering::Relaxed)).map_err(|err| {
        Failure::with_hint(
            format!("cannot catch Ctrl-C: {err}"),
            "run `viben watch` from a shell that lets programs handle signals",
        )
    })?;
    let watcher = store.watch()?;
    // Said once the watch is set up, so a script knows changes from now on are reported.
    let root = store.layout().root().display().to_string();
    if output::json() {
        output::eprint_json(&serde_json::json!({ "watching": root }));
    } else {
        output::eprint_line(&format!("watching {root} (Ctrl-C to stop)"));
    }
    while !stop.load(Ordering::Relaxed) {
        if let Some(result) = watcher.recv_timeout(STOP_CHECK) {
            print(result)?;
        }
    }
    Ok(())
}

fn print(result: WatchResult) -> Result<(), Failure> {
    match result {
        Ok(event) if output::json() => print_json_line(&event_json(&event)),
        Ok(event) => say!("{event}"),
        Err(WatchError::Unreadable { event, error }) => {
            if output::json() {
                let mut value = event_json(&event);
                value["error"] = viben_model::Chain(&*error).to_string().into();
                value["hint"] = viben_model::Hint::hint(&*error).into();
                print_json_line(&value)
            } else {
                say!("{event} (does not load: {})", viben_model::Chain(&*error))
            }
        }
        // Lost notifications are a problem of the watch, not a change: stderr, and go on (the
        // watcher reads everything again and reports what differs).
        Err(other) => {
            Failure::warn(viben_model::Report(&other));
            Ok(())
        }
    }
}

/// `{"event": "agent_changed", "id": "my-agent"}`; `id` is the agent's or session's id or the
/// provider's name, absent for the catalog, the channels and the profile.
fn event_json(event: &Event) -> serde_json::Value {
    let mut value = serde_json::json!({ "event": event.name() });
    if let Some(id) = event.id() {
        value["id"] = id.into();
    }
    value
}

fn print_json_line(value: &serde_json::Value) -> Result<(), Failure> {
    output::write_stdout(&format!("{value}\n"))
}
