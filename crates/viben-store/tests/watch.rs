//! `Store::watch`: other processes save files the way editors and tools do, and the typed
//! events received are exactly the expected ones.
//!
//! Each test ends a step with a marker (`channels.yaml` rewritten by this process) and takes
//! every event received before it, and the rest of the marker's burst: the events of the
//! step's changes, settled no later than the marker's, are all there, so "no event" is
//! asserted without sleeping.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{SEED_AGENT, TempStore, seed_store, temp_store, write};
use viben_model::Hint;
use viben_store::{Event, WatchError, WatchResult, Watcher};

/// How long a step may take to give its events: generous, since CI's machine is shared.
const PATIENCE: Duration = Duration::from_secs(20);

struct Watching {
    t: TempStore,
    watcher: Watcher,
    marks: u32,
}

impl Watching {
    fn start(t: TempStore) -> Self {
        let watcher = t.store.watch().expect("start watching");
        Self {
            t,
            watcher,
            marks: 0,
        }
    }

    fn root(&self) -> &Path {
        self.t.dir.path()
    }

    /// Runs `script` with `sh` in the store's root, as another process.
    fn sh(&self, script: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(self.root())
            .status()
            .expect("run sh");
        assert!(status.success(), "sh -c {script:?} failed: {status}");
    }

    /// Runs `script` with `python3` in the store's root, as another process: one process doing
    /// an editor's steps back to back, as the editor does (with `sh`, starting a program per
    /// step could take longer than the watcher's settle time on a loaded machine, and
    /// rightly give two events).
    fn python(&self, script: &str) {
        let status = Command::new("python3")
            .arg("-c")
            .arg(script)
            .current_dir(self.root())
            .status()
            .expect("run python3");
        assert!(status.success(), "python3 -c {script:?} failed: {status}");
    }

    /// Every result of the changes made since the last call (the marker's event excluded).
    fn settle(&mut self) -> Vec<WatchResult> {
        self.marks += 1;
        write(
            self.root(),
            "channels.yaml",
            format!("# marker {}\n", self.marks),
        );
        let mut results = Vec::new();
        loop {
            match self.watcher.recv_timeout(PATIENCE) {
                Some(Ok(Event::ChannelsChanged)) => break,
                Some(other) => results.push(other),
                None => panic!("no marker event within {PATIENCE:?}; received {results:?}"),
            }
        }
        results.extend(std::iter::from_fn(|| self.watcher.try_recv()));
        results
    }

    /// The events of the changes made since the last call, none of them an error.
    fn events(&mut self) -> Vec<Event> {
        self.settle()
            .into_iter()
            .map(|result| result.unwrap_or_else(|e| panic!("unexpected error event: {e:?}")))
            .collect()
    }
}

fn agent(id: &str) -> String {
    id.to_owned()
}

fn changed_agent_yaml() -> String {
    SEED_AGENT.replace("temperature: 0.7", "temperature: 0.2")
}

#[test]
fn an_agent_written_in_place_is_one_change() {
    let mut w = Watching::start(seed_store());
    fs::write(w.root().join("new.yaml"), changed_agent_yaml()).expect("stage the new text");
    w.python(
        "text = open('new.yaml').read()\n\
         with open('agents/my-agent/config.yaml', 'w') as f: f.write(text)",
    );
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn a_save_through_a_temporary_file_renamed_over_is_one_change() {
    let mut w = Watching::start(seed_store());
    fs::write(w.root().join("new.yaml"), changed_agent_yaml()).expect("stage the new text");
    // VS Code's and most libraries' atomic save: a temporary file beside, renamed over.
    w.sh(
        "cd agents/my-agent && cp ../../new.yaml .config.yaml.tmp-editor && \
         mv .config.yaml.tmp-editor config.yaml",
    );
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn vims_save_with_a_backup_renamed_aside_is_one_change() {
    let mut w = Watching::start(seed_store());
    fs::write(w.root().join("new.yaml"), changed_agent_yaml()).expect("stage the new text");
    // What vim does with `backupcopy=auto` and `writebackup`: probe the folder with a file
    // named 4913, move the original to `config.yaml~`, write a new file, drop the backup.
    w.python(
        "import os\n\
         text = open('new.yaml').read()\n\
         os.chdir('agents/my-agent')\n\
         open('4913', 'w').close(); os.remove('4913')\n\
         os.rename('config.yaml', 'config.yaml~')\n\
         with open('config.yaml', 'w') as f: f.write(text)\n\
         os.remove('config.yaml~')",
    );
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn jetbrains_save_with_two_renames_is_one_change() {
    let mut w = Watching::start(seed_store());
    fs::write(w.root().join("new.yaml"), changed_agent_yaml()).expect("stage the new text");
    // JetBrains' "safe write": new text to `___jb_tmp___`, the original renamed to
    // `___jb_old___`, the new one renamed into place, the old one deleted.
    w.python(
        "import os\n\
         text = open('new.yaml').read()\n\
         os.chdir('agents/my-agent')\n\
         with open('config.yaml___jb_tmp___', 'w') as f: f.write(text)\n\
         os.rename('config.yaml', 'config.yaml___jb_old___')\n\
         os.rename('config.yaml___jb_tmp___', 'config.yaml')\n\
         os.remove('config.yaml___jb_old___')",
    );
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn delete_then_create_in_one_burst_is_one_change() {
    let mut w = Watching::start(seed_store());
    fs::write(w.root().join("new.yaml"), changed_agent_yaml()).expect("stage the new text");
    w.python(
        "import os\n\
         text = open('new.yaml').read()\n\
         os.remove('agents/my-agent/config.yaml')\n\
         with open('agents/my-agent/config.yaml', 'w') as f: f.write(text)",
    );
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn a_save_of_the_same_bytes_or_a_touch_gives_no_event() {
    let mut w = Watching::start(seed_store());
    w.sh(
        "touch agents/my-agent/config.yaml && cp agents/my-agent/config.yaml same && \
         mv same agents/my-agent/config.yaml && chmod 600 models.yaml",
    );
    assert_eq!(w.events(), []);
}

#[test]
fn an_agent_folder_moved_in_is_created_and_moved_out_is_removed() {
    let mut w = Watching::start(temp_store());
    let outside = tempfile::tempdir_in(w.root().parent().expect("a parent")).expect("tempdir");
    let config = SEED_AGENT.replace("id: my-agent", "id: moved");
    write(outside.path(), "moved/config.yaml", &config);
    let outside = outside.path().display().to_string();
    w.sh(&format!("mv '{outside}/moved' agents/moved"));
    assert_eq!(w.events(), [Event::AgentCreated { id: agent("moved") }]);
    w.sh(&format!("mv agents/moved '{outside}/back'"));
    assert_eq!(w.events(), [Event::AgentRemoved { id: agent("moved") }]);
    // The folder moved out is no longer the store's, even if its old watch lingers.
    w.sh(&format!("echo '# more' >> '{outside}/back/config.yaml'"));
    assert_eq!(w.events(), []);
}

#[test]
fn an_agent_folder_made_then_written_is_one_creation_and_rm_r_one_removal() {
    let mut w = Watching::start(temp_store());
    fs::write(
        w.root().join("new.yaml"),
        SEED_AGENT.replace("id: my-agent", "id: fresh"),
    )
    .expect("stage the new text");
    w.sh("mkdir agents/fresh && cp new.yaml agents/fresh/config.yaml");
    assert_eq!(w.events(), [Event::AgentCreated { id: agent("fresh") }]);
    w.sh("rm -r agents/fresh");
    assert_eq!(w.events(), [Event::AgentRemoved { id: agent("fresh") }]);
}

#[test]
fn a_folder_moved_to_a_hidden_name_and_removed_is_a_removal() {
    let mut w = Watching::start(seed_store());
    // What `Agents::delete` does, and a person's "move to trash, then empty it".
    w.sh("mv agents/my-agent agents/.trash && rm -r agents/.trash");
    assert_eq!(
        w.events(),
        [Event::AgentRemoved {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn a_session_through_the_api_is_created_appended_to_and_removed() {
    let mut w = Watching::start(seed_store());
    let meta = viben_model::SessionMeta::new("my-agent", Some("Chat".into()));
    w.t.store.sessions().create(&meta).expect("create");
    assert_eq!(
        w.events(),
        [Event::SessionCreated {
            id: meta.id.clone()
        }]
    );
    let message = viben_model::Message::new(viben_model::MessageRole::User, "hello");
    w.t.store
        .sessions()
        .append(&meta.id, &message)
        .expect("append");
    assert_eq!(
        w.events(),
        [Event::MessageAppended {
            session: meta.id.clone()
        }]
    );
    w.t.store
        .sessions()
        .update(&meta.id, |m| {
            m.title = Some("Renamed".into());
            Ok(())
        })
        .expect("update");
    assert_eq!(
        w.events(),
        [Event::SessionChanged {
            id: meta.id.clone()
        }]
    );
    w.t.store.sessions().delete(&meta.id).expect("delete");
    assert_eq!(
        w.events(),
        [Event::SessionRemoved {
            id: meta.id.clone()
        }]
    );
}

#[test]
fn a_session_that_existed_before_the_watch_reports_an_append_alone() {
    let t = seed_store();
    let meta = viben_model::SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).expect("create");
    let message = viben_model::Message::new(viben_model::MessageRole::User, "hello");
    t.store
        .sessions()
        .append(&meta.id, &message)
        .expect("append");
    let mut w = Watching::start(t);
    w.t.store
        .sessions()
        .append(&meta.id, &message)
        .expect("append");
    assert_eq!(
        w.events(),
        [Event::MessageAppended {
            session: meta.id.clone()
        }]
    );
}

#[test]
fn providers_models_and_profile_report_their_own_events() {
    let mut w = Watching::start(seed_store());
    w.sh(
        "printf 'name: mistral\\napi_key_env: MISTRAL_API_KEY\\n' > providers/mistral.yaml && \
         rm providers/openai.yaml",
    );
    assert_eq!(
        w.events(),
        [
            Event::ProviderChanged {
                name: "mistral".into()
            },
            Event::ProviderRemoved {
                name: "openai".into()
            },
        ]
    );
    w.sh("echo '# a note' >> models.yaml");
    assert_eq!(w.events(), [Event::ModelsChanged]);
    w.sh(
        "printf 'user_id: u1\\nemail: ada@example.com\\nusername: ada\\nprovider: github\\n\
         provider_id: \"42\"\\nsigned_in_at: 2026-01-02T03:04:05Z\\n' > profile.yaml",
    );
    assert_eq!(w.events(), [Event::ProfileChanged]);
    w.sh("rm profile.yaml");
    assert_eq!(w.events(), [Event::ProfileChanged]);
}

#[test]
fn a_session_made_by_hand_gets_created_appended_and_removed_events() {
    let mut w = Watching::start(seed_store());
    let id = "0190f3f0-0000-7000-8000-000000000001";
    let meta = format!(
        "id: {id}\nagent_id: my-agent\ntitle: By hand\ncreated_at: 2026-01-01T00:00:00Z\n\
         updated_at: 2026-01-01T00:00:00Z\n"
    );
    write(w.root(), "staged/session.yaml", &meta);
    w.sh(&format!(
        "mkdir sessions/{id} && mv staged/session.yaml sessions/{id}/session.yaml"
    ));
    assert_eq!(w.events(), [Event::SessionCreated { id: id.into() }]);
    let line = r#"{"role":"user","content":"hi","created_at":"2026-01-01T00:00:01Z"}"#;
    // A burst of appends is one event.
    w.sh(&format!(
        "for i in 1 2 3 4 5; do echo '{line}' >> sessions/{id}/messages.jsonl; done"
    ));
    assert_eq!(w.events(), [Event::MessageAppended { session: id.into() }]);
    w.sh(&format!("echo '{line}' >> sessions/{id}/messages.jsonl"));
    assert_eq!(w.events(), [Event::MessageAppended { session: id.into() }]);
    w.sh(&format!("rm -r sessions/{id}"));
    assert_eq!(w.events(), [Event::SessionRemoved { id: id.into() }]);
}

#[test]
fn an_invalid_edit_gives_the_placed_error_and_the_fix_a_change() {
    let mut w = Watching::start(seed_store());
    w.sh("printf 'id: my-agent\\nname: [unclosed\\nmodel: x\\n' > agents/my-agent/config.yaml");
    let results = w.settle();
    let [Err(error)] = results.as_slice() else {
        panic!("expected one error event, got {results:?}");
    };
    let WatchError::Unreadable {
        event,
        error: cause,
    } = error
    else {
        panic!("expected an unreadable file, got {error:?}");
    };
    assert_eq!(
        *event,
        Event::AgentChanged {
            id: agent("my-agent")
        }
    );
    let placed = cause.to_string();
    let expected_prefix = format!(
        "{}:",
        w.root().join("agents/my-agent/config.yaml").display()
    );
    assert!(
        placed.starts_with(&expected_prefix),
        "the error names the file: {placed}"
    );
    let place: Vec<&str> = placed[expected_prefix.len()..].splitn(3, ':').collect();
    assert!(
        place.len() == 3 && place[0].parse::<usize>().is_ok() && place[1].parse::<usize>().is_ok(),
        "the error is placed (path:line:column): {placed}"
    );
    assert_eq!(
        error.to_string(),
        "agent changed: my-agent, but it does not load"
    );
    assert!(error.hint().is_some_and(|h| h.contains("fix the file")));

    fs::write(w.root().join("new.yaml"), SEED_AGENT).expect("stage the fix");
    w.sh("cp new.yaml agents/my-agent/config.yaml");
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn a_rule_broken_is_an_error_event_too() {
    let mut w = Watching::start(seed_store());
    let other_id = SEED_AGENT.replace("id: my-agent", "id: someone-else");
    fs::write(w.root().join("new.yaml"), other_id).expect("stage the new text");
    w.sh("cp new.yaml agents/my-agent/config.yaml");
    let results = w.settle();
    assert!(
        matches!(
            results.as_slice(),
            [Err(WatchError::Unreadable {
                event: Event::AgentChanged { .. },
                error,
            })] if matches!(**error, viben_store::StoreError::IdMismatch { .. })
        ),
        "{results:?}"
    );
}

#[test]
fn lock_temporary_swap_and_telemetry_files_give_no_event() {
    let mut w = Watching::start(seed_store());
    w.sh(
        "touch agents/my-agent/.config.yaml.lock .models.yaml.lock providers/.openai.yaml.lock \
         .agents.lock && \
         echo x > agents/my-agent/.config.yaml.tmp-12-1f && rm agents/my-agent/.config.yaml.tmp-12-1f && \
         echo x > .models.yaml.tmp-3-ab && rm .models.yaml.tmp-3-ab && \
         echo x > agents/my-agent/.config.yaml.swp && echo x > agents/my-agent/notes.txt && \
         echo x > providers/notes.txt && echo x > providers/.hidden.yaml && \
         echo '{}' >> telemetry/logs/2026-01-01.jsonl && mkdir agents/.x.deleted-1-a && \
         echo x > agents/.x.deleted-1-a/config.yaml && rm -r agents/.x.deleted-1-a",
    );
    assert_eq!(w.events(), []);
}

#[test]
fn the_store_api_in_this_process_is_seen_too() {
    let mut w = Watching::start(seed_store());
    w.t.store
        .agents()
        .update("my-agent", |a| {
            a.temperature = Some(0.1);
            Ok(())
        })
        .expect("update");
    assert_eq!(
        w.events(),
        [Event::AgentChanged {
            id: agent("my-agent")
        }]
    );
    w.t.store.agents().delete("my-agent").expect("delete");
    assert_eq!(
        w.events(),
        [Event::AgentRemoved {
            id: agent("my-agent")
        }]
    );
}

#[test]
fn the_events_name_themselves_for_people_and_scripts() {
    let event = Event::MessageAppended {
        session: "s1".into(),
    };
    assert_eq!(event.to_string(), "message appended: s1");
    assert_eq!(event.name(), "message_appended");
    assert_eq!(event.id(), Some("s1"));
    assert_eq!(Event::ModelsChanged.to_string(), "models catalog changed");
    assert_eq!(Event::ModelsChanged.id(), None);
}

#[test]
fn a_watcher_can_move_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let t = temp_store();
    let watcher = t.store.watch().expect("watch");
    send(&watcher);
    let handle = std::thread::spawn(move || watcher.try_recv().is_none());
    assert!(handle.join().expect("the thread ends"));
}
