//! What reaches the terminal: cells of any size, stored control characters, and stdout that is
//! closed or full. Each test runs the real binary on a temporary home.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use common::viben;
use unicode_width::UnicodeWidthStr;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// A home whose agent, model, provider, channel and session each hold `value` in a free-text
/// field (as a hand edit or another app could leave it).
fn home_holding(value: &str) -> tempfile::TempDir {
    let home = home();
    let h = home.path();
    viben(h, &["init"]).ok();
    let yaml = yaml_quoted(value);
    std::fs::write(
        h.join("models.yaml"),
        format!("models:\n- id: m\n  provider: p\n  name: {yaml}\n  base_model: {yaml}\n"),
    )
    .expect("the file is written");
    std::fs::write(
        h.join("providers/p.yaml"),
        format!("name: p\nbase_url: {yaml}\nnote: {yaml}\n"),
    )
    .expect("the file is written");
    std::fs::write(
        h.join("channels.yaml"),
        format!("channels:\n- id: c\n  kind: web\n  agent: a\n  settings:\n    topic: {yaml}\n"),
    )
    .expect("the file is written");
    // Through the command line where the kernel allows an argument that long (128 KiB), as the
    // issue's `agents create --system-prompt <64 KiB>`; by hand otherwise.
    let prompt = if value.len() < 100_000 {
        value
    } else {
        "short"
    };
    viben(
        h,
        &[
            "agents",
            "create",
            "a",
            "--name",
            "A",
            "--model",
            "m",
            "--provider",
            "p",
            "--system-prompt",
            prompt,
        ],
    )
    .ok();
    std::fs::write(
        h.join("agents/a/config.yaml"),
        format!(
            "id: a\nname: {yaml}\nmodel: m\nprovider: p\ndescription: {yaml}\n\
             system_prompt: {yaml}\n"
        ),
    )
    .expect("the file is written");
    let dir = h.join("sessions/s1");
    std::fs::create_dir_all(&dir).expect("the folder is made");
    std::fs::write(
        dir.join("session.yaml"),
        format!(
            "id: s1\nagent_id: a\ntitle: {yaml}\ncreated_at: 2026-01-02T03:04:05Z\n\
             updated_at: 2026-01-02T03:04:05Z\n"
        ),
    )
    .expect("the file is written");
    home
}

/// `value` as a YAML double-quoted scalar: YAML allows no raw control characters in a file, so
/// they are written as escapes, which the store reads back as the characters themselves.
fn yaml_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || ('\u{2000}'..='\u{206f}').contains(&c) => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every command that prints a table, as a user runs it.
const TABLE_COMMANDS: &[&[&str]] = &[
    &["agents", "list"],
    &["agents", "show", "a"],
    &["models", "list"],
    &["providers", "list"],
    &["providers", "show", "p"],
    &["channels", "list"],
    &["channels", "show", "c"],
    &["sessions", "list"],
];

#[test]
fn a_cell_of_any_length_never_panics_and_listings_shorten_it_by_display_width() {
    // 65,536 was where `format!("{:<width$}")` panicked; wide and multi-byte characters must be
    // counted in columns, not bytes or chars.
    for filler in ["x", "é", "日", "😀"] {
        let long = filler.repeat(70_000);
        let home = home_holding(&long);
        for args in TABLE_COMMANDS {
            let run = viben(home.path(), args);
            let out = run.ok();
            let is_record = args[1] == "show";
            for line in out.lines() {
                let width = UnicodeWidthStr::width(line);
                if is_record && line.starts_with("system_prompt") {
                    assert!(
                        line.ends_with(&long),
                        "{args:?}: show gives the value whole"
                    );
                } else if !is_record {
                    // Six columns at most, each at most 60 wide, two spaces apart.
                    assert!(
                        width <= 6 * 60 + 5 * 2,
                        "{args:?} with {filler:?}: a listing line is {width} columns"
                    );
                }
            }
            if !is_record && args[0] != "channels" {
                assert!(out.contains('…'), "{args:?}: a shortened cell ends in …");
            }
        }
        let json = viben(home.path(), &["agents", "show", "a", "--json"]).json();
        assert_eq!(
            json["system_prompt"],
            long.as_str(),
            "--json gives it whole"
        );
    }
}

#[test]
fn stored_control_characters_are_shown_escaped_and_json_stays_exact() {
    // An erase-screen, an OSC window-title sequence ended by BEL, a C1 CSI and a bidi override.
    let hostile = "A\u{1b}[2J\u{1b}]0;owned\u{7}B\u{9b}31mC\u{202e}D";
    let home = home_holding(hostile);
    let raw = ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'];
    for args in TABLE_COMMANDS {
        let run = viben(home.path(), args);
        let out = run.ok();
        assert!(
            !out.contains(raw),
            "{args:?} printed a raw control character: {out:?}"
        );
        if args != &["channels", "list"] {
            assert!(
                out.contains("\\u{1b}[2J"),
                "{args:?} shows it escaped: {out}"
            );
        }
    }
    // `check` quotes stored values in its problems (the channel's agent exists, so make one
    // that does not) and errors quote them too.
    std::fs::write(
        home.path().join("channels.yaml"),
        "channels:\n- id: c\n  kind: web\n  agent: \"x\\e[2J\\u009b\\u202e\"\n  settings:\n    topic: \"\\e]0;t\\a\"\n",
    )
    .expect("the file is written");
    for args in [&["check"][..], &["channels", "show", "c"]] {
        let run = viben(home.path(), args);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains(raw),
            "{args:?} printed a raw control character: {all:?}"
        );
    }
    let json = viben(home.path(), &["agents", "show", "a", "--json"]).json();
    assert_eq!(json["name"], hostile, "--json is exact JSON");
}

/// Runs `viben --home <home> args...` with stdout on a pipe whose reading end is already
/// closed, as `viben check | head -1` leaves it once `head` has its line.
fn with_closed_stdout(home: &Path, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("viben runs");
    (
        output.status.code().expect("viben exited, not killed"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `viben --home <home> args...` with stdout on /dev/full.
fn with_full_stdout(home: &Path, args: &[&str]) -> (i32, String) {
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = Command::new(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("viben runs");
    (
        output.status.code().expect("viben exited, not killed"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Commands that print something on success, in plain text and JSON.
const PRINTING_COMMANDS: &[&[&str]] = &[
    &["init"],
    &["check"],
    &["doctor"],
    &["agents", "list"],
    &["agents", "show", "a"],
    &["models", "list"],
    &["providers", "list"],
    &["channels", "list"],
    &["--json", "check"],
    &["--json", "doctor"],
    &["--json", "agents", "list"],
    &["--help"],
];

/// A home holding `value` whose folder only its owner may enter, so `check` and `doctor` have
/// nothing to warn about.
fn private_home_holding(value: &str) -> tempfile::TempDir {
    let home = home_holding(value);
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("the home folder is made private");
    home
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_sigpipe_status() {
    let home = private_home_holding("v");
    for args in PRINTING_COMMANDS {
        let (code, stderr) = with_closed_stdout(home.path(), args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args == &["--help"] {
            assert_ne!(code, 101, "{args:?}: {stderr}");
            continue;
        }
        assert_eq!(code, 141, "{args:?}: {stderr}");
        assert_eq!(
            stderr, "",
            "{args:?}: a closed pipe is not an error to report"
        );
    }
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let home = private_home_holding("v");
    for args in PRINTING_COMMANDS {
        let (code, stderr) = with_full_stdout(home.path(), args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args == &["--help"] {
            assert_ne!(code, 101, "{args:?}: {stderr}");
            continue;
        }
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output") && stderr.contains("No space left"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn db_users_show_and_list_print_huge_and_hostile_names_without_panicking() {
    let database = viben_db::testing::TestDatabase::new();
    let url = database.url().expose().to_owned();
    let home = home();
    let h = home.path();
    let db = |args: &[&str]| common::viben_with(h, Some(&url), "", args);
    // Past 65,536 columns, where `format!` widths panicked; the arguments limit is 128 KiB.
    let long = format!("\u{1b}]0;owned\u{7}{}\u{202e}", "x".repeat(70_000));
    db(&[
        "db",
        "users",
        "create",
        "--email",
        "a@example.com",
        "--username",
        "alice",
        "--display-name",
        &long,
    ])
    .ok();
    for args in [
        &["db", "users", "show", "alice"][..],
        &["db", "users", "list"],
    ] {
        let run = db(args);
        let out = run.ok();
        assert!(
            !out.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{args:?} printed a raw control character"
        );
    }
    let json = db(&["db", "users", "show", "alice", "--json"]).json();
    assert_eq!(json["display_name"], long.as_str());
}
