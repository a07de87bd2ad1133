//! Queries on `oauth_connections`, and users with their connections.

mod common;

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use viben_db::testing::TestDatabase;
use viben_db::{QueryError, oauth_connections, users};
use viben_model::{Hint, NewOAuthConnection, OAuthProvider, Secret};

use common::new_user;

fn link_new(user_id: &str, provider: OAuthProvider, provider_id: &str) -> NewOAuthConnection {
    NewOAuthConnection::new(user_id, provider, provider_id)
        .with_access_token(Secret::new("gho_token_1"))
}

#[test]
fn link_then_find_the_user_by_provider_identity() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let linked =
        oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::GitHub, "42"))
            .unwrap();
    assert_eq!(linked.user_id.as_deref(), Some(user.id.as_str()));
    assert_eq!(
        linked.access_token.as_ref().map(Secret::expose),
        Some("gho_token_1")
    );
    let found = oauth_connections::find_user(&mut conn, &OAuthProvider::GitHub, "42").unwrap();
    assert_eq!(found, Some(user));
    assert_eq!(
        oauth_connections::find_user(&mut conn, &OAuthProvider::Google, "42").unwrap(),
        None
    );
    assert_eq!(
        oauth_connections::get(&mut conn, &linked.id).unwrap(),
        linked
    );
}

#[test]
fn linking_to_a_missing_user_is_a_foreign_key_error() {
    let db = TestDatabase::new();
    let err = oauth_connections::link(
        &mut db.connection(),
        &link_new("ghost", OAuthProvider::GitHub, "1"),
    )
    .unwrap_err();
    assert!(matches!(err, QueryError::ForeignKey { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("oauth_connections_user_id_users_id_fk"),
        "{err}"
    );
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("create it first"), "{hint}");
}

#[test]
fn linking_an_identity_already_linked_elsewhere_is_refused() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let a = users::create(&mut conn, &new_user(1)).unwrap();
    let b = users::create(&mut conn, &new_user(2)).unwrap();
    oauth_connections::link(&mut conn, &link_new(&a.id, OAuthProvider::GitHub, "42")).unwrap();
    let err = oauth_connections::link(&mut conn, &link_new(&b.id, OAuthProvider::GitHub, "42"))
        .unwrap_err();
    assert!(matches!(err, QueryError::AlreadyLinked { .. }), "{err:?}");
}

#[test]
fn relinking_the_same_identity_updates_the_token_and_keeps_one_row() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let first =
        oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::GitHub, "42"))
            .unwrap();
    let mut again = link_new(&user.id, OAuthProvider::GitHub, "42");
    again.access_token = Some(Secret::new("gho_token_2"));
    let second = oauth_connections::link(&mut conn, &again).unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(
        second.access_token.as_ref().map(Secret::expose),
        Some("gho_token_2")
    );
    assert_eq!(
        oauth_connections::list_for_user(&mut conn, &user.id)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn concurrent_links_of_one_identity_make_one_row() {
    let db = TestDatabase::new();
    let user = users::create(&mut db.connection(), &new_user(1)).unwrap();
    let barrier = std::sync::Barrier::new(16);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = db.connection();
                    barrier.wait();
                    oauth_connections::link(
                        &mut conn,
                        &link_new(&user.id, OAuthProvider::GitHub, "race"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let connections = oauth_connections::list_for_user(&mut db.connection(), &user.id).unwrap();
    assert_eq!(connections.len(), 1);
}

#[test]
fn update_token_and_unlink() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let linked =
        oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::Google, "g1"))
            .unwrap();
    let updated =
        oauth_connections::update_token(&mut conn, &linked.id, Some(&Secret::new("new"))).unwrap();
    assert_eq!(
        updated.access_token.as_ref().map(Secret::expose),
        Some("new")
    );
    assert!(updated.updated_at >= linked.updated_at);
    let cleared = oauth_connections::update_token(&mut conn, &linked.id, None).unwrap();
    assert_eq!(cleared.access_token, None);
    oauth_connections::unlink(&mut conn, &linked.id).unwrap();
    assert!(matches!(
        oauth_connections::unlink(&mut conn, &linked.id),
        Err(QueryError::NotFound { .. })
    ));
    assert!(
        oauth_connections::list_for_user(&mut conn, &user.id)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_unknown_provider_is_read_and_kept_by_a_token_update() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute(
        "INSERT INTO users (id, email, username) VALUES ('u1', 'a@example.com', 'ada');
         INSERT INTO oauth_connections (id, user_id, provider, provider_id, created_at)
         VALUES ('c1', 'u1', 'gitlab', '7', NULL)",
    )
    .unwrap();
    let read = oauth_connections::list_for_user(&mut conn, "u1").unwrap();
    assert_eq!(read[0].provider, OAuthProvider::Other("gitlab".into()));
    assert_eq!(read[0].created_at, None);
    let updated =
        oauth_connections::update_token(&mut conn, "c1", Some(&Secret::new("t"))).unwrap();
    assert_eq!(updated.provider, OAuthProvider::Other("gitlab".into()));
    assert_eq!(updated.created_at, None);
    let user = oauth_connections::find_user(&mut conn, &OAuthProvider::from("gitlab"), "7")
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "u1");
}

#[test]
fn debug_of_connections_never_shows_the_access_token() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let linked =
        oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::GitHub, "42"))
            .unwrap();
    let with = users::get_with_connections(&mut conn, &user.id).unwrap();
    let row = viben_db::schema::oauth_connections::table
        .select(viben_db::models::OAuthConnectionRow::as_select())
        .first(&mut conn)
        .unwrap();
    for shown in [
        format!("{linked:?}"),
        format!("{with:?}"),
        format!("{with:#?}"),
        format!("{row:?}"),
        format!("{:?}", link_new(&user.id, OAuthProvider::GitHub, "42")),
    ] {
        assert!(!shown.contains("gho_token_1"), "{shown}");
    }
    assert_eq!(row.access_token.as_deref(), Some("gho_token_1"));
}

#[test]
fn a_user_with_its_connections_oldest_first() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let a = oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::GitHub, "1"))
        .unwrap();
    let b = oauth_connections::link(&mut conn, &link_new(&user.id, OAuthProvider::Google, "2"))
        .unwrap();
    let with = users::get_with_connections(&mut conn, &user.id).unwrap();
    assert_eq!(with.user, user);
    let ids: Vec<&str> = with
        .oauth_connections
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, [a.id.as_str(), b.id.as_str()]);
}

#[derive(Default, Clone)]
struct Counter(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event
            && let Ok(mut queries) = self.0.lock()
        {
            queries.push(query.to_string());
        }
    }
}

#[test]
fn a_page_of_users_with_connections_takes_exactly_two_statements() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute(
        "INSERT INTO users (id, email, username)
         SELECT 'u' || lpad(i::text, 3, '0'), 'u' || i || '@example.com', 'user' || i
         FROM generate_series(1, 30) AS i;
         INSERT INTO oauth_connections (id, user_id, provider, provider_id)
         SELECT 'c' || i || '-' || p, 'u' || lpad(i::text, 3, '0'), p, i::text
         FROM generate_series(1, 30) AS i, unnest(ARRAY['github', 'google']) AS p
         WHERE i % 3 <> 0",
    )
    .unwrap();
    let counter = Counter::default();
    conn.set_instrumentation(counter.clone());
    let page = users::list_with_connections(&mut conn, None, 25).unwrap();
    let queries = counter.0.lock().unwrap().clone();
    assert_eq!(queries.len(), 2, "{queries:#?}");
    assert_eq!(page.items.len(), 25);
    for item in &page.items {
        let n: usize = item.user.id[1..].parse().unwrap();
        let expected = if n.is_multiple_of(3) { 0 } else { 2 };
        assert_eq!(item.oauth_connections.len(), expected, "{}", item.user.id);
        assert!(
            item.oauth_connections
                .iter()
                .all(|c| c.user_id.as_deref() == Some(item.user.id.as_str()))
        );
    }
    let rest = users::list_with_connections(&mut conn, page.next.as_ref(), 25).unwrap();
    assert_eq!(rest.items.len(), 5);
    assert!(rest.next.is_none());
}

#[test]
fn link_claims_an_identity_row_left_without_a_user_and_find_user_agrees() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    // An older row for the identity that belongs to no user (the column allows NULL).
    conn.batch_execute(
        "INSERT INTO oauth_connections (id, user_id, provider, provider_id, access_token, created_at)
         VALUES ('orphan', NULL, 'github', '42', 'old_token', timestamp '2020-01-01')",
    )
    .unwrap();
    assert_eq!(
        oauth_connections::find_user(&mut conn, &OAuthProvider::GitHub, "42").unwrap(),
        None,
        "a row without a user links no one"
    );
    let mut new = link_new(&user.id, OAuthProvider::GitHub, "42");
    new.access_token = None;
    let linked = oauth_connections::link(&mut conn, &new).unwrap();
    assert_eq!(linked.id, "orphan", "the row is claimed, not duplicated");
    assert_eq!(linked.user_id.as_deref(), Some(user.id.as_str()));
    assert_eq!(
        linked.access_token, None,
        "the old token does not pass to the new user"
    );
    assert_eq!(
        oauth_connections::find_user(&mut conn, &OAuthProvider::GitHub, "42").unwrap(),
        Some(user.clone())
    );
    let other = users::create(&mut conn, &new_user(2)).unwrap();
    let err = oauth_connections::link(&mut conn, &link_new(&other.id, OAuthProvider::GitHub, "42"))
        .unwrap_err();
    assert!(matches!(err, QueryError::AlreadyLinked { .. }), "{err:?}");
}
