//! Runs the built `viben` binary as a user would, on a temporary home.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What one run of `viben` printed and how it exited.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts exit code 1 (the operation failed) and returns stderr.
    #[track_caller]
    pub(crate) fn failed(&self) -> &str {
        assert_eq!(self.code, 1, "expected exit code 1, got {self:#?}");
        &self.stderr
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).expect("stdout is one JSON document")
    }
}

/// Runs `viben --home <home> args...` with no database variables set (unless `url` is given,
/// which is passed as `--database-url`) and `stdin` as standard input, in `home` as the current
/// folder (the system's temporary folder while `home` does not exist): a command that looks
/// for project files (`db generate` reads the nearest diesel.toml) must not find the
/// workspace's and write into it.
pub(crate) fn viben_with(home: &Path, url: Option<&str>, stdin: &str, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_viben"));
    command
        .current_dir(if home.is_dir() {
            home.to_path_buf()
        } else {
            std::env::temp_dir()
        })
        .arg("--home")
        .arg(home)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env_remove("VIBEN_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = url {
        command.arg("--database-url").arg(url);
    }
    let mut child = command.args(args).spawn().expect("the viben binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    let output = child.wait_with_output().expect("viben runs to completion");
    Run {
        code: output.status.code().expect("viben exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `viben --home <home> args...` against the store only.
pub(crate) fn viben(home: &Path, args: &[&str]) -> Run {
    viben_with(home, None, "", args)
}

/// Creates agent `id` (name `A`, model `m`, provider `p`, neither of which needs to exist) and
/// asserts it worked.
pub(crate) fn create_agent(home: &Path, id: &str) {
    viben(
        home,
        &[
            "agents",
            "create",
            id,
            "--name",
            "A",
            "--model",
            "m",
            "--provider",
            "p",
        ],
    )
    .ok();
}

/// Runs `viben --home <home> args...` with its address space limited to `kib` KiB, as
/// `ulimit -v` does, and returns its exit code, stdout's length and stdout's last 200 bytes.
pub(crate) fn viben_limited(home: &Path, kib: u64, args: &[&str]) -> (Option<i32>, usize, String) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("viben runs");
    let stdout = output.stdout;
    let tail = String::from_utf8_lossy(&stdout[stdout.len().saturating_sub(200)..]).into_owned();
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), stdout.len(), tail)
}
