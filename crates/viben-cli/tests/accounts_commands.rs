//! `viben db users update` and `viben db connections list | link | unlink`, run as a user runs
//! them, each test on a database of its own.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Run, viben_with};
use viben_db::testing::TestDatabase;
use viben_db::{oauth_connections, users};
use viben_model::NewUser;

const TOKEN: &str = "gho_s3cr3t-t0ken-value";

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn db(home: &Path, database: &TestDatabase, args: &[&str]) -> Run {
    viben_with(home, Some(database.url().expose()), "", args)
}

/// Runs `viben` with `stdin` and one extra environment variable.
fn db_with(
    home: &Path,
    database: &TestDatabase,
    stdin: &str,
    env: (&str, &str),
    args: &[&str],
) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(home)
        .arg("--database-url")
        .arg(database.url().expose())
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env(env.0, env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the viben binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    let output = child.wait_with_output().expect("viben runs");
    Run {
        code: output.status.code().expect("viben exited"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// A database with users `ada` (id `u-ada`) and `bob` (id `u-bob`).
fn two_users() -> TestDatabase {
    let database = TestDatabase::new();
    let mut conn = database.connection();
    for name in ["ada", "bob"] {
        let mut new = NewUser::new(format!("{name}@example.com"), name);
        new.id = Some(format!("u-{name}"));
        new.avatar_url = Some(format!("https://x.io/{name}.png"));
        users::create(&mut conn, &new).expect("the user is created");
    }
    database
}

#[test]
fn update_by_email_changes_the_given_fields_and_leaves_the_others() {
    let home = home();
    let database = two_users();
    let run = db(
        home.path(),
        &database,
        &[
            "db",
            "users",
            "update",
            "ada@example.com",
            "--display-name",
            "Ada L",
            "--github-username",
            "ada-gh",
            "--role",
            "admin",
            "--email-verified",
            "true",
        ],
    );
    assert_eq!(run.ok(), "updated user u-ada (ada@example.com)\n");
    let ada = users::get_by_id(&mut database.connection(), "u-ada").unwrap();
    assert_eq!(ada.display_name.as_deref(), Some("Ada L"));
    assert_eq!(ada.github_username.as_deref(), Some("ada-gh"));
    assert_eq!(ada.role.as_str(), "admin");
    assert!(ada.email_verified);
    assert_eq!(ada.avatar_url.as_deref(), Some("https://x.io/ada.png"));

    let json = db(
        home.path(),
        &database,
        &[
            "--json",
            "db",
            "users",
            "update",
            "ada",
            "--no-avatar-url",
            "--email-verified",
            "false",
        ],
    )
    .json();
    assert_eq!(json["avatar_url"], serde_json::Value::Null);
    assert_eq!(json["email_verified"], false);
    assert_eq!(json["display_name"], "Ada L", "untouched");
}

#[test]
fn update_refuses_an_empty_value_and_an_empty_change_as_usage_errors() {
    let home = home();
    let database = two_users();
    let run = db(
        home.path(),
        &database,
        &["db", "users", "update", "ada", "--avatar-url", ""],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--no-avatar-url"), "{run:?}");
    let run = db(home.path(), &database, &["db", "users", "update", "ada"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("nothing to change"), "{run:?}");
    let run = db(
        home.path(),
        &database,
        &["db", "users", "update", "ada", "--email-verified", "maybe"],
    );
    assert_eq!(run.code, 2, "clap refuses a non-boolean: {run:?}");
    let ada = users::get_by_id(&mut database.connection(), "u-ada").unwrap();
    assert_eq!(ada.avatar_url.as_deref(), Some("https://x.io/ada.png"));
}

#[test]
fn update_reports_an_invalid_or_taken_value_and_an_unknown_user_with_a_way_forward() {
    let home = home();
    let database = two_users();
    let err = db(
        home.path(),
        &database,
        &["db", "users", "update", "ada", "--email", "not-an-email"],
    )
    .failed()
    .to_owned();
    assert!(err.contains("not-an-email"), "{err}");
    let err = db(
        home.path(),
        &database,
        &["db", "users", "update", "ada", "--username", "bob"],
    )
    .failed()
    .to_owned();
    assert!(
        err.starts_with("error: this username is already taken"),
        "{err}"
    );
    let err = db(
        home.path(),
        &database,
        &["db", "users", "update", "nobody", "--role", "admin"],
    )
    .failed()
    .to_owned();
    assert!(
        err.contains("hint: list users with `viben db users list`"),
        "{err}"
    );
}

#[test]
fn link_reads_the_token_from_stdin_or_a_variable_and_never_prints_it() {
    let home = home();
    let database = two_users();
    let run = db_with(
        home.path(),
        &database,
        &format!("{TOKEN}\n"),
        ("UNUSED", "x"),
        &[
            "db",
            "connections",
            "link",
            "ada",
            "--provider",
            "github",
            "--provider-user-id",
            "583231",
            "--access-token-stdin",
        ],
    );
    assert!(
        run.ok()
            .starts_with("linked user u-ada to github account 583231"),
        "{run:?}"
    );
    assert!(run.stdout.contains("access token stored"), "{run:?}");
    let run = db_with(
        home.path(),
        &database,
        "",
        ("GOOGLE_TOKEN", TOKEN),
        &[
            "--json",
            "db",
            "connections",
            "link",
            "ada@example.com",
            "--provider",
            "google",
            "--provider-user-id",
            "g-1",
            "--access-token-env",
            "GOOGLE_TOKEN",
        ],
    );
    assert_eq!(run.json()["access_token"], "***");
    let stored = oauth_connections::list_for_user(&mut database.connection(), "u-ada").unwrap();
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|c| c.access_token.as_ref().map(|t| t.expose()) == Some(TOKEN)),
        "both tokens stored as given"
    );

    let table = db(
        home.path(),
        &database,
        &["db", "connections", "list", "ada"],
    );
    let json = db(
        home.path(),
        &database,
        &["--json", "db", "connections", "list", "u-ada"],
    );
    for run in [&table, &json] {
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "{run:?}"
        );
    }
    assert!(table.stdout.contains("github") && table.stdout.contains("***"));
    let listed = json.json();
    assert_eq!(listed["user_id"], "u-ada");
    assert_eq!(listed["connections"][0]["provider"], "github");
    assert_eq!(listed["connections"][1]["access_token"], "***");
}

#[test]
fn a_token_variable_that_is_unset_or_not_a_name_is_refused_without_echoing_it() {
    let home = home();
    let database = two_users();
    let args = |var: &'static str| {
        [
            "db",
            "connections",
            "link",
            "ada",
            "--provider",
            "github",
            "--provider-user-id",
            "1",
            "--access-token-env",
            var,
        ]
    };
    let run = db(home.path(), &database, &args("NO_SUCH_TOKEN_VAR"));
    let err = run.failed();
    assert!(
        err.contains("environment variable NO_SUCH_TOKEN_VAR is not set"),
        "{err}"
    );
    assert!(err.contains("--access-token-stdin"), "{err}");
    let run = db(home.path(), &database, &args("gho_abc def"));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!run.stderr.contains("gho_abc"), "{run:?}");
    let run = db(
        home.path(),
        &database,
        &[
            "db",
            "connections",
            "link",
            "ada",
            "--provider",
            "github",
            "--provider-user-id",
            "1",
            "--access-token-stdin",
        ],
    );
    assert!(run.failed().contains("no access token"), "{run:?}");
    assert!(
        oauth_connections::list_for_user(&mut database.connection(), "u-ada")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn linking_an_identity_another_user_has_names_the_unlink_command() {
    let home = home();
    let database = two_users();
    let link = |user: &str| {
        db(
            home.path(),
            &database,
            &[
                "db",
                "connections",
                "link",
                user,
                "--provider",
                "github",
                "--provider-user-id",
                "42",
            ],
        )
    };
    link("ada").ok();
    let err = link("bob").failed().to_owned();
    assert!(err.contains("already linked to another user"), "{err}");
    assert!(
        err.contains("`viben db connections unlink u-ada --provider github --provider-user-id 42`"),
        "{err}"
    );
    db(
        home.path(),
        &database,
        &[
            "db",
            "connections",
            "unlink",
            "u-ada",
            "--provider",
            "github",
            "--provider-user-id",
            "42",
        ],
    )
    .ok();
    link("bob").ok();
}

#[test]
fn unlink_removes_one_connection_and_asks_which_when_there_are_several() {
    let home = home();
    let database = two_users();
    let mut conn = database.connection();
    for id in ["g-1", "g-2"] {
        oauth_connections::link(
            &mut conn,
            &viben_model::NewOAuthConnection::new("u-bob", "google".into(), id),
        )
        .unwrap();
    }
    let unlink = |extra: &[&str]| {
        let mut args = vec!["db", "connections", "unlink", "bob", "--provider", "google"];
        args.extend_from_slice(extra);
        db(home.path(), &database, &args)
    };
    let run = unlink(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("2 google accounts linked (g-1, g-2)")
            && run.stderr.contains("--provider-user-id"),
        "{run:?}"
    );
    assert!(
        unlink(&["--provider-user-id", "g-2"])
            .ok()
            .starts_with("unlinked user u-bob from google account g-2")
    );
    let json = {
        let mut args = vec!["--json"];
        args.extend(["db", "connections", "unlink", "bob", "--provider", "google"]);
        db(home.path(), &database, &args).json()
    };
    assert_eq!(json["unlinked"]["provider_id"], "g-1");
    let err = unlink(&[]).failed().to_owned();
    assert!(err.contains("has no google account linked"), "{err}");
    assert!(err.contains("`viben db connections list u-bob`"), "{err}");
    assert!(
        oauth_connections::list_for_user(&mut conn, "u-bob")
            .unwrap()
            .is_empty()
    );
}
