//! `--json` on every command: the commands are found by walking `viben --help`, so a command
//! added later is covered without touching this file.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::path::Path;

use common::{viben, viben_with};
use viben_db::testing::TestDatabase;

/// Commands whose success output is still plain text with `--json`: their files belong to
/// other work in progress, which should print through `output::done`/`print_json`. Remove an
/// entry once its command prints JSON; the test then holds it to that.
const PLAIN_TEXT_ON_SUCCESS_YET: &[&str] = &[];

/// The subcommand names listed under `Commands:` in `viben <path> --help` (without `help`).
fn subcommands(path: &[String]) -> Vec<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let home = tempfile::tempdir().expect("a temporary folder");
    let help = viben(home.path(), &args).ok().to_owned();
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every leaf command, as the words that name it (`["db", "users", "list"]`).
fn leaf_commands(path: Vec<String>) -> Vec<Vec<String>> {
    let children = subcommands(&path);
    if children.is_empty() {
        return vec![path];
    }
    children
        .into_iter()
        .flat_map(|child| {
            let mut longer = path.clone();
            longer.push(child);
            leaf_commands(longer)
        })
        .collect()
}

/// Splits a usage line into its top-level words, keeping `<...>` and `[...]` groups whole.
fn usage_words(usage: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    for c in usage.chars() {
        match c {
            '<' | '[' => depth += 1,
            '>' | ']' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A value for a placeholder, chosen so most commands find what the seeded home holds.
/// Stands for a file path in the arguments [`value_for`] fills in.
const FILE: &str = "<file>";

fn value_for(placeholder: &str) -> String {
    match placeholder.trim_matches(['<', '>']) {
        "N" | "B" | "LIMIT" => "1".into(),
        "EMAIL" => "a@example.com".into(),
        "ROLE" => "user".into(),
        // Replaced by a path in the test's own folder: a command writing FILE (`backup`)
        // must not litter the working directory.
        "FILE" => FILE.into(),
        _ => "a".into(),
    }
}

/// The required arguments of a leaf command, filled in from its usage line.
fn required_args(path: &[String]) -> Vec<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let home = tempfile::tempdir().expect("a temporary folder");
    let help = viben(home.path(), &args).ok().to_owned();
    let usage = help
        .lines()
        .find_map(|line| line.strip_prefix("Usage: "))
        .expect("help has a usage line");
    // Skip the program's own name and the command's words.
    let words = usage_words(usage);
    fill(&words[1 + path.len()..])
}

fn fill(words: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    let mut words = words.iter().peekable();
    while let Some(word) = words.next() {
        if word.starts_with('[') {
            continue; // [OPTIONS], an optional positional
        }
        if word.starts_with("<--") {
            // A required choice, `<--keep-days <N>|--max-bytes <B>>`: take the first.
            let inner = &word[1..word.len() - 1];
            let first = inner.split('|').next().unwrap_or_default();
            args.extend(fill(&usage_words(first)));
            continue;
        }
        if word.starts_with("--") {
            args.push(word.clone());
            if let Some(next) = words.peek()
                && next.starts_with('<')
                && !next.starts_with("<--")
            {
                args.push(value_for(next));
                words.next();
            }
            continue;
        }
        if word.starts_with('<') {
            args.push(value_for(word));
        }
    }
    args
}

/// A home holding an agent, a model, a provider, a channel and a session, all named `a`.
fn seeded(home: &Path) {
    viben(home, &["init"]).ok();
    viben(home, &["models", "add", "a", "--provider", "a"]).ok();
    viben(home, &["providers", "set", "a", "--api-key-env", "A_KEY"]).ok();
    viben(
        home,
        &[
            "agents",
            "create",
            "a",
            "--name",
            "A",
            "--model",
            "a",
            "--provider",
            "a",
        ],
    )
    .ok();
    std::fs::write(
        home.join("channels.yaml"),
        "channels:\n- id: a\n  kind: web\n  agent: a\n",
    )
    .expect("the seed file is written");
    let dir = home.join("sessions/a");
    std::fs::create_dir_all(&dir).expect("the session folder is made");
    std::fs::write(
        dir.join("session.yaml"),
        "id: a\nagent_id: a\ncreated_at: 2026-01-02T03:04:05Z\nupdated_at: 2026-01-02T03:04:05Z\n",
    )
    .expect("the seed file is written");
    std::fs::write(
        dir.join("messages.jsonl"),
        "{\"role\":\"user\",\"content\":\"hi\",\"created_at\":\"2026-01-02T03:04:06Z\"}\n",
    )
    .expect("the seed file is written");
}

#[test]
fn every_command_takes_json_and_fails_with_one_json_object() {
    let mut commands = leaf_commands(Vec::new());
    // `watch` runs until interrupted: `tests/watch_command.rs` checks its --json stream.
    commands.retain(|c| c.as_slice() != ["watch"]);
    // `studio` serves until interrupted: `viben-studio`'s own tests drive it.
    commands.retain(|c| c.as_slice() != ["studio"]);
    // What removes things runs last, so the others find what the seeded home holds.
    commands.sort_by_key(|c| {
        c.last()
            .is_some_and(|verb| matches!(verb.as_str(), "delete" | "remove" | "revert"))
    });
    let names: Vec<String> = commands.iter().map(|c| c.join(" ")).collect();
    for expected in ["check", "doctor", "models default", "db users list"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in {names:?}"
        );
    }
    let database = TestDatabase::new();
    let url = database.url().expose().to_owned();
    let home = tempfile::tempdir().expect("a temporary folder");
    let h = home.path();
    seeded(h);
    let files = tempfile::tempdir().expect("a temporary folder");
    let file = files.path().join("file").display().to_string();

    for (command, name) in commands.iter().zip(&names) {
        let mut args = command.clone();
        args.extend(
            required_args(command)
                .into_iter()
                .map(|arg| if arg == FILE { file.clone() } else { arg }),
        );
        args.push("--json".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = viben_with(h, Some(&url), "", &args);
        assert_ne!(run.code, 101, "{args:?} panicked: {run:?}");
        // A usage error is allowed (`agents edit a` with no field), one about --json is not.
        assert!(
            run.code != 2 || !run.stderr.contains("--json"),
            "{args:?} refused --json: {run:?}"
        );
        let objects: Vec<serde_json::Value> = run
            .stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("{args:?}: stderr line is not JSON: {line:?}"))
            })
            .collect();
        assert!(
            objects.iter().all(serde_json::Value::is_object),
            "{args:?}: {run:?}"
        );
        if run.code == 0 {
            assert!(
                objects.iter().all(|o| o.get("error").is_none()),
                "{args:?}: {run:?}"
            );
        } else {
            let errors: Vec<_> = objects
                .iter()
                .filter(|o| o.get("error").is_some())
                .collect();
            assert_eq!(errors.len(), 1, "{args:?}: one error object: {run:?}");
            assert!(errors[0]["error"].is_string(), "{args:?}: {run:?}");
            assert!(
                errors[0].get("hint").is_some(),
                "{args:?}: the hint key is always there: {run:?}"
            );
        }
        if run.code == 0
            && !run.stdout.trim().is_empty()
            && !PLAIN_TEXT_ON_SUCCESS_YET.contains(&name.as_str())
        {
            serde_json::from_str::<serde_json::Value>(&run.stdout)
                .unwrap_or_else(|_| panic!("{args:?}: stdout is not one JSON document: {run:?}"));
        }
    }
}

#[test]
fn json_before_the_command_works_like_json_after_it() {
    let home = tempfile::tempdir().expect("a temporary folder");
    seeded(home.path());
    let before = viben(home.path(), &["--json", "agents", "list"]).json();
    let after = viben(home.path(), &["agents", "list", "--json"]).json();
    assert_eq!(before, after);
    assert_eq!(before[0]["id"], "a");
}

#[test]
fn with_json_a_usage_error_is_one_json_object_and_exit_2() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let run = viben(home.path(), &["agents", "create", "x", "--json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("one object");
    let message = error["error"].as_str().unwrap();
    assert!(message.contains("--name"), "{message}");
    assert!(error["hint"].as_str().unwrap().contains("Usage"), "{error}");
    assert_eq!(run.stdout, "");
}

#[test]
fn with_json_a_failure_keeps_its_exit_code_and_hint() {
    let home = tempfile::tempdir().expect("a temporary folder");
    viben(home.path(), &["init"]).ok();
    let run = viben(home.path(), &["models", "default", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("one object");
    assert_eq!(error["error"], "models.yaml sets no default model");
    assert_eq!(error["hint"], "set one with `viben models default <id>`");
}

#[test]
fn with_json_a_database_error_gives_its_message_with_cause_and_its_hint_apart() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let database = viben_db::testing::TestDatabase::empty();
    let url = database.url().expose().to_owned();
    let run = viben_with(
        home.path(),
        Some(&url),
        "",
        &["db", "users", "list", "--json"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("one object");
    let message = error["error"].as_str().expect("a message");
    assert!(
        message.starts_with("table users does not exist in this database: "),
        "{message}"
    );
    assert!(!message.contains("viben db migrate"), "{message}");
    let hint = error["hint"].as_str().expect("a hint");
    assert!(hint.starts_with("run `viben db migrate`"), "{hint}");
}
