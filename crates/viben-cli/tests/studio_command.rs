//! `viben studio`: prints its URL with the run's token, serves on 127.0.0.1, and stops on
//! Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn studio_prints_a_tokened_url_on_127_0_0_1_and_serves_it() {
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_viben"))
        .args(["--home"])
        .arg(home.path())
        .arg("studio")
        .env_remove("DATABASE_URL")
        .env_remove("POSTGRES_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viben studio starts");
    let stdout = child.stdout.take().expect("stdout");
    // Kept open to the end: the studio's stdout is a pipe that must not close under it.
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).expect("a line");
    let url = first
        .trim()
        .strip_prefix("viben studio is at ")
        .unwrap_or_else(|| panic!("the URL is printed: {first:?}"))
        .to_owned();
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .expect("on 127.0.0.1 only");
    let (port, query) = rest.split_once("/?").expect("a path and a query");
    assert!(
        query.starts_with("token=") && query.len() == "token=".len() + 32,
        "{query}"
    );

    let mut stream =
        TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("port"))).expect("connect");
    write!(
        stream,
        "GET /?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    assert!(
        response
            .to_lowercase()
            .contains("set-cookie: viben_studio_"),
        "{response}"
    );

    // Ctrl-C stops it cleanly.
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "Ctrl-C exits 0");
    drop(reader);
}
