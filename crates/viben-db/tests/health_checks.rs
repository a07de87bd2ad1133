//! How the pool checks connections: no `SELECT 1` for a connection in recent use, one for an
//! idle one. (Its own test binary: it counts statements through Diesel's process-wide default
//! instrumentation, which the pool's own instrumentation passes events on to.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use viben_db::testing::TestDatabase;
use viben_db::{Pool, users};

static PINGS: AtomicUsize = AtomicUsize::new(0);

fn count_pings() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event
            && query.to_string() == "SELECT 1"
        {
            PINGS.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

fn checkouts(pool: &Pool) -> usize {
    let before = PINGS.load(Ordering::SeqCst);
    for _ in 0..10 {
        let mut conn = pool.get().expect("a pooled connection");
        users::count(&mut conn).expect("counting users");
    }
    PINGS.load(Ordering::SeqCst) - before
}

#[test]
fn only_connections_idle_longer_than_the_threshold_are_pinged_on_checkout() {
    set_default_instrumentation(count_pings).unwrap();
    let db = TestDatabase::new();

    let busy = Pool::builder()
        .url(db.url().expose())
        .max_size(1)
        .health_check_after(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert_eq!(
        checkouts(&busy),
        0,
        "a connection in recent use is not pinged"
    );

    let always = Pool::builder()
        .url(db.url().expose())
        .max_size(1)
        .health_check_after(Duration::ZERO)
        .build()
        .unwrap();
    assert!(checkouts(&always) >= 9, "an idle connection is pinged");
}
