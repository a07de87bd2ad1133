//! A server that reports errors in another language (`lc_messages`): errors are classified by
//! what PostgreSQL reports structurally (SQLSTATE-derived kinds; table, column and constraint
//! fields; the statement position), not by English text.
//!
//! Needs a server that can switch to German messages: PostgreSQL's translations
//! (`postgres-15.mo` in `/usr/share/locale/de/LC_MESSAGES`) and the OS locale `de_DE.UTF-8`
//! (Debian: `localedef -i de_DE -f UTF-8 de_DE.UTF-8`, which `.ci/run` does). Where the server
//! has neither, the tests fail saying so: a skipped check would pass unnoticed.

mod common;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use viben_db::testing::TestDatabase;
use viben_db::{Pool, QueryError, oauth_connections, users};
use viben_model::{Hint, NewOAuthConnection, NewUser, OAuthProvider};

use common::new_user;

/// Switches `conn` to German messages, and fails the test with what to install when the
/// server cannot.
fn german(conn: &mut PgConnection) {
    if let Err(err) = conn.batch_execute("SET lc_messages = 'de_DE.UTF-8'") {
        panic!(
            "this server has no de_DE.UTF-8 locale ({err}), so translated messages cannot be \
             checked; create it with `localedef -i de_DE -f UTF-8 de_DE.UTF-8` (Debian package \
             `locales`) and restart the server, or let the tests start their own"
        );
    }
    // A message that is translated, to be sure the server really speaks German now.
    let Err(err) = conn.batch_execute("SELECT * FROM viben_no_such_table") else {
        panic!("a missing table was found");
    };
    let message = err.to_string();
    assert!(
        !message.contains("does not exist"),
        "the server has no German translations installed (PostgreSQL's postgres-15.mo in \
         /usr/share/locale/de/LC_MESSAGES, part of the server package): {message}"
    );
}

#[test]
fn a_taken_email_in_german_is_still_already_exists_naming_the_field() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(&mut conn, &new_user(1)).unwrap();
    german(&mut conn);
    let err = users::create(&mut conn, &NewUser::new("user1@example.com", "other")).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::AlreadyExists {
                table: "users",
                field: "email",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "this email is already taken (table users)");
}

#[test]
fn an_unknown_unique_constraint_in_german_is_named_from_the_error_fields() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("CREATE UNIQUE INDEX users_display_name_key ON users (display_name)")
        .unwrap();
    let mut ada = NewUser::new("ada@example.com", "ada");
    ada.display_name = Some("Ada".into());
    users::create(&mut conn, &ada).unwrap();
    german(&mut conn);
    let mut other = NewUser::new("other@example.com", "other");
    other.display_name = Some("Ada".into());
    let err = users::create(&mut conn, &other).unwrap_err();
    match &err {
        QueryError::UniqueViolation {
            table, constraint, ..
        } => {
            assert_eq!(table, "users");
            assert_eq!(constraint, "users_display_name_key");
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
}

#[test]
fn a_missing_user_in_german_is_still_a_foreign_key_error() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    german(&mut conn);
    let link = NewOAuthConnection::new("ghost", OAuthProvider::GitHub, "1");
    let err = oauth_connections::link(&mut conn, &link).unwrap_err();
    match &err {
        QueryError::ForeignKey { constraint, .. } => {
            assert_eq!(constraint, "oauth_connections_user_id_users_id_fk")
        }
        other => panic!("expected ForeignKey, got {other:?}"),
    }
    assert!(err.hint().unwrap_or_default().contains("create it first"));
}

#[test]
fn a_missing_table_or_column_in_german_says_to_check_the_schema() {
    // Diesel exposes no SQLSTATE for these (42P01, 42703), and the message names the object in
    // German; the statement position the server reports still tells them from other errors.
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    german(&mut conn);
    let err = users::count(&mut conn).unwrap_err();
    assert!(matches!(err, QueryError::SchemaDiffers { .. }), "{err:?}");
    assert!(err.hint().unwrap_or_default().contains("viben db check"));

    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("ALTER TABLE users DROP COLUMN github_username")
        .unwrap();
    german(&mut conn);
    let err = users::get_by_id(&mut conn, "nobody").unwrap_err();
    assert!(matches!(err, QueryError::SchemaDiffers { .. }), "{err:?}");
}

#[test]
fn a_statement_timeout_in_german_is_a_database_error_keeping_the_servers_words() {
    // SQLSTATE 57014 is not among Diesel's kinds: in another language a timeout is the generic
    // error, with the server's (German) message as its cause. Documented in docs/database.md.
    let db = TestDatabase::new();
    let pool = Pool::builder()
        .url(db.url())
        .statement_timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let mut conn = pool.get().unwrap();
    german(&mut conn);
    let err = diesel::sql_query("SELECT pg_sleep(2)")
        .execute(&mut conn)
        .map_err(QueryError::from)
        .unwrap_err();
    assert!(matches!(err, QueryError::Query(_)), "{err:?}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(cause.is_some_and(|c| !c.is_empty()), "{err:?}");
}
