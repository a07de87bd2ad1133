//! `channels set/delete/enable/disable`, `sessions export`, `backup` and `restore`, run as a
//! user runs them: the real binary on temporary homes.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{create_agent, viben, viben_limited, viben_with};

/// A store alone in a temporary folder (so a restore's neighbours can be looked at).
struct Home {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn empty_home() -> Home {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("viben");
    fs::create_dir(&root).expect("create the store folder");
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).expect("make it private");
    Home { _dir: dir, root }
}

/// A home with agent `a`, its provider `p` (API key inline) and model `m`.
fn seeded() -> Home {
    let home = empty_home();
    let h = &home.root;
    viben(h, &["models", "add", "m", "--provider", "p"]).ok();
    viben_with(
        h,
        None,
        "sk-live-cli-secret\n",
        &["providers", "set", "p", "--api-key-stdin"],
    )
    .ok();
    create_agent(h, "a");
    home
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .expect("inspect the file")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn channels_set_creates_with_kind_and_agent_then_changes_only_the_flags_given() {
    let home = seeded();
    let h = &home.root;
    let out = viben(
        h,
        &[
            "channels",
            "set",
            "tg",
            "--kind",
            "telegram",
            "--agent",
            "a",
            "--setting",
            "chat_id=42",
        ],
    );
    assert_eq!(out.ok(), "created channel tg\n");
    viben(
        h,
        &[
            "channels",
            "set",
            "tg",
            "--setting",
            "language=en",
            "--unset",
            "chat_id",
        ],
    )
    .ok();
    let shown = viben(h, &["channels", "show", "tg", "--json"]).json();
    assert_eq!(shown["kind"], "telegram");
    assert_eq!(shown["agent"], "a");
    assert_eq!(shown["settings"]["language"], "en");
    assert!(shown["settings"].get("chat_id").is_none(), "{shown}");
}

#[test]
fn channels_set_of_a_new_channel_without_kind_or_agent_is_a_usage_error_naming_them() {
    let home = seeded();
    let out = viben(&home.root, &["channels", "set", "tg", "--agent", "a"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("needs --kind and --agent"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("viben channels set tg --kind"),
        "{}",
        out.stderr
    );
    assert!(!home.root.join("channels.yaml").exists());
}

#[test]
fn a_bot_token_from_stdin_is_stored_privately_and_never_printed() {
    let home = seeded();
    let h = &home.root;
    viben(
        h,
        &[
            "channels", "set", "tg", "--kind", "telegram", "--agent", "a",
        ],
    )
    .ok();
    let out = viben_with(
        h,
        None,
        "123456:SECRET-TOKEN\nnotes from the password manager\n",
        &["channels", "set", "tg", "--token-stdin", "--json"],
    );
    let json = out.json();
    assert_eq!(json["channel"]["settings"]["bot_token"], "***");
    assert!(out.stderr.contains("ignored 1 more line"), "{}", out.stderr);
    assert!(!out.stderr.contains("notes from"), "{}", out.stderr);
    let file = h.join("channels.yaml");
    assert!(
        fs::read_to_string(&file)
            .expect("read channels.yaml")
            .contains("123456:SECRET-TOKEN")
    );
    assert_eq!(mode(&file), 0o600);
    for args in [
        &["channels", "show", "tg"][..],
        &["channels", "show", "tg", "--json"],
        &["channels", "list", "--json"],
    ] {
        let out = viben(h, args);
        assert!(
            !out.ok().contains("SECRET-TOKEN"),
            "{args:?}: {}",
            out.stdout
        );
    }
}

#[test]
fn a_bot_token_by_variable_replaces_an_inline_one() {
    let home = seeded();
    let h = &home.root;
    viben(
        h,
        &[
            "channels", "set", "tg", "--kind", "telegram", "--agent", "a",
        ],
    )
    .ok();
    viben_with(
        h,
        None,
        "tok\n",
        &["channels", "set", "tg", "--token-stdin"],
    )
    .ok();
    viben(
        h,
        &["channels", "set", "tg", "--token-env", "TELEGRAM_BOT_TOKEN"],
    )
    .ok();
    let text = fs::read_to_string(h.join("channels.yaml")).expect("read channels.yaml");
    assert!(text.contains("bot_token_env: TELEGRAM_BOT_TOKEN"), "{text}");
    assert!(
        !text.contains("tok\n") && !text.contains("bot_token: "),
        "{text}"
    );
}

#[test]
fn a_secret_given_as_a_setting_is_refused_without_being_echoed() {
    let home = seeded();
    let h = &home.root;
    for setting in [
        "bot_token=123:LEAKED",
        "hook=https://user:LEAKED@hooks.example.com/x",
    ] {
        let out = viben(
            h,
            &[
                "channels",
                "set",
                "tg",
                "--kind",
                "slack",
                "--agent",
                "a",
                "--setting",
                setting,
            ],
        );
        assert_eq!(out.code, 2, "{out:?}");
        assert!(!out.stderr.contains("LEAKED"), "{}", out.stderr);
        assert!(out.stderr.contains("--token-stdin"), "{}", out.stderr);
    }
    let out = viben(
        h,
        &[
            "channels",
            "set",
            "tg",
            "--kind",
            "slack",
            "--agent",
            "a",
            "--token-env",
            "xoxb-LEAKED-1",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("LEAKED"), "{}", out.stderr);
}

#[test]
fn enable_disable_and_delete_change_the_channel_and_say_so() {
    let home = seeded();
    let h = &home.root;
    viben(
        h,
        &[
            "channels", "set", "tg", "--kind", "telegram", "--agent", "a",
        ],
    )
    .ok();
    assert_eq!(
        viben(h, &["channels", "disable", "tg"]).ok(),
        "disabled channel tg\n"
    );
    let listed = viben(h, &["channels", "list", "--json"]).json();
    assert_eq!(listed[0]["enabled"], false);
    let enabled = viben(h, &["channels", "enable", "tg", "--json"]).json();
    assert_eq!(enabled["message"], "enabled channel tg");
    assert_eq!(enabled["channel"]["enabled"], true);
    assert_eq!(
        viben(h, &["channels", "delete", "tg"]).ok(),
        "deleted channel tg\n"
    );
    assert_eq!(
        viben(h, &["channels", "list", "--json"]).json(),
        serde_json::json!([])
    );
}

#[test]
fn a_missing_channel_or_agent_fails_with_a_hint_naming_the_command_that_helps() {
    let home = seeded();
    let h = &home.root;
    for verb in ["enable", "disable", "delete", "show"] {
        let err = viben(h, &["channels", verb, "nope"]).failed().to_owned();
        assert!(
            err.contains("channel \"nope\" does not exist"),
            "{verb}: {err}"
        );
        assert!(err.contains("viben channels list"), "{verb}: {err}");
    }
    let err = viben(
        h,
        &[
            "channels", "set", "tg", "--kind", "web", "--agent", "ghost", "--json",
        ],
    );
    let line: serde_json::Value =
        serde_json::from_str(err.failed().trim()).expect("one JSON object on stderr");
    assert!(
        line["hint"]
            .as_str()
            .is_some_and(|h| h.contains("viben agents create ghost")),
        "{line}"
    );
}

/// A session of agent `a` with two messages; the second tries to break a Markdown transcript.
fn session(h: &Path) -> String {
    let made = viben(
        h,
        &[
            "sessions",
            "create",
            "--agent",
            "a",
            "--title",
            "Plans *and* [links]",
            "--json",
        ],
    )
    .json();
    let id = made["id"].as_str().expect("an id").to_owned();
    viben(h, &["sessions", "append", &id, "--content", "hello"]).ok();
    viben_with(
        h,
        None,
        "# Not a heading of the transcript\n## assistant · forged\n```\nunclosed fence\n\u{1b}[2J\n",
        &["sessions", "append", &id, "--role", "assistant"],
    )
    .ok();
    id
}

#[test]
fn a_session_exports_as_json_lines_one_message_per_line() {
    let home = seeded();
    let id = session(&home.root);
    let out = viben(&home.root, &["sessions", "export", &id]);
    let lines: Vec<serde_json::Value> = out
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["role"], "user");
    assert_eq!(lines[0]["content"], "hello");
    assert!(
        lines[1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("unclosed fence"))
    );
}

#[test]
fn a_markdown_transcript_keeps_each_message_inside_its_quote() {
    let home = seeded();
    let id = session(&home.root);
    let out = viben(
        &home.root,
        &["sessions", "export", &id, "--format", "markdown"],
    );
    let text = out.ok();
    assert!(
        text.starts_with("# Plans \\*and\\* \\[links\\]\n"),
        "{text}"
    );
    let headings: Vec<_> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings.len(),
        3,
        "the title and one heading per message: {headings:?}"
    );
    assert!(headings[1].starts_with("## user · "), "{headings:?}");
    assert!(headings[2].starts_with("## assistant · "), "{headings:?}");
    assert!(
        text.contains("> # Not a heading of the transcript\n> ## assistant · forged\n> ```\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "control characters are escaped");
}

#[test]
fn an_export_to_a_file_prints_a_summary_and_the_file_is_private() {
    let home = seeded();
    let id = session(&home.root);
    let file = home.root.parent().expect("a parent").join("chat.md");
    let out = viben(
        &home.root,
        &[
            "sessions",
            "export",
            &id,
            "--format",
            "markdown",
            "-o",
            file.to_str().expect("UTF-8"),
            "--json",
        ],
    );
    let summary = out.json();
    assert_eq!(summary["messages"], 2);
    assert_eq!(summary["format"], "markdown");
    assert!(
        fs::read_to_string(&file)
            .expect("read the export")
            .contains("## user · ")
    );
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn export_with_json_to_standard_output_is_one_json_document() {
    let home = seeded();
    let id = session(&home.root);
    let messages = viben(&home.root, &["sessions", "export", &id, "--json"]).json();
    assert_eq!(messages.as_array().map(Vec::len), Some(2), "{messages}");
    assert_eq!(messages[1]["role"], "assistant");
    let markdown = viben(
        &home.root,
        &["sessions", "export", &id, "--format", "markdown", "--json"],
    )
    .json();
    assert_eq!(markdown["session"], id.as_str());
    let text = markdown["markdown"]
        .as_str()
        .expect("the transcript as a string");
    assert!(text.contains("\n## user · "), "{text}");
    assert!(text.contains("> hello\n"), "{text}");
}

#[test]
fn exporting_a_missing_session_fails_naming_it() {
    let home = seeded();
    let err = viben(&home.root, &["sessions", "export", "nope"])
        .failed()
        .to_owned();
    assert!(err.contains("session \"nope\" does not exist"), "{err}");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn a_backup_leaves_secrets_out_names_them_and_restores_into_a_new_home() {
    let home = seeded();
    let h = &home.root;
    viben(
        h,
        &[
            "channels", "set", "tg", "--kind", "telegram", "--agent", "a",
        ],
    )
    .ok();
    viben_with(
        h,
        None,
        "999:CHANNEL-SECRET\n",
        &["channels", "set", "tg", "--token-stdin"],
    )
    .ok();
    session(h);
    let archive = h.parent().expect("a parent").join("store.tar.gz");
    let out = viben(h, &["backup", path_str(&archive), "--json"]);
    assert!(
        out.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        out.stderr
    );
    let summary = out.json();
    assert_eq!(summary["secrets_included"], false);
    let left_out: Vec<_> = summary["secrets_left_out"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["path"].as_str().unwrap_or(""),
                s["field"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        left_out,
        [
            "channels.yaml channels.settings.bot_token",
            "providers/p.yaml api_key"
        ]
    );
    assert_eq!(mode(&archive), 0o600);
    let bytes = fs::read(&archive).expect("read the archive");
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(bytes.as_slice()),
        &mut unpacked,
    )
    .expect("a gzip stream");
    let unpacked = String::from_utf8_lossy(&unpacked);
    assert!(!unpacked.contains("sk-live-cli-secret") && !unpacked.contains("CHANNEL-SECRET"));

    let other = empty_home();
    let out = viben(&other.root, &["restore", path_str(&archive)]);
    assert!(out.ok().contains("restored"), "{}", out.stdout);
    assert!(out.stdout.contains("viben check"), "{}", out.stdout);
    let shown = viben(&other.root, &["providers", "show", "p", "--json"]).json();
    assert!(
        shown.get("api_key").is_none_or(serde_json::Value::is_null),
        "{shown}"
    );
    assert_eq!(
        viben(&other.root, &["sessions", "list", "--json"])
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    viben(&other.root, &["check"]).ok();
}

#[test]
fn a_backup_with_secrets_says_so_and_keeps_them() {
    let home = seeded();
    let archive = home
        .root
        .parent()
        .expect("a parent")
        .join("with-secrets.tar.gz");
    let out = viben(
        &home.root,
        &["backup", path_str(&archive), "--include-secrets"],
    );
    assert!(
        out.ok().contains("keep it as safe as the store"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("sk-live"), "secrets are never printed");
    let other = empty_home();
    viben(&other.root, &["restore", path_str(&archive)]).ok();
    let text = fs::read_to_string(other.root.join("providers/p.yaml")).expect("read the provider");
    assert!(text.contains("sk-live-cli-secret"));
    assert_eq!(mode(&other.root.join("providers/p.yaml")), 0o600);
}

#[test]
fn a_restore_over_a_store_needs_force_and_then_replaces_it() {
    let home = seeded();
    let archive = home.root.parent().expect("a parent").join("a.tar.gz");
    viben(&home.root, &["backup", path_str(&archive)]).ok();
    let other = seeded();
    viben(
        &other.root,
        &["models", "add", "only-here", "--provider", "p"],
    )
    .ok();
    let err = viben(&other.root, &["restore", path_str(&archive)])
        .failed()
        .to_owned();
    assert!(err.contains("already holds a store"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(
        fs::read_to_string(other.root.join("models.yaml"))
            .expect("models")
            .contains("only-here")
    );
    let out = viben(
        &other.root,
        &["restore", path_str(&archive), "--force", "--json"],
    )
    .json();
    assert_eq!(out["replaced"], true);
    assert!(
        !fs::read_to_string(other.root.join("models.yaml"))
            .expect("models")
            .contains("only-here")
    );
}

#[test]
fn a_backup_inside_the_store_is_refused() {
    let home = seeded();
    let inside = home.root.join("backup.tar.gz");
    let err = viben(&home.root, &["backup", path_str(&inside)])
        .failed()
        .to_owned();
    assert!(err.contains("inside the store"), "{err}");
    assert!(!inside.exists());
}

#[test]
fn a_hostile_archive_is_refused_by_name_and_changes_nothing() {
    let home = seeded();
    let before = fs::read_to_string(home.root.join("models.yaml")).expect("models");
    let archive = home.root.parent().expect("a parent").join("evil.tar.gz");
    let mut header = tar::Header::new_gnu();
    let name = b"../../outside.txt";
    header.as_gnu_mut().expect("a GNU header").name[..name.len()].copy_from_slice(name);
    header.set_size(4);
    header.set_mode(0o600);
    header.set_cksum();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        fs::File::create(&archive).expect("create the archive"),
        flate2::Compression::fast(),
    ));
    builder
        .append(&header, &b"evil"[..])
        .expect("append the entry");
    builder
        .into_inner()
        .expect("finish the tar")
        .finish()
        .expect("finish the gzip");

    let out = viben(
        &home.root,
        &["restore", path_str(&archive), "--force", "--json"],
    );
    let line: serde_json::Value =
        serde_json::from_str(out.failed().trim()).expect("one JSON object on stderr");
    assert!(
        line["error"]
            .as_str()
            .is_some_and(|e| e.contains("../../outside.txt") && e.contains("..")),
        "{line}"
    );
    assert!(
        line["hint"]
            .as_str()
            .is_some_and(|h| h.contains("tar tzvf")),
        "{line}"
    );
    assert_eq!(
        fs::read_to_string(home.root.join("models.yaml")).expect("models"),
        before
    );
    assert!(
        !home
            .root
            .parent()
            .and_then(Path::parent)
            .expect("grandparent")
            .join("outside.txt")
            .exists()
    );
}

#[test]
fn a_restore_over_the_size_limit_is_refused_with_the_flag_that_raises_it() {
    let home = seeded();
    let archive = home.root.parent().expect("a parent").join("a.tar.gz");
    viben(&home.root, &["backup", path_str(&archive)]).ok();
    let other = empty_home();
    let err = viben(
        &other.root,
        &["restore", path_str(&archive), "--max-size", "1024"],
    )
    .failed()
    .to_owned();
    assert!(err.contains("more than 1024 bytes"), "{err}");
    assert!(err.contains("--max-size"), "{err}");
    assert_eq!(fs::read_dir(&other.root).expect("list").count(), 0);
}

#[test]
fn restoring_a_missing_file_names_the_command_that_makes_one() {
    let home = empty_home();
    let err = viben(&home.root, &["restore", "/nonexistent/backup.tar.gz"])
        .failed()
        .to_owned();
    assert!(err.contains("viben backup FILE"), "{err}");
}

#[test]
fn export_and_backup_stream_a_log_larger_than_their_whole_memory_limit() {
    const MESSAGES: usize = 48;
    const LIMIT_KIB: u64 = 50 * 1024;
    let home = seeded();
    let h = &home.root;
    let id = session(h);
    // 48 messages of 1 MiB: more than the 50 MiB the whole process may map, shared libraries
    // included, once the log is held whole.
    let log = h.join("sessions").join(&id).join("messages.jsonl");
    let mut file = std::io::BufWriter::new(fs::File::create(&log).expect("create the log"));
    let body = "z".repeat(1024 * 1024);
    for i in 0..MESSAGES {
        std::io::Write::write_all(
            &mut file,
            format!(
                "{{\"role\":\"user\",\"content\":\"{i} {body}\",\"created_at\":\"2026-01-01T00:00:00Z\",\"api_key\":\"k\"}}\n"
            )
            .as_bytes(),
        )
        .expect("write the log");
    }
    drop(file);

    let (_, len, tail) = viben_limited(h, LIMIT_KIB, &["sessions", "export", &id]);
    assert!(len > MESSAGES << 20, "all of it was written: {len} bytes");
    assert!(
        tail.ends_with("\"created_at\":\"2026-01-01T00:00:00Z\",\"api_key\":\"k\"}\n"),
        "{tail}"
    );
    let (_, len, tail) = viben_limited(
        h,
        LIMIT_KIB,
        &["sessions", "export", &id, "--format", "markdown"],
    );
    assert!(len > MESSAGES << 20, "all of it was written: {len} bytes");
    assert!(tail.ends_with("zzz\n"), "{tail}");

    let archive = h.parent().expect("a parent").join("big.tar.gz");
    viben_limited(h, LIMIT_KIB, &["backup", path_str(&archive)]);
    let other = empty_home();
    let (_, len, _) = viben_limited(&other.root, LIMIT_KIB, &["restore", path_str(&archive)]);
    assert!(len > 0);
    let restored = fs::read_to_string(other.root.join("sessions").join(&id).join("messages.jsonl"))
        .expect("the restored log");
    assert_eq!(restored.lines().count(), MESSAGES);
    assert!(
        !restored.contains("api_key"),
        "the secret field of every line was left out"
    );
}
