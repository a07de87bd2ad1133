//! viben-db alone: the design document's query patterns, one by one, in Rust.
//!
//! | Drizzle (TypeScript)                                   | viben-db                         |
//! |--------------------------------------------------------|----------------------------------|
//! | `db.query.users.findFirst({ where: eq(users.id, id) })` | `users::get_by_id`              |
//! | `findFirst({ ..., with: { oauthConnections: true } })`  | `users::get_with_connections`   |
//! | `db.insert(users).values({...})`                        | `users::create`                 |
//! | `db.update(users).set({...}).where(eq(users.id, id))`   | `users::update` with a patch    |
//! | `db.delete(users).where(eq(users.id, id))`              | `users::delete`                 |
//!
//! Database: `POSTGRES_URL` / `DATABASE_URL` when set, else a throwaway local server.
//!
//! Run it with `cargo run --example web_accounts`.

#[path = "support/database.rs"]
mod database;
#[path = "support/exit.rs"]
mod exit;

use std::process::ExitCode;

use exit::Outcome;

use viben::db::{PoolBuilder, migrate, oauth_connections, users};
use viben::model::{NewOAuthConnection, NewUser, OAuthProvider, UserPatch};

fn main() -> ExitCode {
    exit::finish(run())
}

fn run() -> Outcome {
    let database = database::database()?;
    let pool = PoolBuilder::default().url(database.url.expose()).build()?;
    let mut conn = pool.get()?;
    migrate::run_pending(&mut conn)?;
    let tag = &viben::model::new_id()[24..];

    // Insert record: await db.insert(users).values({ id: generateId(), email, username })
    let user = users::create(
        &mut conn,
        &NewUser::new(format!("user-{tag}@example.com"), format!("user-{tag}")),
    )?;
    println!("insert:        {} <{}>", user.id, user.email);

    // Query single record: db.query.users.findFirst({ where: eq(users.id, userId) })
    let same = users::get_by_id(&mut conn, &user.id)?;
    println!(
        "find first:    {} (role {}, verified {})",
        same.username, same.role, same.email_verified
    );

    // Check-if-exists-before-insert races; find-or-create cannot.
    let again = users::find_or_create_by_email(
        &mut conn,
        &NewUser::new(user.email.clone(), format!("user-{tag}")),
    )?;
    println!(
        "find or create: created={} id={}",
        again.created, again.user.id
    );

    oauth_connections::link(
        &mut conn,
        &NewOAuthConnection::new(user.id.clone(), OAuthProvider::GitHub, format!("gh-{tag}")),
    )?;
    // Query with relations: findFirst({ where: ..., with: { oauthConnections: true } })
    let with = users::get_with_connections(&mut conn, &user.id)?;
    println!(
        "with relations: {} connection(s)",
        with.oauth_connections.len()
    );

    // Update record: db.update(users).set({ displayName: 'New Name' }).where(eq(users.id, userId))
    let patch = UserPatch {
        display_name: Some(Some("New Name".into())),
        ..UserPatch::default()
    };
    let updated = users::update(&mut conn, &user.id, &patch)?;
    println!(
        "update:        display_name={}",
        updated.display_name.as_deref().unwrap_or("(none)")
    );

    // Keyset pagination: a page of users, each with its connections, in two queries.
    let page = users::list_with_connections(&mut conn, None, 10)?;
    println!("page:          {} user(s)", page.items.len());

    // Delete record: db.delete(users).where(eq(users.id, userId)) — connections go too.
    users::delete(&mut conn, &user.id)?;
    println!("delete:        {} users left", users::count(&mut conn)?);
    Ok(())
}
