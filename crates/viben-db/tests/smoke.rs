//! Smoke.
use viben_db::testing::TestDatabase;
#[test]
fn a_test_database_starts_empty_and_migrated() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    assert_eq!(viben_db::users::count(&mut conn).unwrap(), 0);
}
