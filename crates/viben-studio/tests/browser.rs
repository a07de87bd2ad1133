//! The studio used as a person uses it: a real headless Chromium, driven over WebDriver,
//! against a throwaway database and a temporary store. Each main page is saved as a
//! screenshot under `target/studio-screenshots/`.

mod common;

use diesel::prelude::*;
use fantoccini::Locator;
use viben_db::testing::TestDatabase;
use viben_db::{oauth_connections, users};
use viben_model::{NewOAuthConnection, NewUser, OAuthProvider, Secret};

const TOKEN: &str = "gho_studioNeverShowsThis0123456789";

fn seed_users(database: &TestDatabase, count: usize) -> String {
    let mut conn = database.connection();
    let new: Vec<NewUser> = (0..count)
        .map(|i| NewUser::new(format!("user-{i:05}@example.com"), format!("user-{i:05}")))
        .collect();
    users::bulk_insert(&mut conn, &new).expect("users inserted");
    let first = users::get_by_email(&mut conn, "user-00042@example.com").expect("user 42");
    for (provider, id) in [
        (OAuthProvider::GitHub, "42"),
        (OAuthProvider::Google, "g-42"),
    ] {
        oauth_connections::link(
            &mut conn,
            &NewOAuthConnection::new(&first.id, provider, id).with_access_token(Secret::new(TOKEN)),
        )
        .expect("connection linked");
    }
    first.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_pages_searches_edits_and_deletes_users() {
    let database = TestDatabase::new();
    let user_id = seed_users(&database, 2_500);
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let studio = common::start(Some(store), Some(&database)).await;
    let driver = common::driver();
    let client = common::browser(&driver).await;

    client
        .goto(&studio.url)
        .await
        .expect("open the printed URL");
    let address = client.current_url().await.expect("current url");
    assert!(
        !address.as_str().contains("token="),
        "the token is dropped from the address bar: {address}"
    );
    common::screenshot(&client, "overview").await;

    // Every user, a page of 100 at a time, by following "Next page".
    client
        .goto(&format!("{}/users", studio.base))
        .await
        .expect("users page");
    common::screenshot(&client, "users").await;
    let mut seen = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        pages += 1;
        for link in client
            .find_all(Locator::Css("table.users tbody tr td:first-child a"))
            .await
            .expect("rows")
        {
            seen.insert(link.text().await.expect("email"));
        }
        // Followed by its address: `goto` returns once the next page has loaded, where a
        // click may return while the old page is still shown.
        match client.find(Locator::Id("next")).await {
            Ok(next) => {
                let href = next.prop("href").await.expect("href").expect("a link");
                client.goto(&href).await.expect("next page");
            }
            Err(_) => break,
        }
    }
    assert_eq!(seen.len(), 2_500, "every user once");
    assert_eq!(pages, 25, "100 users a page");

    // On a phone's screen: the table scrolls inside the page, the page itself does not widen.
    client.set_window_size(390, 844).await.expect("phone size");
    client
        .goto(&format!("{}/users", studio.base))
        .await
        .expect("users page");
    let widths = client
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .expect("widths");
    assert_eq!(
        widths[0], widths[1],
        "no sideways scrolling of the page: {widths:?}"
    );
    common::screenshot(&client, "users-phone").await;
    client
        .set_window_size(1280, 900)
        .await
        .expect("laptop size");

    // Search, then open the user found.
    client
        .goto(&format!("{}/users", studio.base))
        .await
        .expect("users page");
    let search = client.find(Locator::Id("q")).await.expect("search box");
    search.send_keys("USER-00042").await.expect("type");
    search.send_keys("\u{E007}").await.expect("enter");
    common::find_soon(&client, Locator::XPath("//p[contains(., 'start with')]")).await;
    let found = client
        .find_all(Locator::Css("table.users tbody tr td:first-child a"))
        .await
        .expect("results");
    assert_eq!(found.len(), 1, "one user starts with user-00042");
    found[0].clone().click().await.expect("open the user");
    common::find_soon(&client, Locator::Css("dl.facts")).await;
    let page = client.source().await.expect("html");
    assert!(
        page.contains("OAuth connections (2)"),
        "both connections listed"
    );
    assert!(
        !page.contains(TOKEN),
        "an access token never reaches a page"
    );
    common::screenshot(&client, "user").await;

    // Edit the display name and see it in the database.
    let name = client
        .find(Locator::Id("display_name"))
        .await
        .expect("name field");
    name.clear().await.expect("clear");
    name.send_keys("Ada Lovelace").await.expect("type");
    client
        .find(Locator::Id("save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    let saved = common::find_soon(&client, Locator::Css("p.notice")).await;
    assert_eq!(saved.text().await.expect("text"), "Saved.");
    let mut conn = database.connection();
    let user = users::get_by_id(&mut conn, &user_id).expect("user");
    assert_eq!(user.display_name.as_deref(), Some("Ada Lovelace"));

    // Delete, with a confirmation that names what goes with the user.
    client
        .find(Locator::Id("delete"))
        .await
        .expect("delete link")
        .click()
        .await
        .expect("click");
    let warning = common::find_soon(&client, Locator::Css("p.warning")).await;
    let text = warning.text().await.expect("text");
    assert!(text.contains("2 OAuth connections"), "{text}");
    assert!(
        users::get_by_id(&mut conn, &user_id).is_ok(),
        "nothing deleted before confirming"
    );
    common::screenshot(&client, "delete-user").await;
    client
        .find(Locator::Id("confirm"))
        .await
        .expect("confirm")
        .click()
        .await
        .expect("click");
    let notice = common::find_soon(&client, Locator::Css("p.notice")).await;
    assert!(
        notice
            .text()
            .await
            .expect("text")
            .contains("user-00042@example.com")
    );
    assert!(matches!(
        users::get_by_id(&mut conn, &user_id),
        Err(viben_db::QueryError::NotFound { .. })
    ));
    let left: i64 = viben_db::schema::oauth_connections::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(left, 0, "its connections went with it");

    client.close().await.expect("close the browser");
}

/// Replaces the text of the open agent editor with `text`, as a person types, and saves.
async fn edit_and_save(client: &fantoccini::Client, text: &str) {
    let editor = client.find(Locator::Id("text")).await.expect("editor");
    editor.clear().await.expect("clear");
    editor.send_keys(text).await.expect("type");
    client
        .find(Locator::Id("save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_temperature_is_shown_at_its_line_and_nothing_is_saved() {
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let config = home.path().join("agents/helper/config.yaml");
    let before = std::fs::read_to_string(&config).expect("config");
    let line = before
        .lines()
        .position(|l| l.starts_with("temperature:"))
        .expect("a temperature line")
        + 1;
    let studio = common::start(Some(store), None).await;
    let driver = common::driver();
    let client = common::browser(&driver).await;
    // Without this run's token (a bookmark, another person): refused, saying what to do.
    client
        .goto(&format!("{}/agents", studio.base))
        .await
        .expect("agents without the token");
    let refusal = client
        .find(Locator::Css("div.error"))
        .await
        .expect("a refusal");
    let text = refusal.text().await.expect("text");
    assert!(text.contains("the studio needs this run's token"), "{text}");
    assert!(
        client.find(Locator::Css("table.agents")).await.is_err(),
        "nothing shown"
    );
    client.goto(&studio.url).await.expect("open");

    client
        .goto(&format!("{}/agents", studio.base))
        .await
        .expect("agents");
    common::screenshot(&client, "agents").await;
    client
        .goto(&format!("{}/agents/helper", studio.base))
        .await
        .expect("agent");
    edit_and_save(
        &client,
        &before.replace("temperature: 0.7", "temperature: 5.0 # too hot"),
    )
    .await;

    let message = common::find_soon(&client, Locator::Css("div.error p.message")).await;
    let text = message.text().await.expect("text");
    assert_eq!(
        text,
        format!("agents/helper/config.yaml:{line}:14: temperature 5 is out of range")
    );
    let marked = client
        .find(Locator::Css("mark.bad-line"))
        .await
        .expect("the line marked");
    assert_eq!(
        marked.attr("data-line").await.expect("attr").as_deref(),
        Some(line.to_string().as_str())
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        before,
        "nothing saved"
    );
    common::screenshot(&client, "agent-error").await;

    // Fixed, it saves.
    edit_and_save(
        &client,
        &before.replace("temperature: 0.7", "temperature: 0.2"),
    )
    .await;
    common::find_soon(&client, Locator::Css("p.notice")).await;
    let after = std::fs::read_to_string(&config).expect("config");
    assert!(after.contains("temperature: 0.2"), "{after}");

    client.close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_pages_show_sessions_telemetry_and_the_check() {
    use viben_model::{LogLevel, LogRecord, Message, MessageRole, MetricPoint, SessionMeta};

    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let session = SessionMeta::new("helper", Some("Planning the launch".to_owned()));
    store.sessions().create(&session).expect("session");
    let appender = store.sessions().appender(&session.id).expect("appender");
    for i in 0..450 {
        let role = if i % 2 == 0 {
            MessageRole::User
        } else {
            MessageRole::Assistant
        };
        appender
            .append(&Message::new(role, format!("message {i} <b>not bold</b>")))
            .expect("append");
    }
    drop(appender);
    let now = chrono::Utc::now();
    for hour in 0..48 {
        let time = now - chrono::Duration::hours(hour);
        let point: MetricPoint = serde_json::from_value(serde_json::json!({
            "name": "tokens_per_second", "value": 40.0 + (hour as f64).sin() * 10.0,
            "unit": "tok/s", "time": time,
        }))
        .expect("metric");
        store.telemetry().record(&point).expect("metric recorded");
    }
    let log: LogRecord = serde_json::from_value(serde_json::json!({
        "level": "warn", "message": "slow reply", "time": now,
    }))
    .expect("log");
    assert_eq!(log.level, LogLevel::Warn);
    store.telemetry().record(&log).expect("log recorded");
    // A problem for the check page: an agent whose config breaks a rule.
    std::fs::create_dir_all(home.path().join("agents/broken")).expect("folder");
    std::fs::write(
        home.path().join("agents/broken/config.yaml"),
        "id: broken\nname: B\nmodel: m\nprovider: p\ntemperature: 9\n",
    )
    .expect("broken agent");

    let studio = common::start(Some(store), None).await;
    let driver = common::driver();
    let client = common::browser(&driver).await;
    client.goto(&studio.url).await.expect("open");

    client
        .goto(&format!("{}/sessions", studio.base))
        .await
        .expect("sessions");
    common::screenshot(&client, "sessions").await;
    client
        .find(Locator::LinkText("Planning the launch"))
        .await
        .expect("the session listed")
        .click()
        .await
        .expect("open it");
    // The transcript's last chunk ends with the count.
    common::find_soon(&client, Locator::Css("p.count")).await;
    let messages = client
        .find_all(Locator::Css("article.message"))
        .await
        .expect("messages");
    assert_eq!(messages.len(), 450, "every message, streamed in chunks");
    let first = messages[0]
        .find(Locator::Css("div.content"))
        .await
        .expect("content");
    assert_eq!(
        first.text().await.expect("text"),
        "message 0 <b>not bold</b>",
        "stored text is text"
    );
    common::screenshot(&client, "session").await;

    client
        .goto(&format!("{}/telemetry", studio.base))
        .await
        .expect("telemetry");
    let caption = client
        .find(Locator::Css("figure.chart figcaption"))
        .await
        .expect("a chart");
    assert_eq!(
        caption.text().await.expect("text"),
        "tokens_per_second (tok/s)"
    );
    let line = client
        .find(Locator::Css("figure.chart polyline"))
        .await
        .expect("a line");
    let points = line.attr("points").await.expect("attr").unwrap_or_default();
    assert!(points.split_whitespace().count() >= 10, "{points}");
    common::screenshot(&client, "telemetry").await;

    client
        .goto(&format!("{}/check", studio.base))
        .await
        .expect("check");
    let problem = client
        .find(Locator::Css("ul.problems a[href='/agents/broken']"))
        .await
        .expect("the problem links to its agent");
    assert!(
        problem
            .text()
            .await
            .expect("text")
            .contains("agents/broken/config.yaml")
    );
    common::screenshot(&client, "check").await;

    client.close().await.expect("close the browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_page_follows_changes_made_on_disk() {
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let writer = store.clone();
    let studio = common::start(Some(store), None).await;
    let driver = common::driver();
    let client = common::browser(&driver).await;
    client.goto(&studio.url).await.expect("open");
    client
        .goto(&format!("{}/agents", studio.base))
        .await
        .expect("agents");
    assert!(client.find(Locator::LinkText("newcomer")).await.is_err());
    // Once the page's event stream is watching (the script marks the page), a person's
    // editor (here: the store API, from another thread) adds an agent.
    client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("body[data-watching]"))
        .await
        .expect("the page watches the store");
    let added = tokio::task::spawn_blocking(move || {
        let agent: viben_model::AgentConfig =
            serde_yaml::from_str("id: newcomer\nname: New\nmodel: m\nprovider: p\n")
                .expect("agent");
        writer.agents().create(&agent).expect("created");
    });
    added.await.expect("agent added");
    client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::LinkText("newcomer"))
        .await
        .expect("the page reloaded by itself and shows the new agent");
    client.close().await.expect("close the browser");
}
