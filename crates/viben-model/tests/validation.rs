//! Each validation rule rejects its bad inputs with the right error variant and a useful message.

use viben_model::Hint;
use viben_model::{
    AgentConfig, Channel, ChannelKind, ChannelsFile, ModelCatalog, ModelEntry, ProviderConfig,
    Secret, ValidationError,
};

fn agent() -> AgentConfig {
    AgentConfig::new("my-agent", "My Agent", "claude-3-sonnet", "anthropic")
}

#[test]
fn temperature_must_be_within_zero_and_two() {
    for ok in [0.0, 0.7, 2.0] {
        let mut a = agent();
        a.temperature = Some(ok);
        a.validate().unwrap();
    }
    for bad in [-0.1, 2.01, f64::NAN, f64::INFINITY] {
        let mut a = agent();
        a.temperature = Some(bad);
        assert!(
            matches!(
                a.validate(),
                Err(ValidationError::TemperatureOutOfRange { .. })
            ),
            "{bad} accepted"
        );
    }
    let err = ValidationError::TemperatureOutOfRange { value: 3.5 };
    assert_eq!(err.to_string(), "temperature 3.5 is out of range");
    assert_eq!(err.hint().as_deref(), Some("use a value from 0.0 to 2.0"));
}

#[test]
fn max_tokens_must_be_positive() {
    let mut a = agent();
    a.max_tokens = Some(0);
    assert_eq!(a.validate(), Err(ValidationError::MaxTokensZero));
    a.max_tokens = Some(1);
    a.validate().unwrap();
}

#[test]
fn agent_ids_and_references_must_be_path_segments() {
    let mut a = agent();
    a.id = "../escape".into();
    a.provider = "a/b".into();
    let problems = a.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(matches!(
        &problems[0],
        ValidationError::InvalidId { kind: "agent", .. }
    ));
    assert!(matches!(
        &problems[1],
        ValidationError::InvalidId {
            kind: "provider",
            ..
        }
    ));
}

#[test]
fn agent_name_must_not_be_blank() {
    let mut a = agent();
    a.name = "  ".into();
    assert_eq!(
        a.validate(),
        Err(ValidationError::EmptyField { field: "name" })
    );
}

#[test]
fn provider_rules() {
    let mut p = ProviderConfig::new("anthropic");
    p.api_key_env = Some("ANTHROPIC_API_KEY".into());
    p.validate().unwrap();
    p.api_key = Some(Secret::new("sk-123"));
    let err = p.validate().unwrap_err();
    assert!(matches!(err, ValidationError::ConflictingApiKey { .. }));
    assert!(!err.to_string().contains("sk-123"));
    p.api_key = None;
    p.api_key_env = Some("1BAD-NAME".into());
    assert!(matches!(
        p.validate(),
        Err(ValidationError::InvalidEnvVarName { .. })
    ));
    let bad_name = ProviderConfig::new(".hidden");
    assert!(matches!(
        bad_name.validate(),
        Err(ValidationError::InvalidId {
            kind: "provider",
            ..
        })
    ));
}

#[test]
fn catalog_rules() {
    let mut catalog = ModelCatalog {
        default: Some("missing".into()),
        ..ModelCatalog::default()
    };
    catalog.models.push(ModelEntry::new("a", "p"));
    catalog.models.push(ModelEntry::new("a", "p"));
    let mut hot = ModelEntry::new("hot", "p");
    hot.temperature = Some(9.0);
    catalog.models.push(hot);
    let problems = catalog.problems();
    assert!(problems.contains(&ValidationError::DuplicateModel { id: "a".into() }));
    assert!(problems.contains(&ValidationError::UnknownDefaultModel {
        id: "missing".into()
    }));
    assert!(problems.contains(&ValidationError::TemperatureOutOfRange { value: 9.0 }));
    assert_eq!(problems.len(), 3);
}

#[test]
fn channel_rules() {
    let mut file = ChannelsFile::default();
    file.channels
        .push(Channel::new("tg", ChannelKind::Telegram, "my-agent"));
    file.validate().unwrap();
    file.channels
        .push(Channel::new("tg", ChannelKind::Slack, "../x"));
    let problems = file.problems();
    assert!(problems.contains(&ValidationError::DuplicateChannel { id: "tg".into() }));
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, ValidationError::InvalidId { kind: "agent", .. }))
    );
}

#[test]
fn provider_debug_never_shows_the_api_key() {
    let mut p = ProviderConfig::new("openai");
    p.api_key = Some(Secret::new("sk-live-abcdef"));
    let debug = format!("{p:?}");
    assert!(!debug.contains("sk-live"), "{debug}");
    assert!(debug.contains("***"));
}

#[test]
fn ids_that_windows_or_macos_cannot_hold_as_file_names_are_refused_for_new_files_saying_why() {
    use viben_model::validate_portable_path_id;
    let cases: &[(&str, &str)] = &[
        ("CON", "device name on Windows"),
        ("nul", "device name on Windows"),
        ("com1", "device name on Windows"),
        ("LPT9.txt", "device name on Windows"),
        ("Aux.tar.gz", "device name on Windows"),
        ("nul .txt", "device name on Windows"),
        ("COM\u{b9}", "device name on Windows"),
        ("conin$", "device name on Windows"),
        ("*", "Windows does not allow"),
        ("?", "Windows does not allow"),
        ("x:y", "Windows does not allow"),
        ("<", "Windows does not allow"),
        (">", "Windows does not allow"),
        ("|", "Windows does not allow"),
        ("\"", "Windows does not allow"),
        ("trailing.", "ends with '.'"),
        ("trailing ", "white space"),
        ("evil\u{202e}txt.exe", "invisible or text-direction"),
        ("a\u{200b}b", "invisible or text-direction"),
        ("\u{2066}a", "invisible or text-direction"),
        ("a\u{feff}", "invisible or text-direction"),
        ("a\u{e0041}", "invisible or text-direction"),
        ("a\u{fe0f}", "invisible or text-direction"),
        ("a\u{a0}b", "space character other than"),
        ("a\u{3000}b", "space character other than"),
        ("cafe\u{301}", "composed form"),
    ];
    for (id, why) in cases {
        let err = validate_portable_path_id("agent", id).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, ValidationError::InvalidId { kind: "agent", .. }),
            "{id:?}: {err:?}"
        );
        assert!(message.contains(why), "{id:?}: {message}");
        assert!(message.starts_with("invalid agent id"), "{message}");
        // The id is shown escaped: no raw direction override reaches a terminal.
        assert!(!message.contains('\u{202e}'), "{message}");
    }
}

#[test]
fn ordinary_and_accented_ids_stay_portable_and_non_file_ids_keep_the_old_rule() {
    use viben_model::{validate_path_id, validate_portable_path_id};
    for id in [
        "my-agent",
        "gpt-4o.mini",
        "A_1",
        "café",
        "日本語",
        "console",
        "con-agent",
        "com10",
        "lpt",
        "a b",
    ] {
        validate_portable_path_id("agent", id).unwrap_or_else(|e| panic!("{id:?}: {e}"));
    }
    // Model ids name no file: `llama3:8b` stays valid under the path rule models use.
    validate_path_id("model", "llama3:8b").unwrap();
    let entry = viben_model::ModelEntry::new("llama3:8b", "ollama");
    assert!(entry.problems().is_empty(), "{:?}", entry.problems());
    // Records that already exist are read under the old rule, so they stay readable.
    let agent = viben_model::AgentConfig::new("CON", "Legacy", "llama3:8b", "ollama");
    assert!(agent.problems().is_empty(), "{:?}", agent.problems());
}

#[test]
fn ids_differing_only_in_case_or_normalization_share_a_fold_key() {
    use viben_model::path_id_fold_key;
    for (a, b) in [
        ("a", "A"),
        ("My-Agent", "my-agent"),
        ("straße", "STRASSE"),
        ("caf\u{e9}", "CAFE\u{301}"),
        ("\u{212a}elvin", "kelvin"),
        ("ΟΔΟΣ", "οδος"),
        ("οδoς", "ΟΔOΣ"),
    ] {
        assert_eq!(path_id_fold_key(a), path_id_fold_key(b), "{a:?} {b:?}");
    }
    assert_ne!(path_id_fold_key("a"), path_id_fold_key("b"));
    assert_ne!(path_id_fold_key("cafe"), path_id_fold_key("café"));
}
