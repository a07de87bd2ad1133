//! The JSON Schemas of the store's files (`viben_model::schema`), checked with an independent
//! validator (the `jsonschema` crate): the design document's examples and files with unknown
//! fields and values pass, known-bad files fail on the field at fault, and the model's own
//! reading and validation agree with the schema on each of them. The committed copies in
//! `schemas/` are exactly what the types generate.
//!
//! When a record type changes, regenerate the copies:
//! `VIBEN_UPDATE_SNAPSHOTS=1 cargo test -p viben-model --test schemas`.

use std::path::PathBuf;

use serde_json::Value;
use viben_model::schema::FileKind;
use viben_model::{
    AgentConfig, ChannelsFile, LogRecord, Message, MetricPoint, ModelCatalog, Profile,
    ProviderConfig, SessionMeta, Span, validate_path_id,
};

const UPDATE: &str = "VIBEN_UPDATE_SNAPSHOTS";

const SEED_AGENT: &str = include_str!("fixtures/seed-agent-config.yaml");
const SEED_MODELS: &str = include_str!("fixtures/seed-models.yaml");

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn validator(kind: FileKind) -> jsonschema::Validator {
    let schema: Value = serde_json::to_value(kind.schema()).expect("a schema is JSON");
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the {kind} schema is not a valid draft-07 schema: {e}"))
}

/// The file as an editor's YAML support sees it: YAML 1.2 read into JSON values.
fn instance(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// `(instance path, message)` of every schema error of `text` as a `kind` file.
fn schema_errors(kind: FileKind, text: &str) -> Vec<(String, String)> {
    let instance = instance(text);
    validator(kind)
        .iter_errors(&instance)
        .map(|e| (e.instance_path().as_str().to_owned(), e.to_string()))
        .collect()
}

/// Whether the model reads `text` as a `kind` file and finds nothing wrong with it.
fn model_accepts(kind: FileKind, text: &str) -> Result<(), String> {
    fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    }
    fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
        // A log line is JSON; the YAML reading of the test's text gives the same value.
        serde_json::from_value(instance(text)).map_err(|e| e.to_string())
    }
    let problem = |e: viben_model::ValidationError| e.to_string();
    match kind {
        FileKind::Agent => read::<AgentConfig>(text)?.validate().map_err(problem),
        FileKind::Provider => read::<ProviderConfig>(text)?.validate().map_err(problem),
        FileKind::Models => read::<ModelCatalog>(text)?.validate().map_err(problem),
        FileKind::Channels => read::<ChannelsFile>(text)?.validate().map_err(problem),
        FileKind::Profile => read::<Profile>(text).map(drop),
        FileKind::Session => read::<SessionMeta>(text)?.validate().map_err(problem),
        FileKind::Message => json::<Message>(text).map(drop),
        FileKind::Span => json::<Span>(text).map(drop),
        FileKind::Metric => json::<MetricPoint>(text).map(drop),
        FileKind::Log => json::<LogRecord>(text).map(drop),
        other => panic!("no reader for {other} in this test"),
    }
}

fn assert_valid(kind: FileKind, text: &str) {
    let errors = schema_errors(kind, text);
    assert!(
        errors.is_empty(),
        "{kind} schema refuses:\n{text}\n{errors:#?}"
    );
    model_accepts(kind, text).unwrap_or_else(|e| {
        panic!("the model refuses what the {kind} schema accepts: {e}\n{text}")
    });
}

/// The schema refuses `text` at `path` (and nowhere else), and so does the model.
fn assert_invalid_at(kind: FileKind, text: &str, path: &str, says: &str) {
    let errors = schema_errors(kind, text);
    assert!(
        !errors.is_empty() && errors.iter().all(|(at, _)| at == path),
        "{kind}: expected errors at {path:?} only, got {errors:#?}\n{text}"
    );
    assert!(
        errors.iter().any(|(_, message)| message.contains(says)),
        "{kind}: no error at {path:?} says {says:?}: {errors:#?}"
    );
    assert!(
        model_accepts(kind, text).is_err(),
        "{kind}: the schema refuses at {path:?} what the model accepts:\n{text}"
    );
}

#[test]
fn committed_schemas_are_what_the_types_generate() {
    let dir = schemas_dir();
    let update = std::env::var_os(UPDATE).is_some();
    let mut stale = Vec::new();
    for kind in FileKind::ALL {
        let path = dir.join(kind.file_name());
        let generated = kind.schema_text();
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        if stored == generated {
            continue;
        }
        if update {
            std::fs::create_dir_all(&dir).expect("create schemas/");
            std::fs::write(&path, &generated)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (regenerate with `{UPDATE}=1 cargo test -p viben-model --test schemas`): {stale:?}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list schemas/")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let mut expected: Vec<String> = FileKind::ALL.iter().map(|k| k.file_name()).collect();
    expected.sort();
    assert_eq!(names, expected, "schemas/ holds a schema of no file kind");
}

#[test]
fn every_schema_is_valid_draft_07_and_names_its_file() {
    for kind in FileKind::ALL {
        validator(kind);
        let schema = kind.schema();
        assert_eq!(
            schema.get("$schema").and_then(Value::as_str),
            Some("http://json-schema.org/draft-07/schema#")
        );
        let comment = schema.get("$comment").and_then(Value::as_str).unwrap_or("");
        assert!(comment.starts_with(kind.path()), "{kind}: {comment}");
        assert_eq!(kind.name().parse::<FileKind>(), Ok(kind));
    }
    let unknown = "agents".parse::<FileKind>().unwrap_err();
    assert!(
        viben_model::Hint::hint(&unknown)
            .unwrap_or_default()
            .contains("agent, provider, models"),
        "{unknown}"
    );
}

#[test]
fn the_design_documents_examples_validate() {
    assert_valid(FileKind::Agent, SEED_AGENT);
    assert_valid(FileKind::Models, SEED_MODELS);
}

#[test]
fn an_example_of_every_kind_validates() {
    let cases = [
        (
            FileKind::Provider,
            "name: anthropic\nbase_url: https://api.anthropic.com\napi_key_env: ANTHROPIC_API_KEY\nenabled: true\n",
        ),
        (FileKind::Provider, "name: local\napi_key: sk-inline\n"),
        (
            FileKind::Channels,
            "channels:\n  - id: tg\n    kind: telegram\n    agent: my-agent\n    settings:\n      chat_id: 42\n  - id: s\n    kind: slack\n    agent: my-agent\n    enabled: false\n",
        ),
        (FileKind::Channels, "channels: []\n"),
        (
            FileKind::Profile,
            "user_id: u1\nemail: ada@example.com\nusername: ada\ndisplay_name: Ada\nprovider: github\nprovider_id: '12345'\nsigned_in_at: 2026-11-30T10:00:00Z\n",
        ),
        (
            FileKind::Session,
            "id: 0193a1b2-0000-7000-8000-000000000000\nagent_id: my-agent\ntitle: Hello\ncreated_at: 2026-11-30T10:00:00Z\nupdated_at: 2026-11-30T10:05:00.123456Z\n",
        ),
        (
            FileKind::Message,
            r#"{"role":"user","content":"hi","created_at":"2026-11-30T10:00:00Z","id":"m1","tokens":3}"#,
        ),
        (
            FileKind::Span,
            r#"{"trace_id":"t","span_id":"s","name":"llm.call","start":"2026-11-30T10:00:00Z","end":"2026-11-30T10:00:01Z","attributes":{"model":"x"}}"#,
        ),
        (
            FileKind::Metric,
            r#"{"name":"latency","value":12.5,"unit":"ms","time":"2026-11-30T10:00:00Z"}"#,
        ),
        (
            FileKind::Log,
            r#"{"level":"info","message":"started","time":"2026-11-30T10:00:00Z"}"#,
        ),
    ];
    for (kind, text) in cases {
        assert_valid(kind, text);
    }
}

#[test]
fn unknown_fields_nulls_and_unknown_enum_values_are_accepted_as_the_store_keeps_them() {
    let cases = [
        (
            FileKind::Agent,
            "id: a\nname: A\nmodel: m\nprovider: p\ndescription: null\ntemperature: ~\nmy_note: {tags: [x, y]}\n",
        ),
        (
            FileKind::Models,
            "models:\n  - id: llama3:8b\n    provider: ollama\n    context: 8192\nfuture_key: 1\n",
        ),
        (
            FileKind::Channels,
            "channels:\n  - id: m\n    kind: matrix\n    agent: a\n    settings: ~\n    room: '#x'\n",
        ),
        (
            FileKind::Profile,
            "user_id: u\nemail: e@example.com\nusername: u\nprovider: gitlab\nprovider_id: '1'\nsigned_in_at: 2026-11-30T10:00:00Z\n",
        ),
        (
            FileKind::Message,
            r#"{"role":"critic","content":"","created_at":"2026-11-30T10:00:00Z","tool_calls":[{"name":"x"}]}"#,
        ),
        (
            FileKind::Log,
            r#"{"level":"fatal","message":"m","time":"2026-11-30T10:00:00+02:00","host":"h"}"#,
        ),
    ];
    for (kind, text) in cases {
        assert_valid(kind, text);
    }
}

#[test]
fn known_bad_files_fail_on_the_field_at_fault() {
    let agent = "id: a\nname: A\nmodel: m\nprovider: p\n";
    let cases: &[(FileKind, String, &str, &str)] = &[
        (FileKind::Agent, format!("{agent}temperature: 3.5\n"), "/temperature", "maximum"),
        (FileKind::Agent, format!("{agent}temperature: -0.1\n"), "/temperature", "minimum"),
        (FileKind::Agent, format!("{agent}temperature: hot\n"), "/temperature", "not of type"),
        (FileKind::Agent, format!("{agent}max_tokens: 0\n"), "/max_tokens", "minimum"),
        (FileKind::Agent, format!("{agent}max_tokens: 2.5\n"), "/max_tokens", "not of type"),
        (FileKind::Agent, "id: ../etc\nname: A\nmodel: m\nprovider: p\n".into(), "/id", "does not match"),
        (FileKind::Agent, "id: a\nname: '  '\nmodel: m\nprovider: p\n".into(), "/name", "does not match"),
        (FileKind::Agent, "id: a\nmodel: m\nprovider: p\n".into(), "", "\"name\" is a required property"),
        (FileKind::Agent, "id: a\nname: A\nmodel: m/x\nprovider: p\n".into(), "/model", "does not match"),
        (FileKind::Agent, "- id: a\n".into(), "", "not of type \"object\""),
        (FileKind::Provider, "name: p\napi_key_env: sk-ant-123\n".into(), "/api_key_env", "does not match"),
        (FileKind::Provider, "name: .p\n".into(), "/name", "does not match"),
        (FileKind::Provider, "name: p\nenabled: 'yes'\n".into(), "/enabled", "not of type"),
        (FileKind::Models, "models:\n  - id: a\n    provider: p\n  - id: b\n    provider: p\n    temperature: 9\n".into(), "/models/1/temperature", "maximum"),
        (FileKind::Models, "models:\n  - id: .hidden\n    provider: p\n".into(), "/models/0/id", "does not match"),
        (FileKind::Models, "models:\n  - id: a\n".into(), "/models/0", "\"provider\" is a required property"),
        (FileKind::Channels, "channels:\n  - id: c\n    agent: a\n".into(), "/channels/0", "\"kind\" is a required property"),
        (FileKind::Channels, "channels:\n  - id: c\n    kind: slack\n    agent: a\n    settings: [x]\n".into(), "/channels/0/settings", "not of type"),
        (FileKind::Channels, "channels:\n  id: c\n".into(), "/channels", "not of type \"array\""),
        (FileKind::Profile, "user_id: u\nemail: e\nusername: u\nprovider_id: '1'\nsigned_in_at: 2026-11-30T10:00:00Z\n".into(), "", "\"provider\" is a required property"),
        (FileKind::Session, "id: s\nagent_id: a\ncreated_at: yesterday\nupdated_at: 2026-11-30T10:00:00Z\n".into(), "/created_at", "date-time"),
        (FileKind::Session, "id: s\nagent_id: ''\ncreated_at: 2026-11-30T10:00:00Z\nupdated_at: 2026-11-30T10:00:00Z\n".into(), "/agent_id", "shorter than 1 character"),
        (FileKind::Message, r#"{"content":"hi","created_at":"2026-11-30T10:00:00Z"}"#.into(), "", "\"role\" is a required property"),
        (FileKind::Message, r#"{"role":"user","content":7,"created_at":"2026-11-30T10:00:00Z"}"#.into(), "/content", "not of type"),
        (FileKind::Span, r#"{"trace_id":"t","span_id":"s","name":"n","start":"noon","end":"2026-11-30T10:00:01Z"}"#.into(), "/start", "date-time"),
        (FileKind::Metric, r#"{"name":"n","value":"fast","time":"2026-11-30T10:00:00Z"}"#.into(), "/value", "not of type"),
        (FileKind::Log, r#"{"level":42,"message":"m","time":"2026-11-30T10:00:00Z"}"#.into(), "/level", "not of type"),
    ];
    for (kind, text, path, says) in cases {
        assert_invalid_at(*kind, text, path, says);
    }
}

#[test]
fn the_id_pattern_agrees_with_validate_path_id() {
    let ids = [
        "my-agent",
        "claude-3-sonnet",
        "gpt-4o.mini",
        "llama3:8b",
        "a",
        "A_1",
        "café",
        "a b",
        "",
        "/",
        "a/b",
        "a\\b",
        "..",
        ".",
        "../x",
        "a..b",
        ".hidden",
        "tab\there",
        "new\nline",
        "del\u{7f}",
        "c1\u{85}",
        " padded",
        "padded ",
        "nbsp\u{a0}",
    ];
    let validator = validator(FileKind::Provider);
    for id in ids {
        let file = serde_json::json!({ "name": id });
        let schema_ok = validator.is_valid(&file);
        let model_ok = validate_path_id("provider", id).is_ok();
        assert_eq!(
            schema_ok, model_ok,
            "{id:?}: schema {schema_ok}, model {model_ok}"
        );
    }
    let longest = "x".repeat(viben_model::MAX_PATH_ID_LEN);
    assert!(validator.is_valid(&serde_json::json!({ "name": longest })));
    assert!(!validator.is_valid(&serde_json::json!({ "name": format!("{longest}x") })));
}

#[test]
fn open_enums_offer_their_known_values_for_completion() {
    let schema = serde_json::to_value(FileKind::Channels.schema()).expect("JSON");
    let text = schema.to_string();
    for kind in ["telegram", "slack", "discord", "web"] {
        assert!(
            text.contains(&format!("\"{kind}\"")),
            "{kind} missing: {text}"
        );
    }
    let log = serde_json::to_value(FileKind::Log.schema()).expect("JSON");
    let level = &log["properties"]["level"];
    assert_eq!(
        level["anyOf"][0]["enum"],
        serde_json::json!(["trace", "debug", "info", "warn", "error"])
    );
}
