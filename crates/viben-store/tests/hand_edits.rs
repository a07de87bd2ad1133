//! Hand edits survive rewrites: unknown fields are kept, known fields keep their order, and a
//! file whose values did not change is not rewritten at all.

mod common;

use common::{read, seed_store, temp_store, write};

#[test]
fn unknown_fields_survive_an_agent_update_in_their_order() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        "id: a\nname: A\nzeta: 1\nmodel: m\nprovider: p\nalpha:\n  nested: [1, 2]\ntemperature: 0.5\n",
    );
    t.store
        .agents()
        .update("a", |a| {
            a.temperature = Some(0.9);
            Ok(())
        })
        .unwrap();
    // Edited in place: the new field goes after its known neighbours, nothing else moves.
    assert_eq!(
        read(t.dir.path(), "agents/a/config.yaml"),
        "id: a\nname: A\nzeta: 1\nmodel: m\nprovider: p\nalpha:\n  nested: [1, 2]\ntemperature: 0.9\n"
    );
}

#[test]
fn unknown_fields_survive_a_models_update_at_every_level() {
    let t = seed_store();
    write(
        t.dir.path(),
        "models.yaml",
        "default: a\nmodels:\n- id: a\n  provider: anthropic\n  context_window: 200000\nupdated_by: me\n",
    );
    t.store
        .models()
        .add(viben_model::ModelEntry::new("b", "openai"))
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        "default: a\nmodels:\n- id: a\n  provider: anthropic\n  context_window: 200000\n- id: b\n  provider: openai\nupdated_by: me\n"
    );
}

#[test]
fn known_field_order_is_stable_across_many_rewrites() {
    let t = seed_store();
    for i in 0..5 {
        t.store
            .agents()
            .update("my-agent", |a| {
                a.max_tokens = Some(1000 + i);
                Ok(())
            })
            .unwrap();
    }
    let text = read(t.dir.path(), "agents/my-agent/config.yaml");
    let keys: Vec<_> = text.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "description",
            "model",
            "provider",
            "system_prompt",
            "temperature",
            "max_tokens"
        ]
    );
}

#[test]
fn comments_are_kept_while_the_values_do_not_change_and_on_a_real_change() {
    let t = seed_store();
    let with_comment = "# my favourite agent\nid: my-agent   # the folder name\nname: My Agent\nmodel: claude-3-sonnet\nprovider: anthropic\n";
    write(t.dir.path(), "agents/my-agent/config.yaml", with_comment);
    t.store.agents().update("my-agent", |_| Ok(())).unwrap();
    t.store
        .agents()
        .update("my-agent", |a| {
            a.name = "My Agent".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        with_comment
    );
    t.store
        .agents()
        .update("my-agent", |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        "# my favourite agent\nid: my-agent   # the folder name\nname: Renamed\nmodel: claude-3-sonnet\nprovider: anthropic\n",
        "documented in docs/store.md: a real change edits the file in place"
    );
}

// What a person may write by hand, known fields and unknown ones: each either loads and
// survives a real change (the file is written again, edited in place: only the changed value's
// text changes) or is refused with its line and a clear message.

const AGENT: &str = "id: a\nname: A\nmodel: m\nprovider: p\n";

/// Writes `yaml` as agent `a`, loads it, renames it (a real rewrite), and returns the agent
/// as loaded first and the file as rewritten, after checking the rewrite loads back the same.
fn rewrite_agent(yaml: &str) -> (viben_model::AgentConfig, String) {
    let t = temp_store();
    write(t.dir.path(), "agents/a/config.yaml", yaml);
    let before = t
        .store
        .agents()
        .get("a")
        .expect("the hand-written agent loads");
    t.store
        .agents()
        .update("a", |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .expect("a change is saved");
    let text = read(t.dir.path(), "agents/a/config.yaml");
    let mut after = t
        .store
        .agents()
        .get("a")
        .expect("the rewritten agent loads");
    after.name = before.name.clone();
    assert_eq!(after, before, "the rewrite changed a value:\n{text}");
    (before, text)
}

/// `yaml` with agent `a`'s name `A` changed to `Renamed`, as an edit in place writes it.
fn renamed(yaml: &str) -> String {
    yaml.replacen("name: A", "name: Renamed", 1)
}

/// The parse error of agent `a` written as `yaml`: its line and its text.
fn agent_parse_error(yaml: &str) -> (Option<usize>, String) {
    let t = temp_store();
    write(t.dir.path(), "agents/a/config.yaml", yaml);
    match t.store.agents().get("a") {
        Err(err @ viben_store::StoreError::Parse { line, .. }) => (line, err.to_string()),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn a_byte_order_mark_before_several_lines_loads() {
    let (agent, text) = rewrite_agent(&format!("\u{feff}{AGENT}description: d\n"));
    assert_eq!(agent.description.as_deref(), Some("d"));
    assert_eq!(text, format!("\u{feff}{}description: d\n", renamed(AGENT)));
}

#[test]
fn a_byte_order_mark_with_crlf_line_endings_loads() {
    let yaml = format!("\u{feff}{AGENT}system_prompt: |\n  one\n  two\n").replace('\n', "\r\n");
    let (agent, _) = rewrite_agent(&yaml);
    assert_eq!(agent.system_prompt.as_deref(), Some("one\ntwo\n"));
}

#[test]
fn crlf_line_endings_load_and_are_kept_by_an_edit() {
    let yaml = format!("{AGENT}notes: >\n  folded\n  text\n").replace('\n', "\r\n");
    let (agent, text) = rewrite_agent(&yaml);
    assert_eq!(agent.extra["notes"].as_str(), Some("folded text\n"));
    assert_eq!(text, renamed(&yaml));
}

#[test]
fn a_custom_tag_in_an_unknown_field_survives_a_rewrite() {
    let (agent, text) = rewrite_agent(&format!(
        "{AGENT}weird: !custom {{k: v}}\nlist: [!point {{x: 1}}, !name plain]\n"
    ));
    assert!(matches!(agent.extra["weird"], serde_yaml::Value::Tagged(_)));
    assert_eq!(
        text,
        renamed(&format!(
            "{AGENT}weird: !custom {{k: v}}\nlist: [!point {{x: 1}}, !name plain]\n"
        ))
    );
}

#[test]
fn a_30_digit_integer_in_an_unknown_field_survives_digit_for_digit() {
    let (agent, text) = rewrite_agent(&format!(
        "{AGENT}huge: 123456789012345678901234567890\nlow: -123456789012345678901234567890\nnested: {{ids: [18446744073709551616]}}\n"
    ));
    assert_eq!(agent.extra.len(), 3);
    assert!(
        text.contains("huge: 123456789012345678901234567890\n"),
        "{text}"
    );
    assert!(
        text.contains("low: -123456789012345678901234567890\n"),
        "{text}"
    );
    assert!(
        text.contains("nested: {ids: [18446744073709551616]}\n"),
        "{text}"
    );
}

#[test]
fn an_integer_too_wide_even_for_128_bits_is_refused_with_its_line() {
    let (line, message) = agent_parse_error(&format!("{AGENT}huge: {}\n", "9".repeat(45)));
    assert_eq!(line, Some(5), "{message}");
    assert!(message.contains("integer"), "{message}");
}

#[test]
fn a_merge_key_fills_known_and_unknown_fields_that_the_record_does_not_set() {
    let t = temp_store();
    write(
        t.dir.path(),
        "models.yaml",
        "defaults: &d {provider: anthropic, temperature: 0.5, tier: gold}\nmodels:\n- <<: *d\n  id: a\n- <<: [*d, {tier: silver}]\n  id: b\n  temperature: 0.9\n",
    );
    let catalog = t.store.models().document().expect("merge keys load");
    let (a, b) = (&catalog.models[0], &catalog.models[1]);
    assert_eq!(
        (a.provider.as_str(), a.temperature),
        ("anthropic", Some(0.5))
    );
    assert_eq!(a.extra["tier"].as_str(), Some("gold"));
    assert_eq!(
        (b.provider.as_str(), b.temperature),
        ("anthropic", Some(0.9))
    );
    assert_eq!(
        b.extra["tier"].as_str(),
        Some("gold"),
        "the first map merged wins"
    );
    t.store
        .models()
        .add(viben_model::ModelEntry::new("c", "openai"))
        .expect("a change is saved");
    let reread = t
        .store
        .models()
        .document()
        .expect("the rewritten file loads");
    assert_eq!(reread.models[..2], catalog.models[..2]);
}

#[test]
fn a_merge_key_naming_a_scalar_is_refused_with_a_clear_message() {
    let (_, message) = agent_parse_error(&format!("{AGENT}base: &b text\n<<: *b\n"));
    assert!(message.contains("merge key (<<) takes a map"), "{message}");
}

#[test]
fn an_explicit_str_tag_keeps_a_number_as_text() {
    let (agent, text) = rewrite_agent(&format!("{AGENT}description: !!str 123\ncode: !!str 007\n"));
    assert_eq!(agent.description.as_deref(), Some("123"));
    assert_eq!(agent.extra["code"].as_str(), Some("007"));
    assert!(text.contains("description: !!str 123\n"), "{text}");
}

#[test]
fn block_scalars_in_known_and_unknown_fields_survive() {
    let (agent, _) = rewrite_agent(&format!(
        "{AGENT}system_prompt: |-\n  keep\n    indented\n\n  lines\nnote: >+\n  folded\n  kept\n\n"
    ));
    assert_eq!(
        agent.system_prompt.as_deref(),
        Some("keep\n  indented\n\nlines")
    );
    assert_eq!(agent.extra["note"].as_str(), Some("folded kept\n\n"));
}

#[test]
fn tilde_null_non_string_keys_and_special_floats_survive() {
    let (agent, text) = rewrite_agent(&format!(
        "{AGENT}description: ~\nempty: ~\nmap: {{1: one, true: yes, 1.5: x, ~: nothing}}\nfloats: [.inf, -.inf, .nan]\n"
    ));
    assert_eq!(agent.description, None);
    assert!(agent.extra["empty"].is_null());
    let map = agent.extra["map"].as_mapping().expect("a map");
    assert_eq!(map.len(), 4);
    assert_eq!(
        text,
        renamed(&format!(
            "{AGENT}description: ~\nempty: ~\nmap: {{1: one, true: yes, 1.5: x, ~: nothing}}\nfloats: [.inf, -.inf, .nan]\n"
        ))
    );
}

#[test]
fn anchors_and_aliases_in_fields_load_and_are_written_out() {
    let (agent, text) = rewrite_agent(
        "id: a\nname: &n A\nmodel: &m m\nprovider: p\nsame_model: *m\nlist: &l [1, 2]\nagain: *l\n",
    );
    assert_eq!(agent.extra["same_model"].as_str(), Some("m"));
    // The anchor on the changed value stays, so the aliases to it still resolve.
    assert_eq!(
        text,
        "id: a\nname: &n Renamed\nmodel: &m m\nprovider: p\nsame_model: *m\nlist: &l [1, 2]\nagain: *l\n"
    );
}

#[test]
fn a_leading_document_start_and_a_trailing_document_end_load() {
    let (agent, _) = rewrite_agent(&format!("---\n{AGENT}...\n"));
    assert_eq!(agent.model, "m");
    let (agent, _) = rewrite_agent(&format!(
        "--- # the agent\n{AGENT}...\n# trailing comment\n"
    ));
    assert_eq!(agent.model, "m");
}

#[test]
fn a_second_document_is_refused_at_its_start() {
    let (line, message) = agent_parse_error(&format!("{AGENT}---\nid: b\n"));
    assert_eq!(line, Some(5), "{message}");
    assert!(message.contains("more than one YAML document"), "{message}");
}

#[test]
fn a_tab_used_for_indentation_is_refused_with_its_line_and_a_clear_message() {
    let (line, message) = agent_parse_error(&format!("{AGENT}tools:\n\t- shell\n"));
    assert_eq!(line, Some(6), "{message}");
    assert!(message.contains("tab"), "{message}");
}

#[test]
fn tabs_inside_values_survive() {
    let (agent, _) = rewrite_agent(&format!("{AGENT}description: \"a\\tb\"\nraw: 'c\td'\n"));
    assert_eq!(agent.description.as_deref(), Some("a\tb"));
    assert_eq!(agent.extra["raw"].as_str(), Some("c\td"));
}

#[test]
fn a_known_field_of_the_wrong_type_is_refused_with_its_line() {
    let (line, message) = agent_parse_error(&format!("{AGENT}temperature: hot\n"));
    assert_eq!(line, Some(5), "{message}");
    assert!(message.contains("temperature"), "{message}");
}

#[test]
fn a_duplicate_unknown_key_is_refused_with_a_clear_message() {
    let (line, message) = agent_parse_error(&format!("{AGENT}extra: 1\nextra: 2\n"));
    assert!(line.is_some(), "{message}");
    assert!(message.contains("appears twice"), "{message}");
}

#[test]
fn a_custom_tag_in_channel_settings_and_a_big_integer_survive() {
    let t = temp_store();
    write(
        t.dir.path(),
        "channels.yaml",
        "channels:\n- id: tg\n  kind: telegram\n  agent: a\n  settings:\n    chat: 123456789012345678901234567890\n    mode: !quiet {until: 8}\n",
    );
    let before = t.store.channels().document().expect("the channels load");
    t.store
        .channels()
        .update(|c| {
            c.channels[0].agent = "b".into();
            Ok(())
        })
        .expect("a change is saved");
    let text = read(t.dir.path(), "channels.yaml");
    assert!(
        text.contains("chat: 123456789012345678901234567890\n"),
        "{text}"
    );
    assert!(text.contains("mode: !quiet {until: 8}\n"), "{text}");
    assert!(text.contains("  agent: b\n"), "{text}");
    let after = t.store.channels().document().expect("the rewrite loads");
    assert_eq!(after.channels[0].settings, before.channels[0].settings);
}

#[test]
fn binary_and_other_global_tags_in_unknown_fields_survive_as_written() {
    let (agent, text) = rewrite_agent(&format!(
        "{AGENT}icon: !!binary R0lGODlhDAAMAIQAAP\nwhen: !!timestamp 2001-12-14\nset: !!set {{a, b}}\napp: !<tag:example.com,2000:app/foo> bar\nlist: [!!binary AAAA, '!!binary not a tag']\n"
    ));
    assert!(matches!(agent.extra["icon"], serde_yaml::Value::Tagged(_)));
    // Edited in place, every tag stays as written (a rewrite by yaml_serde would drop the
    // global tag outside YAML's own).
    assert_eq!(
        text,
        renamed(&format!(
            "{AGENT}icon: !!binary R0lGODlhDAAMAIQAAP\nwhen: !!timestamp 2001-12-14\nset: !!set {{a, b}}\napp: !<tag:example.com,2000:app/foo> bar\nlist: [!!binary AAAA, '!!binary not a tag']\n"
        ))
    );
}

#[test]
fn a_global_tag_on_a_known_field_is_read_as_its_value() {
    let (agent, _) = rewrite_agent(&format!("{AGENT}description: !!binary aGk=\n"));
    assert_eq!(agent.description.as_deref(), Some("aGk="));
}

#[test]
fn a_list_map_or_tagged_key_in_an_unknown_field_is_refused_before_a_save_could_fail() {
    for (yaml, expected) in [
        ("x:\n  ? [a, b]\n  : c\n", "a list or map used as a key"),
        ("x: {!t k: v}\n", "a tagged key"),
    ] {
        let (line, message) = agent_parse_error(&format!("{AGENT}{yaml}"));
        assert!(line.is_some(), "{message}");
        assert!(message.contains(expected), "{message}");
    }
    let (agent, text) = rewrite_agent(&format!(
        "{AGENT}x: {{123456789012345678901234567890: big}}\n"
    ));
    assert_eq!(agent.extra["x"].as_mapping().map(|m| m.len()), Some(1));
    assert!(
        text.contains("x: {123456789012345678901234567890: big}\n"),
        "{text}"
    );
}

#[test]
fn random_yaml_in_an_unknown_field_is_refused_or_survives_a_rewrite() {
    const PIECES: &[&str] = &[
        "a: ",
        "- ",
        "  ",
        "\n",
        "&a ",
        "*a",
        "[",
        "]",
        "{",
        "}",
        ",",
        ": ",
        "\"",
        "'",
        "#",
        "!!binary ",
        "!!set ",
        "!x ",
        "!%21 ",
        "<<: ",
        "? ",
        "|\n",
        ">-\n",
        "\t",
        "é",
        "~",
        "123456789012345678901234567890",
        "-99999999999999999999",
        ".nan",
        "1.5",
        "true",
        "0x1F",
    ];
    let t = temp_store();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut survived = 0;
    for round in 0..1500 {
        let mut field = String::new();
        for _ in 0..next() % 12 {
            field.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        let yaml = format!("{AGENT}x: {field}\n");
        write(t.dir.path(), "agents/a/config.yaml", &yaml);
        let Ok(before) = t.store.agents().get("a") else {
            continue;
        };
        t.store
            .agents()
            .update("a", |a| {
                a.name = format!("renamed {round}");
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{yaml:?} loads but cannot be saved: {e}"));
        let text = read(t.dir.path(), "agents/a/config.yaml");
        let after = t
            .store
            .agents()
            .get("a")
            .unwrap_or_else(|e| panic!("{yaml:?} was rewritten unreadable:\n{text}\n{e}"));
        // Debug, not ==: NaN is not equal to itself.
        assert_eq!(
            format!("{:?}", after.extra),
            format!("{:?}", before.extra),
            "{yaml:?} became\n{text}"
        );
        survived += 1;
    }
    assert!(survived > 300, "only {survived} rounds loaded");
}

#[test]
fn a_tag_on_a_known_field_is_read_as_the_fields_type_and_a_wrong_type_refused_at_its_line() {
    // The field's type is Viben's; a tag on it changes nothing, and a changed value does not
    // keep it.
    let (agent, text) =
        rewrite_agent("id: a\nname: !custom A\nmodel: m\nprovider: p\ntemperature: !!float 1\n");
    assert_eq!((agent.name.as_str(), agent.temperature), ("A", Some(1.0)));
    assert_eq!(
        text,
        "id: a\nname: Renamed\nmodel: m\nprovider: p\ntemperature: !!float 1\n"
    );
    let (line, message) = agent_parse_error(&format!("{AGENT}description: !custom {{k: v}}\n"));
    assert_eq!(line, Some(5), "{message}");
    assert!(
        message.contains("description: invalid type: map, expected a string"),
        "{message}"
    );
}
