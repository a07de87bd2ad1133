//! A studio on a throwaway database and a temporary store, and a real headless Chromium
//! driven over WebDriver (chromedriver), for tests that use the studio as a person does.

#![allow(dead_code, reason = "each test file uses its own part of the harness")]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use tokio::sync::oneshot;
use viben_db::testing::TestDatabase;
use viben_store::Store;
use viben_studio::Studio;

/// A running studio; stopped when dropped.
pub(crate) struct Running {
    pub(crate) url: String,
    pub(crate) base: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a studio over `store` and, when given, `database`.
pub(crate) async fn start(store: Option<Store>, database: Option<&TestDatabase>) -> Running {
    let mut builder = Studio::builder();
    if let Some(store) = store {
        builder = builder.store(store);
    }
    if let Some(database) = database {
        builder = builder.database(database.pool().clone());
    }
    let studio = builder.bind().await.expect("the studio binds a free port");
    serve(studio)
}

/// Serves a bound studio in the background until the returned value is dropped.
pub(crate) fn serve(studio: Studio) -> Running {
    let url = studio.url();
    let base = format!("http://{}", studio.address());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(studio.serve(async {
        let _ = stopped.await;
    }));
    Running {
        url,
        base,
        stop: Some(stop),
    }
}

/// A store in a temporary folder, initialised, with one agent `helper`.
pub(crate) fn store_with_agent(dir: &Path) -> Store {
    let store = Store::open(dir).expect("store opens");
    store.init().expect("store initialises");
    let agent: viben_model::AgentConfig = serde_yaml::from_str(
        "id: helper\nname: Helper\nmodel: gpt-4o\nprovider: openai\ntemperature: 0.7\n",
    )
    .expect("agent yaml");
    store.agents().create(&agent).expect("agent created");
    store
}

/// chromedriver on a free port, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// Starts chromedriver (Debian's `chromium-driver`, which `.ci/run` installs) and waits until
/// it accepts connections.
pub(crate) fn driver() -> Driver {
    let program = std::env::var("VIBEN_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let port = free_port();
    let child = Command::new(&program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start {program} ({err}): the browser tests need Chromium and \
                 chromedriver (apt-get install chromium chromium-driver; .ci/run installs them)"
            )
        });
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// A headless Chromium session through `driver`.
pub(crate) async fn browser(driver: &Driver) -> Client {
    let binary = std::env::var("VIBEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"],
        }),
    );
    ClientBuilder::rustls()
        .expect("TLS roots for the WebDriver client")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session through chromedriver")
}

/// The element `locator` finds once the page a click or a key led to has loaded: WebDriver
/// may return from the click while the old page is still shown.
pub(crate) async fn find_soon(
    client: &Client,
    locator: fantoccini::Locator<'_>,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(locator)
        .await
        .unwrap_or_else(|err| panic!("no {locator:?} on the page within 15 s: {err}"))
}

/// Where the tests put their screenshots: `target/studio-screenshots/`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("studio-screenshots"))
        .expect("CARGO_TARGET_TMPDIR is inside target/");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Saves what the browser shows as `target/studio-screenshots/<name>.png`.
pub(crate) async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("screenshot saved");
}

/// One plain HTTP/1.1 request, as a script (or another site) would send it; returns the
/// status code, the headers and the body.
pub(crate) fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let address = base.strip_prefix("http://").expect("an http:// base");
    let mut stream = TcpStream::connect(address).expect("connect to the studio");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("Host: {address}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    (status, head.to_owned(), body.to_owned())
}
