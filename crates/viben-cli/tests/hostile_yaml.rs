//! Hostile YAML files through the `viben` binary: every file up to the size limit is loaded or
//! refused within a bounded address space, with the place of the problem.
//!
//! Memory is bounded with `ulimit -v` on the child process, never with a timer: the same limit
//! must let a plain 1 MiB catalog load (the baseline), and must not let any attack through.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// The child's address-space limit: 100 MiB, the goal. The debug binary itself maps
/// about 30 MiB.
const ADDRESS_SPACE_KIB: u32 = 100 * 1024;

struct Output {
    code: Option<i32>,
    /// Standard output and error: `check` lists problems on the first, `models list` fails on
    /// the second.
    text: String,
}

/// Runs `viben --home <home> args...` under [`ADDRESS_SPACE_KIB`].
fn viben_limited(home: &Path, args: &[&str]) -> Output {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env_remove("VIBEN_HOME")
        .output()
        .expect("sh starts");
    Output {
        code: output.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn home_with_models(models: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    fs::write(home.path().join("models.yaml"), models).expect("write models.yaml");
    // As `viben init` makes it, so `doctor` has nothing else to report.
    fs::set_permissions(home.path(), fs::Permissions::from_mode(0o700)).expect("chmod 700");
    home
}

fn string_bomb(aliases: usize) -> String {
    format!(
        "a: &a \"{}\"\nb: [{}]\n",
        "x".repeat(500_000),
        "*a,".repeat(aliases)
    )
}

/// Asserts that every reading command refuses `models` cleanly (exit 1, not an abort):
/// `models list` and `check` name `place` (`models.yaml:line:column`) and `what`, `doctor`
/// counts the problem.
fn assert_refused_everywhere(models: &str, place: &str, what: &str) {
    let home = home_with_models(models);
    for args in [&["models", "list"][..], &["check"]] {
        let out = viben_limited(home.path(), args);
        assert_eq!(out.code, Some(1), "viben {args:?}: {}", out.text);
        assert!(out.text.contains(place), "viben {args:?}: {}", out.text);
        assert!(out.text.contains(what), "viben {args:?}: {}", out.text);
    }
    let out = viben_limited(home.path(), &["doctor"]);
    assert_eq!(out.code, Some(1), "viben doctor: {}", out.text);
    assert!(
        out.text
            .contains("[FAIL] store check: 1 error(s), 0 warning(s)"),
        "viben doctor: {}",
        out.text
    );
}

#[test]
fn a_plain_1_mib_catalog_loads_within_the_memory_limit() {
    let mut models = String::from("models:\n");
    let mut count = 0;
    while models.len() < 1024 * 1024 - 200 {
        models.push_str(&format!(
            "- id: model-{count}\n  provider: anthropic\n  name: Model number {count}\n"
        ));
        count += 1;
    }
    let home = home_with_models(&models);
    let out = viben_limited(home.path(), &["models", "list"]);
    assert_eq!(out.code, Some(0), "{}", out.text);
}

#[test]
fn a_string_repeated_by_20000_aliases_is_refused_within_the_memory_limit() {
    // Before: over 4 GB, then an abort.
    assert_refused_everywhere(
        &string_bomb(20_000),
        "models.yaml:2:26",
        "bytes of text, which looks like a YAML bomb",
    );
}

#[test]
fn a_string_repeated_by_2000_aliases_is_reported_by_check_and_doctor() {
    // Before: about 1 GB, and "no problems".
    assert_refused_everywhere(
        &string_bomb(2_000),
        "models.yaml:2:26",
        "bytes of text, which looks like a YAML bomb",
    );
}

#[test]
fn a_1_mib_list_of_tiny_items_is_refused_within_the_memory_limit() {
    let mut models = String::from("x: [");
    while models.len() < 1024 * 1024 - 8 {
        models.push_str("a,");
    }
    models.push_str("a]\n");
    assert_refused_everywhere(&models, "models.yaml:1:", "more than 200000 values");
}

#[test]
fn a_1_mib_list_of_aliases_is_refused_within_the_memory_limit() {
    let mut models = String::from("a: &a x\nb: [");
    while models.len() < 1024 * 1024 - 8 {
        models.push_str("*a,");
    }
    models.push_str("]\n");
    assert_refused_everywhere(&models, "models.yaml:2:30005", "more than 10000 aliases");
}
