//! Each CLI command that changes an existing file edits it in place: on the commented
//! fixtures, the whole resulting file is asserted, so only the changed values differ.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::fs;
use std::path::Path;

use common::{viben, viben_with};

const AGENT: &str = include_str!("../../viben-store/tests/fixtures/commented/agent-config.yaml");
const MODELS: &str = include_str!("../../viben-store/tests/fixtures/commented/models.yaml");
const PROVIDER: &str = include_str!("../../viben-store/tests/fixtures/commented/provider.yaml");

/// A private home holding the commented agent, catalog and provider.
fn commented_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    let h = home.path();
    std::fs::set_permissions(h, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("make the folder private");
    for (rel, text) in [
        ("agents/my-agent/config.yaml", AGENT),
        ("models.yaml", MODELS),
        ("providers/openai.yaml", PROVIDER),
        (
            "providers/anthropic.yaml",
            "name: anthropic\napi_key_env: ANTHROPIC_API_KEY\n",
        ),
    ] {
        let path = h.join(rel);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        fs::write(path, text).expect("write the fixture");
    }
    home
}

fn read(home: &Path, rel: &str) -> String {
    fs::read_to_string(home.join(rel)).expect("read the file")
}

/// `text` with `old` (which must be there, once) replaced by `new`.
fn replaced(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} once in the fixture");
    text.replacen(old, new, 1)
}

#[test]
fn agents_edit_temperature_changes_one_value_and_keeps_its_comment() {
    let home = commented_home();
    let h = home.path();
    viben(h, &["agents", "edit", "my-agent", "--temperature", "0.2"]).ok();
    assert_eq!(
        read(h, "agents/my-agent/config.yaml"),
        replaced(AGENT, "temperature: 0.7  #", "temperature: 0.2  #")
    );
}

#[test]
fn agents_edit_of_several_fields_changes_only_those() {
    let home = commented_home();
    let h = home.path();
    viben(
        h,
        &[
            "agents",
            "edit",
            "my-agent",
            "--description",
            "Writes release notes",
            "--max-tokens",
            "1024",
        ],
    )
    .ok();
    let expected = replaced(
        AGENT,
        "description: A helpful assistant\n",
        "description: Writes release notes\n",
    );
    assert_eq!(
        read(h, "agents/my-agent/config.yaml"),
        replaced(&expected, "max_tokens: 4096\n", "max_tokens: 1024\n")
    );
}

#[test]
fn providers_set_changes_one_value_and_keeps_comments_and_blank_lines() {
    let home = commented_home();
    let h = home.path();
    viben(
        h,
        &[
            "providers",
            "set",
            "openai",
            "--base-url",
            "https://proxy.example.com/v1",
        ],
    )
    .ok();
    let expected = replaced(
        PROVIDER,
        "https://api.openai.com/v1   #",
        "https://proxy.example.com/v1   #",
    );
    assert_eq!(read(h, "providers/openai.yaml"), expected);
    viben_with(
        h,
        None,
        "",
        &[
            "providers",
            "set",
            "openai",
            "--api-key-env",
            "TEAM_OPENAI_KEY",
        ],
    )
    .ok();
    assert_eq!(
        read(h, "providers/openai.yaml"),
        replaced(
            &expected,
            "api_key_env: OPENAI_API_KEY  #",
            "api_key_env: TEAM_OPENAI_KEY  #"
        )
    );
}

#[test]
fn models_default_changes_one_value() {
    let home = commented_home();
    let h = home.path();
    viben(h, &["models", "default", "my-custom-model"]).ok();
    assert_eq!(
        read(h, "models.yaml"),
        replaced(
            MODELS,
            "default: claude-3-sonnet  #",
            "default: my-custom-model  #"
        )
    );
}

#[test]
fn models_disable_and_enable_change_one_line_each() {
    let home = commented_home();
    let h = home.path();
    viben(h, &["models", "disable", "my-custom-model"]).ok();
    let disabled = replaced(
        MODELS,
        "    base_model: gpt-4\n",
        "    base_model: gpt-4\n    enabled: false\n",
    );
    assert_eq!(read(h, "models.yaml"), disabled);
    viben(h, &["models", "enable", "my-custom-model"]).ok();
    assert_eq!(
        read(h, "models.yaml"),
        replaced(&disabled, "    enabled: false\n", "    enabled: true\n")
    );
}

#[test]
fn models_add_and_remove_touch_only_their_entry() {
    let home = commented_home();
    let h = home.path();
    viben(h, &["models", "add", "gpt-4o", "--provider", "openai"]).ok();
    let added = format!("{MODELS}  - id: gpt-4o\n    provider: openai\n");
    assert_eq!(read(h, "models.yaml"), added);
    viben(h, &["models", "remove", "my-custom-model"]).ok();
    // The comment line above the removed entry stays where it was (yaml-edit keeps it).
    assert_eq!(
        read(h, "models.yaml"),
        replaced(
            &added,
            "  - id: my-custom-model\n    name: My Custom Model\n    provider: openai\n    base_model: gpt-4\n    temperature: 0.7   # tuned by hand\n",
            ""
        )
    );
}
