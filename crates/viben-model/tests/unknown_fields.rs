//! Fields a person added by hand survive a read-modify-write, in their place after known ones.

use viben_model::{AgentConfig, ChannelsFile, Message, ModelCatalog, ProviderConfig, SessionMeta};

#[test]
fn unknown_agent_fields_survive_a_read_modify_write() {
    let yaml = "\
id: my-agent
name: My Agent
model: claude-3-sonnet
provider: anthropic
workspace_path: /home/me/project
tools:
- shell
- browser
limits:
  daily_budget_usd: 5
  notes: hand edited
";
    let mut agent: AgentConfig = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(agent.extra.len(), 3);
    agent.name = "Renamed".into();
    let written = serde_yaml::to_string(&agent).unwrap();
    let mut expected: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    expected["name"] = "Renamed".into();
    assert_eq!(
        serde_yaml::from_str::<serde_yaml::Value>(&written).unwrap(),
        expected
    );
    let keys: Vec<&str> = written
        .lines()
        .filter(|l| !l.starts_with([' ', '-']))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "model",
            "provider",
            "workspace_path",
            "tools",
            "limits"
        ]
    );
}

#[test]
fn unknown_fields_round_trip_in_every_yaml_type() {
    let catalog = "default: a\nmodels:\n- id: a\n  provider: p\n  context_window: 200000\ncomment_by_hand: keep me\n";
    let value = |s: &str| serde_yaml::from_str::<serde_yaml::Value>(s).unwrap();
    let parsed: ModelCatalog = serde_yaml::from_str(catalog).unwrap();
    assert_eq!(
        value(&serde_yaml::to_string(&parsed).unwrap()),
        value(catalog)
    );

    let provider = "name: anthropic\napi_key_env: ANTHROPIC_API_KEY\norganization: acme\n";
    let parsed: ProviderConfig = serde_yaml::from_str(provider).unwrap();
    assert_eq!(
        value(&serde_yaml::to_string(&parsed).unwrap()),
        value(provider)
    );

    let channels = "channels:\n- id: tg\n  kind: matrix\n  agent: my-agent\n  settings:\n    room: '!abc'\n  priority: 3\nversion: 2\n";
    let parsed: ChannelsFile = serde_yaml::from_str(channels).unwrap();
    assert_eq!(parsed.channels[0].kind.as_str(), "matrix");
    assert_eq!(
        value(&serde_yaml::to_string(&parsed).unwrap()),
        value(channels)
    );

    let profile = "user_id: u1\nemail: a@example.com\nusername: ada\nprovider: gitlab\nprovider_id: '42'\nsigned_in_at: 2026-01-02T03:04:05Z\ntheme: dark\n";
    let parsed: viben_model::Profile = serde_yaml::from_str(profile).unwrap();
    assert_eq!(parsed.provider.as_str(), "gitlab");
    assert_eq!(
        value(&serde_yaml::to_string(&parsed).unwrap()),
        value(profile)
    );

    let session = "id: s1\nagent_id: my-agent\ntitle: Hello\ncreated_at: 2026-01-02T03:04:05Z\nupdated_at: 2026-01-02T03:04:05Z\npinned: true\n";
    let parsed: SessionMeta = serde_yaml::from_str(session).unwrap();
    assert_eq!(
        value(&serde_yaml::to_string(&parsed).unwrap()),
        value(session)
    );
}

#[test]
fn message_lines_keep_unknown_roles_and_fields() {
    let line = r#"{"role":"critic","content":"hm","created_at":"2026-01-02T03:04:05Z","id":"m1","input_tokens":12,"tool_calls":[{"name":"ls"}]}"#;
    let message: Message = serde_json::from_str(line).unwrap();
    assert_eq!(message.role.as_str(), "critic");
    assert_eq!(message.extra["input_tokens"], 12);
    assert_eq!(serde_json::to_string(&message).unwrap(), line);
}

#[test]
fn yaml_only_values_in_unknown_fields_survive_exactly() {
    let yaml = "\
id: my-agent
name: My Agent
model: claude-3-sonnet
provider: anthropic
threshold: .nan
limit: .inf
ui:
  shortcuts:
    1: chat
    2: search
flag: yes
";
    let agent: AgentConfig = serde_yaml::from_str(yaml).unwrap();
    let written = serde_yaml::to_string(&agent).unwrap();
    let reread: AgentConfig = serde_yaml::from_str(&written).unwrap();
    assert!(written.contains("threshold: .nan"), "{written}");
    assert!(written.contains("limit: .inf"), "{written}");
    assert!(
        written.contains("    1: chat"),
        "integer keys stay integers: {written}"
    );
    assert_eq!(reread.extra.len(), 4, "{written}");
    assert_eq!(reread.extra, agent.extra);
    let channels =
        "channels:\n- id: tg\n  kind: telegram\n  agent: a\n  settings:\n    42: family\n";
    let parsed: ChannelsFile = serde_yaml::from_str(channels).unwrap();
    let written = serde_yaml::to_string(&parsed).unwrap();
    assert!(written.contains("    42: family"), "{written}");
}

#[test]
fn an_integer_wider_than_64_bits_in_an_unknown_field_is_kept_digit_for_digit() {
    let yaml = "id: a\nname: A\nmodel: m\nprovider: p\nhuge: 123456789012345678901234567890\nlow: -99999999999999999999\n";
    let agent: AgentConfig = serde_yaml::from_str(yaml).unwrap();
    match &agent.extra["huge"] {
        serde_yaml::Value::Tagged(tagged) => {
            assert_eq!(tagged.tag, viben_model::BIG_INT_TAG);
            assert_eq!(
                tagged.value.as_str(),
                Some("123456789012345678901234567890")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(serde_yaml::to_string(&agent).unwrap(), yaml);
}

#[test]
fn a_custom_tag_in_an_unknown_field_is_kept_at_any_depth() {
    let yaml = "id: a\nname: A\nmodel: m\nprovider: p\nweird: !custom\n  k: v\n  inner: !deeper 12345678901234567890123\n";
    let agent: AgentConfig = serde_yaml::from_str(yaml).unwrap();
    assert!(matches!(agent.extra["weird"], serde_yaml::Value::Tagged(_)));
    assert_eq!(serde_yaml::to_string(&agent).unwrap(), yaml);
}

#[test]
fn known_field_errors_keep_their_line() {
    let yaml = "id: a\nname: A\nmodel: m\nprovider: p\nmax_tokens: many\n";
    let err = serde_yaml::from_str::<AgentConfig>(yaml).unwrap_err();
    assert_eq!(err.location().map(|l| l.line()), Some(5), "{err}");
}

#[test]
fn records_read_from_json_keep_their_unknown_fields() {
    let json = r#"{"id":"a","name":"A","model":"m","provider":"p","x":{"y":[1,2]}}"#;
    let agent: AgentConfig = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&agent).unwrap(), json);
}
