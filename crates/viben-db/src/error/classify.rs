//! Reading Diesel's errors: which [`QueryError`] a server error is.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::QueryError;

impl From<DieselError> for QueryError {
    /// Classifies Diesel's error by what PostgreSQL reports structurally: the SQLSTATE-derived
    /// [`DatabaseErrorKind`] and the table, column and constraint fields, which read the same
    /// whatever the server's `lc_messages`. Diesel 2.3 exposes no SQLSTATE beyond its kinds, so
    /// a missing table or column and a statement timeout are read from the English message;
    /// in another language a missing table or column is still told apart by the statement
    /// position the server reports ([`QueryError::SchemaDiffers`]), and a timeout becomes
    /// [`QueryError::Query`].
    fn from(error: DieselError) -> Self {
        let DieselError::DatabaseError(kind, info) = &error else {
            // Diesel's `NotFound` included: it names no table or key, so only a lookup that
            // knows them makes it a `QueryError::NotFound` (`QueryError::not_found`).
            return QueryError::Query(error);
        };
        match kind {
            DatabaseErrorKind::UniqueViolation => match unique_field(info.constraint_name()) {
                Some((table, field)) => QueryError::AlreadyExists {
                    table,
                    field,
                    error,
                },
                None => QueryError::UniqueViolation {
                    table: info.table_name().unwrap_or("unknown").to_owned(),
                    constraint: info.constraint_name().unwrap_or("unknown").to_owned(),
                    columns: info
                        .details()
                        .and_then(key_columns)
                        .unwrap_or_else(|| "value".to_owned()),
                    error,
                },
            },
            DatabaseErrorKind::ForeignKeyViolation => QueryError::ForeignKey {
                constraint: info.constraint_name().unwrap_or("unknown").to_owned(),
                source: error,
            },
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                QueryError::ConnectionLost { source: error }
            }
            _ => {
                let message = info.message();
                let positioned = info.statement_position().is_some();
                match missing_object(message) {
                    Some(Missing::Column(column)) => QueryError::MissingColumn {
                        column,
                        source: error,
                    },
                    Some(Missing::Relation(relation)) => QueryError::MissingRelation {
                        relation,
                        source: error,
                    },
                    None if message.contains("canceling statement due to statement timeout") => {
                        QueryError::StatementTimeout { source: error }
                    }
                    None if positioned => QueryError::SchemaDiffers { source: error },
                    None => QueryError::Query(error),
                }
            }
        }
    }
}

/// The (table, field) a unique constraint of the schema guards, from its name.
fn unique_field(constraint: Option<&str>) -> Option<(&'static str, &'static str)> {
    match constraint? {
        "users_email_unique" => Some(("users", "email")),
        "users_username_unique" => Some(("users", "username")),
        "users_pkey" => Some(("users", "id")),
        "oauth_connections_pkey" => Some(("oauth_connections", "id")),
        _ => None,
    }
}

/// The columns of a unique violation's detail line, `Key (a, b)=(x, y) already exists.`,
/// without the values (which may be anything a user typed).
fn key_columns(detail: &str) -> Option<String> {
    let columns = detail.strip_prefix("Key (")?.split_once(")=(")?.0;
    (!columns.is_empty()).then(|| columns.to_owned())
}

/// What a "does not exist" message from PostgreSQL names.
#[derive(Debug, PartialEq, Eq)]
enum Missing {
    /// `table.column`, or just `column` when PostgreSQL names no table.
    Column(String),
    Relation(String),
}

/// Reads PostgreSQL's "does not exist" messages, anchored at their start so that a missing
/// column is never taken for a missing table:
///
/// - `column "c" of relation "t" does not exist` (INSERT, UPDATE) → column `t.c`;
/// - `column t.c does not exist`, `column "c" does not exist` (SELECT) → `t.c`, `c`;
/// - `relation "t" does not exist` → relation `t`.
///
/// Anything else (`constraint "x" of relation "t" does not exist`, SQLSTATE 42704, ...) is
/// `None`.
fn missing_object(message: &str) -> Option<Missing> {
    let rest = message.trim().strip_suffix(" does not exist")?;
    if let Some(rest) = rest.strip_prefix("column ") {
        let (column, after) = identifier(rest)?;
        if after.is_empty() {
            return Some(Missing::Column(column));
        }
        let (table, after) = identifier(after.strip_prefix(" of relation ")?)?;
        return after
            .is_empty()
            .then(|| Missing::Column(format!("{table}.{column}")));
    }
    let (relation, after) = identifier(rest.strip_prefix("relation ")?)?;
    after.is_empty().then_some(Missing::Relation(relation))
}

/// A name at the start of `text`, quoted (`"a ""b"""`, doubled quotes inside) or not (up to
/// the next space; it may be qualified, `users.role`), and the text after it.
fn identifier(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(' ').unwrap_or(text.len());
        return (end > 0).then(|| (text[..end].to_owned(), &text[end..]));
    };
    let mut name = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            name.push(c);
        } else if quoted[i + 1..].starts_with('"') {
            name.push('"');
            chars.next();
        } else {
            return Some((name, &quoted[i + 1..]));
        }
    }
    None
}

/// Refuses text PostgreSQL cannot store, naming the field.
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), QueryError> {
    if value.contains('\0') {
        Err(QueryError::NulByte { field })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<QueryError>();
        assert_send_sync::<super::super::ConnectError>();
        assert_send_sync::<super::super::MigrationError>();
    }

    #[test]
    fn an_error_chain_shows_the_database_error_once() {
        let error = QueryError::from(DieselError::QueryBuilderError("boom-cause".into()));
        assert!(matches!(error, QueryError::Query(_)), "{error:?}");
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(e) = source {
            chain.push_str(&format!(": {e}"));
            source = e.source();
        }
        assert_eq!(chain.matches("boom-cause").count(), 1, "{chain}");
    }

    #[test]
    fn names_are_taken_from_postgres_messages() {
        let column = |c: &str| Some(Missing::Column(c.to_owned()));
        let relation = |r: &str| Some(Missing::Relation(r.to_owned()));
        assert_eq!(
            missing_object(r#"column "github_username" of relation "users" does not exist"#),
            column("users.github_username")
        );
        assert_eq!(
            missing_object("column users.role does not exist"),
            column("users.role")
        );
        assert_eq!(
            missing_object(r#"column "role" does not exist"#),
            column("role")
        );
        assert_eq!(
            missing_object(r#"relation "users" does not exist"#),
            relation("users")
        );
        assert_eq!(
            missing_object(r#"relation "a ""b""" does not exist"#),
            relation(r#"a "b""#)
        );
        assert_eq!(
            missing_object(r#"constraint "users_pkey" of relation "users" does not exist"#),
            None
        );
        assert_eq!(missing_object(r#"type "citext" does not exist"#), None);
        assert_eq!(
            missing_object(r#"function lower(relation "x") does not exist"#),
            None
        );
        assert_eq!(
            unique_field(Some("users_email_unique")),
            Some(("users", "email"))
        );
        assert_eq!(
            unique_field(Some("users_username_unique")),
            Some(("users", "username"))
        );
        assert_eq!(unique_field(Some("users_nickname_key")), None);
        assert_eq!(
            key_columns("Key (lower(display_name))=(Ada) already exists.").as_deref(),
            Some("lower(display_name)")
        );
    }
}
