//! Bad input never panics: bombs, huge files, deep nesting, bad encodings end in clear errors
//! within bounded time and memory.

mod common;

use std::time::{Duration, Instant};

use common::{TempStore, temp_store, write};
use viben_store::StoreError;

const BILLION_LAUGHS: &str = "\
a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
";

/// Reading agent "a" fails within the time bound, with an error that mentions `expected`.
fn assert_agent_refused_quickly(t: &TempStore, expected: &str) {
    let start = Instant::now();
    let err = t
        .store
        .agents()
        .get("a")
        .expect_err("the hostile file is refused");
    assert!(err.to_string().contains(expected), "{err}");
    assert_quick(start);
}

/// A hang guard, not a speed check (speed is measured in the benches): without the limits
/// these files expand for minutes or forever, so a deadline far above any machine's honest
/// time (under CI's load one read took 7 s) still catches a regression, without failing
/// because the machine is busy.
fn assert_quick(start: Instant) {
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_billion_laughs_bomb_is_refused_quickly() {
    let t = temp_store();
    let yaml = format!("id: my-agent\nname: x\nmodel: m\nprovider: p\n{BILLION_LAUGHS}");
    write(t.dir.path(), "agents/my-agent/config.yaml", &yaml);
    write(t.dir.path(), "models.yaml", BILLION_LAUGHS);
    let start = Instant::now();
    let err = t.store.agents().get("my-agent").unwrap_err();
    assert!(matches!(err, StoreError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("alias"), "{err}");
    let err = t.store.models().document().unwrap_err();
    assert!(err.to_string().contains("alias"), "{err}");
    assert_quick(start);
}

#[test]
fn a_few_reused_anchors_still_load() {
    let t = temp_store();
    write(
        t.dir.path(),
        "models.yaml",
        "models:\n- id: a\n  provider: &p anthropic\n- id: b\n  provider: *p\n",
    );
    let catalog = t.store.models().document().unwrap();
    assert_eq!(catalog.models.len(), 2);
    assert_eq!(catalog.models[1].provider, "anthropic");
}

#[test]
fn a_100_mb_file_is_refused_by_size_before_it_is_read() {
    let t = temp_store();
    let path = t.dir.path().join("agents/big/config.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap(); // sparse: no disk used
    let start = Instant::now();
    let err = t.store.agents().get("big").unwrap_err();
    assert!(matches!(err, StoreError::TooLarge { .. }), "{err:?}");
    assert!(
        err.to_string().contains("config.yaml is larger than"),
        "{err}"
    );
    assert_quick(start);
}

#[test]
fn deeply_nested_yaml_is_refused_with_a_clear_error() {
    let t = temp_store();
    let depth = 100_000;
    let yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
    // A stray quote before the brackets does not hide them.
    let yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nd: |\n  \"\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
    // Block indicators stacked on one line nest as deeply.
    let yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nx:\n  {}x\n",
        "- ".repeat(depth)
    );
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
}

#[test]
fn deeply_nested_block_yaml_is_refused_with_a_clear_error() {
    let t = temp_store();
    let mut yaml = String::from("id: a\nname: a\nmodel: m\nprovider: p\nx:\n");
    // About 1,400 levels: the deepest indentation nesting that fits the 1 MiB limit.
    for depth in 1..1_400 {
        yaml.push_str(&" ".repeat(depth));
        yaml.push_str("k:\n");
    }
    assert!(yaml.len() < 1024 * 1024);
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        b"id: a\nname: caf\xe9\n",
    );
    let err = t.store.agents().get("a").unwrap_err();
    match &err {
        StoreError::Parse { line, column, .. } => assert_eq!((*line, *column), (Some(2), Some(10))),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("config.yaml:2:10: the file is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn a_nul_byte_is_a_parse_error_with_a_line() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        b"id: a\nname: a\0b\nmodel: m\nprovider: p\n",
    );
    let err = t.store.agents().get("a").unwrap_err();
    match &err {
        StoreError::Parse { line, column, .. } => {
            assert_eq!((*line, *column), (Some(2), Some(8)), "{err}")
        }
        other => panic!("{other:?}"),
    }
}

/// A small deterministic generator (xorshift), so failures reproduce without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "id: ",
    "name: ",
    "model: ",
    "provider: ",
    "models:\n",
    "- ",
    "  ",
    "\n",
    "default: ",
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
    "!tag ",
    "<<: ",
    "true",
    "0.7",
    "-1",
    "4096",
    "null",
    "~",
    "x",
    "my-agent",
    "---\n",
    "...\n",
    "|\n",
    ">\n",
    "\t",
    "\u{0}",
    "é",
    "channels:\n",
    "kind: ",
    "agent: ",
    "api_key: ",
    "api_key_env: ",
    "enabled: ",
    "? ",
];

fn random_yaml(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(60) {
        out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
    }
    out
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    (0..rng.below(300)).map(|_| rng.next() as u8).collect()
}

#[test]
fn random_bytes_and_random_yaml_never_panic_any_loader() {
    let t = temp_store();
    let root = t.dir.path();
    let session = "s1";
    write(
        root,
        "agents/a/config.yaml",
        "id: a\nname: a\nmodel: m\nprovider: p\n",
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    for round in 0..1500 {
        let content = if round % 2 == 0 {
            random_yaml(&mut rng)
        } else {
            random_bytes(&mut rng)
        };
        write(root, "agents/x/config.yaml", &content);
        write(root, "providers/p.yaml", &content);
        write(root, "models.yaml", &content);
        write(root, "channels.yaml", &content);
        write(root, &format!("sessions/{session}/session.yaml"), &content);
        write(
            root,
            &format!("sessions/{session}/messages.jsonl"),
            &content,
        );
        write(root, "telemetry/logs/2026-01-01.jsonl", &content);
        let _ = t.store.agents().get("x");
        let _ = t.store.agents().list();
        let _ = t.store.providers().list();
        let _ = t.store.models().document();
        let _ = t.store.channels().document();
        let _ = t.store.sessions().get(session);
        let _ = t.store.sessions().list();
        if let Ok(reader) = t.store.sessions().read(session) {
            for item in reader {
                let _ = item;
            }
        }
        let _ = t.store.sessions().last(session, 3);
        let from = "2026-01-01T00:00:00Z".parse().unwrap();
        let to = "2026-01-02T00:00:00Z".parse().unwrap();
        let _ = t.store.telemetry().read::<viben_model::LogRecord>(from, to);
        let _ = t.store.check();
    }
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "took {:?}",
        start.elapsed()
    );
}

const AWKWARD: &[&str] = &[
    "yes",
    "no",
    "null",
    "~",
    "0.7",
    "1e3",
    "0x10",
    "-",
    "- x",
    ": x",
    "a: b",
    "#c",
    "a #c",
    "'q'",
    "\"dq\"",
    "[1]",
    "{a: 1}",
    "&a",
    "*a",
    "!tag",
    "|",
    ">",
    "  lead",
    "trail  ",
    "\n",
    "\t",
    "multi\nline\n",
    "é",
    "日本",
    "🙂",
    "\\",
    "%",
    "@",
    "`",
    "---",
    "...",
    "\u{feff}",
    "\u{7f}",
    "\u{1}",
    "\u{85}",
    "\u{2028}",
    "\r",
    "\r\n",
];

fn awkward_text(rng: &mut Rng) -> String {
    (0..rng.below(5))
        .map(|_| AWKWARD[rng.below(AWKWARD.len())])
        .collect()
}

#[test]
fn random_awkward_text_round_trips_exactly_through_a_save_and_a_load() {
    let t = temp_store();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in 0..300 {
        let mut agent = viben_model::AgentConfig::new(format!("a{i}"), "x", "m", "p");
        agent.name = format!("n{}", awkward_text(&mut rng));
        agent.description = Some(awkward_text(&mut rng));
        agent.system_prompt = Some(awkward_text(&mut rng));
        agent.extra.insert(
            (awkward_text(&mut rng) + "k").into(),
            awkward_text(&mut rng).into(),
        );
        t.store.agents().create(&agent).unwrap();
        assert_eq!(t.store.agents().get(&agent.id).unwrap(), agent, "round {i}");
    }
}

/// An agent whose `system_prompt` is `prompt`, as a person writes it: a literal block scalar.
fn agent_with_prompt(prompt: &str) -> String {
    let mut yaml = String::from("id: a\nname: A\nmodel: m\nprovider: p\nsystem_prompt: |\n");
    for line in prompt.lines() {
        yaml.push_str("  ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    yaml
}

/// Loads `prompt` from a hand-written file, saves a change, and loads the prompt back.
fn assert_prompt_round_trips(prompt: &str) {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        agent_with_prompt(prompt),
    );
    let agent = t
        .store
        .agents()
        .get("a")
        .expect("load the hand-written agent");
    assert_eq!(agent.system_prompt.as_deref(), Some(prompt));
    t.store
        .agents()
        .update("a", |agent| {
            agent.name = "Renamed".to_owned();
            Ok(())
        })
        .expect("save a change");
    let agent = t.store.agents().get("a").expect("load the saved agent");
    assert_eq!(agent.name, "Renamed");
    assert_eq!(agent.system_prompt.as_deref(), Some(prompt));
}

#[test]
fn a_long_prompt_of_json_lines_examples_with_hashes_loads_and_round_trips() {
    let mut prompt = String::from("Tag each post. Examples, one JSON object per line:\n");
    for i in 0..130 {
        prompt.push_str(&format!(
            "{{\"text\": \"Loving release {i} #rust\", \"tags\": [\"rust\"]}}\n"
        ));
    }
    assert_prompt_round_trips(&prompt);
}

#[test]
fn a_long_prompt_with_half_open_intervals_loads_and_round_trips() {
    let mut prompt = String::new();
    for i in 0..130 {
        prompt.push_str(&format!(
            "Rule {i}: the value lies in [0, 1) # or it is refused\n"
        ));
    }
    assert_prompt_round_trips(&prompt);
}

#[test]
fn flow_nesting_200_levels_deep_is_refused_by_the_yaml_parser_with_a_clear_error() {
    let t = temp_store();
    let depth = 200;
    let yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nx: {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    let err = t.store.agents().get("a").unwrap_err();
    assert!(matches!(err, StoreError::Parse { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("nested more than 128 levels deep; flatten the file"),
        "{message}"
    );
    assert!(message.contains("config.yaml:5:"), "{message}");
}

#[test]
fn closing_brackets_inside_quoted_strings_do_not_hide_deep_nesting() {
    let t = temp_store();
    let depth = 100_000;
    let yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nx: {}1\n",
        "[ \"]\", ".repeat(depth)
    );
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
}

#[test]
fn many_values_just_under_the_nesting_pre_scan_limit_are_refused_quickly() {
    let t = temp_store();
    // Just under the pre-scan's limit, then as many values as fit: the parser's cost is
    // about depth times values.
    let depth = 250;
    let mut yaml = format!(
        "id: a\nname: a\nmodel: m\nprovider: p\nx: {}",
        "[".repeat(depth)
    );
    while yaml.len() < 1000 * 1024 {
        yaml.push_str("a, ");
    }
    yaml.push_str(&"]".repeat(depth));
    yaml.push('\n');
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    assert_agent_refused_quickly(&t, "nested more than 128 levels");
}

#[test]
fn a_yaml_file_just_over_1_mib_is_refused_by_size() {
    let t = temp_store();
    let mut yaml = String::from("id: a\nname: a\nmodel: m\nprovider: p\n");
    let comment = format!("# {}\n", "x".repeat(97));
    while yaml.len() <= 1024 * 1024 {
        yaml.push_str(&comment);
    }
    write(t.dir.path(), "agents/a/config.yaml", &yaml);
    let err = t.store.agents().get("a").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn saving_an_agent_too_large_to_read_back_is_refused_and_writes_nothing() {
    let t = temp_store();
    let agent = viben_model::AgentConfig::new("a", "A", "m", "p");
    t.store.agents().create(&agent).unwrap();
    let err = t
        .store
        .agents()
        .update("a", |agent| {
            agent.system_prompt = Some("x".repeat(1024 * 1024));
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLargeToWrite { .. }), "{err:?}");
    assert!(
        err.to_string().contains("config.yaml would be larger than"),
        "{err}"
    );
    assert_eq!(t.store.agents().get("a").unwrap().system_prompt, None);
}

/// The attack from issue 8: a 500 KB string anchored once and repeated by `aliases` aliases
/// (`b: [*a,*a,...]`), the first alias at line 2, column 5, each 3 columns after the last.
fn string_bomb(aliases: usize) -> String {
    format!(
        "a: &a \"{}\"\nb: [{}]\n",
        "x".repeat(500_000),
        "*a,".repeat(aliases)
    )
}

fn parse_location(err: &StoreError) -> (Option<usize>, Option<usize>) {
    match err {
        StoreError::Parse { line, column, .. } => (*line, *column),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn alias_expanding_past_the_byte_budget_is_refused_at_the_alias() {
    let t = temp_store();
    write(t.dir.path(), "models.yaml", string_bomb(20_000));
    let err = t.store.models().document().unwrap_err();
    // The anchor's 500,000 bytes plus 8 copies pass 4 MiB: the 8th alias, at column 5 + 7 * 3.
    assert_eq!(parse_location(&err), (Some(2), Some(26)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(
            "models.yaml:2:26: its aliases (*a) expand it to more than 4194304 bytes of text"
        ),
        "{message}"
    );
    assert!(
        message.contains("write the values out instead of repeating aliases"),
        "{message}"
    );
}

#[test]
fn check_reports_an_alias_bomb_at_its_alias() {
    let t = temp_store();
    // 2,000 aliases: under the old node budget, so check said "no problems" after 1 GB.
    write(t.dir.path(), "models.yaml", string_bomb(2_000));
    let problems = t.store.check();
    let problem = problems
        .iter()
        .find(|p| p.path == std::path::Path::new("models.yaml"))
        .unwrap_or_else(|| panic!("models.yaml is reported: {problems:?}"));
    assert_eq!((problem.line, problem.column), (Some(2), Some(26)));
    assert!(problem.message.contains("YAML bomb"), "{problem}");
}

#[test]
fn aliases_past_the_count_budget_are_refused_at_the_alias() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        format!(
            "id: a\nname: a\nmodel: m\nprovider: p\nx: &x y\nlist: [{}]\n",
            "*x,".repeat(10_001)
        ),
    );
    let err = t.store.agents().get("a").unwrap_err();
    // The 10,001st alias: column 8 + 10,000 * 3.
    assert_eq!(parse_location(&err), (Some(6), Some(30_008)), "{err}");
    assert!(
        err.to_string().contains("more than 10000 aliases (*x"),
        "{err}"
    );
}

#[test]
fn aliases_inside_a_repeated_value_count_toward_the_alias_budget() {
    let t = temp_store();
    // 101 aliases in the anchored list, repeated 100 times: 10,201 aliases in all.
    write(
        t.dir.path(),
        "models.yaml",
        format!(
            "s: &s v\nl: &l [{}]\nm: [{}]\n",
            "*s,".repeat(101),
            "*l,".repeat(100)
        ),
    );
    let err = t.store.models().document().unwrap_err();
    assert_eq!(parse_location(&err).0, Some(3), "{err}");
    assert!(err.to_string().contains("aliases"), "{err}");
}

#[test]
fn a_file_of_more_than_200_000_values_is_refused_where_it_passes_the_limit() {
    let t = temp_store();
    // 1 MiB of one-letter items, no alias: 520,000 values, 135 MB once built.
    let mut yaml = String::from("x: [");
    while yaml.len() < 1024 * 1024 - 8 {
        yaml.push_str("a,");
    }
    yaml.push_str("a]\n");
    write(t.dir.path(), "models.yaml", &yaml);
    let err = t.store.models().document().unwrap_err();
    // Values 1 and 2 are the map and its key `x`, 3 the list; item n is at column 3 + 2n.
    assert_eq!(
        parse_location(&err),
        (Some(1), Some(3 + 2 * 199_998)),
        "{err}"
    );
    assert!(
        err.to_string().contains("holds more than 200000 values"),
        "{err}"
    );
}

#[test]
fn an_alias_inside_the_value_it_names_is_refused_as_a_cycle() {
    let t = temp_store();
    write(t.dir.path(), "models.yaml", "a: &a [1, *a]\n");
    let err = t.store.models().document().unwrap_err();
    assert_eq!(parse_location(&err), (Some(1), Some(11)), "{err}");
    assert!(
        err.to_string()
            .contains("*a names the value that contains it"),
        "{err}"
    );
}

#[test]
fn reuse_within_the_budgets_still_loads() {
    let t = temp_store();
    // 3,000 copies of a 1 KB description: 3 MB, under the 4 MiB budget.
    let mut yaml = format!("defaults: &d \"{}\"\nmodels:\n", "d".repeat(1000));
    for i in 0..3000 {
        yaml.push_str(&format!("- id: m{i}\n  provider: p\n  note: *d\n"));
    }
    write(t.dir.path(), "models.yaml", &yaml);
    let catalog = t.store.models().document().unwrap();
    assert_eq!(catalog.models.len(), 3000);
    assert_eq!(
        catalog.models[2999].extra["note"].as_str().map(str::len),
        Some(1000)
    );
}

#[test]
fn a_realistic_1_mib_catalog_still_loads() {
    let t = temp_store();
    let mut yaml = String::from("models:\n");
    let mut count = 0;
    while yaml.len() < 1024 * 1024 - 200 {
        yaml.push_str(&format!(
            "- id: model-{count}\n  provider: anthropic\n  name: Model number {count}\n"
        ));
        count += 1;
    }
    write(t.dir.path(), "models.yaml", &yaml);
    assert_eq!(t.store.models().document().unwrap().models.len(), count);
}

#[test]
fn saving_more_values_than_a_read_accepts_is_refused_and_writes_nothing() {
    let t = temp_store();
    let agent = viben_model::AgentConfig::new("a", "A", "m", "p");
    t.store.agents().create(&agent).unwrap();
    // 210,000 one-digit items: 840 KB as `- 1` lines, under 1 MiB, over 200,000 values.
    let err = t
        .store
        .agents()
        .update("a", |agent| {
            agent.extra.insert(
                "many".into(),
                serde_yaml::Value::Sequence(vec![1.into(); 210_000]),
            );
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Encode { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("could not be read back: the file holds more than 200000 values"),
        "{err}"
    );
    assert!(t.store.agents().get("a").unwrap().extra.is_empty());
}
