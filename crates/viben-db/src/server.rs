//! Facts about the server a connection talks to.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::QueryError;

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    server_version: String,
}

/// The server's version as it reports it (`SHOW server_version`), e.g.
/// `15.20 (Debian 15.20-0+deb12u1)`.
pub fn server_version(conn: &mut PgConnection) -> Result<String, QueryError> {
    let row: Version = diesel::sql_query("SHOW server_version").get_result(conn)?;
    Ok(row.server_version)
}
