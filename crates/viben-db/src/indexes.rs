//! The indexes viben recommends beyond the web app's schema, and their state on a live
//! database.
//!
//! The web app's schema (Drizzle's `schema.ts`) indexes neither `oauth_connections.user_id`
//! (PostgreSQL does not index foreign keys by itself) nor the order users are listed in, so a
//! user's connections, a page of users and a delete each scan whole tables as the data grows.
//! viben does not change the web app's schema behind its back (`drizzle-kit push` would offer
//! to drop an index `schema.ts` does not declare): these are recommended, listed with
//! [`status`], created on request with [`apply`] (`CREATE INDEX CONCURRENTLY`, safe on a live
//! database), and recognised by the drift check and adopt as known extras, not drift.
//! docs/database.md gives the lines the web app adds to `schema.ts` so both sides declare them.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use crate::QueryError;
use crate::catalog::Difference;

/// An index viben recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecommendedIndex {
    /// The index's name.
    pub name: &'static str,
    /// The table it indexes.
    pub table: &'static str,
    /// What it serves, in words.
    pub serves: &'static str,
    /// The definition as `pg_get_indexdef` prints it once created: how a live index is
    /// recognised as this one.
    pub definition: &'static str,
}

/// The recommended indexes.
pub const RECOMMENDED: &[RecommendedIndex] = &[
    RecommendedIndex {
        name: "oauth_connections_user_id_idx",
        table: "oauth_connections",
        serves: "a user's connections, pages of users with their connections, deleting a user",
        definition: "CREATE INDEX oauth_connections_user_id_idx ON public.oauth_connections \
                     USING btree (user_id)",
    },
    RecommendedIndex {
        // NULLS FIRST, as users are listed: a plain (created_at, id) index does not serve
        // that order.
        name: "users_created_at_id_idx",
        table: "users",
        serves: "listing users page by page (the keyset order created_at NULLS FIRST, id)",
        definition: "CREATE INDEX users_created_at_id_idx ON public.users USING btree \
                     (created_at NULLS FIRST, id)",
    },
];

/// Tables at least this large get the recommendation from `viben doctor`.
pub const RECOMMEND_FROM_ROWS: i64 = 10_000;

/// Tables are counted exactly up to this many rows (a few milliseconds); larger ones are
/// sized by PostgreSQL's estimate instead of a full count.
pub const EXACT_COUNT_UP_TO: i64 = 100_000;

impl RecommendedIndex {
    /// `CREATE INDEX CONCURRENTLY` for this index: safe on a live database (it does not block
    /// writes), and must not run in a transaction.
    pub fn create_concurrently_sql(&self) -> String {
        self.definition
            .replacen("CREATE INDEX ", "CREATE INDEX CONCURRENTLY ", 1)
    }
}

/// Whether `difference` is one of the [`RECOMMENDED`] indexes, exactly as recommended: a
/// known extra, which the drift check and adopt do not count as drift.
pub fn is_recommended(difference: &Difference) -> bool {
    match difference {
        Difference::ExtraIndex {
            name, definition, ..
        } => RECOMMENDED
            .iter()
            .any(|index| index.name == name && index.definition == definition),
        _ => false,
    }
}

/// Where a recommended index stands on a live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexState {
    /// Present and usable.
    Present,
    /// Not there.
    Missing,
    /// There but not usable: a `CREATE INDEX CONCURRENTLY` was interrupted and left it
    /// invalid. [`apply`] drops and builds it again.
    Invalid,
    /// An index of that name exists with another definition; it is left alone.
    Different {
        /// Its definition.
        definition: String,
    },
}

/// A recommended index, its state, and the size of its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatus {
    /// The index.
    pub index: RecommendedIndex,
    /// Its state.
    pub state: IndexState,
    /// The table's rows: counted exactly up to [`EXACT_COUNT_UP_TO`], beyond that PostgreSQL's
    /// estimate (and [`EXACT_COUNT_UP_TO`] itself while it has none yet); `None` when the
    /// table does not exist.
    pub table_rows: Option<i64>,
    /// The table's size on disk, indexes included, in bytes.
    pub table_bytes: Option<i64>,
}

#[derive(QueryableByName)]
struct LiveIndex {
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    valid: Option<bool>,
    #[diesel(sql_type = Nullable<BigInt>)]
    rows: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
}

/// The state of every recommended index. Read-only.
pub fn status(conn: &mut PgConnection) -> Result<Vec<IndexStatus>, QueryError> {
    RECOMMENDED
        .iter()
        .map(|index| {
            let live = diesel::sql_query(
                "SELECT (SELECT pg_get_indexdef(i.oid) FROM pg_class i \
                   JOIN pg_namespace n ON n.oid = i.relnamespace \
                   WHERE n.nspname = 'public' AND i.relname = $1 AND i.relkind = 'i') AS definition, \
                 (SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                   JOIN pg_namespace n ON n.oid = i.relnamespace \
                   WHERE n.nspname = 'public' AND i.relname = $1) AS valid, \
                 (SELECT t.reltuples::int8 FROM pg_class t \
                   WHERE t.oid = to_regclass('public.' || quote_ident($2))) AS rows, \
                 pg_total_relation_size(to_regclass('public.' || quote_ident($2))) AS bytes",
            )
            .bind::<Text, _>(index.name)
            .bind::<Text, _>(index.table)
            .get_result::<LiveIndex>(conn)?;
            // The planner's estimate (-1 before the first ANALYZE) for a large table; smaller
            // ones are counted, never past EXACT_COUNT_UP_TO, so this stays cheap.
            let table_rows = match (live.bytes, live.rows) {
                (None, _) => None,
                (Some(_), Some(rows)) if rows > EXACT_COUNT_UP_TO => Some(rows),
                (Some(_), _) => Some(bounded_count(conn, index.table)?),
            };
            // The definition first: an index that only shares the name is never dropped.
            let state = match (live.definition, live.valid) {
                (None, _) => IndexState::Missing,
                (Some(definition), _) if definition != index.definition => {
                    IndexState::Different { definition }
                }
                (Some(_), Some(false)) => IndexState::Invalid,
                (Some(_), _) => IndexState::Present,
            };
            Ok(IndexStatus {
                index: *index,
                state,
                table_rows,
                table_bytes: live.bytes,
            })
        })
        .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The table's rows, counted up to [`EXACT_COUNT_UP_TO`].
fn bounded_count(conn: &mut PgConnection, table: &str) -> Result<i64, QueryError> {
    Ok(diesel::sql_query(format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM public.{} LIMIT $1) t",
        crate::catalog::ident(table)
    ))
    .bind::<BigInt, _>(EXACT_COUNT_UP_TO)
    .get_result::<Count>(conn)?
    .n)
}

/// What [`apply`] did to one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// It was there already.
    AlreadyPresent,
    /// It was built.
    Created,
    /// An invalid one (an interrupted build) was dropped and built again.
    Rebuilt,
    /// An index of that name with another definition exists; left alone.
    LeftAlone,
    /// Its table does not exist (a database not migrated yet); nothing was built.
    NoTable,
}

/// Creates every missing recommended index with `CREATE INDEX CONCURRENTLY` (writes go on
/// meanwhile), rebuilds one an interrupted build left invalid, and leaves present ones alone:
/// safe to run again, and to resume after an interruption. Each statement runs on its own,
/// outside any transaction (as `CONCURRENTLY` requires), so `conn` must not be in one.
pub fn apply(conn: &mut PgConnection) -> Result<Vec<(RecommendedIndex, Applied)>, QueryError> {
    // A concurrent build of a large table takes longer than the pool's statement timeout; cut
    // short, it would leave an invalid index behind, again at every try. Off for these
    // statements, then back as it was.
    let previous = diesel::sql_query("SELECT current_setting('statement_timeout') AS value")
        .get_result::<Setting>(conn)?
        .value;
    conn.batch_execute("SET statement_timeout = 0")?;
    let done = build_missing(conn);
    conn.batch_execute(&format!(
        "SET statement_timeout = '{}'",
        previous.replace('\'', "''")
    ))?;
    done
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn build_missing(conn: &mut PgConnection) -> Result<Vec<(RecommendedIndex, Applied)>, QueryError> {
    let mut done = Vec::new();
    for status in status(conn)? {
        let index = status.index;
        if status.table_bytes.is_none() {
            done.push((index, Applied::NoTable));
            continue;
        }
        let applied = match status.state {
            IndexState::Present => Applied::AlreadyPresent,
            IndexState::Different { .. } => Applied::LeftAlone,
            IndexState::Missing => {
                conn.batch_execute(&index.create_concurrently_sql())?;
                Applied::Created
            }
            IndexState::Invalid => {
                conn.batch_execute(&format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS public.{}",
                    crate::catalog::ident(index.name)
                ))?;
                conn.batch_execute(&index.create_concurrently_sql())?;
                Applied::Rebuilt
            }
        };
        done.push((index, applied));
    }
    Ok(done)
}
