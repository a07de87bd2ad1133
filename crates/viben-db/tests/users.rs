//! Queries on `users`: create, get, list, update, delete, count, find-or-create, bulk insert.

mod common;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
use viben_db::testing::TestDatabase;
use viben_db::{QueryError, users};
use viben_model::{NewUser, Role, UserPatch, ValidationError};

use common::{Statements, new_user};

#[test]
fn create_then_get_by_id_email_and_username() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let created = users::create(&mut conn, &new_user(1)).unwrap();
    assert_eq!(created.id.len(), 36, "a UUIDv7 id");
    assert!(!created.email_verified);
    assert_eq!(created.role, Role::User);
    assert!(created.created_at.is_some());
    assert_eq!(users::get_by_id(&mut conn, &created.id).unwrap(), created);
    assert_eq!(
        users::get_by_email(&mut conn, "user1@example.com").unwrap(),
        created
    );
    assert_eq!(users::get_by_username(&mut conn, "user1").unwrap(), created);
    assert_eq!(users::count(&mut conn).unwrap(), 1);
}

#[test]
fn timestamps_are_utc_wall_clock() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let created = users::create(&mut conn, &new_user(1)).unwrap();
    let after = chrono::Utc::now() + chrono::Duration::seconds(5);
    let at = created.created_at.unwrap();
    assert!(before < at && at < after, "{before} < {at} < {after}");
}

#[test]
fn missing_user_is_not_found_naming_the_key() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let err = users::get_by_id(&mut conn, "nobody").unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NotFound {
                kind: "user with id",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"nobody\""), "{err}");
    let err = users::get_by_email(&mut conn, "nobody@example.com").unwrap_err();
    assert!(matches!(err, QueryError::NotFound { .. }));
}

#[test]
fn duplicate_email_is_a_conflict_naming_the_field() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(&mut conn, &new_user(1)).unwrap();
    let err = users::create(
        &mut conn,
        &NewUser::new("user1@example.com", "someone_else"),
    )
    .unwrap_err();
    assert!(
        matches!(err, QueryError::AlreadyExists { field: "email", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("email"), "{err}");
    assert!(!err.to_string().contains("23505"), "{err}");
}

#[test]
fn duplicate_username_is_a_conflict_naming_the_field() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(&mut conn, &new_user(1)).unwrap();
    let err = users::create(&mut conn, &NewUser::new("other@example.com", "user1")).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::AlreadyExists {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_new_user_is_a_validation_error_and_nothing_is_written() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let err = users::create(&mut conn, &NewUser::new("not-an-email", "ada")).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::Validation(ValidationError::InvalidEmail { .. })
        ),
        "{err:?}"
    );
    assert_eq!(users::count(&mut conn).unwrap(), 0);
}

#[test]
fn fifty_threads_inserting_one_email_one_succeeds_the_rest_conflict_on_email() {
    let db = TestDatabase::new();
    let barrier = std::sync::Barrier::new(50);
    let results: Vec<Result<viben_model::User, QueryError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let db = &db;
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut conn = db.connection();
                    barrier.wait();
                    users::create(
                        &mut conn,
                        &NewUser::new("same@example.com", format!("racer{i}")),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let conflicts = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(QueryError::AlreadyExists {
                    table: "users",
                    field: "email",
                    ..
                })
            )
        })
        .count();
    assert_eq!(conflicts, 49, "{results:?}");
}

#[test]
fn find_or_create_by_email_races_to_one_user() {
    let db = TestDatabase::new();
    let barrier = std::sync::Barrier::new(20);
    let results: Vec<users::FoundOrCreated> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = db.connection();
                    barrier.wait();
                    users::find_or_create_by_email(&mut conn, &new_user(7)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    let id = &results[0].user.id;
    assert!(results.iter().all(|r| &r.user.id == id));
    assert_eq!(users::count(&mut db.connection()).unwrap(), 1);
}

#[test]
fn update_writes_only_patched_fields_and_bumps_updated_at() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let mut new = new_user(1);
    new.display_name = Some("Ada".into());
    new.avatar_url = Some("https://example.com/a.png".into());
    let created = users::create(&mut conn, &new).unwrap();
    conn.batch_execute("UPDATE users SET updated_at = updated_at - interval '1 hour'")
        .unwrap();
    let patch = UserPatch {
        display_name: Some(Some("Ada Lovelace".into())),
        avatar_url: Some(None),
        role: Some(Role::Admin),
        email_verified: Some(true),
        ..UserPatch::default()
    };
    let updated = users::update(&mut conn, &created.id, &patch).unwrap();
    assert_eq!(updated.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(updated.avatar_url, None);
    assert_eq!(updated.role, Role::Admin);
    assert!(updated.email_verified);
    assert_eq!(updated.email, created.email);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at.map(|t| t - chrono::Duration::hours(1)));
    assert!(updated.updated_at >= created.updated_at);
}

#[test]
fn update_of_a_missing_user_is_not_found() {
    let db = TestDatabase::new();
    let err = users::update(&mut db.connection(), "ghost", &UserPatch::default()).unwrap_err();
    assert!(matches!(err, QueryError::NotFound { .. }), "{err:?}");
}

#[derive(QueryableByName, Debug, PartialEq)]
struct RawUser {
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    email_verified: Option<bool>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    created_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
}

#[test]
fn values_the_web_app_wrote_are_read_and_left_unchanged_by_an_update() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute(
        "INSERT INTO users (id, email, username, email_verified, role, created_at, updated_at)
         VALUES ('web-1', 'mod@example.com', 'mod', NULL, 'moderator', NULL, NULL)",
    )
    .unwrap();
    let user = users::get_by_id(&mut conn, "web-1").unwrap();
    assert_eq!(user.role, Role::Other("moderator".into()));
    assert!(!user.email_verified);
    assert_eq!(user.created_at, None);
    assert_eq!(user.updated_at, None);
    let patch = UserPatch {
        display_name: Some(Some("Mod".into())),
        ..UserPatch::default()
    };
    let updated = users::update(&mut conn, "web-1", &patch).unwrap();
    assert_eq!(updated.role, Role::Other("moderator".into()));
    assert!(updated.updated_at.is_some());
    let raw = diesel::sql_query(
        "SELECT role, email_verified, created_at, display_name FROM users WHERE id = 'web-1'",
    )
    .get_result::<RawUser>(&mut conn)
    .unwrap();
    assert_eq!(
        raw,
        RawUser {
            role: Some("moderator".into()),
            email_verified: None,
            created_at: None,
            display_name: Some("Mod".into()),
        }
    );
    // A NULL role reads as the default.
    conn.batch_execute("UPDATE users SET role = NULL").unwrap();
    assert_eq!(
        users::get_by_id(&mut conn, "web-1").unwrap().role,
        Role::User
    );
}

#[test]
fn hostile_strings_are_stored_verbatim() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let hostile = [
        "Robert'); DROP TABLE users; --",
        "\" OR 1=1 --",
        "😀👩‍💻 émoji ünïcode",
        "$1 $$ \\x00 %s {}",
        "line\nbreak\ttab",
    ];
    for (i, text) in hostile.iter().enumerate() {
        let mut new = new_user(i);
        // Ids take any text but control characters (see the next test).
        let id = format!("id-{}", text.replace(char::is_control, "?"));
        new.id = Some(id.clone());
        new.display_name = Some((*text).to_owned());
        new.github_username = Some((*text).to_owned());
        let created = users::create(&mut conn, &new).unwrap();
        let read = users::get_by_id(&mut conn, &id).unwrap();
        assert_eq!(read, created);
        assert_eq!(read.display_name.as_deref(), Some(*text));
    }
    assert_eq!(users::count(&mut conn).unwrap(), hostile.len() as i64);
    assert!(users::get_by_username(&mut conn, "' OR '1'='1").is_err());
}

#[test]
fn a_given_id_that_is_empty_blank_or_holds_control_characters_is_refused() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    for (id, reason) in [
        ("", "it is empty"),
        (" \u{3000}", "it is only whitespace"),
        ("a\nb", "it contains a control character"),
        ("\u{1b}]0;title\u{7}", "it contains a control character"),
        ("nul\0", "it contains a control character"),
        ("c1\u{9b}", "it contains a control character"),
    ] {
        let mut new = new_user(1);
        new.id = Some(id.to_owned());
        for err in [
            users::create(&mut conn, &new).unwrap_err(),
            users::find_or_create_by_email(&mut conn, &new).unwrap_err(),
        ] {
            assert!(
                matches!(&err, QueryError::InvalidId { reason: r, .. } if *r == reason),
                "{id:?}: {err:?}"
            );
            let message = err.to_string();
            assert!(!message.contains(|c: char| c.is_control()), "{message:?}");
        }
    }
    assert_eq!(users::count(&mut conn).unwrap(), 0);
}

#[test]
fn a_nul_byte_is_refused_with_a_clear_error() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let mut new = new_user(1);
    new.display_name = Some("nul\0byte".into());
    let err = users::create(&mut conn, &new).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NulByte {
                field: "display_name"
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("NUL"), "{err}");
    let err = users::get_by_id(&mut conn, "a\0b").unwrap_err();
    assert!(
        matches!(err, QueryError::NulByte { field: "id" }),
        "{err:?}"
    );
    let err = users::create(&mut conn, &NewUser::new("a\0@example.com", "ada")).unwrap_err();
    assert!(matches!(err, QueryError::Validation(_)), "{err:?}");
    assert_eq!(users::count(&mut conn).unwrap(), 0);
}

#[test]
fn keyset_pagination_visits_every_user_once_in_created_at_id_order() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    // Same created_at for some rows, NULL for others: the id breaks ties, NULLs come first.
    conn.batch_execute(
        "INSERT INTO users (id, email, username, created_at)
         SELECT 'u' || lpad(i::text, 3, '0'), 'u' || i || '@example.com', 'user' || i,
                CASE WHEN i % 10 = 0 THEN NULL
                     ELSE timestamp '2026-01-01' + (i / 3) * interval '1 second' END
         FROM generate_series(1, 95) AS i",
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = users::list(&mut conn, cursor.as_ref(), 10).unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|u| (u.created_at, u.id.clone())));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 95);
    assert!(pages <= 11);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        seen, sorted,
        "NULL created_at first, then by (created_at, id)"
    );
    sorted.dedup();
    assert_eq!(sorted.len(), 95);
}

#[test]
fn delete_removes_the_user_and_its_connections_in_one_transaction() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = users::create(&mut conn, &new_user(1)).unwrap();
    let other = users::create(&mut conn, &new_user(2)).unwrap();
    for (owner, pid) in [(&user, "1"), (&user, "2"), (&other, "3")] {
        viben_db::oauth_connections::link(
            &mut conn,
            &viben_model::NewOAuthConnection::new(
                owner.id.clone(),
                viben_model::OAuthProvider::GitHub,
                pid,
            ),
        )
        .unwrap();
    }
    assert_eq!(users::delete(&mut conn, &user.id).unwrap(), 2);
    assert!(matches!(
        users::get_by_id(&mut conn, &user.id),
        Err(QueryError::NotFound { .. })
    ));
    assert_eq!(
        viben_db::oauth_connections::list_for_user(&mut conn, &other.id)
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        users::delete(&mut conn, &user.id),
        Err(QueryError::NotFound { .. })
    ));
}

#[test]
fn bulk_insert_copies_every_row_with_column_defaults() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let new: Vec<NewUser> = (0..2500).map(new_user).collect();
    assert_eq!(users::bulk_insert(&mut conn, &new).unwrap(), 2500);
    assert_eq!(users::count(&mut conn).unwrap(), 2500);
    let one = users::get_by_username(&mut conn, "user42").unwrap();
    assert_eq!(one.role, Role::User);
    assert!(!one.email_verified);
    assert!(one.created_at.is_some() && one.updated_at.is_some());
}

#[test]
fn bulk_insert_with_a_taken_email_inserts_nothing_and_names_the_field() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(&mut conn, &new_user(5)).unwrap();
    let new: Vec<NewUser> = (0..10)
        .map(|i| {
            NewUser::new(
                format!("user{}@example.com", i % 10 + 1),
                format!("bulk{i}"),
            )
        })
        .collect();
    let err = users::bulk_insert(&mut conn, &new).unwrap_err();
    assert!(
        matches!(err, QueryError::AlreadyExists { field: "email", .. }),
        "{err:?}"
    );
    assert_eq!(users::count(&mut conn).unwrap(), 1);
}

#[test]
fn taken_names_each_stored_value_of_a_batch_by_position_and_field() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let mut stored = new_user(1);
    stored.id = Some("u-stored".into());
    users::create(&mut conn, &stored).unwrap();
    let mut same_id = new_user(2);
    same_id.id = Some("u-stored".into());
    let batch = vec![
        new_user(3),
        NewUser::new("user1@example.com", "fresh"),
        same_id,
        NewUser::new("other@example.com", "user1"),
        NewUser::new("USER1@example.com", "fresh2"),
    ];
    let taken = users::taken(&mut conn, &batch).unwrap();
    let found: Vec<(usize, &str)> = taken.iter().map(|t| (t.index, t.field)).collect();
    assert_eq!(found, [(1, "email"), (2, "id"), (3, "username")]);
    assert!(users::taken(&mut conn, &[]).unwrap().is_empty());
}

#[test]
fn check_new_refuses_what_create_refuses_without_a_database() {
    assert!(users::check_new(&new_user(1)).is_ok());
    let err = users::check_new(&NewUser::new("not-an-email", "ada")).unwrap_err();
    assert!(matches!(err, QueryError::Validation(_)), "{err:?}");
    let mut nul = new_user(1);
    nul.display_name = Some("a\0b".into());
    let err = users::check_new(&nul).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::NulByte {
                field: "display_name"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn chunked_bulk_insert_inserts_every_row() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let new: Vec<NewUser> = (0..1234).map(new_user).collect();
    assert_eq!(
        users::bulk_insert_chunked(&mut conn, &new, 500).unwrap(),
        1234
    );
    assert_eq!(users::count(&mut conn).unwrap(), 1234);
}

#[test]
fn find_or_create_with_a_username_taken_by_another_email_is_a_conflict() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(&mut conn, &new_user(1)).unwrap();
    let err = users::find_or_create_by_email(&mut conn, &NewUser::new("new@example.com", "user1"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::AlreadyExists {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
    let found = users::find_or_create_by_email(&mut conn, &new_user(1)).unwrap();
    assert!(!found.created);
}

/// Asserts that a timestamp is within a few seconds of now (UTC).
fn assert_recent(what: &str, at: Option<chrono::DateTime<chrono::Utc>>) {
    let now = chrono::Utc::now();
    let at = at.unwrap_or_else(|| panic!("{what} is NULL"));
    let off = (now - at).num_seconds().abs();
    assert!(off < 60, "{what} is {at}, {off} s away from now ({now})");
}

#[test]
fn every_write_stores_utc_whatever_the_session_time_zone() {
    let db = TestDatabase::new();
    // A caller's own connection, not set up by the pool, in a zone 5 hours off UTC.
    let mut conn = PgConnection::establish(db.url().expose()).unwrap();
    conn.batch_execute("SET TIME ZONE 'America/New_York'")
        .unwrap();
    let created = users::create(&mut conn, &new_user(1)).unwrap();
    assert_recent("created_at after create", created.created_at);
    assert_recent("updated_at after create", created.updated_at);
    let found = users::find_or_create_by_email(&mut conn, &new_user(2)).unwrap();
    assert!(found.created);
    assert_recent("created_at after find_or_create", found.user.created_at);
    assert_recent("updated_at after find_or_create", found.user.updated_at);
    conn.batch_execute("UPDATE users SET updated_at = NULL")
        .unwrap();
    let patch = UserPatch {
        display_name: Some(Some("Ada".into())),
        ..UserPatch::default()
    };
    let updated = users::update(&mut conn, &created.id, &patch).unwrap();
    assert_recent("updated_at after update", updated.updated_at);
    users::bulk_insert(&mut conn, &[new_user(3)]).unwrap();
    let bulk = users::get_by_username(&mut conn, "user3").unwrap();
    assert_recent("created_at after bulk insert", bulk.created_at);
    assert_recent("updated_at after bulk insert", bulk.updated_at);
    users::bulk_insert_chunked(&mut conn, &[new_user(4)], 10).unwrap();
    let chunked = users::get_by_username(&mut conn, "user4").unwrap();
    assert_recent("created_at after chunked insert", chunked.created_at);
    let linked = viben_db::oauth_connections::link(
        &mut conn,
        &viben_model::NewOAuthConnection::new(
            created.id.clone(),
            viben_model::OAuthProvider::GitHub,
            "42",
        ),
    )
    .unwrap();
    assert_recent("created_at after link", linked.created_at);
    assert_recent("updated_at after link", linked.updated_at);
    conn.batch_execute("UPDATE oauth_connections SET updated_at = NULL")
        .unwrap();
    let token = viben_model::Secret::new("t");
    let relinked =
        viben_db::oauth_connections::update_token(&mut conn, &linked.id, Some(&token)).unwrap();
    assert_recent("updated_at after update_token", relinked.updated_at);
}

#[test]
fn find_or_create_reports_a_taken_username_or_id_from_the_insert_itself() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let existing = users::create(&mut conn, &new_user(1)).unwrap();
    let statements = Statements::default();
    conn.set_instrumentation(statements.clone());
    let err = users::find_or_create_by_email(&mut conn, &NewUser::new("new@example.com", "user1"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::AlreadyExists {
                table: "users",
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
    let mut taken_id = NewUser::new("other@example.com", "other");
    taken_id.id = Some(existing.id.clone());
    let err = users::find_or_create_by_email(&mut conn, &taken_id).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::AlreadyExists {
                table: "users",
                field: "id",
                ..
            }
        ),
        "{err:?}"
    );
    // Each conflict costs the INSERT and one read by email, which tells a name taken by
    // someone else from a concurrent creation of the same user (see the race test).
    let sent = statements.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 4, "INSERT + SELECT by email each: {sent:#?}");
    assert!(
        sent[0].contains("ON CONFLICT (\"email\") DO NOTHING"),
        "{sent:#?}"
    );
    assert!(
        sent[1].starts_with("SELECT") && sent[1].contains("\"email\" = $1"),
        "{sent:#?}"
    );
}

#[test]
fn find_by_key_tries_id_then_email_then_username_and_names_other_matches() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let ada = users::create(&mut conn, &NewUser::new("ada@example.com", "ada")).unwrap();
    // A user whose username is ada's id: the key matches two users, by two rules.
    let mut shadow = NewUser::new("shadow@example.com", ada.id.clone());
    shadow.id = Some("shadow-id".into());
    let shadow = users::create(&mut conn, &shadow).unwrap();

    let found = users::find_by_key(&mut conn, &ada.id).unwrap();
    assert_eq!(found.found.user.id, ada.id);
    assert_eq!(found.found.matched_by, users::MatchedBy::Id);
    assert_eq!(found.others.len(), 1, "{found:?}");
    assert_eq!(found.others[0].user.id, shadow.id);
    assert_eq!(found.others[0].matched_by.as_str(), "username");

    let by_email = users::find_by_key(&mut conn, "ada@example.com").unwrap();
    assert_eq!(by_email.found.matched_by, users::MatchedBy::Email);
    assert!(by_email.others.is_empty());
    let by_username = users::find_by_key(&mut conn, "ada").unwrap();
    assert_eq!(by_username.found.matched_by, users::MatchedBy::Username);

    let err = users::find_by_key(&mut conn, "nobody").unwrap_err();
    assert!(matches!(err, QueryError::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no user with the id, email or username \"nobody\""
    );
}

#[test]
fn find_or_create_inside_a_transaction_reports_a_taken_username_instead_of_aborting_it() {
    use diesel::Connection;
    let db = TestDatabase::new();
    let mut conn = db.connection();
    users::create(
        &mut conn,
        &viben_model::NewUser::new("ada@example.com", "ada"),
    )
    .unwrap();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let err = users::find_or_create_by_email(
            conn,
            &viben_model::NewUser::new("other@example.com", "ada"),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                viben_db::QueryError::AlreadyExists {
                    field: "username",
                    ..
                }
            ),
            "{err:?}"
        );
        // The caller's transaction is still usable.
        assert_eq!(users::count(conn).unwrap(), 1);
        Ok(())
    })
    .unwrap();
}
