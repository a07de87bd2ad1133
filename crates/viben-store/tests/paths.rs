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
        let err = t.store.agents().get(id).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{id:?}: {err:?}"
        );
        assert!(
            matches!(
                t.store.providers().get(id),
                Err(StoreError::InvalidId { .. })
            ),
            "{id:?}"
        );
        assert!(
            matches!(
                t.store.sessions().get(id),
                Err(StoreError::InvalidId { .. })
            ),
            "{id:?}"
        );
        assert!(
            matches!(
                t.store
                    .agents()
                    .delete_with(id, viben_store::Referrers::Keep),
                Err(StoreError::InvalidId { .. })
            ),
            "{id:?}"
        );
        assert!(matches!(
            t.store
                .agents()
                .create(&AgentConfig::new(id, "x", "m", "p")),
            Err(StoreError::InvalidId { .. })
        ));
        assert!(matches!(
            t.store.providers().set(&ProviderConfig::new(id)),
            Err(StoreError::InvalidId { .. })
        ));
    }
    let err = t.store.agents().get("../etc").unwrap_err();
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
    let err = t.store.agents().get("evil").unwrap_err();
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
    assert!(
        err.to_string().contains("resolves outside the store"),
        "{err}"
    );
    let err = t
        .store
        .agents()
        .update("evil", |a| {
            a.name = "x".into();
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
    assert!(matches!(
        t.store
            .agents()
            .delete_with("evil", viben_store::Referrers::Keep),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(
        outside.path().join("config.yaml").exists(),
        "nothing outside was touched"
    );
    // The listing reports it and still returns the good agent.
    let listing = t.store.agents().list().unwrap();
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
        t.store.agents().get("x"),
        Err(StoreError::OutsideRoot { .. })
    ));
    symlink("/etc/passwd", t.dir.path().join("providers/passwd.yaml")).unwrap();
    assert!(matches!(
        t.store.providers().get("passwd"),
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
    let err = t.store.agents().get("alias").unwrap_err();
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
    std::fs::create_dir_all(t.dir.path().join("sessions")).unwrap();
    symlink(outside.path(), t.dir.path().join("sessions").join(&meta.id)).unwrap();
    let message = viben_model::Message::new(viben_model::MessageRole::User, "hi");
    assert!(matches!(
        t.store.sessions().append(&meta.id, &message),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(matches!(
        t.store.sessions().read(&meta.id),
        Err(StoreError::OutsideRoot { .. })
    ));
    assert!(matches!(
        t.store.sessions().delete(&meta.id),
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
                store.models().document().map(|_| ()).unwrap_err()
            } else {
                store.agents().get("my-agent").map(|_| ()).unwrap_err()
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
    let err = within_seconds(&fifo, move || store.providers().get("openai").unwrap_err());
    assert_not_a_file(&err, "providers/openai.yaml");
}

#[test]
fn a_fifo_in_place_of_a_message_log_is_refused_without_hanging() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let fifo = t.store.layout().session_messages(&meta.id);
    mkfifo(&fifo);
    let rel = format!("sessions/{}/messages.jsonl", meta.id);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || {
        store.sessions().read(&id).map(|_| ()).unwrap_err()
    });
    assert_not_a_file(&err, &rel);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || store.sessions().last(&id, 3).unwrap_err());
    assert_not_a_file(&err, &rel);
    let (store, id) = (t.store.clone(), meta.id.clone());
    let err = within_seconds(&fifo, move || {
        store
            .sessions()
            .append(
                &id,
                &viben_model::Message::new(viben_model::MessageRole::User, "hi"),
            )
            .unwrap_err()
    });
    assert_not_a_file(&err, &rel);
}

/// One write, named by the data file (relative path) whose lock it takes.
type Write = (String, Box<dyn Fn() -> Result<(), StoreError>>);

/// Every kind of write the store makes, each taking the lock of one data file, for the tests
/// of what may stand at a lock file's path.
fn locking_writes(t: &common::TempStore) -> Vec<Write> {
    let meta = SessionMeta::new("my-agent", None);
    t.store
        .sessions()
        .create(&meta)
        .expect("the setup succeeds");
    let mut writes: Vec<Write> = Vec::new();
    let store = t.store.clone();
    writes.push((
        "models.yaml".into(),
        Box::new(move || store.models().set_default(None).map(|_| ())),
    ));
    let store = t.store.clone();
    writes.push((
        "providers/openai.yaml".into(),
        Box::new(move || {
            store
                .providers()
                .update("openai", |p| {
                    p.enabled = Some(p.enabled == Some(false));
                    Ok(())
                })
                .map(|_| ())
        }),
    ));
    let store = t.store.clone();
    writes.push((
        "providers/new.yaml".into(),
        Box::new(move || {
            store
                .providers()
                .set(&ProviderConfig::new("new"))
                .map(|_| ())
        }),
    ));
    let store = t.store.clone();
    writes.push((
        "agents/my-agent/config.yaml".into(),
        Box::new(move || {
            store
                .agents()
                .update("my-agent", |a| {
                    a.name = "renamed".into();
                    Ok(())
                })
                .map(|_| ())
        }),
    ));
    let store = t.store.clone();
    writes.push((
        "channels.yaml".into(),
        Box::new(move || {
            store
                .channels()
                .set(viben_model::Channel::new(
                    "c",
                    viben_model::ChannelKind::Slack,
                    "my-agent",
                ))
                .map(|_| ())
        }),
    ));
    // Signing out takes the lock only when there is a profile to remove.
    write(t.dir.path(), "profile.yaml", "user_id: u1\n");
    let store = t.store.clone();
    writes.push((
        "profile.yaml".into(),
        Box::new(move || store.profile().sign_out().map(|_| ())),
    ));
    let store = t.store.clone();
    let id = meta.id.clone();
    writes.push((
        format!("sessions/{id}/session.yaml"),
        Box::new(move || {
            store
                .sessions()
                .update(&id, |m| {
                    m.title = Some("t".into());
                    Ok(())
                })
                .map(|_| ())
        }),
    ));
    writes
}

fn lock_of(root: &std::path::Path, rel: &str) -> std::path::PathBuf {
    let path = root.join(rel);
    let name = path
        .file_name()
        .expect("the setup succeeds")
        .to_str()
        .expect("the setup succeeds")
        .to_owned();
    path.with_file_name(format!(".{name}.lock"))
}

/// A listing of every file and folder under `root` with its size, to tell that nothing changed
/// (lock files, which a refused write may have made beside others, left out).
fn snapshot(root: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the setup succeeds") {
            let entry = entry.expect("the setup succeeds");
            let meta = std::fs::symlink_metadata(entry.path()).expect("the setup succeeds");
            let rel = entry
                .path()
                .strip_prefix(root)
                .expect("the setup succeeds")
                .display()
                .to_string();
            if meta.is_dir() {
                stack.push(entry.path());
            }
            if !rel.ends_with(".lock") {
                out.push((rel, if meta.is_file() { meta.len() } else { 0 }));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_symlinked_lock_file_is_refused_and_nothing_is_created_where_it_points() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    for (rel, write) in locking_writes(&t) {
        let lock = lock_of(t.dir.path(), &rel);
        let _ = std::fs::remove_file(&lock);
        // A dangling link (the save would create its target) and one to an existing file.
        let target = outside
            .path()
            .join(format!("created-by-{}", rel.replace('/', "-")));
        symlink(&target, &lock).unwrap();
        let before = snapshot(t.dir.path());
        let err = write().unwrap_err();
        assert!(matches!(err, StoreError::Linked { .. }), "{rel}: {err:?}");
        let message = viben_model::Report(&err).to_string();
        assert!(
            message.contains(&format!("{}.lock", rel.rsplit('/').next().unwrap())),
            "{message}"
        );
        assert!(message.contains("delete it"), "{message}");
        assert!(
            !target.exists(),
            "{rel}: a file was created outside the store"
        );
        assert_eq!(snapshot(t.dir.path()), before, "{rel}: the store changed");

        std::fs::write(&target, "not a lock").unwrap();
        std::fs::remove_file(&lock).unwrap();
        symlink(&target, &lock).unwrap();
        assert!(matches!(write(), Err(StoreError::Linked { .. })), "{rel}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a lock");
        // Once the link is gone the write goes through.
        std::fs::remove_file(&lock).unwrap();
        write().unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(std::fs::symlink_metadata(&lock).unwrap().is_file());
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 7);
}

#[test]
fn a_hard_linked_lock_file_is_refused() {
    let t = seed_store();
    let outside = t.dir.path().join("..").join(format!(
        "{}-outside",
        t.dir.path().file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&outside, "someone else's file").unwrap();
    for (rel, write) in locking_writes(&t) {
        let lock = lock_of(t.dir.path(), &rel);
        let _ = std::fs::remove_file(&lock);
        std::fs::hard_link(&outside, &lock).unwrap();
        let err = write().unwrap_err();
        assert!(matches!(err, StoreError::Linked { .. }), "{rel}: {err:?}");
        std::fs::remove_file(&lock).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "someone else's file"
    );
    std::fs::remove_file(&outside).unwrap();
}

#[test]
fn a_folder_or_fifo_in_place_of_a_lock_file_is_refused_without_hanging() {
    let t = seed_store();
    for (rel, write) in locking_writes(&t) {
        let lock = lock_of(t.dir.path(), &rel);
        let _ = std::fs::remove_file(&lock);
        std::fs::create_dir(&lock).unwrap();
        let err = write().unwrap_err();
        assert!(matches!(err, StoreError::NotAFile { .. }), "{rel}: {err:?}");
        std::fs::remove_dir(&lock).unwrap();

        mkfifo(&lock);
        // The write runs here; a watchdog opens the FIFO's other end should it hang.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let fifo = lock.clone();
        let watchdog = std::thread::spawn(move || {
            let hung = done_rx
                .recv_timeout(std::time::Duration::from_secs(5))
                .is_err();
            if hung {
                let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
            }
            hung
        });
        let err = write().unwrap_err();
        let _ = done_tx.send(());
        assert!(
            !watchdog.join().unwrap(),
            "{rel}: opening the lock FIFO hung"
        );
        assert!(matches!(err, StoreError::NotAFile { .. }), "{rel}: {err:?}");
        std::fs::remove_file(&lock).unwrap();
    }
}

#[test]
fn a_hard_linked_data_file_is_replaced_on_save_not_written_through() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    let other = outside.path().join("models.yaml");
    std::fs::copy(t.dir.path().join("models.yaml"), &other).unwrap();
    // tempdirs share one file system, so the hard link can be made.
    std::fs::remove_file(t.dir.path().join("models.yaml")).unwrap();
    std::fs::hard_link(&other, t.dir.path().join("models.yaml")).unwrap();
    let before = std::fs::read(&other).unwrap();
    t.store.models().set_default(None).unwrap();
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "the other link was written"
    );
}

#[test]
fn a_link_or_fifo_named_like_a_temporary_file_is_removed_as_an_entry_never_followed() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("keep.txt");
    std::fs::write(&target, "keep").unwrap();
    let outside_dir = outside.path().join("dir");
    std::fs::create_dir(&outside_dir).unwrap();
    std::fs::write(outside_dir.join("inside.txt"), "keep").unwrap();
    let root = t.dir.path();
    symlink(&target, root.join(".models.yaml.tmp-1-a")).unwrap();
    symlink(&outside_dir, root.join(".channels.yaml.tmp-1-b")).unwrap();
    symlink(&outside_dir, root.join("agents/.gone.deleted-1-c")).unwrap();
    mkfifo(&root.join("providers/.openai.yaml.tmp-1-d"));
    std::fs::create_dir(root.join(".profile.yaml.tmp-1-e")).unwrap();
    for name in [
        ".models.yaml.tmp-1-a",
        ".channels.yaml.tmp-1-b",
        "agents/.gone.deleted-1-c",
        "providers/.openai.yaml.tmp-1-d",
        ".profile.yaml.tmp-1-e",
    ] {
        let status = std::process::Command::new("touch")
            .args(["-h", "-d", "1 hour ago"])
            .arg(root.join(name))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let removed = t.store.clean_temp_files().unwrap();
    assert_eq!(removed.len(), 4, "{removed:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert_eq!(
        std::fs::read_to_string(outside_dir.join("inside.txt")).unwrap(),
        "keep"
    );
    // A folder with a temporary file's name is not ours to empty.
    assert!(root.join(".profile.yaml.tmp-1-e").is_dir());
}

#[test]
fn deleting_an_agent_whose_folder_is_a_link_removes_the_link_not_what_it_points_to() {
    let t = seed_store();
    let root = t.dir.path();
    write(
        root,
        "elsewhere/config.yaml",
        "id: linked\nname: L\nmodel: m\nprovider: p\n",
    );
    symlink(root.join("elsewhere"), root.join("agents/linked")).unwrap();
    t.store
        .agents()
        .delete_with("linked", viben_store::Referrers::Keep)
        .unwrap();
    assert!(std::fs::symlink_metadata(root.join("agents/linked")).is_err());
    assert!(root.join("elsewhere/config.yaml").is_file());
}

#[test]
fn a_hard_linked_telemetry_day_file_is_not_appended_to() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    let other = outside.path().join("notes.txt");
    std::fs::write(&other, "mine\n").unwrap();
    let time = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 1, 12, 0, 0).unwrap();
    let day = t
        .store
        .layout()
        .telemetry_day_file("logs", time.date_naive());
    std::fs::create_dir_all(day.parent().unwrap()).unwrap();
    std::fs::hard_link(&other, &day).unwrap();
    let record = viben_model::LogRecord {
        level: viben_model::LogLevel::Info,
        message: "hello".into(),
        attributes: viben_model::JsonFields::new(),
        time,
        extra: viben_model::JsonFields::new(),
    };
    let err = t.store.telemetry().record(&record).unwrap_err();
    assert!(matches!(err, StoreError::Linked { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "mine\n");
}

#[test]
fn init_refuses_a_folder_linked_outside_and_makes_nothing_there() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), dir.path().join("telemetry")).unwrap();
    // Opening does not look below the top folders, and does not refuse a store it may read.
    let err = match viben_store::Store::open(dir.path()) {
        Ok(store) => store.init().unwrap_err(),
        Err(err) => err,
    };
    assert!(matches!(err, StoreError::OutsideRoot { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn a_linked_folder_lock_file_is_refused_when_creating_agents_providers_and_sessions() {
    let t = seed_store();
    let outside = tempfile::tempdir().unwrap();
    let root = t.dir.path();
    for folder in ["agents", "providers", "sessions"] {
        symlink(
            outside.path().join(folder),
            root.join(format!(".{folder}.lock")),
        )
        .unwrap();
    }
    let err = t
        .store
        .agents()
        .create(&AgentConfig::new("new", "N", "m", "p"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Linked { .. }), "{err:?}");
    let err = t
        .store
        .providers()
        .set(&ProviderConfig::new("new"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Linked { .. }), "{err:?}");
    let err = t
        .store
        .sessions()
        .create(&SessionMeta::new("my-agent", None))
        .unwrap_err();
    assert!(matches!(err, StoreError::Linked { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!root.join("agents/new").exists());
}

#[test]
fn a_hard_linked_message_log_is_not_appended_to() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let other = outside.path().join("notes.txt");
    std::fs::write(&other, "mine\n").unwrap();
    std::fs::hard_link(&other, t.store.layout().session_messages(&meta.id)).unwrap();
    let message = viben_model::Message::new(viben_model::MessageRole::User, "hi");
    let err = t.store.sessions().append(&meta.id, &message).unwrap_err();
    assert!(matches!(err, StoreError::Linked { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "mine\n");
}
