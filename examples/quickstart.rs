//! The tour of Viben's data layer, in one run:
//!
//! 1. the desktop store in a temporary folder: an agent, the model catalog, a session with a
//!    few messages;
//! 2. the web accounts database: migrations, a user with GitHub and Google connections, the
//!    user read back with its connections, an update, a duplicate email handled as the
//!    conflict it is, and a delete.
//!
//! Database: `POSTGRES_URL` / `DATABASE_URL` when set, else a throwaway local server.
//! Store: `VIBEN_HOME` when set, else a temporary folder; never your real `~/.viben`.
//!
//! Run it with `cargo run --example quickstart`.

#[path = "support/database.rs"]
mod database;
#[path = "support/exit.rs"]
mod exit;
#[path = "support/home.rs"]
mod home;

use std::process::ExitCode;

use exit::Outcome;

use viben::db::{PoolBuilder, QueryError, migrate, oauth_connections, users};
use viben::model::{
    AgentConfig, Message, MessageRole, ModelEntry, NewOAuthConnection, NewUser, OAuthProvider,
    ProviderConfig, Secret, SessionMeta, UserPatch,
};
use viben::store::Store;

fn main() -> ExitCode {
    // The store half needs nothing installed, so it runs even when the database half cannot.
    exit::finish(
        desktop_store()
            .and_then(|()| web_accounts())
            .map(|()| println!("\ndone")),
    )
}

fn desktop_store() -> Outcome {
    println!("== the desktop store");
    let (home, _temp) = home::home()?;
    let store = Store::open(&home)?;

    store
        .models()
        .add(ModelEntry::new("claude-3-sonnet", "anthropic"))?;
    store.models().set_default(Some("claude-3-sonnet"))?;
    let mut provider = ProviderConfig::new("anthropic");
    provider.api_key_env = Some("ANTHROPIC_API_KEY".into());
    store.providers().set(&provider)?;

    let mut agent = AgentConfig::new("my-agent", "My Agent", "claude-3-sonnet", "anthropic");
    agent.system_prompt = Some("You are a helpful assistant.".into());
    agent.temperature = Some(0.7);
    store.agents().create(&agent)?;
    let resolved = store.agents().resolve("my-agent")?;
    println!(
        "agent {} runs {} on {} (key from ${})",
        resolved.agent.id,
        resolved.model.id,
        resolved.provider.name,
        resolved.provider.api_key_env.as_deref().unwrap_or("?")
    );

    let session = SessionMeta::new("my-agent", Some("First chat".into()));
    store.sessions().create(&session)?;
    store
        .sessions()
        .append(&session.id, &Message::new(MessageRole::User, "Hello!"))?;
    store.sessions().append(
        &session.id,
        &Message::new(MessageRole::Assistant, "Hi, how can I help?"),
    )?;
    for message in store.sessions().read(&session.id)? {
        let message = message?;
        println!("  [{}] {}", message.role, message.content);
    }
    let problems = store.check();
    println!("store check: {} problem(s)", problems.len());
    Ok(())
}

fn web_accounts() -> Outcome {
    println!("\n== the web accounts database");
    let database = database::database()?;
    let pool = PoolBuilder::default()
        .url(database.url.expose())
        .max_size(2)
        .build()?;
    let mut conn = pool.get()?;

    let applied = migrate::run_pending(&mut conn)?;
    if applied.is_empty() {
        println!("migrations applied now: none (the database was up to date)");
    } else {
        println!("migrations applied now: {}", applied.join(", "));
    }

    // A unique suffix so the tour can run against a shared database more than once.
    let tag = &viben::model::new_id()[24..];
    let mut new_user = NewUser::new(format!("ada-{tag}@example.com"), format!("ada-{tag}"));
    new_user.display_name = Some("Ada".into());
    let user = users::create(&mut conn, &new_user)?;
    println!("created user {} <{}>", user.id, user.email);

    for (provider, provider_id) in [
        (OAuthProvider::GitHub, "gh-1"),
        (OAuthProvider::Google, "g-1"),
    ] {
        oauth_connections::link(
            &mut conn,
            &NewOAuthConnection::new(user.id.clone(), provider, format!("{provider_id}-{tag}"))
                .with_access_token(Secret::new("token-shown-as-stars")),
        )?;
    }
    let found = users::get_with_connections(&mut conn, &user.id)?;
    println!(
        "{} has {} connections:",
        found.user.username,
        found.oauth_connections.len()
    );
    for connection in &found.oauth_connections {
        let token = match &connection.access_token {
            Some(_) => "an access token (hidden)",
            None => "no access token",
        };
        println!(
            "  {} {} with {token}",
            connection.provider, connection.provider_id
        );
    }

    let patch = UserPatch {
        display_name: Some(Some("Ada Lovelace".into())),
        ..UserPatch::default()
    };
    let updated = users::update(&mut conn, &user.id, &patch)?;
    println!(
        "display name is now {}",
        updated.display_name.as_deref().unwrap_or("(none)")
    );

    let mut duplicate = NewUser::new(user.email.clone(), format!("other-{tag}"));
    duplicate.display_name = Some("Impostor".into());
    match users::create(&mut conn, &duplicate) {
        Err(err @ QueryError::AlreadyExists { field: "email", .. }) => {
            println!("duplicate refused: {err}")
        }
        Ok(_) => return Err("the duplicate email was accepted; expected a conflict".into()),
        Err(other) => return Err(format!("expected an email conflict, got: {other}").into()),
    }

    users::delete(&mut conn, &user.id)?;
    println!("deleted {} and its connections", user.id);
    Ok(())
}
