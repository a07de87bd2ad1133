//! `viben db users import` and `export`, run as a user runs them, on real files and a database
//! of their own.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::path::Path;

use common::{Run, viben_with};
use viben_db::testing::TestDatabase;
use viben_db::users;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn db(home: &Path, database: &TestDatabase, args: &[&str]) -> Run {
    viben_with(home, Some(database.url().expose()), "", args)
}

fn db_stdin(home: &Path, database: &TestDatabase, stdin: &str, args: &[&str]) -> Run {
    viben_with(home, Some(database.url().expose()), stdin, args)
}

fn count(database: &TestDatabase) -> i64 {
    users::count(&mut database.connection()).expect("users are counted")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the file is written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[test]
fn a_csv_file_imports_every_row_in_any_column_order_and_prints_a_summary() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "users.csv",
        "username,email,role,email_verified,display_name,id\n\
         ada,ada@example.com,admin,true,\"Lovelace, Ada\",u-ada\n\
         bob,bob@example.com,,,,\n\
         cyd,cyd@example.com,user,false,Cyd,\n",
    );
    // Two rows per COPY: the import spans two batches of one transaction.
    let run = db(
        home.path(),
        &database,
        &["db", "users", "import", &file, "--batch-size", "2"],
    );
    assert_eq!(run.ok(), format!("3 users imported from {file}\n"));
    assert_eq!(run.stderr, "", "no progress bar drawn into a pipe");
    assert_eq!(count(&database), 3);
    let mut conn = database.connection();
    let ada = users::get_by_id(&mut conn, "u-ada").unwrap();
    assert_eq!(ada.display_name.as_deref(), Some("Lovelace, Ada"));
    assert!(ada.email_verified);
    assert_eq!(ada.role.as_str(), "admin");
    let bob = users::get_by_username(&mut conn, "bob").unwrap();
    assert_eq!(bob.display_name, None, "an empty cell is a missing value");
    assert_eq!((bob.role.as_str(), bob.email_verified), ("user", false));
    assert_eq!(bob.id.len(), 36, "a generated UUIDv7 id");
}

#[test]
fn a_spreadsheets_csv_with_a_byte_order_mark_and_crlf_lines_imports() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "USERS.CSV",
        "\u{feff}email,username,display_name\r\nada@example.com,ada,\"Ada\r\nLovelace\"\r\n",
    );
    let run = db(home.path(), &database, &["db", "users", "import", &file]);
    assert_eq!(run.ok(), format!("1 user imported from {file}\n"));
    let ada = users::get_by_username(&mut database.connection(), "ada").unwrap();
    assert_eq!(ada.display_name.as_deref(), Some("Ada\r\nLovelace"));
}

#[test]
fn a_duplicate_within_the_file_names_both_lines_and_nothing_is_imported() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "users.csv",
        "email,username\n\
         a@example.com,aaa\n\
         b@example.com,bbb\n\
         c@example.com,ccc\n\
         d@example.com,aaa\n",
    );
    // The first two rows are copied before line 5 is read: the rollback must take them back.
    let run = db(
        home.path(),
        &database,
        &["db", "users", "import", &file, "--batch-size", "2"],
    );
    let err = run.failed();
    assert!(
        err.contains(&format!(
            "{file}:5: username \"aaa\" is already on line 2 of this file"
        )),
        "{err}"
    );
    assert!(
        err.contains("error: 1 problem in ") && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(err.contains("hint: fix the lines named above"), "{err}");
    assert_eq!(count(&database), 0);
}

#[test]
fn a_duplicate_of_a_stored_user_names_its_line_and_field() {
    let home = home();
    let database = TestDatabase::new();
    users::create(
        &mut database.connection(),
        &viben_model::NewUser::new("taken@example.com", "stored"),
    )
    .unwrap();
    let file = write(
        home.path(),
        "users.jsonl",
        "{\"email\":\"new@example.com\",\"username\":\"new\"}\n\
         {\"email\":\"taken@example.com\",\"username\":\"other\"}\n",
    );
    let run = db(
        home.path(),
        &database,
        &["--json", "db", "users", "import", &file],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines[0]["line"], 2, "{run:?}");
    assert_eq!(
        lines[0]["problem"],
        "email \"taken@example.com\" is already taken by a user in the database"
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .ends_with("nothing was imported")
    );
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(count(&database), 1);
}

#[test]
fn malformed_lines_are_each_named_with_what_is_wrong() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "users.ndjson",
        "{\"email\":\"ok@example.com\",\"username\":\"okay\"}\n\
         \n\
         {\"email\":\"x@example.com\"}\n\
         {\"email\":\"y@example.com\",\"username\":\"yves\",\"nickname\":\"why\"}\n\
         not json\n\
         {\"email\":\"no-at-sign\",\"username\":\"zed\"}\n\
         {\"email\":\"v@example.com\",\"username\":\"val\",\"email_verified\":\"yes\"}\n",
    );
    let run = db(home.path(), &database, &["db", "users", "import", &file]);
    let err = run.failed();
    let problems: Vec<&str> = err.lines().filter(|l| l.starts_with(&file)).collect();
    assert_eq!(problems.len(), 5, "{err}");
    assert!(
        problems[0].starts_with(&format!("{file}:3: ")) && problems[0].contains("username"),
        "{err}"
    );
    assert!(
        problems[1].starts_with(&format!("{file}:4: ")) && problems[1].contains("nickname"),
        "{err}"
    );
    assert!(problems[2].starts_with(&format!("{file}:5: ")), "{err}");
    assert!(
        problems[3].starts_with(&format!("{file}:6: ")) && problems[3].contains("no-at-sign"),
        "{err}"
    );
    assert!(
        problems[4].starts_with(&format!("{file}:7: ")) && problems[4].contains("email_verified"),
        "{err}"
    );
    assert!(
        !err.contains("at line 1 column"),
        "lines are ours to number: {err}"
    );
    assert!(err.contains("error: 5 problems in "), "{err}");
    assert_eq!(count(&database), 0);
}

#[test]
fn a_csv_line_with_the_wrong_number_of_fields_or_a_bad_flag_is_named() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "users.csv",
        "email,username,email_verified\n\
         a@example.com,aaa,true\n\
         b@example.com,bbb\n\
         c@example.com,ccc,maybe\n",
    );
    let err = db(home.path(), &database, &["db", "users", "import", &file])
        .failed()
        .to_owned();
    assert!(
        err.contains(&format!("{file}:3: 2 fields where the header names 3")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:4: email_verified is \"maybe\"; write true, false, or leave it empty"
        )),
        "{err}"
    );
    assert_eq!(count(&database), 0);
}

#[test]
fn an_unknown_csv_column_is_refused_naming_it_and_the_known_ones() {
    let home = home();
    let database = TestDatabase::new();
    let file = write(
        home.path(),
        "users.csv",
        "email,username,nick\na@x.io,abc,b\n",
    );
    let err = db(home.path(), &database, &["db", "users", "import", &file])
        .failed()
        .to_owned();
    assert!(
        err.starts_with(&format!("error: {file}:1: unknown column \"nick\"")),
        "{err}"
    );
    assert!(err.contains("display_name"), "{err}");
    let file = write(home.path(), "partial.csv", "email\na@x.io\n");
    let err = db(home.path(), &database, &["db", "users", "import", &file])
        .failed()
        .to_owned();
    assert!(err.contains("the header has no username column"), "{err}");
}

#[test]
fn standard_input_imports_with_a_format_and_is_a_usage_error_without_one() {
    let home = home();
    let database = TestDatabase::new();
    let input = "{\"email\":\"a@example.com\",\"username\":\"abc\"}\n";
    let run = db_stdin(
        home.path(),
        &database,
        input,
        &["--json", "db", "users", "import", "-", "--format", "jsonl"],
    );
    assert_eq!(
        run.json(),
        serde_json::json!({ "imported": 1, "file": "standard input" })
    );
    let run = db_stdin(
        home.path(),
        &database,
        input,
        &["db", "users", "import", "-"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--format"), "{run:?}");
    let file = write(home.path(), "users.txt", input);
    let run = db(home.path(), &database, &["db", "users", "import", &file]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(".jsonl"), "{run:?}");
}

#[test]
fn a_missing_file_says_so_and_how_to_go_on() {
    let home = home();
    let database = TestDatabase::new();
    let missing = home.path().join("nope.csv");
    let err = db(
        home.path(),
        &database,
        &["db", "users", "import", missing.to_str().unwrap()],
    )
    .failed()
    .to_owned();
    assert!(err.starts_with("error: cannot open "), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

/// Users whose values exercise the formats: quotes, commas, line breaks, non-ASCII text,
/// missing optional values, both flags and an unknown role.
const AWKWARD: &str = "\
{\"id\":\"u1\",\"email\":\"ada@example.com\",\"username\":\"ada\",\"display_name\":\"Ada \\\"the first\\\", Lovelace\",\"avatar_url\":\"https://x.io/a.png?s=1,2\",\"github_username\":\"ada-gh\",\"email_verified\":true,\"role\":\"admin\"}
{\"id\":\"u2\",\"email\":\"zoe@example.com\",\"username\":\"zoe\",\"display_name\":\"Zoë\\nSecond line\",\"email_verified\":false,\"role\":\"moderator\"}
{\"id\":\"u3\",\"email\":\"kim@example.com\",\"username\":\"kim\"}
";

#[test]
fn export_then_import_round_trips_in_both_formats() {
    let home = home();
    let h = home.path();
    let source = TestDatabase::new();
    db_stdin(
        h,
        &source,
        AWKWARD,
        &["db", "users", "import", "-", "--format", "jsonl"],
    )
    .ok();
    for format in ["csv", "jsonl"] {
        let file = h.join(format!("users.{format}"));
        let file = file.to_str().unwrap();
        let run = db(h, &source, &["db", "users", "export", "-o", file]);
        assert_eq!(run.ok(), format!("3 users exported to {file}\n"));
        let target = TestDatabase::new();
        assert_eq!(
            db(h, &target, &["db", "users", "import", file]).ok(),
            format!("3 users imported from {file}\n")
        );
        let again = db(h, &target, &["db", "users", "export", "--format", format]);
        assert_eq!(
            again.ok(),
            std::fs::read_to_string(file).unwrap(),
            "{format}: the target exports what the source did"
        );
    }
    let csv = std::fs::read_to_string(h.join("users.csv")).unwrap();
    assert!(
        csv.starts_with(
            "id,email,username,display_name,avatar_url,github_username,email_verified,role\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("\"Ada \"\"the first\"\", Lovelace\""),
        "CSV quoting: {csv}"
    );
}

#[test]
fn export_reads_every_page_and_json_prints_a_summary() {
    let home = home();
    let h = home.path();
    let database = TestDatabase::new();
    let input: String = (0..2345)
        .map(|i| format!("{{\"email\":\"user{i}@example.com\",\"username\":\"user{i}\"}}\n"))
        .collect();
    let run = db_stdin(
        h,
        &database,
        &input,
        &["db", "users", "import", "-", "--format", "jsonl"],
    );
    assert_eq!(run.ok(), "2345 users imported from standard input\n");
    let file = h.join("all.csv");
    let file = file.to_str().unwrap();
    let summary = db(
        h,
        &database,
        &["--json", "db", "users", "export", "-o", file],
    )
    .json();
    assert_eq!(
        summary,
        serde_json::json!({ "exported": 2345, "file": file, "format": "csv" })
    );
    let text = std::fs::read_to_string(file).unwrap();
    let mut usernames: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(usernames.len(), 2345);
    usernames.sort_unstable();
    usernames.dedup();
    assert_eq!(usernames.len(), 2345, "no user written twice across pages");
    let stdout = db(h, &database, &["db", "users", "export"]);
    assert_eq!(stdout.ok().lines().count(), 2345, "JSON lines by default");
}

#[test]
fn export_json_to_stdout_is_one_document_and_a_bad_folder_keeps_nothing() {
    let home = home();
    let h = home.path();
    let database = TestDatabase::new();
    let empty = db(h, &database, &["--json", "db", "users", "export"]).json();
    assert_eq!(empty, serde_json::json!({ "users": [] }));
    db_stdin(
        h,
        &database,
        AWKWARD,
        &["db", "users", "import", "-", "--format", "jsonl"],
    )
    .ok();
    let document = db(h, &database, &["--json", "db", "users", "export"]).json();
    let listed = document["users"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[1]["display_name"], "Zoë\nSecond line");
    assert_eq!(listed[2]["avatar_url"], serde_json::Value::Null);
    let run = db(
        h,
        &database,
        &["--json", "db", "users", "export", "--format", "csv"],
    );
    assert_eq!(
        run.code, 2,
        "CSV on stdout is not one JSON document: {run:?}"
    );
    let missing = h.join("no-such-folder").join("users.csv");
    let err = db(
        h,
        &database,
        &["db", "users", "export", "-o", missing.to_str().unwrap()],
    )
    .failed()
    .to_owned();
    assert!(err.starts_with("error: cannot write "), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(!missing.exists());
}
