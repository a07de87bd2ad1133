//! Every write to an existing file edits it in place: each API update of each file kind, on a
//! commented file, changes exactly the lines it must (the whole resulting text is asserted);
//! everything else (comments, blank lines, order, quoting, flow style, indentation, anchors,
//! block scalars, unknown fields) stays byte for byte.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use common::{read, temp_store, write};
use viben_model::{ChannelKind, ModelEntry, ProviderConfig};

const AGENT: &str = include_str!("fixtures/commented/agent-config.yaml");
const MODELS: &str = include_str!("fixtures/commented/models.yaml");
const PROVIDER: &str = include_str!("fixtures/commented/provider.yaml");
const CHANNELS: &str = include_str!("fixtures/commented/channels.yaml");
const PROFILE: &str = include_str!("fixtures/commented/profile.yaml");
const SESSION: &str = include_str!("fixtures/commented/session.yaml");
const RICH: &str = include_str!("fixtures/commented/agent-rich.yaml");

/// `text` with `old` (which must be there, once) replaced by `new`.
fn replaced(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} once in the fixture");
    text.replacen(old, new, 1)
}

/// A store holding every commented fixture.
fn commented_store() -> common::TempStore {
    let t = temp_store();
    let root = t.dir.path();
    write(root, "agents/my-agent/config.yaml", AGENT);
    write(root, "agents/rich/config.yaml", RICH);
    write(root, "models.yaml", MODELS);
    write(root, "providers/openai.yaml", PROVIDER);
    write(root, "channels.yaml", CHANNELS);
    write(root, "profile.yaml", PROFILE);
    write(root, "sessions/s1/session.yaml", SESSION);
    t
}

#[test]
fn a_changed_agent_field_changes_its_value_and_keeps_its_comment() {
    let t = commented_store();
    t.store
        .agents()
        .update("my-agent", |a| {
            a.temperature = Some(0.2);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        replaced(AGENT, "temperature: 0.7  #", "temperature: 0.2  #")
    );
}

#[test]
fn a_removed_agent_field_takes_only_its_line() {
    let t = commented_store();
    t.store
        .agents()
        .update("my-agent", |a| {
            a.description = None;
            a.max_tokens = None;
            Ok(())
        })
        .unwrap();
    let expected = replaced(AGENT, "description: A helpful assistant\n", "");
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        replaced(&expected, "max_tokens: 4096\n", "")
    );
}

#[test]
fn a_new_agent_field_goes_after_its_known_neighbour() {
    let t = commented_store();
    t.store
        .agents()
        .update("rich", |a| {
            a.max_tokens = Some(512);
            a.description = Some("Careful".into());
            Ok(())
        })
        .unwrap();
    let expected = replaced(
        RICH,
        "temperature: 0.5\n",
        "temperature: 0.5\nmax_tokens: 512\n",
    );
    assert_eq!(
        read(t.dir.path(), "agents/rich/config.yaml"),
        replaced(
            &expected,
            "name: Rich\n",
            "name: Rich\ndescription: Careful\n"
        )
    );
}

#[test]
fn anchors_aliases_block_scalars_flow_maps_and_unknown_fields_stay() {
    let t = commented_store();
    let written = t
        .store
        .agents()
        .update("rich", |a| {
            a.system_prompt = Some("You are careful.\nAnswer in full.\n".into());
            a.extra.insert("x-owner".into(), "ann".into());
            Ok(())
        })
        .unwrap();
    let expected = replaced(RICH, "  Answer briefly.\n", "  Answer in full.\n");
    assert_eq!(
        read(t.dir.path(), "agents/rich/config.yaml"),
        format!("{expected}x-owner: ann\n")
    );
    assert_eq!(written.value.extra["x-used"]["retries"].as_u64(), Some(3));
}

#[test]
fn save_if_unchanged_edits_in_place_too() {
    let t = commented_store();
    let mut agent = t.store.agents().get_versioned("my-agent").unwrap();
    agent.value.name = "Helper".into();
    t.store
        .agents()
        .save_if_unchanged(&agent.value, &agent.revision)
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        replaced(AGENT, "name: My Agent\n", "name: Helper\n")
    );
}

#[test]
fn a_new_default_model_changes_one_value() {
    let t = commented_store();
    t.store
        .models()
        .set_default(Some("my-custom-model"))
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        replaced(
            MODELS,
            "default: claude-3-sonnet  #",
            "default: my-custom-model  #"
        )
    );
}

#[test]
fn a_disabled_model_changes_or_gains_one_line() {
    let t = commented_store();
    t.store.models().disable("claude-3-sonnet").unwrap();
    t.store.models().disable("my-custom-model").unwrap();
    let expected = replaced(MODELS, "    enabled: true\n", "    enabled: false\n");
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        replaced(
            &expected,
            "    base_model: gpt-4\n",
            "    base_model: gpt-4\n    enabled: false\n"
        )
    );
}

#[test]
fn an_added_model_goes_last_at_the_lists_indentation() {
    let t = commented_store();
    t.store
        .models()
        .add(ModelEntry::new("gpt-4o", "openai"))
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        format!("{MODELS}  - id: gpt-4o\n    provider: openai\n")
    );
}

#[test]
fn a_removed_model_takes_its_entry_and_keeps_the_others_comments() {
    let t = commented_store();
    t.store
        .models()
        .set_default(Some("my-custom-model"))
        .unwrap();
    t.store.models().delete("claude-3-sonnet").unwrap();
    let expected = replaced(
        MODELS,
        "default: claude-3-sonnet  #",
        "default: my-custom-model  #",
    );
    // The comment above the removed entry stays: yaml-edit keeps a comment line with the list.
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        replaced(
            &expected,
            "  - id: claude-3-sonnet\n    provider: anthropic\n    enabled: true\n",
            ""
        )
    );
}

#[test]
fn a_changed_provider_keeps_its_comments_and_blank_line() {
    let t = commented_store();
    let mut provider = t.store.providers().get("openai").unwrap();
    provider.base_url = Some("https://proxy.example.com/v1".into());
    t.store.providers().set(&provider).unwrap();
    assert_eq!(
        read(t.dir.path(), "providers/openai.yaml"),
        replaced(
            PROVIDER,
            "https://api.openai.com/v1   #",
            "https://proxy.example.com/v1   #"
        )
    );
    t.store
        .providers()
        .upsert("openai", |p| {
            p.enabled = Some(false);
            Ok(())
        })
        .unwrap();
    let text = read(t.dir.path(), "providers/openai.yaml");
    assert_eq!(
        text,
        format!(
            "{}enabled: false\n",
            replaced(
                PROVIDER,
                "https://api.openai.com/v1   #",
                "https://proxy.example.com/v1   #"
            )
        )
    );
    let _: ProviderConfig = t.store.providers().get("openai").unwrap();
}

#[test]
fn a_changed_channel_keeps_flow_settings_and_comments() {
    let t = commented_store();
    t.store
        .channels()
        .update(|c| {
            c.channels[0].settings.insert("chat".into(), 43.into());
            c.channels[1].enabled = Some(true);
            Ok(())
        })
        .unwrap();
    let expected = replaced(
        CHANNELS,
        "{chat: 42, mode: quiet}",
        "{chat: 43, mode: quiet}",
    );
    assert_eq!(
        read(t.dir.path(), "channels.yaml"),
        replaced(&expected, "  enabled: false   #", "  enabled: true   #")
    );
    assert_eq!(
        t.store.channels().get("web").unwrap().kind,
        ChannelKind::Web
    );
}

#[test]
fn a_changed_profile_keeps_the_quoting_of_the_changed_value() {
    let t = commented_store();
    let mut profile = t.store.profile().get().unwrap().expect("signed in");
    profile.display_name = Some("Ann B.".into());
    t.store.profile().save(&profile).unwrap();
    assert_eq!(
        read(t.dir.path(), "profile.yaml"),
        replaced(
            PROFILE,
            "display_name: \"Ann\"   #",
            "display_name: \"Ann B.\"   #"
        )
    );
}

#[test]
fn a_changed_session_title_keeps_its_quotes_and_updates_its_time() {
    let t = commented_store();
    write(t.dir.path(), "agents/my-agent/config.yaml", AGENT);
    let written = t
        .store
        .sessions()
        .update("s1", |s| {
            s.title = Some("Release notes, final".into());
            Ok(())
        })
        .unwrap();
    let updated = written
        .value
        .updated_at
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let expected = replaced(SESSION, "'Release notes'  #", "'Release notes, final'  #");
    assert_eq!(
        read(t.dir.path(), "sessions/s1/session.yaml"),
        replaced(
            &expected,
            "updated_at: 2026-01-02T03:04:05Z\n",
            &format!("updated_at: {updated}\n")
        )
    );
}

#[test]
fn a_file_of_only_comments_keeps_them_above_the_new_value() {
    let t = temp_store();
    write(
        t.dir.path(),
        "models.yaml",
        "# models go here\n# one per entry\n",
    );
    t.store
        .models()
        .add(ModelEntry::new("gpt-4o", "openai"))
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        "# models go here\n# one per entry\nmodels:\n- id: gpt-4o\n  provider: openai\n"
    );
}

#[test]
fn a_change_the_editor_cannot_express_falls_back_to_a_full_rewrite_that_reads_back() {
    // A changed tagged value is not edited in place: the file is written whole by serde
    // (its comments go), and still reads back as the value saved.
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        "# a note\nid: a\nname: A\nmodel: m\nprovider: p\nshape: !circle {r: 1}\n",
    );
    let tagged: serde_yaml::Value =
        serde_yaml::from_str("!square {side: 2}").expect("a tagged value");
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let written = tracing::subscriber::with_default(subscriber, || {
        t.store.agents().update("a", |a| {
            a.extra.insert("shape".into(), tagged.clone());
            Ok(())
        })
    })
    .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/a/config.yaml"),
        "id: a\nname: A\nmodel: m\nprovider: p\nshape: !square\n  side: 2\n"
    );
    assert_eq!(t.store.agents().get("a").unwrap(), written.value);
    let log = log.text();
    assert!(
        log.contains("WARN viben_store::save")
            && log.contains("could not edit in place")
            && log.contains("path=agents/a/config.yaml")
            && log.contains("reason=a changed value has a tag"),
        "{log}"
    );
    assert!(!log.contains("square") && !log.contains("circle"), "{log}");
}

/// What a test's subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn the_commented_seed_examples_hold_the_seeds_values() {
    let plain = common::seed_store();
    let t = commented_store();
    assert_eq!(
        t.store.agents().get("my-agent").unwrap(),
        plain.store.agents().get("my-agent").unwrap()
    );
    assert_eq!(
        t.store.models().document().unwrap(),
        plain.store.models().document().unwrap()
    );
}

#[test]
fn an_added_and_a_removed_channel_touch_only_their_entry() {
    let t = commented_store();
    let mut slack = t.store.channels().get("web").unwrap();
    slack.id = "team".into();
    slack.kind = ChannelKind::Slack;
    slack.enabled = None;
    t.store.channels().add(slack).unwrap();
    let added = format!("{CHANNELS}- id: team\n  kind: slack\n  agent: my-agent\n");
    assert_eq!(read(t.dir.path(), "channels.yaml"), added);
    t.store.channels().delete("tg").unwrap();
    assert_eq!(
        read(t.dir.path(), "channels.yaml"),
        replaced(
            &added,
            "- id: tg        # the team's bot\n  kind: telegram\n  agent: my-agent\n  settings: {chat: 42, mode: quiet}\n",
            ""
        )
    );
}

#[test]
fn a_replaced_model_entry_changes_only_its_changed_fields() {
    let t = commented_store();
    let mut entry = t.store.models().get("my-custom-model").unwrap();
    entry.temperature = Some(0.3);
    entry.name = None;
    t.store.models().set(entry).unwrap();
    let expected = replaced(MODELS, "    name: My Custom Model\n", "");
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        replaced(&expected, "temperature: 0.7   #", "temperature: 0.3   #")
    );
}
