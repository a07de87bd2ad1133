//! Every file the store writes, and every file its tests seed it with, passes the JSON Schema of
//! its kind (`viben_model::schema`) in an independent validator: what editors check a person's
//! files against is what the store itself produces.

mod common;

use std::path::Path;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use viben_model::schema::FileKind;
use viben_model::{
    AgentConfig, Channel, ChannelKind, LogLevel, LogRecord, Message, MessageRole, MetricPoint,
    ModelEntry, OAuthProvider, Profile, ProviderConfig, Role, Secret, SessionMeta, Span, User,
};

/// The kind of the store file at `rel` (relative to the root), when it has one.
fn kind_of(rel: &Path) -> Option<FileKind> {
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    if parts.iter().any(|p| p.starts_with('.')) {
        return None;
    }
    Some(match parts.as_slice() {
        ["agents", _, "config.yaml"] => FileKind::Agent,
        ["providers", name] if name.ends_with(".yaml") => FileKind::Provider,
        ["models.yaml"] => FileKind::Models,
        ["channels.yaml"] => FileKind::Channels,
        ["profile.yaml"] => FileKind::Profile,
        ["sessions", _, "session.yaml"] => FileKind::Session,
        ["sessions", _, "messages.jsonl"] => FileKind::Message,
        ["telemetry", "traces", _] => FileKind::Span,
        ["telemetry", "metrics", _] => FileKind::Metric,
        ["telemetry", "logs", _] => FileKind::Log,
        _ => return None,
    })
}

/// Validates every file of the store at `root` against its kind's schema; returns the kinds seen.
fn validate_tree(root: &Path) -> Vec<FileKind> {
    let mut seen = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let rel = path.strip_prefix(root).expect("under the root");
            let Some(kind) = kind_of(rel) else { continue };
            let schema: Value = kind.schema();
            let validator = jsonschema::draft7::options()
                .should_validate_formats(true)
                .build(&schema)
                .expect("a valid schema");
            let text = std::fs::read_to_string(&path).expect("read a store file");
            let instances: Vec<Value> = if rel.extension().is_some_and(|e| e == "jsonl") {
                text.lines()
                    .map(|line| serde_json::from_str(line).expect("a JSON line"))
                    .collect()
            } else {
                vec![serde_yaml::from_str(&text).expect("YAML")]
            };
            for instance in instances {
                let errors: Vec<String> = validator
                    .iter_errors(&instance)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{} fails its schema: {errors:#?}\n{text}",
                    rel.display()
                );
            }
            seen.push(kind);
        }
    }
    seen
}

#[test]
fn the_seed_files_of_the_store_tests_pass_their_schemas() {
    let t = common::seed_store();
    let seen = validate_tree(t.dir.path());
    for kind in [FileKind::Agent, FileKind::Models, FileKind::Provider] {
        assert!(
            seen.contains(&kind),
            "no {kind} file in the seed store: {seen:?}"
        );
    }
}

#[test]
fn every_kind_of_file_the_store_writes_passes_its_schema() {
    let t = common::seed_store();
    let store = &t.store;
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();

    let mut agent = AgentConfig::new("writer", "Writer", "claude-3-sonnet", "anthropic");
    agent.temperature = Some(2.0);
    agent.max_tokens = Some(1);
    agent.extra.insert("my_note".into(), "kept".into());
    store.agents().create(&agent).unwrap();

    let mut provider = ProviderConfig::new("local");
    provider.base_url = Some("http://localhost:11434".into());
    provider.set_api_key(Secret::new("sk-inline"));
    store.providers().set(&provider).unwrap();

    let mut entry = ModelEntry::new("llama3:8b", "local");
    entry.temperature = Some(0.0);
    entry.enabled = Some(false);
    store.models().add(entry).unwrap();

    let mut channel = Channel::new("tg", ChannelKind::Other("matrix".into()), "writer");
    channel.settings.insert("room".into(), "#general".into());
    store.channels().add(channel).unwrap();

    let user = User {
        id: "u1".into(),
        email: "ada@example.com".into(),
        username: "ada".into(),
        display_name: Some("Ada".into()),
        avatar_url: None,
        github_username: None,
        email_verified: true,
        role: Role::User,
        created_at: None,
        updated_at: None,
    };
    store
        .profile()
        .save(&Profile::signed_in(&user, OAuthProvider::GitHub, "12345"))
        .unwrap();

    let session = SessionMeta::new("writer", Some("Hello".into()));
    store.sessions().create(&session).unwrap();
    let mut message = Message::new(MessageRole::User, "hi");
    message.extra.insert("tokens".into(), 3.into());
    store.sessions().append(&session.id, &message).unwrap();
    store
        .sessions()
        .append(
            &session.id,
            &Message::new(MessageRole::Other("critic".into()), ""),
        )
        .unwrap();

    let telemetry = store.telemetry();
    telemetry
        .record(&Span {
            trace_id: "t".into(),
            span_id: "s".into(),
            parent: None,
            name: "llm.call".into(),
            start: at,
            end: at,
            attributes: serde_json::Map::new(),
            extra: serde_json::Map::new(),
        })
        .unwrap();
    telemetry
        .record(&MetricPoint {
            name: "latency".into(),
            value: 12.5,
            unit: Some("ms".into()),
            attributes: serde_json::Map::new(),
            time: at,
            extra: serde_json::Map::new(),
        })
        .unwrap();
    telemetry
        .record(&LogRecord {
            level: LogLevel::Warn,
            message: "slow".into(),
            attributes: serde_json::Map::new(),
            time: at,
            extra: serde_json::Map::new(),
        })
        .unwrap();

    let mut seen = validate_tree(t.dir.path());
    seen.sort_by_key(|kind| kind.name());
    seen.dedup();
    let mut all = FileKind::ALL.to_vec();
    all.sort_by_key(|kind| kind.name());
    assert_eq!(seen, all, "a kind of file was not written");
}
