//! The database commands, run as a user runs them, each test on a database of its own.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::{viben, viben_with};
use viben_db::testing::TestDatabase;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn db(home: &std::path::Path, database: &TestDatabase, args: &[&str]) -> common::Run {
    viben_with(home, Some(database.url().expose()), "", args)
}

#[test]
fn a_missing_url_names_both_variables() {
    let home = home();
    let err = viben(home.path(), &["db", "status"]).failed().to_owned();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "error: no database connection string", "{err}");
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains("POSTGRES_URL"),
        "{err}"
    );
    assert!(lines[1].contains("DATABASE_URL"), "{err}");
}

#[test]
fn an_unreachable_server_is_one_line_without_the_password() {
    let home = home();
    let url = "postgres://viben:hunter2@127.0.0.1:1/viben";
    let run = viben_with(home.path(), Some(url), "", &["db", "status"]);
    let err = run.failed();
    assert!(
        err.starts_with("error: cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn an_unmigrated_database_says_to_migrate() {
    let home = home();
    let database = TestDatabase::empty();
    let err = db(home.path(), &database, &["db", "users", "list"])
        .failed()
        .to_owned();
    assert!(
        err.starts_with("error: table users does not exist"),
        "{err}"
    );
    assert!(err.contains("viben db migrate"), "{err}");
}

#[test]
fn migrate_status_check_and_revert() {
    let home = home();
    let h = home.path();
    let database = TestDatabase::empty();
    let status = db(h, &database, &["db", "status", "--json"]).json();
    assert_eq!(status["applied"].as_array().unwrap().len(), 0);
    assert_eq!(status["pending"].as_array().unwrap().len(), 1);
    assert!(
        db(h, &database, &["db", "migrate"])
            .ok()
            .starts_with("applied ")
    );
    assert_eq!(
        db(h, &database, &["db", "migrate"]).ok(),
        "the database is up to date\n"
    );
    assert_eq!(
        db(h, &database, &["db", "check"]).ok(),
        "the schema matches\n"
    );
    let status = db(h, &database, &["db", "status"]);
    assert!(status.ok().contains("applied"), "{status:?}");

    let refused = db(h, &database, &["db", "revert"]);
    assert_eq!(
        refused.code, 2,
        "a missing --yes is a usage error: {refused:?}"
    );
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    assert!(
        db(h, &database, &["db", "revert", "--yes"])
            .ok()
            .starts_with("reverted ")
    );
    let status = db(h, &database, &["db", "status", "--json"]).json();
    assert_eq!(status["applied"].as_array().unwrap().len(), 0);
}

#[test]
fn check_reports_drift_and_exits_1() {
    use diesel::connection::SimpleConnection;
    let home = home();
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute("ALTER TABLE users DROP COLUMN avatar_url")
        .unwrap();
    let run = db(home.path(), &database, &["db", "check"]);
    run.failed();
    assert!(run.stdout.contains("avatar_url"), "{run:?}");
}

#[test]
fn adopt_records_the_web_apps_database() {
    use diesel::connection::SimpleConnection;
    let home = home();
    let database = TestDatabase::empty();
    let drizzle = include_str!("../../viben-db/tests/fixtures/drizzle-made-database.sql");
    database.connection().batch_execute(drizzle).unwrap();
    let err = db(home.path(), &database, &["db", "migrate"])
        .failed()
        .to_owned();
    assert!(err.contains("adopt"), "{err}");
    let adopted = db(home.path(), &database, &["db", "adopt"]);
    assert!(adopted.ok().starts_with("adopted"), "{adopted:?}");
    assert_eq!(
        db(home.path(), &database, &["db", "migrate"]).ok(),
        "the database is up to date\n"
    );
}

#[test]
fn users_create_list_show_delete() {
    let home = home();
    let h = home.path();
    let database = TestDatabase::new();
    let created = db(
        h,
        &database,
        &[
            "db",
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--username",
            "ada",
            "--id",
            "u1",
        ],
    );
    assert_eq!(created.ok(), "created user u1 (ada@example.com)\n");
    db(
        h,
        &database,
        &[
            "db",
            "users",
            "create",
            "--email",
            "bob@example.com",
            "--username",
            "bob",
        ],
    )
    .ok();

    let page = db(
        h,
        &database,
        &["db", "users", "list", "--limit", "1", "--json"],
    )
    .json();
    assert_eq!(page["users"].as_array().unwrap().len(), 1);
    assert_eq!(page["users"][0]["email"], "ada@example.com");
    let cursor = page["next"].as_str().expect("a next cursor").to_owned();
    let next = db(
        h,
        &database,
        &["db", "users", "list", "--after", &cursor, "--json"],
    )
    .json();
    assert_eq!(next["users"][0]["email"], "bob@example.com");
    assert_eq!(next["next"], serde_json::Value::Null);
    let bad = db(
        h,
        &database,
        &["db", "users", "list", "--after", "yesterday"],
    );
    assert!(
        bad.failed()
            .starts_with("error: invalid cursor \"yesterday\"\nhint: "),
        "{bad:?}"
    );

    for key in ["u1", "ada@example.com", "ada"] {
        let shown = db(h, &database, &["db", "users", "show", key, "--json"]).json();
        assert_eq!(shown["id"], "u1", "{key}");
        assert_eq!(shown["oauth_connections"], serde_json::json!([]));
    }
    let table = db(h, &database, &["db", "users", "list"]);
    assert!(table.ok().starts_with("ID"), "{table:?}");

    db(h, &database, &["db", "users", "delete", "u1"]).ok();
    let err = db(h, &database, &["db", "users", "show", "u1"])
        .failed()
        .to_owned();
    assert!(err.contains("no user"), "{err}");
}

#[test]
fn show_json_lists_connections_with_the_token_masked() {
    let home = home();
    let database = TestDatabase::new();
    let mut conn = database.connection();
    let user = viben_db::users::create(
        &mut conn,
        &viben_model::NewUser::new("c@example.com", "carol"),
    )
    .unwrap();
    viben_db::oauth_connections::link(
        &mut conn,
        &viben_model::NewOAuthConnection::new(
            user.id.clone(),
            viben_model::OAuthProvider::GitHub,
            "12345",
        )
        .with_access_token(viben_model::Secret::new("gho_topsecret")),
    )
    .unwrap();
    let run = db(
        home.path(),
        &database,
        &["db", "users", "show", "carol", "--json"],
    );
    assert!(!run.ok().contains("gho_topsecret"), "{run:?}");
    let shown = run.json();
    assert_eq!(shown["oauth_connections"][0]["provider"], "github");
    assert_eq!(shown["oauth_connections"][0]["access_token"], "***");
}

#[test]
fn a_duplicate_email_is_a_conflict_naming_the_field() {
    let home = home();
    let h = home.path();
    let database = TestDatabase::new();
    db(
        h,
        &database,
        &[
            "db",
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--username",
            "ada",
        ],
    )
    .ok();
    let run = db(
        h,
        &database,
        &[
            "db",
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--username",
            "ada2",
        ],
    );
    let err = run.failed();
    assert!(err.starts_with("error: ") && err.contains("email"), "{err}");
    assert!(
        err.lines().nth(1).is_some_and(|l| l.starts_with("hint: ")),
        "{err}"
    );
    assert!(
        !err.contains("23505") && !err.contains("duplicate key"),
        "{err}"
    );
}

#[test]
fn doctor_checks_the_store_and_the_database() {
    let temp = home();
    // A root the store creates itself, so its mode is 0700 (tempdir makes 0755 folders).
    let home = temp.path().join("viben");
    let database = TestDatabase::new();
    let run = db(&home, &database, &["doctor"]);
    assert!(run.ok().contains("everything looks fine"), "{run:?}");
    assert!(
        run.stdout.contains("migrations: 1 applied, 0 pending"),
        "{run:?}"
    );

    let unmigrated = TestDatabase::empty();
    let run = db(&home, &unmigrated, &["doctor"]);
    run.failed();
    assert!(run.stdout.contains("viben db migrate"), "{run:?}");

    let no_db = viben(&home, &["doctor"]);
    assert!(no_db.ok().contains("no URL set"), "{no_db:?}");

    let loose = viben(temp.path(), &["doctor"]);
    assert!(
        loose.failed().contains("doctor found problems"),
        "{loose:?}"
    );
    assert!(loose.stdout.contains("chmod 700"), "{loose:?}");
}

#[path = "../../viben-db/tests/fixtures/malformed_urls.rs"]
mod malformed_urls;

/// How a connection string reaches `viben`.
#[derive(Debug, Clone, Copy)]
enum UrlPath {
    Flag,
    Env(&'static str),
}

/// Runs `viben --home <home> args...` with `url` given one way, and nothing else set.
fn viben_given(home: &std::path::Path, url: &str, path: UrlPath, args: &[&str]) -> common::Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_viben"));
    command
        .arg("--home")
        .arg(home)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env_remove("VIBEN_HOME")
        .stdin(std::process::Stdio::null());
    match path {
        UrlPath::Flag => {
            command.arg("--database-url").arg(url);
        }
        UrlPath::Env(name) => {
            command.env(name, url);
        }
    }
    let output = command.args(args).output().expect("the viben binary runs");
    common::Run {
        code: output.status.code().expect("viben exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn no_part_of_a_malformed_connection_strings_password_reaches_the_terminal() {
    use malformed_urls::{MALFORMED, SECRET_PARTS};
    let temp = home();
    let home = temp.path().join("viben");
    let paths = [
        UrlPath::Flag,
        UrlPath::Env("POSTGRES_URL"),
        UrlPath::Env("DATABASE_URL"),
    ];
    let commands: [&[&str]; 5] = [
        &["db", "status"],
        &["db", "status", "--json"],
        &["db", "users", "list", "--json"],
        &["db", "check"],
        &["doctor"],
    ];
    for (url, refusal) in MALFORMED {
        for path in paths {
            for args in commands {
                let run = viben_given(&home, url, path, args);
                let shown = format!("{}{}", run.stdout, run.stderr);
                for part in SECRET_PARTS {
                    assert!(
                        !shown.contains(part),
                        "{part:?} of the password shown for {url:?} via {path:?} by {args:?}:\n\
                         {shown}"
                    );
                }
                assert_eq!(run.code, 1, "{url:?} via {path:?} by {args:?}: {run:?}");
                if !refusal.is_empty() {
                    assert!(shown.contains(refusal), "{url:?} via {path:?}: {shown}");
                    if let UrlPath::Env(name) = path {
                        assert!(
                            shown.contains(&format!("the connection string in {name}")),
                            "{shown}"
                        );
                    }
                }
            }
        }
    }
}

fn create_user(h: &std::path::Path, database: &TestDatabase, id: &str, name: &str) -> common::Run {
    let email = format!("{name}@example.com");
    db(
        h,
        database,
        &[
            "db",
            "users",
            "create",
            "--email",
            &email,
            "--username",
            name,
            "--id",
            id,
        ],
    )
}

#[test]
fn the_next_page_command_is_safe_to_paste_into_a_shell_whatever_the_user_id() {
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    let evil = "q'; touch pwned; echo '";
    create_user(&h, &database, evil, "mallory").ok();
    create_user(&h, &database, "$(touch pwned2)`touch pwned3`", "eve").ok();
    create_user(&h, &database, "plain", "bob").ok();

    // Page by page, each time through the printed command run by `sh -c`, as if pasted.
    let bin_dir = temp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_viben"), bin_dir.join("viben")).unwrap();
    let work = temp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut out = db(&h, &database, &["db", "users", "list", "--limit", "1"])
        .ok()
        .to_owned();
    let mut seen = Vec::new();
    loop {
        let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with("ID")).collect();
        seen.extend(
            rows.iter()
                .filter(|l| !l.starts_with("next page: "))
                .map(|l| l.split("  ").next().unwrap_or_default().to_owned()),
        );
        let Some(command) = rows.iter().find_map(|l| l.strip_prefix("next page: ")) else {
            break;
        };
        assert!(command.starts_with("viben db users list --limit 1 --after "));
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&work)
            .env("PATH", &path)
            .env("VIBEN_HOME", &h)
            .env("POSTGRES_URL", database.url().expose())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}: {output:?}");
        out = String::from_utf8(output.stdout).unwrap();
    }
    let created: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        created.is_empty(),
        "the pasted command ran code: {created:?}"
    );
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter().any(|id| id.starts_with("q'; touch")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|id| id == "plain"), "{seen:?}");
}

#[test]
fn an_empty_or_control_character_user_id_is_refused() {
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    for (id, reason) in [
        ("", "it is empty"),
        ("   ", "it is only whitespace"),
        ("a\u{1b}[2Jb", "it contains a control character"),
        ("line\nbreak", "it contains a control character"),
        ("tab\there", "it contains a control character"),
        ("del\u{7f}", "it contains a control character"),
    ] {
        let err = create_user(&h, &database, id, "ada").failed().to_owned();
        assert!(
            err.starts_with("error: invalid user id ") && err.contains(reason),
            "{id:?}: {err}"
        );
        assert!(!err.contains('\u{1b}'), "{err}");
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(err.lines().nth(1).unwrap().starts_with("hint: "), "{err}");
    }
    let listed = db(&h, &database, &["db", "users", "list", "--json"]).json();
    assert_eq!(listed["users"], serde_json::json!([]));
}

/// The string literals of a Rust source file, outside comments and `#[cfg(test)]` modules,
/// with `\` line continuations joined.
fn string_literals(source: &str) -> Vec<String> {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                // A char literal ('"', '\'', '\\') or a lifetime.
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
                i += 1;
            }
            'r' if chars.get(i + 1) == Some(&'"') || chars.get(i + 1) == Some(&'#') => {
                let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                let start = i + 2 + hashes;
                if chars.get(start - 1) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let rest: String = chars[start..].iter().collect();
                let end = rest.find(&close).unwrap_or(rest.len());
                out.push(rest[..end].to_owned());
                i = start + rest[..end].chars().count() + close.chars().count();
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'\n') {
                        i += 2;
                        while i < chars.len() && chars[i].is_whitespace() {
                            i += 1;
                        }
                        continue;
                    }
                    if chars[i] == '\\' {
                        text.push(chars[i]);
                        i += 1;
                    }
                    if let Some(c) = chars.get(i) {
                        text.push(*c);
                    }
                    i += 1;
                }
                out.push(text);
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' => {
                // Skip identifiers whole, so the `r` of `for` is not read as a raw string.
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_message_of_the_database_layer_names_a_rust_function() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("viben-db/src"), &mut files);
    // Test support's panics are for developers; schema.rs is generated, and print_schema.rs's
    // literals are the Rust code it writes into schema.rs, not messages.
    files.retain(|f| {
        !f.components().any(|c| c.as_os_str() == "testing")
            && !f.ends_with("schema.rs")
            && !f.ends_with("print_schema.rs")
    });
    for name in ["db.rs", "users.rs", "doctor.rs"] {
        files.push(root.join("viben-cli/src/commands").join(name));
    }
    files.push(root.join("viben-cli/src/context.rs"));

    // The functions a message could name instead of a command: every multi-word `fn` of
    // viben-db (one-word names such as `list` or `get` are ordinary words).
    let mut functions = std::collections::BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for line in source.lines() {
            let Some(after) = line.split(" fn ").nth(1) else {
                continue;
            };
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.contains('_') {
                functions.insert(name);
            }
        }
    }
    // Also libpq's option names, which messages about connection strings name on purpose.
    functions.remove("connect_timeout");
    functions.remove("statement_timeout");
    assert!(functions.contains("run_pending") && functions.contains("check_drift"));

    let sql = [
        "SELECT", "ALTER ", "INSERT", "CREATE", "DROP ", "SET ", "SHOW ", "UPDATE", "DELETE",
    ];
    let mut found = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for literal in string_literals(&source) {
            if sql.iter().any(|k| literal.contains(k)) {
                continue;
            }
            // A tracing target (`viben_db::statement`) or span name (`run_pending`) alone is
            // a name for filters (RUST_LOG), not a message.
            let single_word = !literal.contains(' ');
            if single_word && (literal.starts_with("viben_db::") || functions.contains(&literal)) {
                continue;
            }
            let words: Vec<&str> = literal
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .collect();
            for word in words {
                let path = word.contains("::") && !word.starts_with(':') && !word.ends_with(':');
                let bare = word.trim_matches(':');
                if path || functions.contains(bare) {
                    found.push(format!("{}: {word} in {literal:?}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn after_a_column_dropped_by_hand_every_hint_leads_somewhere_and_the_shown_sql_restores_it() {
    use diesel::connection::SimpleConnection;
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute(
            "ALTER TABLE users DROP COLUMN avatar_url; \
             ALTER TABLE users ALTER COLUMN role DROP DEFAULT; \
             CREATE UNIQUE INDEX users_display_name_idx ON users (display_name)",
        )
        .unwrap();

    // The failing query points at `db check`, not at a Rust function.
    let err = db(&h, &database, &["db", "users", "list"])
        .failed()
        .to_owned();
    assert!(
        err.contains("column users.avatar_url does not exist"),
        "{err}"
    );
    assert!(err.contains("run `viben db check`"), "{err}");

    // `db migrate` does not answer "up to date" while the schema is wrong.
    let migrate = db(&h, &database, &["db", "migrate"]);
    migrate.failed();
    assert!(!migrate.stdout.contains("up to date"), "{migrate:?}");
    assert!(migrate.stdout.contains("avatar_url"), "{migrate:?}");

    // `db check` does not send the user to `db migrate` (it has nothing to apply); it shows SQL.
    let check = db(&h, &database, &["db", "check"]);
    let hint = check.failed().lines().nth(1).unwrap_or_default().to_owned();
    assert!(hint.starts_with("hint: "), "{check:?}");
    assert!(!hint.contains("hint: run `viben db migrate`"), "{hint}");
    assert!(hint.contains("made by hand"), "{hint}");
    let sql: Vec<&str> = check
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("fix: "))
        .collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE users ADD COLUMN avatar_url text;",
            "ALTER TABLE users ALTER COLUMN role SET DEFAULT 'user'::text;",
            "DROP INDEX users_display_name_idx;",
        ],
        "{check:?}"
    );

    // So does doctor.
    let doctor = db(&h, &database, &["doctor"]);
    doctor.failed();
    assert!(
        doctor.stdout.contains("fix: ALTER TABLE users ADD COLUMN"),
        "{doctor:?}"
    );
    assert!(doctor.stdout.contains("made by hand"), "{doctor:?}");

    // Running the SQL shown restores the schema: everything works again, and the column order
    // (which no query depends on) is not reported as a failure.
    database
        .connection()
        .batch_execute(&sql.join("\n"))
        .unwrap();
    let check = db(&h, &database, &["db", "check"]);
    assert!(
        check
            .ok()
            .contains("the schema matches, apart from the column order"),
        "{check:?}"
    );
    assert_eq!(
        db(&h, &database, &["db", "migrate"]).ok(),
        "the database is up to date\n"
    );
    db(&h, &database, &["db", "users", "list"]).ok();
    assert!(
        db(&h, &database, &["doctor"])
            .ok()
            .contains("everything looks fine")
    );
}

#[test]
fn a_unique_violation_on_a_constraint_the_code_does_not_know_names_its_table() {
    use diesel::connection::SimpleConnection;
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute(
            "ALTER TABLE users ADD CONSTRAINT users_display_name_key UNIQUE (display_name)",
        )
        .unwrap();
    let create = |email: &str, username: &str| {
        db(
            &h,
            &database,
            &[
                "db",
                "users",
                "create",
                "--email",
                email,
                "--username",
                username,
                "--display-name",
                "Ada L",
            ],
        )
    };
    create("ada@example.com", "ada").ok();
    let err = create("ada2@example.com", "ada2").failed().to_owned();
    assert_eq!(
        err,
        "error: this display_name is already taken (unique constraint users_display_name_key \
         on table users)\nhint: choose another display_name, or load the existing row\n"
    );
    assert!(!err.contains("unknown") && !err.contains("Ada L"), "{err}");
}

#[test]
fn a_table_dropped_by_hand_is_not_answered_with_up_to_date() {
    use diesel::connection::SimpleConnection;
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute("DROP TABLE oauth_connections")
        .unwrap();
    let migrate = db(&h, &database, &["db", "migrate"]);
    let err = migrate.failed();
    assert!(!migrate.stdout.contains("up to date"), "{migrate:?}");
    assert!(
        migrate
            .stdout
            .contains("table oauth_connections is missing"),
        "{migrate:?}"
    );
    assert!(
        err.contains("re-create the database and run `viben db migrate` there"),
        "{err}"
    );
}

#[test]
fn users_show_says_which_rule_matched_and_warns_when_the_key_matches_another_user() {
    let temp = home();
    let h = temp.path().join("viben");
    let database = TestDatabase::new();
    create_user(&h, &database, "ada", "alice").ok();
    create_user(&h, &database, "u2", "ada").ok();

    let run = db(&h, &database, &["db", "users", "show", "ada", "--json"]);
    let shown = run.json();
    assert_eq!(shown["id"], "ada");
    assert_eq!(shown["matched_by"], "id");
    // With --json, a warning is one JSON object on stderr.
    let warning: serde_json::Value =
        serde_json::from_str(run.stderr.trim()).expect("one JSON warning on stderr");
    assert_eq!(
        warning["warning"],
        "\"ada\" is the id of the user shown and also the username of user \"u2\"; \
         the id match is shown (id comes first, then email, then username): run `viben db \
         users show u2` for that one"
    );
    let plain = db(&h, &database, &["db", "users", "show", "ada"]);
    let first_row = plain.ok().lines().nth(1).unwrap_or_default().to_owned();
    assert!(
        first_row.starts_with("matched_by") && first_row.ends_with("id"),
        "{plain:?}"
    );
    assert!(
        plain.stderr.contains("also the username of user \"u2\""),
        "{plain:?}"
    );

    for (key, rule, id) in [
        ("alice", "username", "ada"),
        ("alice@example.com", "email", "ada"),
        ("u2", "id", "u2"),
    ] {
        let run = db(&h, &database, &["db", "users", "show", key, "--json"]);
        let shown = run.json();
        assert_eq!(
            (shown["matched_by"].as_str(), shown["id"].as_str()),
            (Some(rule), Some(id))
        );
        assert_eq!(run.stderr, "", "{key}");
    }
}
