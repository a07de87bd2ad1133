//! `viben completions SHELL` and `viben man`: generated from the same clap definitions as the
//! parser itself, so they cannot drift from the commands.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use serde_json::json;

use crate::cli::{Cli, CompletionShell};
use crate::failure::Failure;
use crate::output::{self, print_json, write_stdout};

/// Prints the completion script for `shell` (with `--json`, `{"shell", "script"}`).
pub(crate) fn completions(shell: CompletionShell) -> Result<(), Failure> {
    let (generator, name) = match shell {
        CompletionShell::Bash => (Shell::Bash, "bash"),
        CompletionShell::Zsh => (Shell::Zsh, "zsh"),
        CompletionShell::Fish => (Shell::Fish, "fish"),
    };
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut Cli::command(), "viben", &mut script);
    let script = utf8(script)?;
    if output::json() {
        return print_json(&json!({ "shell": name, "script": script }));
    }
    write_stdout(&script)
}

/// Prints `viben.1` as roff, or writes one page per command into `out_dir`.
pub(crate) fn man(out_dir: Option<&Path>) -> Result<(), Failure> {
    let Some(dir) = out_dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .map_err(Failure::output)?;
        let page = utf8(page)?;
        if output::json() {
            return print_json(&json!({ "page": page }));
        }
        return write_stdout(&page);
    };
    let written = write_pages(dir).map_err(|err| {
        Failure::with_hint(
            format!(
                "cannot write the manual pages into {}: {err}",
                dir.display()
            ),
            "pass --out-dir a folder you can write to, or print the page with `viben man`",
        )
    })?;
    if output::json() {
        return print_json(&json!({ "written": written }));
    }
    output::done(&format!(
        "wrote {} manual pages into {} (read one with `man -l {}`)",
        written.len(),
        dir.display(),
        dir.join("viben.1").display()
    ))
}

/// viben.1 and a page per subcommand at any depth (viben-db-users-import.1), as
/// `clap_mangen::generate_to` names them, returning the files written.
fn write_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn write(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            write(sub, dir, written)?;
        }
        written.push(clap_mangen::Man::new(cmd).generate_to(dir)?);
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    // Building gives each subcommand its display name (`viben-db-users`), the page's name.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write(cmd, dir, &mut written)?;
    written.reverse();
    Ok(written)
}

/// The generators write the help texts, which are Rust string literals: always UTF-8.
fn utf8(bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(|_| {
        Failure::with_hint(
            "the generated text is not UTF-8",
            "report this as a bug in viben",
        )
    })
}
