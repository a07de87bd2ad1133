//! `viben watch`: spawned as a user would, changed by other `viben` processes and by hand, read
//! a line at a time, and stopped with Ctrl-C (SIGINT) or by closing its stdout.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{create_agent, viben};

/// How long to wait for a line or an exit: generous, since CI's machine is shared.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `viben watch`, its stdout and stderr read line by line on threads.
struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

/// Sends each line `reader` gives to the returned channel, from a thread.
fn lines(reader: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_viben"));
    command
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env_remove("VIBEN_HOME")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Reads `stderr`'s first line, which `viben watch` prints once it is watching.
fn ready(stderr: &mpsc::Receiver<String>) -> String {
    stderr
        .recv_timeout(PATIENCE)
        .expect("viben watch says it is watching")
}

impl Running {
    /// Starts `viben --home <home> [args] watch` and waits until it is watching.
    fn start(home: &Path, args: &[&str]) -> (Self, String) {
        let mut child = command(home, args)
            .arg("watch")
            .stdout(Stdio::piped())
            .spawn()
            .expect("viben watch starts");
        let stdout = lines(child.stdout.take().expect("stdout is piped"));
        let stderr = lines(child.stderr.take().expect("stderr is piped"));
        let first = ready(&stderr);
        (
            Self {
                child,
                stdout,
                stderr,
            },
            first,
        )
    }

    #[track_caller]
    fn line(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .expect("viben watch prints a line for the change")
    }

    /// Sends SIGINT, as Ctrl-C does, and returns how it exited and what else it said on stderr.
    fn interrupt(mut self) -> (ExitStatus, Vec<String>) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let status = wait(&mut self.child);
        (status, self.stderr.try_iter().collect())
    }
}

/// Waits for `child` to exit, killing it (and failing) if it does not within [`PATIENCE`].
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait for viben") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("viben watch did not exit within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn each_change_by_another_viben_is_one_line_and_ctrl_c_exits_0() {
    let home = tempfile::tempdir().expect("a home");
    let (watch, first) = Running::start(home.path(), &[]);
    assert!(first.starts_with("watching "), "{first}");

    viben(home.path(), &["providers", "set", "acme"]).ok();
    assert_eq!(watch.line(), "provider changed: acme");
    create_agent(home.path(), "my-agent");
    assert_eq!(watch.line(), "agent created: my-agent");
    let created = viben(
        home.path(),
        &["--json", "sessions", "create", "--agent", "my-agent"],
    )
    .json();
    let session = created["id"]
        .as_str()
        .expect("the new session's id")
        .to_owned();
    assert_eq!(watch.line(), format!("session created: {session}"));
    viben(
        home.path(),
        &["sessions", "append", &session, "--content", "hi"],
    )
    .ok();
    assert_eq!(watch.line(), format!("message appended: {session}"));
    viben(home.path(), &["sessions", "delete", &session, "--yes"]).ok();
    assert_eq!(watch.line(), format!("session removed: {session}"));
    viben(home.path(), &["agents", "delete", "my-agent"]).ok();
    assert_eq!(watch.line(), "agent removed: my-agent");

    let (status, stderr) = watch.interrupt();
    assert_eq!(status.code(), Some(0), "{stderr:?}");
    assert_eq!(stderr, Vec::<String>::new(), "nothing more on stderr");
}

#[test]
fn json_is_one_object_per_line_and_an_invalid_edit_carries_the_placed_error() {
    let home = tempfile::tempdir().expect("a home");
    let (watch, first) = Running::start(home.path(), &["--json"]);
    let ready: serde_json::Value = serde_json::from_str(&first).expect("stderr says it as JSON");
    assert!(ready["watching"].is_string(), "{first}");

    std::fs::write(home.path().join("models.yaml"), "models: []\n").expect("write models.yaml");
    let line: serde_json::Value = serde_json::from_str(&watch.line()).expect("one JSON object");
    assert_eq!(line, serde_json::json!({ "event": "models_changed" }));

    std::fs::write(
        home.path().join("providers/acme.yaml"),
        "name: acme\nbase_url: [\n",
    )
    .expect("write a broken provider");
    let line: serde_json::Value = serde_json::from_str(&watch.line()).expect("one JSON object");
    assert_eq!(line["event"], "provider_changed");
    assert_eq!(line["id"], "acme");
    let error = line["error"].as_str().expect("the error is text");
    let file = home
        .path()
        .join("providers/acme.yaml")
        .display()
        .to_string();
    assert!(
        error.starts_with(&format!("{file}:2:")),
        "the error is placed at path:line:column: {error}"
    );
    assert!(line["hint"].is_string(), "{line}");

    let (status, _) = watch.interrupt();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_closed_stdout_ends_watch_quietly_with_the_sigpipe_status() {
    let home = tempfile::tempdir().expect("a home");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut child = command(home.path(), &["watch"])
        .stdout(writer)
        .spawn()
        .expect("viben watch starts");
    let stderr: ChildStderr = child.stderr.take().expect("stderr is piped");
    let stderr = lines(stderr);
    ready(&stderr);
    viben(home.path(), &["providers", "set", "acme"]).ok();
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(141));
    assert_eq!(
        stderr.try_iter().collect::<Vec<_>>(),
        Vec::<String>::new(),
        "a closed pipe is not an error to report"
    );
}
