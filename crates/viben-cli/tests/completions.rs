//! `viben completions SHELL` and `viben man`: generated from the parser's own definitions.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::process::Command;

use common::viben;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

#[test]
fn each_shell_script_completes_the_real_subcommands() {
    let home = home();
    for shell in ["bash", "zsh", "fish"] {
        let run = viben(home.path(), &["completions", shell]);
        let script = run.ok();
        for word in ["connections", "import", "export", "completions"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        // clap_complete's fish script stops at two levels of subcommands (`db users`), so the
        // options of `db users import` are only in the bash and zsh scripts.
        if shell != "fish" {
            assert!(
                script.contains("batch-size"),
                "{shell} script lacks batch-size"
            );
        }
    }
    let json = viben(home.path(), &["--json", "completions", "fish"]).json();
    assert_eq!(json["shell"], "fish");
    assert!(
        json["script"]
            .as_str()
            .unwrap()
            .contains("complete -c viben")
    );
    let run = viben(home.path(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn bash_loads_the_script_and_registers_viben() {
    let home = home();
    let script = home.path().join("viben.bash");
    std::fs::write(&script, viben(home.path(), &["completions", "bash"]).ok()).unwrap();
    let output = Command::new("bash")
        .arg("-c")
        .arg("source \"$0\" && complete -p viben")
        .arg(&script)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("_viben") && stdout.ends_with("viben\n"),
        "{stdout}"
    );
}

#[test]
fn the_man_page_is_roff_naming_the_commands() {
    let home = home();
    let run = viben(home.path(), &["man"]);
    let page = run.ok();
    assert!(page.contains(".TH viben 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    for command in ["agents", "db", "doctor", "completions", "man"] {
        assert!(page.contains(command), "the page lacks {command}");
    }
}

#[test]
fn out_dir_writes_one_page_per_command() {
    let home = home();
    let dir = home.path().join("man1");
    let json = viben(
        home.path(),
        &["--json", "man", "--out-dir", dir.to_str().unwrap()],
    )
    .json();
    let written: Vec<&str> = json["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(written[0].ends_with("viben.1"), "{written:?}");
    let import = dir.join("viben-db-users-import.1");
    assert!(written.contains(&import.to_str().unwrap()), "{written:?}");
    let page = std::fs::read_to_string(&import).unwrap();
    assert!(page.contains(".TH viben-db-users-import 1"), "{page}");
    assert!(page.contains("batch\\-size"), "{page}");
    for name in [
        "viben-db-connections-link.1",
        "viben-completions.1",
        "viben-man.1",
    ] {
        assert!(dir.join(name).is_file(), "{name} is missing");
    }
    let blocked = home.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let run = viben(
        home.path(),
        &["man", "--out-dir", blocked.to_str().unwrap()],
    );
    assert!(run.failed().contains("hint: "), "{run:?}");
}
