//! `examples/accounts_service.rs` answered over real HTTP: each route, each error's status and
//! JSON body, no access token in any response, 503 with `Retry-After` while its database is
//! stopped and recovery once it is back, and a clean stop on SIGTERM.
//!
//! The example binary is the one `cargo test` builds beside the test binaries; each test starts
//! its own on a free port (`--listen 127.0.0.1:0`), against its own database.

#[path = "support/http.rs"]
mod http;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

use serde_json::{Value, json};
use viben::db::DatabaseUrl;
use viben::db::testing::{LocalServer, TestDatabase};
use viben::model::Chain;

use http::{Client, Reply};

/// A token that must never come back in a response.
const TOKEN: &str = "gho_Zq8Wv3KtSecretToken";

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing; build the examples with `cargo test` or `cargo build --examples`",
        path.display()
    );
    path
}

/// The service, running as its own process.
struct Service {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
    _home: tempfile::TempDir,
}

impl Service {
    /// Starts the example on a free port against `url`; returns once it says where it listens.
    fn start(url: &DatabaseUrl) -> Self {
        let home = tempfile::tempdir().expect("a temporary HOME");
        let mut child = Command::new(example("accounts_service"))
            .args(["--listen", "127.0.0.1:0"])
            .env("HOME", home.path())
            .env("POSTGRES_URL", url.expose())
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the example starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let mut printed = String::new();
        let addr = loop {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).expect("reading its stdout");
            printed.push_str(&line);
            if read == 0 {
                let status = child.wait().expect("its exit status");
                panic!("the service ended ({status}) before listening:\n{printed}");
            }
            if let Some(addr) = line.trim().strip_prefix("listening on http://") {
                break addr.parse().expect("the printed address");
            }
        };
        Self {
            child,
            stdout,
            addr,
            _home: home,
        }
    }

    fn client(&self) -> Client {
        Client::connect(self.addr).expect("connecting to the service")
    }

    /// Sends SIGTERM and waits for the process; returns its status and what it printed after
    /// the address.
    fn terminate(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM failed");
        let status = self.child.wait().expect("its exit status");
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("its stdout");
        (status, rest)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// Sends a request and checks what every response must be: JSON (or empty for a 204), with no
/// access token and no Rust `Debug` form in any of its texts.
fn send(client: &mut Client, method: &str, path: &str, body: Option<Value>) -> Reply {
    let reply = client
        .request(method, path, body.as_ref())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(
        !reply.body.contains(TOKEN),
        "{method} {path}: {}",
        reply.body
    );
    if reply.status == 204 {
        assert_eq!(reply.body, "", "{method} {path}");
    } else {
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{method} {path}: {reply:?}"
        );
        assert_no_debug_forms(&reply.json(), &format!("{method} {path}"));
    }
    reply
}

fn assert_no_debug_forms(value: &Value, context: &str) {
    match value {
        Value::String(text) => {
            for form in ["Some(", "None", "Ok(", "Err(", "{ ", "\\\""] {
                assert!(!text.contains(form), "{context}: a Debug form in {text}");
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_no_debug_forms(v, context)),
        Value::Object(fields) => fields
            .values()
            .for_each(|v| assert_no_debug_forms(v, context)),
        _ => {}
    }
}

fn create(client: &mut Client, email: &str, username: &str) -> Value {
    let reply = send(
        client,
        "POST",
        "/users",
        Some(json!({"email": email, "username": username})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()
}

fn link(client: &mut Client, user_id: &str, provider_id: &str) -> Reply {
    send(
        client,
        "POST",
        &format!("/users/{user_id}/oauth-connections"),
        Some(json!({"provider": "github", "provider_id": provider_id, "access_token": TOKEN})),
    )
}

#[test]
fn create_get_update_and_delete_a_user() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();

    let reply = send(
        &mut client,
        "POST",
        "/users",
        Some(json!({"email": "ada@example.com", "username": "ada", "display_name": "Ada"})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let created = reply.json();
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/users/{id}").as_str())
    );
    assert_eq!(created["role"], "user");
    assert_eq!(created["email_verified"], false);

    let reply = send(&mut client, "GET", &format!("/users/{id}"), None);
    assert_eq!(reply.status, 200);
    let got = reply.json();
    assert_eq!(got["username"], "ada");
    assert_eq!(got["display_name"], "Ada");
    assert_eq!(got["oauth_connections"], json!([]));

    // A value sets a field, null clears a nullable one, an absent field stays.
    let reply = send(
        &mut client,
        "PATCH",
        &format!("/users/{id}"),
        Some(json!({"display_name": null, "github_username": "ada-gh", "role": "admin"})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let updated = reply.json();
    assert_eq!(updated["display_name"], Value::Null);
    assert_eq!(updated["github_username"], "ada-gh");
    assert_eq!(updated["role"], "admin");
    assert_eq!(updated["email"], "ada@example.com");

    let reply = send(&mut client, "DELETE", &format!("/users/{id}"), None);
    assert_eq!(reply.status, 204);
    let reply = send(&mut client, "GET", &format!("/users/{id}"), None);
    assert_eq!(reply.status, 404);
}

#[test]
fn link_and_unlink_an_identity_without_ever_sending_the_token_back() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();
    let id = create(&mut client, "ada@example.com", "ada")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let reply = link(&mut client, &id, "583231");
    assert_eq!(reply.status, 201, "{}", reply.body);
    let connection = reply.json();
    assert_eq!(connection["provider"], "github");
    assert_eq!(connection["provider_id"], "583231");
    assert_eq!(connection["user_id"], id.as_str());
    assert_eq!(connection["has_access_token"], true);
    let connection_id = connection["id"].as_str().expect("an id").to_owned();

    let got = send(&mut client, "GET", &format!("/users/{id}"), None).json();
    assert_eq!(got["oauth_connections"][0]["id"], connection_id.as_str());
    assert_eq!(got["oauth_connections"][0]["has_access_token"], true);

    let path = format!("/users/{id}/oauth-connections/{connection_id}");
    assert_eq!(send(&mut client, "DELETE", &path, None).status, 204);
    let got = send(&mut client, "GET", &format!("/users/{id}"), None).json();
    assert_eq!(got["oauth_connections"], json!([]));
    // Unlinking again: it is gone.
    assert_eq!(send(&mut client, "DELETE", &path, None).status, 404);
}

#[test]
fn a_missing_user_route_or_connection_is_404_with_a_json_body() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();
    let other = create(&mut client, "bob@example.com", "bob")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let bobs = link(&mut client, &other, "1").json()["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let ada = create(&mut client, "ada@example.com", "ada")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    for (method, path, body) in [
        ("GET", "/users/nobody".to_owned(), None),
        (
            "PATCH",
            "/users/nobody".to_owned(),
            Some(json!({"display_name": "x"})),
        ),
        ("DELETE", "/users/nobody".to_owned(), None),
        (
            "POST",
            "/users/nobody/oauth-connections".to_owned(),
            Some(json!({"provider": "github", "provider_id": "2"})),
        ),
        // Bob's connection is not found under Ada.
        (
            "DELETE",
            format!("/users/{ada}/oauth-connections/{bobs}"),
            None,
        ),
        ("GET", "/no/such/route".to_owned(), None),
    ] {
        let reply = send(&mut client, method, &path, body);
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        let error = reply.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.starts_with("no "), "{method} {path}: {error}");
    }
    assert_eq!(
        send(&mut client, "GET", "/users/nobody", None).json()["error"],
        r#"no user with id "nobody""#
    );
    // Bob's connection is still there.
    let got = send(&mut client, "GET", &format!("/users/{other}"), None).json();
    assert_eq!(got["oauth_connections"][0]["id"], bobs.as_str());
}

#[test]
fn a_taken_value_is_409_naming_the_field() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();
    let ada = create(&mut client, "ada@example.com", "ada")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let bob = create(&mut client, "bob@example.com", "bob")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let cases = [
        (
            "POST",
            "/users".to_owned(),
            json!({"email": "ada@example.com", "username": "ada2"}),
            "email",
        ),
        (
            "POST",
            "/users".to_owned(),
            json!({"email": "ada2@example.com", "username": "ada"}),
            "username",
        ),
        (
            "PATCH",
            format!("/users/{bob}"),
            json!({"username": "ada"}),
            "username",
        ),
    ];
    for (method, path, body, field) in cases {
        let reply = send(&mut client, method, &path, Some(body));
        assert_eq!(reply.status, 409, "{method} {path}: {}", reply.body);
        let error = reply.json();
        assert_eq!(error["field"], field, "{error}");
        assert!(
            error["error"]
                .as_str()
                .is_some_and(|e| e.contains(&format!("this {field} is already taken"))),
            "{error}"
        );
    }

    assert_eq!(link(&mut client, &ada, "583231").status, 201);
    let reply = link(&mut client, &bob, "583231");
    assert_eq!(reply.status, 409, "{}", reply.body);
    let error = reply.json();
    assert_eq!(error["field"], "provider_id");
    assert_eq!(
        error["error"],
        "this github account (583231) is already linked to another user"
    );
    assert_eq!(error["hint"], "unlink it there first");
}

#[test]
fn invalid_input_is_422_with_the_validation_message() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();
    let id = create(&mut client, "ada@example.com", "ada")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let links = format!("/users/{id}/oauth-connections");
    let user = format!("/users/{id}");

    for (method, path, body, field, says) in [
        (
            "POST",
            "/users",
            json!({"email": "ada@", "username": "x"}),
            Some("email"),
            "invalid email",
        ),
        (
            "PATCH",
            user.as_str(),
            json!({"username": ""}),
            Some("username"),
            "invalid username",
        ),
        (
            "POST",
            links.as_str(),
            json!({"provider": "github", "provider_id": " "}),
            Some("provider_id"),
            "provider_id must not be empty",
        ),
        (
            "POST",
            "/users",
            json!({"email": "nul\u{0}@example.com", "username": "nul"}),
            Some("email"),
            "control character",
        ),
        (
            "POST",
            "/users",
            json!({"username": "x"}),
            None,
            "missing field `email`",
        ),
        (
            "PATCH",
            user.as_str(),
            json!({"nickname": "x"}),
            None,
            "unknown field `nickname`",
        ),
        (
            "PATCH",
            user.as_str(),
            json!({"email_verified": "yes"}),
            None,
            "expected a boolean",
        ),
    ] {
        let reply = send(&mut client, method, path, Some(body));
        assert_eq!(reply.status, 422, "{method} {path}: {}", reply.body);
        let error = reply.json();
        assert!(
            error["error"].as_str().is_some_and(|e| e.contains(says)),
            "{method} {path}: {error}"
        );
        assert!(error["hint"].is_string(), "{error}");
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{error}");
        }
    }

    // Not JSON at all: a syntax error is 400, a body without the JSON content type 415.
    let reply = client.request("POST", "/users", None).expect("a response");
    assert_eq!(reply.status, 415, "{}", reply.body);
    assert!(reply.json()["error"].is_string());
}

#[test]
fn while_the_database_is_stopped_requests_get_503_with_retry_after_then_it_recovers() {
    // A server of this test's own: stopping the shared one would break every other test.
    let server = LocalServer::start().unwrap_or_else(|e| panic!("{}", Chain(&e)));
    let service = Service::start(&server.url());
    let mut client = service.client();
    let id = create(&mut client, "ada@example.com", "ada")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let user = format!("/users/{id}");
    assert_eq!(send(&mut client, "GET", &user, None).status, 200);

    server.stop().unwrap_or_else(|e| panic!("{}", Chain(&e)));
    // The pooled connection is cut (lost mid-request) and new ones are refused: both are 503.
    for (method, body) in [
        ("GET", None),
        ("GET", None),
        ("PATCH", Some(json!({"display_name": "x"}))),
    ] {
        let reply = send(&mut client, method, &user, body);
        assert_eq!(reply.status, 503, "{method}: {}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("1"));
        let error = reply.json();
        assert_eq!(error["error"], "the database is unavailable");
        assert!(!reply.body.contains("127.0.0.1"), "{}", reply.body);
    }

    server.restart().unwrap_or_else(|e| panic!("{}", Chain(&e)));
    // A connection cut while the server was down may still fail one more request.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let reply = send(&mut client, "GET", &user, None);
        statuses.push(reply.status);
        if reply.status == 200 {
            assert_eq!(reply.json()["id"], id.as_str());
            break;
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
}

#[test]
fn sigterm_stops_it_cleanly() {
    let db = TestDatabase::new();
    let service = Service::start(db.url());
    let mut client = service.client();
    create(&mut client, "ada@example.com", "ada");
    let (status, printed) = service.terminate();
    assert!(status.success(), "{status}: {printed}");
    assert!(
        printed.contains("shutting down: finishing the requests in flight"),
        "{printed}"
    );
    assert!(printed.trim_end().ends_with("shut down"), "{printed}");
}
