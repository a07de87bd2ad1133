//! Secrets beyond `api_key`, end to end through the binary: no command prints one, in a table
//! or in `--json`, whatever field or form it hides in.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::{create_agent, viben, viben_with};

fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    viben(home.path(), &["init"]).ok();
    home
}

/// Asserts that no output of `args` (plain and `--json`) contains any of `secrets`.
#[track_caller]
fn never_shown(home: &std::path::Path, args: &[&str], secrets: &[&str]) {
    for json in [false, true] {
        let mut args = args.to_vec();
        if json {
            args.push("--json");
        }
        let run = viben(home, &args);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        for secret in secrets {
            assert!(!all.contains(secret), "{args:?} printed {secret:?}: {all}");
        }
    }
}

#[test]
fn provider_credentials_in_urls_and_header_settings_are_masked_everywhere() {
    let home = home();
    let h = home.path();
    viben(
        h,
        &[
            "providers",
            "set",
            "p",
            "--base-url",
            "https://me:hunter2-pw@llm.example.com/v1?api_key=qsecret1&region=eu",
            "--api-key-env",
            "P_KEY",
        ],
    )
    .ok();
    // Header-like settings as a person adds them by hand.
    let file = h.join("providers/p.yaml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(
        "headers:\n  Authorization: Bearer hsecret-authorization\n  x-api-key: hsecret-xapikey\n  \
         api-key: hsecret-apikey\n  Accept: application/json\nauth: hsecret-auth\n",
    );
    std::fs::write(&file, text).unwrap();
    let secrets = [
        "hunter2-pw",
        "qsecret1",
        "hsecret-authorization",
        "hsecret-xapikey",
        "hsecret-apikey",
        "hsecret-auth",
    ];
    never_shown(h, &["providers", "list"], &secrets);
    never_shown(h, &["providers", "show", "p"], &secrets);
    let shown = viben(h, &["providers", "show", "p", "--json"]).json();
    assert_eq!(
        shown["base_url"],
        "https://me:***@llm.example.com/v1?api_key=***&region=eu"
    );
    assert_eq!(shown["headers"]["Accept"], "application/json");
}

#[test]
fn webhook_urls_and_tokens_in_channel_settings_are_masked_everywhere() {
    let home = home();
    let h = home.path();
    std::fs::write(
        h.join("channels.yaml"),
        "channels:\n\
         - id: slack\n  kind: slack\n  agent: a\n  settings:\n    \
         webhook_url: https://hooks.slack.com/services/T0001/B0001/slacksecretpart\n\
         - id: discord\n  kind: discord\n  agent: a\n  settings:\n    \
         url: https://discord.com/api/webhooks/1234/discordsecretpart\n\
         - id: tg\n  kind: telegram\n  agent: a\n  settings:\n    \
         endpoint: https://api.telegram.org/bot123:telegramsecretpart/sendMessage\n    \
         signing_key: signsecret\n",
    )
    .expect("the file is written");
    let secrets = [
        "slacksecretpart",
        "discordsecretpart",
        "telegramsecretpart",
        "signsecret",
    ];
    never_shown(h, &["channels", "list"], &secrets);
    for id in ["slack", "discord", "tg"] {
        never_shown(h, &["channels", "show", id], &secrets);
    }
    let shown = viben(h, &["channels", "show", "slack", "--json"]).json();
    assert_eq!(
        shown["settings"]["webhook_url"],
        "https://hooks.slack.com/services/***"
    );
}

#[test]
fn a_key_passed_as_the_variable_name_is_refused_without_echoing_it() {
    let home = home();
    let h = home.path();
    let key = "sk-ant-api03-PASTEDKEY";
    let run = viben(h, &["providers", "set", "p", "--api-key-env", key]);
    assert_eq!(run.code, 2, "a wrong flag value is a usage error: {run:?}");
    assert!(!run.stderr.contains("PASTEDKEY"), "{run:?}");
    assert!(run.stderr.contains("--api-key-stdin"), "{run:?}");
    assert!(!h.join("providers/p.yaml").exists(), "nothing is written");
    // The same mistake made by hand in the file: `check` names the line, not the key.
    std::fs::write(
        h.join("providers/p.yaml"),
        format!("name: p\napi_key_env: {key}\n"),
    )
    .expect("the file is written");
    let run = viben(h, &["check"]);
    assert!(run.stdout.contains("providers/p.yaml:2"), "{run:?}");
    assert!(!format!("{run:?}").contains("PASTEDKEY"), "{run:?}");
}

#[test]
fn only_the_first_line_of_stdin_becomes_the_key() {
    let home = home();
    let h = home.path();
    // What `pass show` prints: the password, then notes.
    let input = "sk-first-line-key\nlogin: me@example.com\nurl: https://example.com\n";
    let run = viben_with(
        h,
        None,
        input,
        &["providers", "set", "p", "--api-key-stdin"],
    );
    run.ok();
    assert!(run.stderr.contains("ignored 2 more line(s)"), "{run:?}");
    assert!(!run.stderr.contains("me@example.com"), "{run:?}");
    let stored = std::fs::read_to_string(h.join("providers/p.yaml")).unwrap();
    let stored: serde_json::Value = serde_yaml_as_json(&stored);
    assert_eq!(stored["api_key"], "sk-first-line-key");

    let run = viben_with(
        h,
        None,
        "\nsk-second-line\n",
        &["providers", "set", "p", "--api-key-stdin"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("first line"), "{run:?}");
}

/// The few `key: value` lines of a provider file as JSON (no YAML parser in this crate's tests).
fn serde_yaml_as_json(text: &str) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = text
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim_matches(['\'', '"']).into()))
        .collect();
    serde_json::Value::Object(map)
}

#[test]
fn secrets_added_by_hand_to_agents_and_models_are_masked_everywhere() {
    let home = home();
    let h = home.path();
    std::fs::write(
        h.join("models.yaml"),
        "models:\n- id: m\n  provider: p\n  x-api-key: modelsecret\n",
    )
    .expect("the file is written");
    create_agent(h, "a");
    let file = h.join("agents/a/config.yaml");
    let mut text = std::fs::read_to_string(&file).expect("the config is there");
    text.push_str("api_key: agentsecret\nproxy: https://u:proxysecret@proxy.example.com\n");
    std::fs::write(&file, text).expect("the file is written");
    let secrets = ["modelsecret", "agentsecret", "proxysecret"];
    never_shown(h, &["agents", "list"], &secrets);
    never_shown(h, &["agents", "show", "a"], &secrets);
    never_shown(h, &["models", "list"], &secrets);
}
