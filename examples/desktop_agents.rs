//! viben-store alone, as the desktop app uses it (no database, no libpq needed by the store):
//! providers and the model catalog, agents created, edited and resolved, a hand-edited file
//! that keeps its extra fields, a broken file reported without hiding the others, and a
//! read-modify-write refused because someone else changed the file first.
//!
//! Store: `VIBEN_HOME` when set, else a temporary folder; never your real `~/.viben`.
//!
//! Run it with `cargo run --example desktop_agents`.

#[path = "support/exit.rs"]
mod exit;
#[path = "support/home.rs"]
mod home;

use std::process::ExitCode;

use exit::Outcome;

use viben::model::{AgentConfig, ModelEntry, ProviderConfig};
use viben::store::{Store, StoreError};

fn main() -> ExitCode {
    exit::finish(run())
}

fn run() -> Outcome {
    let (home, _temp) = home::home()?;
    let store = Store::open(&home)?;

    let mut anthropic = ProviderConfig::new("anthropic");
    anthropic.api_key_env = Some("ANTHROPIC_API_KEY".into());
    store.providers().set(&anthropic)?;
    store
        .models()
        .add(ModelEntry::new("claude-3-sonnet", "anthropic"))?;
    store.models().set_default(Some("claude-3-sonnet"))?;

    for (id, name) in [("writer", "Writer"), ("reviewer", "Reviewer")] {
        let mut agent = AgentConfig::new(id, name, "claude-3-sonnet", "anthropic");
        agent.max_tokens = Some(4096);
        store.agents().create(&agent)?;
    }
    store.agents().update("writer", |agent| {
        agent.description = Some("Drafts the text".into());
        Ok(())
    })?;

    // A person adds a field the app does not know; the app's next rewrite keeps it.
    let path = store.layout().agent_config("reviewer");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, format!("{text}workspace_path: /home/me/project\n"))?;
    store.agents().update("reviewer", |agent| {
        agent.temperature = Some(0.2);
        Ok(())
    })?;
    println!(
        "reviewer's file after the app's rewrite:\n{}",
        std::fs::read_to_string(&path)?
    );

    // A broken file is reported with its line, and the good agents are still listed.
    let broken = store.layout().agent_dir("broken");
    std::fs::create_dir_all(&broken)?;
    std::fs::write(
        broken.join("config.yaml"),
        "id: broken\nname: Broken\ntemperature: [hot\n",
    )?;
    let listing = store.agents().list()?;
    for agent in &listing.items {
        println!("agent {} ({})", agent.id, agent.name);
    }
    for error in &listing.errors {
        println!("could not read: {error}");
    }

    // Two windows read the same agent; the second save is refused, not silently lost.
    let first = store.agents().get_versioned("writer")?;
    let second = store.agents().get_versioned("writer")?;
    let mut mine = first.value.clone();
    mine.name = "Writer (edited in window 1)".into();
    store.agents().save_if_unchanged(&mine, &first.revision)?;
    let mut theirs = second.value.clone();
    theirs.name = "Writer (edited in window 2)".into();
    match store.agents().save_if_unchanged(&theirs, &second.revision) {
        Err(err @ StoreError::Conflict { .. }) => {
            // The message, then what to do (the error's hint), on one line.
            println!("stale save refused: {}", viben::model::Report(&err));
        }
        Ok(_) => return Err("the stale save was accepted; expected a conflict".into()),
        Err(other) => return Err(format!("expected a conflict, got: {other}").into()),
    }

    let resolved = store.agents().resolve("writer")?;
    println!(
        "writer resolves to model {} on provider {}",
        resolved.model.id, resolved.provider.name
    );
    for problem in store.check() {
        println!("check: {problem}");
        if let Some(hint) = &problem.hint {
            println!("       hint: {hint}");
        }
    }
    Ok(())
}
