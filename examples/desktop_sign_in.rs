//! The wiring between the two halves: the desktop app signs a person in with GitHub.
//!
//! 1. The web side (viben-db) already has the account: a user linked to a GitHub identity.
//! 2. The desktop gets the GitHub id back from the OAuth flow and finds the web user by
//!    `(provider, provider_id)`: the login path, one indexed query.
//! 3. It records the signed-in profile in the desktop store (`profile.yaml`, no token) and a
//!    telemetry span for the sign-in, then reads both back.
//!
//! Database: `POSTGRES_URL` / `DATABASE_URL` when set, else a throwaway local server.
//! Store: `VIBEN_HOME` when set, else a temporary folder; never your real `~/.viben`.
//!
//! Run it with `cargo run --example desktop_sign_in`.

#[path = "support/database.rs"]
mod database;
#[path = "support/exit.rs"]
mod exit;
#[path = "support/home.rs"]
mod home;

use std::process::ExitCode;

use exit::Outcome;

use chrono::Utc;
use viben::db::{PoolBuilder, migrate, oauth_connections, users};
use viben::model::{JsonFields, NewOAuthConnection, NewUser, OAuthProvider, Profile, Span, new_id};
use viben::store::Store;

fn main() -> ExitCode {
    exit::finish(run())
}

fn run() -> Outcome {
    let database = database::database()?;
    let pool = PoolBuilder::default()
        .url(database.url.expose())
        .max_size(2)
        .build()?;
    let mut conn = pool.get()?;
    migrate::run_pending(&mut conn)?;

    // 1. The account as the web app made it.
    let tag = &new_id()[24..];
    let github_id = format!("gh-{tag}");
    let user = users::create(
        &mut conn,
        &NewUser::new(format!("dev-{tag}@example.com"), format!("dev-{tag}")),
    )?;
    oauth_connections::link(
        &mut conn,
        &NewOAuthConnection::new(user.id.clone(), OAuthProvider::GitHub, github_id.clone()),
    )?;
    println!(
        "web account {} is linked to GitHub id {github_id}",
        user.username
    );

    // 2. Sign-in: the OAuth flow gave us the GitHub id; who is it?
    let started = Utc::now();
    let Some(signed_in) =
        oauth_connections::find_user(&mut conn, &OAuthProvider::GitHub, &github_id)?
    else {
        return Err(format!("no web account is linked to GitHub id {github_id}").into());
    };
    let finished = Utc::now();

    // 3. The desktop store remembers who signed in, and the sign-in itself as a span.
    let (home, _temp) = home::home()?;
    let store = Store::open(&home)?;
    store.profile().save(&Profile::signed_in(
        &signed_in,
        OAuthProvider::GitHub,
        github_id.as_str(),
    ))?;
    let mut attributes = JsonFields::new();
    attributes.insert("provider".into(), "github".into());
    attributes.insert("user_id".into(), signed_in.id.clone().into());
    store.telemetry().record(&Span {
        trace_id: new_id(),
        span_id: new_id(),
        parent: None,
        name: "sign_in".into(),
        start: started,
        end: finished,
        attributes,
        extra: JsonFields::new(),
    })?;

    let profile = store.profile().get()?.ok_or("the profile was not saved")?;
    println!(
        "signed in on the desktop as {} <{}>",
        profile.username, profile.email
    );
    let spans = store
        .telemetry()
        .read::<Span>(started, Utc::now() + chrono::TimeDelta::seconds(1))?;
    for span in &spans.records {
        let micros = (span.end - span.start)
            .num_microseconds()
            .unwrap_or_default();
        println!("telemetry: span {} took {micros} µs", span.name);
    }

    users::delete(&mut conn, &user.id)?;
    Ok(())
}
