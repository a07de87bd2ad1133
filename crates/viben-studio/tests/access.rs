//! Who gets in, and what never comes out: plain HTTP requests as a script or another web
//! site would send them.

mod common;

use viben_db::testing::TestDatabase;
use viben_db::{oauth_connections, users};
use viben_model::{NewOAuthConnection, NewUser, OAuthProvider, ProviderConfig, Secret};

const ACCESS_TOKEN: &str = "gho_neverOnAPage0123456789abcdef";
const API_KEY: &str = "sk-neverOnAPage0123456789abcdef";

/// The token from the printed URL, and the cookie the studio gives in exchange.
fn enter(studio: &common::Running) -> String {
    let (_, query) = studio.url.split_once("/?").expect("the URL has a query");
    let (status, head, _) = common::http(&studio.base, "GET", &format!("/?{query}"), &[], "");
    assert_eq!(status, 303, "the token is exchanged for a cookie: {head}");
    assert!(
        head.contains("HttpOnly") && head.contains("SameSite=Strict"),
        "{head}"
    );
    let location = head
        .lines()
        .find_map(|line| line.strip_prefix("location: "))
        .expect("a redirect");
    assert_eq!(location, "/", "the redirect drops the token");
    head.lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|cookie| cookie.split(';').next())
        .expect("a cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_this_runs_token_are_refused() {
    let home = tempfile::tempdir().expect("temp dir");
    let studio = common::start(Some(common::store_with_agent(home.path())), None).await;
    let base = studio.base.clone();
    tokio::task::spawn_blocking(move || {
        let (status, _, body) = common::http(&base, "GET", "/agents", &[], "");
        assert_eq!(status, 401);
        assert!(
            body.contains("the studio needs this run&#39;s token")
                || body.contains("the studio needs this run's token"),
            "{body}"
        );
        let (status, _, _) = common::http(
            &base,
            "GET",
            "/?token=0123456789abcdef0123456789abcdef",
            &[],
            "",
        );
        assert_eq!(status, 403, "a wrong token");
        let (status, _, _) = common::http(
            &base,
            "GET",
            "/agents",
            &[("Cookie", "viben_studio_1=nope")],
            "",
        );
        assert_eq!(status, 401, "a wrong cookie");
    })
    .await
    .expect("requests");
    // With the cookie: in, but only under the studio's own host name.
    let base = studio.base.clone();
    let cookie = enter(&studio);
    let (status, head, _) = common::http(&base, "GET", "/agents", &[("Cookie", &cookie)], "");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-security-policy"), "{head}");
    let (status, _, _) = common::http(
        &base,
        "GET",
        "/agents",
        &[("Cookie", &cookie), ("Host", "rebound.example:80")],
        "",
    );
    assert_eq!(status, 403, "another host name (DNS rebinding) is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_needs_the_form_token_and_the_studios_own_origin() {
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let config = home.path().join("agents/helper/config.yaml");
    let before = std::fs::read_to_string(&config).expect("config");
    let studio = common::start(Some(store), None).await;
    let cookie = enter(&studio);
    let base = studio.base.clone();
    let form =
        "text=id%3A+helper%0Aname%3A+Changed%0Amodel%3A+m%0Aprovider%3A+p%0A&revision=absent";
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let (status, _, body) = common::http(
        &base,
        "POST",
        "/agents/helper",
        &[("Cookie", &cookie), form_type],
        form,
    );
    assert_eq!(status, 403, "no form token: {body}");
    // The page's own form token, but sent from another site.
    let (_, _, page) = common::http(&base, "GET", "/agents/helper", &[("Cookie", &cookie)], "");
    let token = page
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the editor has a form token")
        .to_owned();
    let with_token = format!("{form}&form_token={token}");
    let (status, _, _) = common::http(
        &base,
        "POST",
        "/agents/helper",
        &[
            ("Cookie", &cookie),
            form_type,
            ("Origin", "https://evil.example"),
        ],
        &with_token,
    );
    assert_eq!(status, 403, "a cross-site POST is refused");
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        before,
        "nothing changed"
    );
    // From the studio itself, the stale revision is the only thing wrong: a conflict.
    let origin = base.clone();
    let (status, _, _) = common::http(
        &base,
        "POST",
        "/agents/helper",
        &[("Cookie", &cookie), form_type, ("Origin", &origin)],
        &with_token,
    );
    assert_eq!(status, 409, "the file is not at the form's revision");
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        before,
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_page() {
    let database = TestDatabase::new();
    let mut conn = database.connection();
    let user = users::create(&mut conn, &NewUser::new("ada@example.com", "ada")).expect("user");
    oauth_connections::link(
        &mut conn,
        &NewOAuthConnection::new(&user.id, OAuthProvider::GitHub, "1")
            .with_access_token(Secret::new(ACCESS_TOKEN)),
    )
    .expect("link");
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let mut provider = ProviderConfig::new("openai");
    provider.api_key = Some(Secret::new(API_KEY));
    store.providers().set(&provider).expect("provider");
    std::fs::write(
        home.path().join("channels.yaml"),
        format!("channels:\n  - id: tg\n    kind: telegram\n    agent: helper\n    bot_token: {API_KEY}\n"),
    )
    .expect("channels");
    let studio = common::start(Some(store), Some(&database)).await;
    let cookie = enter(&studio);
    let base = studio.base.clone();
    let paths = [
        "/".to_owned(),
        "/users".to_owned(),
        format!("/users/{}", user.id),
        format!("/users/{}/delete", user.id),
        "/database".to_owned(),
        "/agents".to_owned(),
        "/agents/helper".to_owned(),
        "/models".to_owned(),
        "/providers".to_owned(),
        "/channels".to_owned(),
        "/sessions".to_owned(),
        "/telemetry".to_owned(),
        "/check".to_owned(),
    ];
    tokio::task::spawn_blocking(move || {
        for path in &paths {
            let (status, _, body) = common::http(&base, "GET", path, &[("Cookie", &cookie)], "");
            assert_eq!(status, 200, "{path}: {body}");
            assert!(!body.contains(ACCESS_TOKEN), "{path} shows an access token");
            assert!(!body.contains(API_KEY), "{path} shows an API key");
            assert!(!body.contains("Some("), "{path} shows a Debug form");
        }
        let (_, _, providers) =
            common::http(&base, "GET", "/providers", &[("Cookie", &cookie)], "");
        assert!(providers.contains("in the file (hidden)"), "{providers}");
    })
    .await
    .expect("pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_gives_503_with_retry_after_then_recovers() {
    use std::time::Duration;
    use viben_db::testing::LocalServer;

    // A server of the test's own: it is stopped and started again here.
    let server = tokio::task::spawn_blocking(|| {
        LocalServer::start().unwrap_or_else(|e| panic!("{}", viben_model::Chain(&e)))
    })
    .await
    .expect("server");
    let url = server.url();
    let pool = tokio::task::spawn_blocking(move || {
        let pool = viben_db::Pool::builder()
            .url(url.expose())
            .connect_timeout(Duration::from_secs(2))
            .checkout_timeout(Duration::from_secs(2))
            .wait_for_server(Duration::ZERO)
            .build()
            .expect("pool");
        let mut conn = pool.get().expect("connection");
        viben_db::migrate::run_pending(&mut conn).expect("migrations");
        drop(conn);
        pool
    })
    .await
    .expect("pool");
    let studio = viben_studio::Studio::builder()
        .database(pool)
        .bind()
        .await
        .expect("bind");
    let studio = common::serve(studio);
    let cookie = enter(&studio);
    let base = studio.base.clone();
    let server = std::sync::Arc::new(server);
    let stopper = server.clone();
    tokio::task::spawn_blocking(move || {
        let (status, _, _) = common::http(&base, "GET", "/users", &[("Cookie", &cookie)], "");
        assert_eq!(status, 200);
        stopper.stop().expect("stopped");
        let (status, head, body) = common::http(&base, "GET", "/users", &[("Cookie", &cookie)], "");
        assert_eq!(status, 503, "{head}\n{body}");
        assert!(head.to_lowercase().contains("retry-after: 5"), "{head}");
        assert!(
            body.contains("What to do"),
            "the page says what to do: {body}"
        );
        stopper.restart().expect("started again");
        let (status, _, _) = common::http(&base, "GET", "/users", &[("Cookie", &cookie)], "");
        assert_eq!(status, 200, "the next request connects again");
    })
    .await
    .expect("requests");
}
