//! The store's format version (`version.yaml`): a store in a newer format is read but never
//! written; an older one is upgraded by the registered steps, in order, once, under the store's
//! lock, after a backup of the files each step touches. The machinery is tested with test-only
//! steps (`Store::with_upgrade_steps`).

mod common;

use std::fs;
use std::path::Path;

use chrono::{TimeZone, Utc};
use common::{SEED_AGENT, SEED_MODELS, read, seed_store, temp_store, write};
use viben_model::{
    AgentConfig, Channel, ChannelKind, LogRecord, Message, MessageRole, ModelEntry, OAuthProvider,
    Profile, ProviderConfig, Role, SessionMeta, User,
};
use viben_store::{
    FORMAT_VERSION, PrunePolicy, Referrers, Store, StoreError, UpgradeStep, Versioned,
};

/// Every file under `dir` with its bytes, and every folder, to tell that nothing changed.
fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).expect("list a folder") {
            let path = entry.expect("an entry").path();
            let rel = path
                .strip_prefix(dir)
                .expect("under dir")
                .display()
                .to_string();
            if path.is_dir() {
                pending.push(path);
                out.push((rel, None));
            } else {
                out.push((rel, Some(fs::read(&path).expect("read a file"))));
            }
        }
    }
    out.sort();
    out
}

fn version_file(format: u32) -> String {
    format!("# written by a newer viben\nformat: {format}\nfeatures: [something-new]\n")
}

/// A store with a file of every kind, sessions and telemetry included.
fn full_store() -> common::TempStore {
    let t = seed_store();
    let store = &t.store;
    store
        .channels()
        .add(Channel::new("c", ChannelKind::Slack, "my-agent"))
        .expect("the setup succeeds");
    let session = SessionMeta::new("my-agent", None);
    store
        .sessions()
        .create(&session)
        .expect("the setup succeeds");
    store
        .sessions()
        .append(&session.id, &Message::new(MessageRole::User, "hi"))
        .expect("the setup succeeds");
    store
        .telemetry()
        .record(&log_record())
        .expect("the setup succeeds");
    store
        .profile()
        .save(&profile())
        .expect("the setup succeeds");
    t
}

fn log_record() -> LogRecord {
    LogRecord {
        level: viben_model::LogLevel::Info,
        message: "m".into(),
        attributes: serde_json::Map::new(),
        time: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        extra: serde_json::Map::new(),
    }
}

fn profile() -> Profile {
    let user = User {
        id: "u1".into(),
        email: "ada@example.com".into(),
        username: "ada".into(),
        display_name: None,
        avatar_url: None,
        github_username: None,
        email_verified: true,
        role: Role::User,
        created_at: None,
        updated_at: None,
    };
    Profile::signed_in(&user, OAuthProvider::GitHub, "1")
}

#[track_caller]
fn assert_newer(result: Result<impl std::fmt::Debug, StoreError>, what: &str) {
    match result {
        Err(StoreError::NewerFormat {
            found, supported, ..
        }) => {
            assert_eq!(
                (found, supported),
                (FORMAT_VERSION + 1, FORMAT_VERSION),
                "{what}"
            );
        }
        other => panic!("{what}: expected NewerFormat, got {other:?}"),
    }
}

#[test]
fn a_store_without_version_yaml_is_format_1_and_init_records_it() {
    let t = seed_store();
    let status = t.store.format().unwrap();
    assert_eq!((status.found, status.recorded), (1, false));
    assert_eq!(status.supported, FORMAT_VERSION);
    // An ordinary write to a store in the current format adds nothing.
    t.store
        .models()
        .add(ModelEntry::new("x", "anthropic"))
        .unwrap();
    assert!(!t.store.layout().version_file().exists());

    t.store.init().unwrap();
    let text = read(t.dir.path(), "version.yaml");
    assert!(
        text.ends_with(&format!("format: {FORMAT_VERSION}\n")),
        "{text}"
    );
    let status = t.store.format().unwrap();
    assert_eq!((status.found, status.recorded), (FORMAT_VERSION, true));
}

#[test]
fn a_newer_store_is_read_but_every_write_is_refused_and_nothing_changes() {
    let t = full_store();
    let store = &t.store;
    let session = store.sessions().list().unwrap().items.remove(0);
    write(
        t.dir.path(),
        "version.yaml",
        version_file(FORMAT_VERSION + 1),
    );
    let before = snapshot(t.dir.path());

    // Reads work.
    assert_eq!(store.agents().get("my-agent").unwrap().name, "My Agent");
    assert_eq!(store.models().document().unwrap().models.len(), 2);
    assert_eq!(
        store
            .sessions()
            .last(&session.id, 10)
            .unwrap()
            .records
            .len(),
        1
    );
    assert!(!store.format().unwrap().writable());

    let agent = AgentConfig::new("new-agent", "N", "claude-3-sonnet", "anthropic");
    assert_newer(store.agents().create(&agent), "agents create");
    assert_newer(
        store.agents().update("my-agent", |a| {
            a.name = "Changed".into();
            Ok(())
        }),
        "agents update",
    );
    let Versioned { value, revision } = store.agents().get_versioned("my-agent").unwrap();
    assert_newer(
        store.agents().save_if_unchanged(&value, &revision),
        "agents save",
    );
    assert_newer(store.agents().delete("my-agent"), "agents delete");
    assert_newer(
        store.agents().delete_with("my-agent", Referrers::Keep),
        "agents delete --force",
    );
    assert_newer(
        store.providers().set(&ProviderConfig::new("p")),
        "providers set",
    );
    assert_newer(
        store.providers().upsert("anthropic", |p| {
            p.enabled = Some(false);
            Ok(())
        }),
        "providers upsert",
    );
    assert_newer(store.providers().delete("openai"), "providers delete");
    assert_newer(store.models().add(ModelEntry::new("m", "p")), "models add");
    assert_newer(store.models().set(ModelEntry::new("m", "p")), "models set");
    assert_newer(store.models().disable("gpt-4o"), "models disable");
    assert_newer(store.models().set_default(None), "models default");
    assert_newer(store.models().delete("gpt-4o"), "models delete");
    assert_newer(
        store
            .channels()
            .add(Channel::new("d", ChannelKind::Web, "my-agent")),
        "channels add",
    );
    assert_newer(store.channels().delete("c"), "channels delete");
    assert_newer(store.profile().save(&profile()), "profile save");
    assert_newer(store.profile().sign_out(), "sign out");
    assert_newer(
        store.sessions().create(&SessionMeta::new("my-agent", None)),
        "sessions create",
    );
    assert_newer(
        store
            .sessions()
            .append(&session.id, &Message::new(MessageRole::User, "more")),
        "sessions append",
    );
    assert_newer(store.sessions().appender(&session.id).map(drop), "appender");
    assert_newer(store.sessions().delete(&session.id), "sessions delete");
    assert_newer(store.telemetry().record(&log_record()), "telemetry record");
    assert_newer(
        store.telemetry().prune(
            PrunePolicy {
                max_age: Some(chrono::Duration::days(1)),
                max_total_bytes: Some(0),
            },
            Utc::now(),
        ),
        "telemetry prune",
    );
    assert_newer(store.init(), "init");
    assert_newer(store.clean_temp_files(), "clean temp files");
    assert_newer(store.upgrade(), "upgrade");

    assert_eq!(
        snapshot(t.dir.path()),
        before,
        "a refused write changed the store"
    );
}

#[test]
fn the_refusal_says_to_upgrade_viben_and_check_warns() {
    let t = seed_store();
    write(t.dir.path(), "version.yaml", version_file(7));
    let err = t
        .store
        .models()
        .add(ModelEntry::new("x", "anthropic"))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("is in format 7, newer than this viben writes"),
        "{message}"
    );
    let hint = viben_model::Hint::hint(&err).unwrap();
    assert!(hint.starts_with("upgrade viben"), "{hint}");

    let problems = t.store.check();
    let warning = problems
        .iter()
        .find(|p| p.path == Path::new("version.yaml"))
        .expect("check reports the format");
    assert_eq!(warning.severity, viben_store::Severity::Warning);
    assert!(warning.message.contains("format 7"), "{warning}");
}

#[test]
fn an_unreadable_version_file_refuses_writes_and_is_a_check_error() {
    for (text, reason) in [
        ("format: two\n", "not a whole number"),
        ("format: 0\n", "not a whole number"),
        ("version: 2\n", "no format key"),
        ("format: [\n", "not valid YAML"),
    ] {
        let t = seed_store();
        write(t.dir.path(), "version.yaml", text);
        let before = snapshot(t.dir.path());
        match t.store.models().add(ModelEntry::new("x", "anthropic")) {
            Err(StoreError::BadFormatVersion { path, reason: got }) => {
                assert_eq!(path, t.store.layout().version_file());
                assert!(got.contains(reason), "{text:?}: {got}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
        assert_eq!(snapshot(t.dir.path()), before);
        let problems = t.store.check();
        assert!(
            problems
                .iter()
                .any(|p| p.severity == viben_store::Severity::Error
                    && p.path == Path::new("version.yaml")),
            "{problems:?}"
        );
    }
}

// The test-only steps: format 1 → 2 marks models.yaml, 2 → 3 marks every agent's config and
// needs the first mark (so it proves the order). A `FAIL` file in the root fails the second.

fn io_error(
    action: &'static str,
    path: impl Into<std::path::PathBuf>,
    source: std::io::Error,
) -> StoreError {
    StoreError::Io {
        action,
        path: path.into(),
        source,
    }
}

const MARK_MODELS: &str = "upgraded_by: test-step-1\n";
const MARK_AGENT: &str = "upgraded_by: test-step-2\n";

fn models_touched(layout: &viben_store::Layout) -> viben_store::Result<Vec<std::path::PathBuf>> {
    Ok(vec![layout.models_file()])
}

fn mark_models(layout: &viben_store::Layout) -> viben_store::Result<()> {
    let path = layout.models_file();
    // A store may lack any file: a step changes what is there.
    let Ok(text) = fs::read_to_string(&path) else {
        return Ok(());
    };
    if !text.contains(MARK_MODELS) {
        fs::write(&path, format!("{text}{MARK_MODELS}"))
            .map_err(|e| io_error("write", &path, e))?;
    }
    Ok(())
}

fn agents_touched(layout: &viben_store::Layout) -> viben_store::Result<Vec<std::path::PathBuf>> {
    let Ok(entries) = fs::read_dir(layout.agents_dir()) else {
        return Ok(Vec::new());
    };
    Ok(entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("config.yaml"))
        .collect())
}

fn mark_agents(layout: &viben_store::Layout) -> viben_store::Result<()> {
    let models = fs::read_to_string(layout.models_file());
    if models.is_ok_and(|text| !text.contains(MARK_MODELS)) {
        return Err(io_error(
            "read",
            layout.models_file(),
            std::io::Error::other("step 1 has not run"),
        ));
    }
    let fail = layout.root().join("FAIL");
    if fail.exists() {
        return Err(io_error(
            "read",
            fail,
            std::io::Error::other("told to fail"),
        ));
    }
    for path in agents_touched(layout)? {
        let text = fs::read_to_string(&path).map_err(|e| io_error("read", &path, e))?;
        if !text.contains(MARK_AGENT) {
            fs::write(&path, format!("{text}{MARK_AGENT}"))
                .map_err(|e| io_error("write", &path, e))?;
        }
    }
    Ok(())
}

static TEST_STEPS: &[UpgradeStep] = &[
    UpgradeStep {
        name: "test: mark models.yaml",
        touches: models_touched,
        run: mark_models,
    },
    UpgradeStep {
        name: "test: mark every agent",
        touches: agents_touched,
        run: mark_agents,
    },
];

fn backups(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.join("backups"))
        .map(|entries| {
            entries
                .map(|e| {
                    e.expect("an entry")
                        .file_name()
                        .into_string()
                        .expect("UTF-8")
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn an_older_store_is_upgraded_in_order_once_before_the_first_write_with_backups() {
    let t = seed_store();
    let store = t.store.clone().with_upgrade_steps(TEST_STEPS);
    let root = t.dir.path();
    let status = store.format().unwrap();
    assert_eq!((status.found, status.supported), (1, 3));
    assert!(status.needs_upgrade());

    // Reads do not upgrade.
    store.agents().list().unwrap();
    assert!(!root.join("version.yaml").exists());

    store
        .models()
        .add(ModelEntry::new("x", "anthropic"))
        .unwrap();
    assert!(read(root, "version.yaml").ends_with("format: 3\n"));
    let models = read(root, "models.yaml");
    assert_eq!(models.matches("upgraded_by").count(), 1, "{models}");
    assert!(
        models.contains("id: x"),
        "the write happened after the upgrade: {models}"
    );
    assert!(read(root, "agents/my-agent/config.yaml").ends_with(MARK_AGENT));

    // One backup folder per step, holding the files as they were before it.
    let folders = backups(root);
    assert_eq!(folders.len(), 2, "{folders:?}");
    assert!(folders[0].starts_with("format-1-to-2-"), "{folders:?}");
    assert!(folders[1].starts_with("format-2-to-3-"), "{folders:?}");
    let first = root.join("backups").join(&folders[0]);
    assert_eq!(read(&first, "models.yaml"), SEED_MODELS);
    let second = root.join("backups").join(&folders[1]);
    assert_eq!(read(&second, "agents/my-agent/config.yaml"), SEED_AGENT);
    assert!(
        !second.join("models.yaml").exists(),
        "only what the step touches"
    );

    // Later writes do not run the steps again.
    store
        .models()
        .add(ModelEntry::new("y", "anthropic"))
        .unwrap();
    assert_eq!(read(root, "models.yaml").matches("upgraded_by").count(), 1);
    assert_eq!(backups(root).len(), 2);
    assert_eq!(store.upgrade().unwrap().steps, Vec::<&str>::new());

    // This version's code (without the test steps) now finds a newer store.
    assert_newer_than_code(&t.store);
}

fn assert_newer_than_code(store: &Store) {
    match store.models().add(ModelEntry::new("z", "anthropic")) {
        Err(StoreError::NewerFormat { found: 3, .. }) => {}
        other => panic!("expected NewerFormat, got {other:?}"),
    }
}

#[test]
fn a_failed_step_stops_the_write_and_the_next_write_resumes_at_that_step() {
    let t = seed_store();
    let store = t.store.clone().with_upgrade_steps(TEST_STEPS);
    let root = t.dir.path();
    write(root, "FAIL", "");
    let err = store
        .models()
        .add(ModelEntry::new("x", "anthropic"))
        .unwrap_err();
    match &err {
        StoreError::Upgrade {
            step,
            from,
            to,
            backup,
            ..
        } => {
            assert_eq!((*step, *from, *to), ("test: mark every agent", 2, 3));
            assert!(backup.join("agents/my-agent/config.yaml").is_file());
        }
        other => panic!("expected Upgrade, got {other:?}"),
    }
    let hint = viben_model::Hint::hint(&err).unwrap();
    assert!(hint.contains("backed up in"), "{hint}");
    assert!(
        read(root, "version.yaml").ends_with("format: 2\n"),
        "step 1 is recorded"
    );
    assert!(
        !read(root, "models.yaml").contains("id: x"),
        "the write did not happen"
    );

    fs::remove_file(root.join("FAIL")).unwrap();
    store
        .models()
        .add(ModelEntry::new("x", "anthropic"))
        .unwrap();
    assert!(read(root, "version.yaml").ends_with("format: 3\n"));
    assert_eq!(read(root, "models.yaml").matches("upgraded_by").count(), 1);
    assert!(read(root, "agents/my-agent/config.yaml").ends_with(MARK_AGENT));
}

#[test]
fn concurrent_upgrades_run_each_step_once() {
    let t = seed_store();
    let store = t.store.clone().with_upgrade_steps(TEST_STEPS);
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| store.upgrade().unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ran: usize = reports.iter().map(|r| r.steps.len()).sum();
    assert_eq!(ran, 2, "{reports:?}");
    assert_eq!(
        read(t.dir.path(), "models.yaml")
            .matches("upgraded_by")
            .count(),
        1
    );
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml")
            .matches("upgraded_by")
            .count(),
        1
    );
    assert_eq!(backups(t.dir.path()).len(), 2);
}

#[test]
fn a_new_store_written_first_by_newer_code_records_its_format() {
    let t = temp_store();
    let store = t.store.clone().with_upgrade_steps(TEST_STEPS);
    // Nothing to back up or change in an empty store; the steps cope with missing files.
    store.init().unwrap();
    assert!(read(t.dir.path(), "version.yaml").ends_with("format: 3\n"));
    assert_eq!(store.format().unwrap().found, 3);
}
