//! Create, read, update and delete of agents, providers, models and channels, and the errors
//! each refusal gives.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{read, seed_store, temp_store, write};
use viben_model::{
    AgentConfig, Channel, ChannelKind, ModelEntry, ProviderConfig, Secret, ValidationError,
};
use viben_store::{Layout, Referrer, Revision, StoreError};

fn agent(id: &str) -> AgentConfig {
    AgentConfig::new(id, "Agent", "claude-3-sonnet", "anthropic")
}

#[test]
fn init_creates_the_layout_with_private_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home/.viben");
    viben_store::Store::open(&root).unwrap().init().unwrap();
    for folder in [
        "",
        "agents",
        "providers",
        "sessions",
        "telemetry/traces",
        "telemetry/metrics",
        "telemetry/logs",
    ] {
        let mode = std::fs::metadata(root.join(folder))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{folder}");
    }
}

/// Every file and folder under `dir` (relative, with its size for files), to tell that a
/// call changed nothing.
fn tree(dir: &std::path::Path) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let entry = entry.expect("the store call succeeds");
            let meta = std::fs::symlink_metadata(entry.path()).expect("the store call succeeds");
            if meta.is_dir() {
                stack.push(entry.path());
            }
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("the store call succeeds")
                .display()
                .to_string();
            out.push((rel, meta.is_file().then_some(meta.len())));
        }
    }
    out.sort();
    out
}

/// Every read the store offers, on `store`; each must succeed.
fn read_everything(store: &viben_store::Store) {
    use chrono::{TimeZone, Utc};
    assert!(
        store
            .agents()
            .list()
            .expect("the store call succeeds")
            .items
            .is_empty()
    );
    assert!(
        store
            .providers()
            .list()
            .expect("the store call succeeds")
            .items
            .is_empty()
    );
    assert!(
        store
            .sessions()
            .list()
            .expect("the store call succeeds")
            .items
            .is_empty()
    );
    assert!(
        store
            .channels()
            .list()
            .expect("the store call succeeds")
            .is_empty()
    );
    assert!(
        store
            .models()
            .document()
            .expect("the store call succeeds")
            .models
            .is_empty()
    );
    assert!(
        store
            .models()
            .default()
            .expect("the store call succeeds")
            .is_none()
    );
    assert!(
        store
            .profile()
            .get()
            .expect("the store call succeeds")
            .is_none()
    );
    assert!(matches!(
        store.agents().get("a"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.providers().get("p"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.sessions().get("s"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.channels().get("c"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.agents().resolve("a"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.sessions().read("s"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.sessions().last("s", 2),
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        store
            .agents()
            .referrers("a")
            .expect("the store call succeeds")
            .is_empty()
    );
    let (from, to) = (
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid date"),
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0)
            .single()
            .expect("a valid date"),
    );
    assert!(
        store
            .telemetry()
            .read::<viben_model::LogRecord>(from, to)
            .expect("the store call succeeds")
            .records
            .is_empty()
    );
    let problems = store.check();
    assert!(problems.is_empty(), "{problems:?}");
    // Deleting what is not there is a read too: it finds nothing and makes nothing.
    assert!(!store.profile().sign_out().expect("the store call succeeds"));
    assert!(matches!(
        store.providers().delete("p"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .agents()
            .delete_with("a", viben_store::Referrers::Keep),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.sessions().delete("s"),
        Err(StoreError::NotFound { .. })
    ));
    store.clean_temp_files().expect("the store call succeeds");
}

#[test]
fn opening_and_reading_a_missing_store_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The folder HOME names does not exist either.
    let root = dir.path().join("no-such-home/.viben");
    let store = viben_store::Store::open(&root).unwrap();
    read_everything(&store);
    assert!(!dir.path().join("no-such-home").exists());
    assert_eq!(tree(dir.path()), []);
}

#[test]
fn reading_a_partial_store_creates_nothing_and_finds_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Private, as the store makes its root (`check` warns about a root others may enter).
    std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // A store with only some of its files: no agents/, sessions/ or telemetry/.
    write(root, "notes.txt", "mine");
    write(root, "providers/.keep", "");
    let before = tree(root);
    let store = viben_store::Store::open(root).unwrap();
    read_everything(&store);
    assert_eq!(tree(root), before);
}

#[test]
fn each_write_creates_the_folders_it_writes_into_and_no_others() {
    use chrono::{TimeZone, Utc};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home/.viben");
    let store = viben_store::Store::open(&root).unwrap();
    let private = |rel: &str| {
        let meta = std::fs::metadata(root.join(rel)).unwrap();
        assert!(meta.is_dir(), "{rel}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{rel}");
    };

    store
        .models()
        .add(ModelEntry::new("claude-3-sonnet", "anthropic"))
        .unwrap();
    private("");
    assert!(!root.join("agents").exists() && !root.join("providers").exists());

    store
        .providers()
        .set(&ProviderConfig::new("anthropic"))
        .unwrap();
    private("providers");
    store.agents().create(&agent("a")).unwrap();
    private("agents");
    private("agents/a");
    assert!(!root.join("sessions").exists());
    let meta = viben_model::SessionMeta::new("a", None);
    store.sessions().create(&meta).unwrap();
    private("sessions");
    assert!(!root.join("telemetry").exists());
    store
        .telemetry()
        .record(&viben_model::LogRecord {
            level: viben_model::LogLevel::Info,
            message: "hi".into(),
            attributes: viben_model::JsonFields::new(),
            time: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            extra: viben_model::JsonFields::new(),
        })
        .unwrap();
    private("telemetry");
    private("telemetry/logs");
    assert!(!root.join("telemetry/traces").exists());

    // A fresh store's first writes of the root's other files need nothing made first.
    let other = viben_store::Store::open(dir.path().join("other")).unwrap();
    other.models().set_default(None).unwrap();
    assert!(dir.path().join("other/models.yaml").is_file());
    let other = viben_store::Store::open(dir.path().join("third")).unwrap();
    other.providers().set(&ProviderConfig::new("p")).unwrap();
    assert!(dir.path().join("third/providers/p.yaml").is_file());
}

#[test]
fn a_stale_save_to_a_missing_store_is_a_conflict_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(".viben");
    let store = viben_store::Store::open(&root).unwrap();
    let stale = Revision::of(b"what another process read");
    let err = store
        .models()
        .save_if_unchanged(&viben_model::ModelCatalog::default(), &stale)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(matches!(
        store.providers().update("p", |_| Ok(())),
        Err(StoreError::NotFound { .. })
    ));
    assert!(!root.exists());
}

#[test]
fn the_default_root_is_viben_home_else_home_dot_viben() {
    let from =
        |v: Option<&str>, h: Option<&str>| Layout::from_vars(v.map(Into::into), h.map(Into::into));
    assert_eq!(
        from(Some("/x"), Some("/h")).unwrap().root(),
        std::path::Path::new("/x")
    );
    assert_eq!(
        from(None, Some("/h")).unwrap().root(),
        std::path::Path::new("/h/.viben")
    );
    assert_eq!(
        from(Some(""), Some("/h")).unwrap().root(),
        std::path::Path::new("/h/.viben")
    );
    assert!(matches!(from(None, None), Err(StoreError::NoHome)));
}

#[test]
fn an_agent_is_created_listed_updated_and_deleted() {
    let t = temp_store();
    t.store.agents().create(&agent("b")).unwrap();
    t.store.agents().create(&agent("a")).unwrap();
    let listing = t.store.agents().list().unwrap();
    assert!(listing.errors.is_empty());
    assert_eq!(
        listing
            .items
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let updated = t
        .store
        .agents()
        .update("a", |a| {
            a.temperature = Some(1.5);
            Ok(())
        })
        .unwrap()
        .value;
    assert_eq!(updated.temperature, Some(1.5));
    assert_eq!(t.store.agents().get("a").unwrap().temperature, Some(1.5));
    t.store.agents().delete("a").unwrap();
    assert!(matches!(
        t.store.agents().get("a"),
        Err(StoreError::NotFound { kind: "agent", .. })
    ));
    assert!(!t.dir.path().join("agents/a").exists());
}

#[test]
fn creating_an_existing_agent_is_already_exists() {
    let t = temp_store();
    t.store.agents().create(&agent("a")).unwrap();
    let err = t.store.agents().create(&agent("a")).unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyExists { kind: "agent", .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "agent \"a\" already exists");
    assert_eq!(
        viben_model::Hint::hint(&err).as_deref(),
        Some("pick another id, or update the existing one")
    );
}

#[test]
fn an_invalid_agent_is_refused_before_anything_is_written() {
    let t = temp_store();
    let mut bad = agent("a");
    bad.temperature = Some(3.0);
    let err = t.store.agents().create(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                source: ValidationError::TemperatureOutOfRange { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        viben_model::Report(&err)
            .to_string()
            .contains("agents/a/config.yaml breaks a rule: temperature 3 is out of range"),
        "{err}"
    );
    assert!(
        !t.dir.path().join("agents/a").exists(),
        "no folder is left behind"
    );
    let listing = t.store.agents().list().unwrap();
    assert!(
        listing.items.is_empty() && listing.errors.is_empty(),
        "{listing:?}"
    );
}

#[test]
fn an_update_that_fails_writes_nothing() {
    let t = temp_store();
    t.store.agents().create(&agent("a")).unwrap();
    let before = read(t.dir.path(), "agents/a/config.yaml");
    let err = t
        .store
        .agents()
        .update("a", |a| {
            a.max_tokens = Some(0);
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid {
            source: ValidationError::MaxTokensZero,
            ..
        }
    ));
    let err = t
        .store
        .agents()
        .update("a", |a| {
            a.name = "changed".into();
            Err::<(), _>(StoreError::NotFound {
                kind: "model",
                id: "m".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    assert_eq!(read(t.dir.path(), "agents/a/config.yaml"), before);
}

#[test]
fn an_agent_id_cannot_be_changed_by_update() {
    let t = temp_store();
    t.store.agents().create(&agent("a")).unwrap();
    let err = t
        .store
        .agents()
        .update("a", |a| {
            a.id = "b".into();
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::IdMismatch { .. }), "{err:?}");
}

#[test]
fn an_agent_file_naming_another_id_is_id_mismatch() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        "id: b\nname: B\nmodel: m\nprovider: p\n",
    );
    let err = t.store.agents().get("a").unwrap_err();
    assert!(
        matches!(err, StoreError::IdMismatch { field: "id", .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("id is \"b\" but the file belongs to \"a\""),
        "{err}"
    );
}

#[test]
fn a_stale_save_is_refused_as_a_conflict() {
    let t = temp_store();
    t.store.agents().create(&agent("a")).unwrap();
    let read_earlier = t.store.agents().get_versioned("a").unwrap();
    t.store
        .agents()
        .update("a", |a| {
            a.description = Some("someone else's change".into());
            Ok(())
        })
        .unwrap();
    let mut mine = read_earlier.value.clone();
    mine.name = "Mine".into();
    let err = t
        .store
        .agents()
        .save_if_unchanged(&mine, &read_earlier.revision)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(
        err.to_string().contains("changed since it was read"),
        "{err}"
    );
    assert_eq!(
        t.store.agents().get("a").unwrap().description.as_deref(),
        Some("someone else's change")
    );
    // Re-read and redo: accepted.
    let fresh = t.store.agents().get_versioned("a").unwrap();
    let mut mine = fresh.value;
    mine.name = "Mine".into();
    let rev = t
        .store
        .agents()
        .save_if_unchanged(&mine, &fresh.revision)
        .unwrap();
    assert_eq!(t.store.agents().get_versioned("a").unwrap().revision, rev);
}

#[test]
fn revision_tokens_round_trip_as_text() {
    let rev = Revision::of(b"abc");
    assert_eq!(rev.to_string().parse::<Revision>().unwrap(), rev);
    assert_eq!("absent".parse::<Revision>().unwrap(), Revision::ABSENT);
    assert!("nonsense".parse::<Revision>().is_err());
}

#[test]
fn save_models_if_unchanged_refuses_a_stale_catalog() {
    let t = seed_store();
    let earlier = t.store.models().document_versioned().unwrap();
    t.store.models().disable("my-custom-model").unwrap();
    let err = t
        .store
        .models()
        .save_if_unchanged(&earlier.value, &earlier.revision)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    assert!(
        !t.store
            .models()
            .document()
            .unwrap()
            .get("my-custom-model")
            .unwrap()
            .is_enabled()
    );
}

#[test]
fn models_are_added_enabled_disabled_defaulted_and_removed() {
    let t = temp_store();
    t.store
        .models()
        .add(ModelEntry::new("a", "anthropic"))
        .unwrap();
    t.store
        .models()
        .add(ModelEntry::new("b", "openai"))
        .unwrap();
    assert!(matches!(
        t.store.models().add(ModelEntry::new("a", "x")),
        Err(StoreError::AlreadyExists { kind: "model", .. })
    ));
    t.store.models().disable("b").unwrap();
    assert_eq!(t.store.models().get("b").unwrap().enabled, Some(false));
    t.store.models().enable("b").unwrap();
    assert!(t.store.models().get("b").unwrap().is_enabled());
    assert!(matches!(
        t.store.models().enable("zz"),
        Err(StoreError::NotFound { kind: "model", .. })
    ));
    assert_eq!(t.store.models().default().unwrap(), None);
    t.store.models().set_default(Some("a")).unwrap();
    assert_eq!(t.store.models().default().unwrap().unwrap().id, "a");
    assert!(matches!(
        t.store.models().set_default(Some("zz")),
        Err(StoreError::NotFound { .. })
    ));
    let err = t.store.models().delete("a").unwrap_err();
    assert!(matches!(err, StoreError::ModelIsDefault { .. }), "{err:?}");
    t.store.models().delete("b").unwrap();
    assert!(matches!(
        t.store.models().get("b"),
        Err(StoreError::NotFound { kind: "model", .. })
    ));
    t.store.models().set_default(None).unwrap();
    t.store.models().delete("a").unwrap();
    assert!(t.store.models().document().unwrap().models.is_empty());
}

#[test]
fn providers_are_set_listed_and_deleted() {
    let t = temp_store();
    t.store
        .providers()
        .set(&ProviderConfig::new("openai"))
        .unwrap();
    let mut anthropic = ProviderConfig::new("anthropic");
    anthropic.api_key_env = Some("ANTHROPIC_API_KEY".into());
    t.store.providers().set(&anthropic).unwrap();
    let listing = t.store.providers().list().unwrap();
    assert_eq!(
        listing
            .items
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["anthropic", "openai"]
    );
    assert_eq!(t.store.providers().get("anthropic").unwrap(), anthropic);
    t.store
        .providers()
        .update("openai", |p| {
            p.base_url = Some("http://localhost:8080".into());
            Ok(())
        })
        .unwrap();
    assert!(
        t.store
            .providers()
            .get("openai")
            .unwrap()
            .base_url
            .is_some()
    );
    t.store.providers().delete("openai").unwrap();
    assert!(matches!(
        t.store.providers().get("openai"),
        Err(StoreError::NotFound {
            kind: "provider",
            ..
        })
    ));
    assert!(matches!(
        t.store.providers().delete("openai"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_provider_file_holding_an_api_key_is_written_0600() {
    let t = temp_store();
    let mut provider = ProviderConfig::new("anthropic");
    provider.api_key = Some(Secret::new("sk-live-very-secret"));
    t.store.providers().set(&provider).unwrap();
    let path = t.dir.path().join("providers/anthropic.yaml");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Even when a person had made it readable to others before.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    provider.base_url = Some("https://example.com".into());
    t.store.providers().set(&provider).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        t.store
            .providers()
            .get("anthropic")
            .unwrap()
            .api_key
            .unwrap()
            .expose(),
        "sk-live-very-secret"
    );
}

#[test]
fn a_hand_opened_key_file_is_reported_and_made_private_by_the_next_save() {
    let t = temp_store();
    write(
        t.dir.path(),
        "providers/anthropic.yaml",
        "name: anthropic\napi_key: sk-live-very-secret\n",
    );
    let path = t.dir.path().join("providers/anthropic.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let problems = t.store.check();
    assert!(
        problems.iter().any(|p| p.to_string().starts_with("providers/anthropic.yaml:2:1: the file holds an api_key but others may read it (mode 644)")),
        "{problems:#?}"
    );
    assert!(!format!("{problems:?}").contains("sk-live"));
    let same = t.store.providers().get("anthropic").unwrap();
    t.store.providers().set(&same).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(t.store.check().is_empty());
}

#[test]
fn a_file_without_a_secret_keeps_the_mode_a_person_gave_it() {
    let t = temp_store();
    t.store
        .providers()
        .set(&ProviderConfig::new("local"))
        .unwrap();
    let path = t.dir.path().join("providers/local.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    t.store
        .providers()
        .update("local", |p| {
            p.base_url = Some("http://localhost".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn api_keys_never_appear_in_debug_or_errors() {
    let t = temp_store();
    let mut provider = ProviderConfig::new("anthropic");
    provider.api_key = Some(Secret::new("sk-live-very-secret"));
    provider.api_key_env = Some("ANTHROPIC_API_KEY".into());
    let err = t.store.providers().set(&provider).unwrap_err();
    assert!(matches!(
        err,
        StoreError::Invalid {
            source: ValidationError::ConflictingApiKey { .. },
            ..
        }
    ));
    assert!(!format!("{err} {err:?}").contains("sk-live"), "{err:?}");
    provider.api_key_env = None;
    t.store.providers().set(&provider).unwrap();
    let loaded = t.store.providers().get("anthropic").unwrap();
    assert!(!format!("{loaded:?}").contains("sk-live"));
    let resolved_err = t.store.agents().resolve("nobody").unwrap_err();
    assert!(!resolved_err.to_string().contains("sk-live"));
    // A broken provider file's parse error does not quote the key either.
    write(
        t.dir.path(),
        "providers/anthropic.yaml",
        "name: anthropic\napi_key: sk-live-very-secret\nenabled: [\n",
    );
    let err = t.store.providers().get("anthropic").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("sk-live"), "{err}");
}

#[test]
fn channels_are_set_replaced_in_place_and_deleted() {
    let t = seed_store();
    t.store
        .channels()
        .set(Channel::new("tg", ChannelKind::Telegram, "my-agent"))
        .unwrap();
    t.store
        .channels()
        .set(Channel::new("web", ChannelKind::Web, "my-agent"))
        .unwrap();
    let mut tg = Channel::new("tg", ChannelKind::Telegram, "my-agent");
    tg.enabled = Some(false);
    t.store.channels().set(tg).unwrap();
    let ids: Vec<_> = t
        .store
        .channels()
        .list()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.enabled))
        .collect();
    assert_eq!(
        ids,
        [("tg".to_owned(), Some(false)), ("web".to_owned(), None)]
    );
    t.store.channels().delete("tg").unwrap();
    assert!(matches!(
        t.store.channels().get("tg"),
        Err(StoreError::NotFound {
            kind: "channel",
            ..
        })
    ));
    assert!(matches!(
        t.store.channels().delete("tg"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_channel_for_a_missing_agent_is_refused() {
    let t = seed_store();
    let err = t
        .store
        .channels()
        .set(Channel::new("tg", ChannelKind::Telegram, "ghost"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { kind: "agent", .. }),
        "{err:?}"
    );
}

#[test]
fn deleting_an_agent_still_used_is_refused_with_the_referrers_unless_forced() {
    let t = seed_store();
    t.store
        .channels()
        .set(Channel::new("tg", ChannelKind::Telegram, "my-agent"))
        .unwrap();
    let session = viben_model::SessionMeta::new("my-agent", None);
    t.store.sessions().create(&session).unwrap();
    let err = t.store.agents().delete("my-agent").unwrap_err();
    match &err {
        StoreError::ReferencedBy { agent, referrers } => {
            assert_eq!(agent, "my-agent");
            assert_eq!(
                referrers,
                &[
                    Referrer::Session(session.id.clone()),
                    Referrer::Channel("tg".into())
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("still used by session"), "{err}");
    assert!(t.store.agents().get("my-agent").is_ok());
    t.store
        .agents()
        .delete_with("my-agent", viben_store::Referrers::Keep)
        .unwrap();
    assert!(t.store.agents().get("my-agent").is_err());
    // Nothing dangles silently: check names both referrers.
    let problems = t.store.check();
    assert!(
        problems.iter().any(|p| p.path.ends_with("channels.yaml")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.path.ends_with("session.yaml")),
        "{problems:?}"
    );
}

#[test]
fn resolve_reports_a_missing_model_provider_or_disabled_one() {
    let t = seed_store();
    t.store.models().disable("claude-3-sonnet").unwrap();
    assert!(matches!(
        t.store.agents().resolve("my-agent"),
        Err(StoreError::Disabled { kind: "model", .. })
    ));
    t.store.models().enable("claude-3-sonnet").unwrap();
    t.store.providers().delete("anthropic").unwrap();
    assert!(matches!(
        t.store.agents().resolve("my-agent"),
        Err(StoreError::NotFound {
            kind: "provider",
            ..
        })
    ));
    t.store
        .agents()
        .update("my-agent", |a| {
            a.model = "gone".into();
            Ok(())
        })
        .unwrap();
    assert!(matches!(
        t.store.agents().resolve("my-agent"),
        Err(StoreError::NotFound { kind: "model", .. })
    ));
}

#[test]
fn updating_what_does_not_exist_is_not_found() {
    let t = temp_store();
    let err = t.store.agents().update("ghost", |_| Ok(())).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { kind: "agent", .. }),
        "{err:?}"
    );
    let err = t.store.providers().update("ghost", |_| Ok(())).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                kind: "provider",
                ..
            }
        ),
        "{err:?}"
    );
    let err = t.store.sessions().update("ghost", |_| Ok(())).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                kind: "session",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        t.store.agents().delete("ghost"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(!t.dir.path().join("agents/ghost").exists());
}

#[test]
fn threads_updating_one_catalog_at_once_lose_no_update() {
    let t = temp_store();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    t.store
                        .models()
                        .update(|catalog| {
                            let n = catalog.extra.get("n").and_then(|v| v.as_u64()).unwrap_or(0);
                            catalog.extra.insert("n".into(), (n + 1).into());
                            Ok(())
                        })
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(t.store.models().document().unwrap().extra["n"], 200);
}

#[test]
fn new_agent_and_session_folders_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = temp_store();
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("inspect the folder")
            .permissions()
            .mode()
            & 0o777
    };
    t.store.agents().create(&agent("a")).unwrap();
    assert_eq!(mode(&t.store.layout().agent_dir("a")), 0o700);
    let b = agent("b");
    t.store
        .agents()
        .save_if_unchanged(&b, &viben_store::Revision::ABSENT)
        .unwrap();
    assert_eq!(mode(&t.store.layout().agent_dir("b")), 0o700);
    let session = viben_model::SessionMeta::new("a", None);
    t.store.sessions().create(&session).unwrap();
    assert_eq!(mode(&t.store.layout().session_dir(&session.id)), 0o700);
}

#[test]
fn an_agent_delete_racing_a_session_create_or_channel_set_never_leaves_a_dangling_referrer() {
    let t = seed_store();
    let mut dangling = Vec::new();
    for round in 0..150 {
        let id = format!("racer-{round}");
        t.store.agents().create(&agent(&id)).unwrap();
        let barrier = std::sync::Barrier::new(3);
        let session = viben_model::SessionMeta::new(&id, None);
        let channel = Channel::new(format!("ch-{round}"), ChannelKind::Web, &id);
        let (deleted, created, set) = std::thread::scope(|scope| {
            let delete = scope.spawn(|| {
                barrier.wait();
                t.store.agents().delete(&id)
            });
            let create = scope.spawn(|| {
                barrier.wait();
                t.store.sessions().create(&session)
            });
            let set = scope.spawn(|| {
                barrier.wait();
                t.store.channels().set(channel.clone())
            });
            (
                delete.join().unwrap(),
                create.join().unwrap(),
                set.join().unwrap(),
            )
        });
        if deleted.is_ok() && (created.is_ok() || set.is_ok()) {
            dangling.push(round);
        }
        if deleted.is_err() {
            assert!(
                matches!(deleted, Err(StoreError::ReferencedBy { .. })),
                "{deleted:?}"
            );
        } else {
            for result in [&created, &set] {
                if let Err(err) = result {
                    assert!(
                        matches!(err, StoreError::NotFound { kind: "agent", .. }),
                        "{err:?}"
                    );
                }
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "dangling referrers in rounds {dangling:?}"
    );
    assert!(
        t.store
            .check()
            .iter()
            .all(|p| !p.message.contains("does not exist")),
        "{:?}",
        t.store.check()
    );
}

#[test]
fn ids_that_cannot_be_file_names_everywhere_are_refused_at_create_and_nothing_is_made() {
    let t = seed_store();
    let root = t.dir.path();
    let before = tree(root);
    for id in [
        "CON",
        "nul",
        "com1",
        "LPT9.txt",
        "*",
        "?",
        "x:y",
        "<",
        ">",
        "|",
        "\"",
        "dot.",
        "evil\u{202e}gpj.exe",
        "zero\u{200b}width",
        "cafe\u{301}",
    ] {
        let err = t.store.agents().create(&agent(id)).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{id:?}: {err:?}"
        );
        assert!(err.to_string().contains("invalid agent id"), "{err}");
        assert!(matches!(
            t.store
                .agents()
                .save_if_unchanged(&agent(id), &Revision::ABSENT),
            Err(StoreError::InvalidId { .. })
        ));
        let err = t
            .store
            .providers()
            .set(&ProviderConfig::new(id))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{id:?}: {err:?}"
        );
        let mut meta = viben_model::SessionMeta::new("my-agent", None);
        meta.id = id.to_owned();
        let err = t.store.sessions().create(&meta).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{id:?}: {err:?}"
        );
    }
    let err = t
        .store
        .agents()
        .create(&agent("CON"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("device name on Windows"), "{err}");
    assert_eq!(tree(root), before, "a refused create left something behind");
    // Model ids name no file: `llama3:8b` is still a valid model.
    t.store
        .models()
        .add(ModelEntry::new("llama3:8b", "anthropic"))
        .unwrap();
}

#[test]
fn an_id_differing_only_in_case_from_an_existing_one_is_refused() {
    let t = seed_store();
    t.store.agents().create(&agent("a")).unwrap();
    let err = t.store.agents().create(&agent("A")).unwrap_err();
    assert!(matches!(err, StoreError::CaseCollision { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("agent \"a\" already exists")
            && message.contains("ids may not differ only in case"),
        "{message}"
    );
    assert!(!t.dir.path().join("agents/A").exists());
    assert!(matches!(
        t.store
            .agents()
            .save_if_unchanged(&agent("A"), &Revision::ABSENT),
        Err(StoreError::CaseCollision { .. })
    ));
    // Full case folding and macOS's normalization: `STRASSE` is `straße`, é is e + U+0301.
    t.store.agents().create(&agent("straße")).unwrap();
    assert!(matches!(
        t.store.agents().create(&agent("STRASSE")),
        Err(StoreError::CaseCollision { .. })
    ));
    std::fs::create_dir_all(t.dir.path().join("agents/cafe\u{301}")).unwrap();
    assert!(matches!(
        t.store.agents().create(&agent("CAFÉ")),
        Err(StoreError::CaseCollision { .. })
    ));

    t.store
        .providers()
        .set(&ProviderConfig::new("acme"))
        .unwrap();
    let err = t
        .store
        .providers()
        .set(&ProviderConfig::new("Acme"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::CaseCollision {
                kind: "provider",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!t.dir.path().join("providers/Acme.yaml").exists());
    // Replacing the existing one is not a create.
    t.store
        .providers()
        .set(&ProviderConfig::new("acme"))
        .unwrap();

    let meta = viben_model::SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let mut upper = viben_model::SessionMeta::new("my-agent", None);
    upper.id = meta.id.to_uppercase();
    assert!(matches!(
        t.store.sessions().create(&upper),
        Err(StoreError::CaseCollision {
            kind: "session",
            ..
        })
    ));
}

#[test]
fn concurrent_creates_of_ids_differing_only_in_case_let_exactly_one_through() {
    let t = seed_store();
    for round in 0..20 {
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = [format!("r{round}"), format!("R{round}")]
                .into_iter()
                .map(|id| {
                    let (store, barrier) = (&t.store, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        store.agents().create(&agent(&id))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::CaseCollision { .. }))),
            "{results:?}"
        );
    }
}

#[test]
fn existing_records_with_ids_no_longer_allowed_stay_readable_and_check_warns() {
    let t = seed_store();
    let root = t.dir.path();
    write(
        root,
        "agents/CON/config.yaml",
        "id: CON\nname: Legacy\nmodel: claude-3-sonnet\nprovider: anthropic\n",
    );
    write(
        root,
        "agents/My-Agent/config.yaml",
        "id: My-Agent\nname: Twin\nmodel: claude-3-sonnet\nprovider: anthropic\n",
    );
    write(root, "providers/x:y.yaml", "name: x:y\n");
    let listing = t.store.agents().list().unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let ids: Vec<_> = listing.items.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["CON", "My-Agent", "my-agent"]);
    t.store.agents().get("CON").unwrap();
    t.store
        .agents()
        .update("CON", |a| {
            a.name = "Still here".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(t.store.providers().get("x:y").unwrap().name, "x:y");
    t.store
        .providers()
        .set(&ProviderConfig::new("x:y"))
        .unwrap();
    let problems = t.store.check();
    let warned = |needle: &str| {
        problems
            .iter()
            .any(|p| p.severity == viben_store::Severity::Warning && p.message.contains(needle))
    };
    assert!(warned("device name on Windows"), "{problems:?}");
    assert!(warned("Windows does not allow"), "{problems:?}");
    assert!(warned("differs from agent"), "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p.severity == viben_store::Severity::Warning),
        "{problems:?}"
    );
}
