//! The typed handles share one core: every record kind lists bad entries the same way, has
//! the same versioned verbs, and the options that replace boolean flags do what they say.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use common::{seed_store, write};
use viben_model::{AgentConfig, ProviderConfig, SessionMeta};
use viben_store::{Referrers, Revision, StoreError};

#[test]
fn a_name_that_is_not_utf8_is_reported_by_every_record_listing() {
    let t = seed_store();
    let root = t.dir.path();
    t.store
        .sessions()
        .create(&SessionMeta::new("my-agent", None))
        .unwrap();
    std::fs::write(
        root.join("providers")
            .join(OsStr::from_bytes(b"caf\xe9.yaml")),
        "name: x\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("sessions").join(OsStr::from_bytes(b"s\xe9"))).unwrap();
    std::fs::create_dir(root.join("agents").join(OsStr::from_bytes(b"a\xe9"))).unwrap();

    let providers = t.store.providers().list().unwrap();
    assert_eq!(providers.items.len(), 2);
    assert!(
        matches!(providers.errors.as_slice(), [StoreError::BadName { .. }]),
        "{:?}",
        providers.errors
    );
    let sessions = t.store.sessions().list().unwrap();
    assert_eq!(sessions.items.len(), 1);
    assert!(
        matches!(sessions.errors.as_slice(), [StoreError::BadName { .. }]),
        "{:?}",
        sessions.errors
    );
    let agents = t.store.agents().list().unwrap();
    assert_eq!(agents.items.len(), 1);
    assert!(
        matches!(agents.errors.as_slice(), [StoreError::BadName { .. }]),
        "{:?}",
        agents.errors
    );
    // `check` reports the same three names.
    let bad_names = t
        .store
        .check()
        .iter()
        .filter(|p| p.message.contains("not valid UTF-8"))
        .count();
    assert_eq!(bad_names, 3);
}

#[test]
fn two_threads_upserting_one_provider_both_keep_their_change() {
    let t = seed_store();
    let rounds = 40;
    std::thread::scope(|scope| {
        let store = &t.store;
        scope.spawn(move || {
            for n in 0..rounds {
                store
                    .providers()
                    .upsert("shared", |p| {
                        p.base_url = Some(format!("https://example.com/{n}"));
                        Ok(())
                    })
                    .unwrap();
            }
        });
        scope.spawn(move || {
            for n in 0..rounds {
                store
                    .providers()
                    .upsert("shared", |p| {
                        p.enabled = Some(n % 2 == 1);
                        p.set_api_key_env("SHARED_KEY");
                        Ok(())
                    })
                    .unwrap();
            }
        });
    });
    let shared = t.store.providers().get("shared").unwrap();
    assert_eq!(
        shared.base_url.as_deref(),
        Some(format!("https://example.com/{}", rounds - 1).as_str())
    );
    assert_eq!(shared.enabled, Some(true));
    assert_eq!(shared.api_key_env.as_deref(), Some("SHARED_KEY"));
}

#[test]
fn an_upsert_that_would_be_refused_makes_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("viben");
    let store = viben_store::Store::open(&root).unwrap();
    let err = store
        .providers()
        .upsert("p", |p| {
            p.set_api_key_env("not a variable");
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert!(!root.exists());
}

#[test]
fn providers_and_sessions_have_the_versioned_verbs_of_agents() {
    let t = seed_store();
    let read = t.store.providers().get_versioned("openai").unwrap();
    let mut changed = read.value.clone();
    changed.enabled = Some(false);
    let revision = t
        .store
        .providers()
        .save_if_unchanged(&changed, &read.revision)
        .unwrap();
    assert_ne!(revision, read.revision);
    let err = t
        .store
        .providers()
        .save_if_unchanged(&read.value, &read.revision)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    // Creating through a save from the absent revision.
    let new = ProviderConfig::new("fresh");
    t.store
        .providers()
        .save_if_unchanged(&new, &Revision::ABSENT)
        .unwrap();
    let err = t
        .store
        .providers()
        .save_if_unchanged(&new, &Revision::ABSENT)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");

    let meta = SessionMeta::new("my-agent", None);
    let created = t.store.sessions().create(&meta).unwrap();
    let read = t.store.sessions().get_versioned(&meta.id).unwrap();
    assert_eq!(read.revision, created);
    let mut titled = read.value.clone();
    titled.title = Some("Titled".into());
    t.store
        .sessions()
        .save_if_unchanged(&titled, &read.revision)
        .unwrap();
    let err = t
        .store
        .sessions()
        .save_if_unchanged(&read.value, &read.revision)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(
        t.store.sessions().get(&meta.id).unwrap().title.as_deref(),
        Some("Titled")
    );
}

#[test]
fn every_update_returns_the_value_as_written_with_its_revision() {
    let t = seed_store();
    let written = t
        .store
        .agents()
        .update("my-agent", |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(written.value.name, "Renamed");
    assert_eq!(
        written.revision,
        t.store.agents().get_versioned("my-agent").unwrap().revision
    );
    let catalog = t
        .store
        .models()
        .update(|c| {
            c.default = None;
            Ok(())
        })
        .unwrap();
    assert_eq!(catalog.value, t.store.models().document().unwrap());
    assert_eq!(
        catalog.revision,
        t.store.models().document_versioned().unwrap().revision
    );
}

#[test]
fn deleting_an_agent_in_use_is_refused_unless_its_referrers_are_kept() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let err = t.store.agents().delete("my-agent").unwrap_err();
    assert!(matches!(err, StoreError::ReferencedBy { .. }), "{err:?}");
    let err = t
        .store
        .agents()
        .delete_with("my-agent", Referrers::Refuse)
        .unwrap_err();
    assert!(matches!(err, StoreError::ReferencedBy { .. }), "{err:?}");
    t.store
        .agents()
        .delete_with("my-agent", Referrers::Keep)
        .unwrap();
    assert!(matches!(
        t.store.agents().get("my-agent"),
        Err(StoreError::NotFound { kind: "agent", .. })
    ));
    assert_eq!(
        t.store.sessions().get(&meta.id).unwrap().agent_id,
        "my-agent"
    );
}

#[test]
fn entry_verbs_are_the_same_for_models_and_channels() {
    let t = seed_store();
    t.store
        .agents()
        .create(&AgentConfig::new("b", "B", "claude-3-sonnet", "anthropic"))
        .unwrap();
    let channel = viben_model::Channel::new("c", viben_model::ChannelKind::Slack, "b");
    t.store.channels().add(channel.clone()).unwrap();
    assert!(matches!(
        t.store.channels().add(channel.clone()),
        Err(StoreError::AlreadyExists {
            kind: "channel",
            ..
        })
    ));
    t.store.channels().set(channel).unwrap();
    assert_eq!(t.store.channels().get("c").unwrap().agent, "b");
    t.store.channels().delete("c").unwrap();
    assert!(matches!(
        t.store.channels().delete("c"),
        Err(StoreError::NotFound {
            kind: "channel",
            ..
        })
    ));

    let mut entry = viben_model::ModelEntry::new("extra", "anthropic");
    t.store.models().add(entry.clone()).unwrap();
    assert!(matches!(
        t.store.models().add(entry.clone()),
        Err(StoreError::AlreadyExists { kind: "model", .. })
    ));
    entry.name = Some("Extra".into());
    t.store.models().set(entry).unwrap();
    assert_eq!(
        t.store.models().get("extra").unwrap().name.as_deref(),
        Some("Extra")
    );
    t.store.models().delete("extra").unwrap();
    assert!(matches!(
        t.store.models().get("extra"),
        Err(StoreError::NotFound { kind: "model", .. })
    ));
}

#[test]
fn a_cause_is_in_source_and_never_repeated_in_the_message() {
    let t = seed_store();
    // A file where the agent's folder belongs: reading its config.yaml fails (ENOTDIR).
    write(t.dir.path(), "agents/zzz", "not a folder");
    let err = t.store.agents().get("zzz").unwrap_err();
    let StoreError::Io { source, .. } = &err else {
        panic!("{err:?}");
    };
    let message = err.to_string();
    assert!(!message.contains(&source.to_string()), "{message}");
    let cause = std::error::Error::source(&err).expect("the cause");
    assert_eq!(cause.to_string(), source.to_string());
    assert!(viben_model::Hint::hint(&err).is_some());
    let mut invalid = AgentConfig::new("x", "X", "m", "p");
    invalid.temperature = Some(9.0);
    let err = t.store.agents().create(&invalid).unwrap_err();
    let message = err.to_string();
    let cause = std::error::Error::source(&err).expect("the rule broken");
    assert!(!message.contains(&cause.to_string()), "{message}");
    assert_eq!(
        viben_model::Hint::hint(&err),
        viben_model::Hint::hint(&viben_model::ValidationError::TemperatureOutOfRange {
            value: 9.0
        })
    );
    let err = t.store.agents().get("../x").unwrap_err();
    assert!(matches!(err, StoreError::InvalidId { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_none(), "{err:?}");
}

#[test]
fn an_agent_folder_without_its_file_is_reused_but_a_session_folder_is_taken() {
    let t = seed_store();
    std::fs::create_dir(t.dir.path().join("agents/left")).unwrap();
    t.store
        .agents()
        .create(&AgentConfig::new(
            "left",
            "Left",
            "claude-3-sonnet",
            "anthropic",
        ))
        .unwrap();
    assert_eq!(t.store.agents().get("left").unwrap().name, "Left");

    let meta = SessionMeta::new("my-agent", None);
    std::fs::create_dir_all(t.dir.path().join("sessions").join(&meta.id)).unwrap();
    let err = t.store.sessions().create(&meta).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::AlreadyExists {
                kind: "session",
                ..
            }
        ),
        "{err:?}"
    );
}
