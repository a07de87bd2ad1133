//! `-v`/`-vv` (or `RUST_LOG`) print what the libraries do on stderr, never a secret.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::viben_with;
use viben_db::testing::TestDatabase;

#[test]
fn vv_traces_statements_and_connections_without_the_password() {
    let database = TestDatabase::new();
    let url = database.url().expose().replacen(
        "postgres://postgres@",
        "postgres://postgres:pw-SECRET@",
        1,
    );
    let home = tempfile::tempdir().expect("a temporary folder");
    let quiet = viben_with(home.path(), Some(&url), "", &["db", "status"]);
    quiet.ok();
    assert_eq!(quiet.stderr, "", "nothing is traced without -v");

    let traced = viben_with(home.path(), Some(&url), "", &["-vv", "db", "status"]);
    traced.ok();
    for expected in [
        "viben_db::connection",
        "connection opened",
        "viben_db::statement",
    ] {
        assert!(
            traced.stderr.contains(expected),
            "{expected:?} missing: {traced:?}"
        );
    }
    assert!(!traced.stderr.contains("SECRET"), "{traced:?}");

    let info = viben_with(home.path(), Some(&url), "", &["-v", "db", "status"]);
    assert!(info.stderr.contains("connection opened"), "{info:?}");
    assert!(!info.stderr.contains("viben_db::statement"), "{info:?}");
}
