//! Ids are path segments, and nothing reads or writes outside the root.

mod common;

use std::os::unix::fs::symlink;

use common::{seed_store, write};
use viben_model::{AgentConfig, ProviderConfig, SessionMeta};
use viben_store::StoreError;

#[test]
fn traversal_ids_are_refused_before_any_path_is_built() {
    let t = seed_store();
    for id in ["../etc", "..", "/etc/passwd", "a/b", ".hidden", "nul\0", ""] {
        let err = t.store.get_agent(id).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{id:?}: {err:?}"
        );
        assert!(
            matches!(t.store.get_provider(id), Err(StoreError::InvalidId { .. })),
            "{id:?}"
        );
        assert!(
            matches!(t.store.get_session(id), Err(StoreError::InvalidId { .. })),
            "{id:?}"
        );
        assert!(
            matches!(
                t.store.delete_agent(id, true),
                Err(StoreError::InvalidId { .. })
            ),
            "{id:?}"
        );
        assert!(matches!(
            t.store.create_agent(&AgentConfig::new(id, "x", "m", "p")),
            Err(StoreError::InvalidId { .. })
        ));
        assert!(matches!(
            t.store.set_provider(&ProviderConfig::new(id)),
            Err(StoreError::InvalidId { .. })
        ));
    }
    let err = t.store.get_agent("../etc").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid agent id \"../etc\""),
        "{err}"
    );
}

#[test]
fn a_symlinked_agent_folder_pointing_outside_is_refused() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "config.yaml",
        "id: evil\nname: Evil\nmodel: m\nprovider: p\n",
    );
    symlink(outside.path(), t.dir.path().join("agents/evil")).unwrap();
    let err = t.store.get_agent("evil").unwrap_err();
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
    assert!(
        err.to_string().contains("resolves outside the store"),
        "{err}"
    );
    let err = t
        .store
        .update_agent("evil", |a| {
            a.name = "x".into();
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
    assert!(matches!(
        t.store.delete_agent("evil", true),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(
        outside.path().join("config.yaml").exists(),
        "nothing outside was touched"
    );
    // The listing reports it and still returns the good agent.
    let listing = t.store.list_agents().unwrap();
    assert_eq!(listing.items.len(), 1);
    assert!(matches!(
        listing.errors[..],
        [StoreError::OutsideRoot { .. }]
    ));
    assert!(
        t.store
            .check()
            .iter()
            .any(|p| p.message.contains("outside the store"))
    );
}

#[test]
fn a_symlinked_config_file_pointing_outside_is_refused() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.yaml",
        "id: x\nname: X\nmodel: m\nprovider: p\n",
    );
    std::fs::create_dir_all(t.dir.path().join("agents/x")).unwrap();
    symlink(
        outside.path().join("secret.yaml"),
        t.dir.path().join("agents/x/config.yaml"),
    )
    .unwrap();
    assert!(matches!(
        t.store.get_agent("x"),
        Err(StoreError::OutsideRoot { .. })
    ));
    symlink("/etc/passwd", t.dir.path().join("providers/passwd.yaml")).unwrap();
    assert!(matches!(
        t.store.get_provider("passwd"),
        Err(StoreError::OutsideRoot { .. })
    ));
}

#[test]
fn a_symlink_that_stays_inside_the_root_is_followed() {
    let t = seed_store();
    std::fs::create_dir_all(t.dir.path().join("agents/alias")).unwrap();
    symlink(
        t.dir.path().join("agents/my-agent/config.yaml"),
        t.dir.path().join("agents/alias/config.yaml"),
    )
    .unwrap();
    let err = t.store.get_agent("alias").unwrap_err();
    assert!(
        matches!(err, StoreError::IdMismatch { .. }),
        "read through the link: {err:?}"
    );
}

#[test]
fn a_symlinked_sessions_folder_pointing_outside_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    symlink(outside.path(), dir.path().join("sessions")).unwrap();
    let err = viben_store::Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
}

#[test]
fn a_symlinked_session_folder_pointing_outside_is_refused() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    let meta = SessionMeta::new("my-agent", None);
    symlink(outside.path(), t.dir.path().join("sessions").join(&meta.id)).unwrap();
    let message = viben_model::Message::new(viben_model::MessageRole::User, "hi");
    assert!(matches!(
        t.store.append_message(&meta.id, &message),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(matches!(
        t.store.read_messages(&meta.id),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(matches!(
        t.store.delete_session(&meta.id),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
}

/// Runs `f` on a thread and returns its result, or panics after a few seconds instead of
/// hanging, after opening `fifo` for writing so the blocked reader can finish.
fn within_seconds<T: Send + 'static>(
    fifo: &std::path::Path,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(5)) {
        Ok(value) => value,
        Err(_) => {
            // Unblock the reader (opening the write end lets its `open` return).
            let _ = std::fs::OpenOptions::new().write(true).open(fifo);
            panic!("opening {} hung", fifo.display());
        }
    }
}

fn mkfifo(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn assert_not_a_file(err: &StoreError, rel: &str) {
    assert!(matches!(err, StoreError::NotAFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(rel), "{message}");
    assert!(message.contains("not a regular file"), "{message}");
}

#[test]
fn a_fifo_in_place_of_a_yaml_file_is_refused_without_hanging() {
    let t = seed_store();
    let root = t.dir.path().to_owned();
    for rel in ["agents/my-agent/config.yaml", "models.yaml"] {
        let fifo = root.join(rel);
        mkfifo(&fifo);
        let store = t.store.clone();
        let err = within_seconds(&fifo, move || {
            if rel == "models.yaml" {
                store.load_models().map(|_| ()).unwrap_err()
            } else {
                store.get_agent("my-agent").map(|_| ()).unwrap_err()
            }
        });
        assert_not_a_file(&err, rel);
    }
    // A link (inside the root) to a FIFO too.
    let fifo = root.join("providers/pipe");
    mkfifo(&fifo);
    std::fs::remove_file(root.join("providers/openai.yaml")).unwrap();
    symlink("pipe", root.join("providers/openai.yaml")).unwrap();
    let store = t.store.clone();
    let err = within_seconds(&fifo, move || store.get_provider("openai").unwrap_err());
    assert_not_a_file(&err, "providers/openai.yaml");
}

#[test]
fn a_fifo_in_place_of_a_message_log_is_refused_without_hanging() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.create_session(&meta).unwrap();
    let fifo = t.store.layout().session_messages(&meta.id);
    mkfifo(&fifo);
    let rel = format!("sessions/{}/messages.jsonl", meta.id);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || {
        store.read_messages(&id).map(|_| ()).unwrap_err()
    });
    assert_not_a_file(&err, &rel);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || store.last_messages(&id, 3).unwrap_err());
    assert_not_a_file(&err, &rel);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || {
        store
            .append_message(
                &id,
                &viben_model::Message::new(viben_model::MessageRole::User, "hi"),
            )
            .unwrap_err()
    });
    assert_not_a_file(&err, &rel);
}
