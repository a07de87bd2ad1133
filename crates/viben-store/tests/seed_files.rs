//! Files written by hand in the design document's format load as they are.

mod common;

use common::{SEED_AGENT, SEED_MODELS, read, seed_store, temp_store, write};
use viben_model::{ChannelKind, MessageRole};

#[test]
fn the_seed_agent_config_loads_verbatim() {
    let t = seed_store();
    let agent = t.store.agents().get("my-agent").unwrap();
    assert_eq!(agent.name, "My Agent");
    assert_eq!(agent.description.as_deref(), Some("A helpful assistant"));
    assert_eq!(agent.model, "claude-3-sonnet");
    assert_eq!(agent.provider, "anthropic");
    assert_eq!(
        agent.system_prompt.as_deref(),
        Some("You are a helpful assistant.")
    );
    assert_eq!(agent.temperature, Some(0.7));
    assert_eq!(agent.max_tokens, Some(4096));
}

#[test]
fn the_seed_models_yaml_loads_verbatim() {
    let t = seed_store();
    let catalog = t.store.models().document().unwrap();
    assert_eq!(catalog.default.as_deref(), Some("claude-3-sonnet"));
    assert_eq!(catalog.models.len(), 2);
    assert_eq!(catalog.models[1].base_model.as_deref(), Some("gpt-4"));
    assert_eq!(
        t.store.models().default().unwrap().unwrap().id,
        "claude-3-sonnet"
    );
}

#[test]
fn a_seed_store_checks_clean_and_resolves() {
    let t = seed_store();
    assert_eq!(t.store.check(), vec![]);
    let resolved = t.store.agents().resolve("my-agent").unwrap();
    assert_eq!(resolved.model.id, "claude-3-sonnet");
    assert_eq!(
        resolved.provider.api_key_env.as_deref(),
        Some("ANTHROPIC_API_KEY")
    );
}

#[test]
fn rewriting_seed_files_keeps_them_byte_for_byte_when_nothing_changed() {
    let t = seed_store();
    t.store.agents().update("my-agent", |_| Ok(())).unwrap();
    t.store.models().update(|_| Ok(())).unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        SEED_AGENT
    );
    assert_eq!(read(t.dir.path(), "models.yaml"), SEED_MODELS);
}

#[test]
fn a_hand_written_channels_yaml_loads() {
    let t = seed_store();
    write(
        t.dir.path(),
        "channels.yaml",
        "channels:\n- id: tg-main\n  kind: telegram\n  agent: my-agent\n  settings:\n    chat_id: 42\n- id: mx\n  kind: matrix\n  agent: my-agent\n  enabled: false\n",
    );
    let channels = t.store.channels().list().unwrap();
    assert_eq!(channels.len(), 2);
    assert_eq!(channels[0].kind, ChannelKind::Telegram);
    assert_eq!(channels[0].settings["chat_id"], 42);
    assert_eq!(channels[1].kind, ChannelKind::Other("matrix".into()));
    assert!(!channels[1].is_enabled());
    assert_eq!(t.store.channels().get("mx").unwrap().agent, "my-agent");
}

#[test]
fn a_hand_written_session_folder_loads() {
    let t = seed_store();
    write(
        t.dir.path(),
        "sessions/s-1/session.yaml",
        "id: s-1\nagent_id: my-agent\ntitle: Trip planning\ncreated_at: 2026-01-02T03:04:05Z\nupdated_at: 2026-01-02T03:05:00Z\npinned: true\n",
    );
    write(
        t.dir.path(),
        "sessions/s-1/messages.jsonl",
        concat!(
            r#"{"role":"user","content":"Hi","created_at":"2026-01-02T03:04:05Z","id":"m1"}"#,
            "\n",
            r#"{"role":"assistant","content":"Hello!","created_at":"2026-01-02T03:04:06Z","input_tokens":3,"output_tokens":2}"#,
            "\n",
            r#"{"role":"critic","content":"ok","created_at":"2026-01-02T03:04:07Z","tool_calls":[{"name":"x"}]}"#,
            "\n",
        ),
    );
    let meta = t.store.sessions().get("s-1").unwrap();
    assert_eq!(meta.title.as_deref(), Some("Trip planning"));
    assert_eq!(meta.extra["pinned"], true);
    let messages: Vec<_> = t
        .store
        .sessions()
        .read("s-1")
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].id.as_deref(), Some("m1"));
    assert_eq!(messages[1].extra["input_tokens"], 3);
    assert_eq!(messages[2].role, MessageRole::Other("critic".into()));
    assert_eq!(messages[2].extra["tool_calls"][0]["name"], "x");
}

#[test]
fn an_empty_or_comment_only_models_yaml_is_an_empty_catalog() {
    let t = temp_store();
    assert!(t.store.models().document().unwrap().models.is_empty());
    write(t.dir.path(), "models.yaml", "# no models yet\n");
    assert!(t.store.models().document().unwrap().models.is_empty());
    write(t.dir.path(), "channels.yaml", "");
    assert!(t.store.channels().list().unwrap().is_empty());
}
