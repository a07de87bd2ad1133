//! A migrations folder on disk (`migrations/YYYY-MM-DD-HHMMSS_name/{up,down}.sql`), and adding
//! migrations to it with their schema snapshot, as `db generate` and `db import-drizzle` do.
//!
//! New migrations are written into a hidden staging folder inside the migrations folder
//! (Diesel skips names starting with `.`), run on a scratch database made for the purpose
//! (every migration from the first, so each new `schema.json` is what the migrations make, as
//! `tests/schema_snapshots.rs` requires), reverted there when their `down.sql` can be, and only
//! then renamed into place: a failure leaves the folder as it was.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use viben_model::Hint;

use crate::catalog::{self, Difference, Schema};
use crate::{ConnectError, DatabaseUrl, PgConnection, PoolBuilder, QueryError};

/// Adding migrations to a folder, or reading one, failed. Nothing was added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationFilesError {
    /// Reading or writing a file or folder failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `create`, `rename`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A migration name that would not make a plain folder name.
    #[error("migration name {name:?} is not snake_case (lowercase letters, digits and _)")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// The newest migration has no `schema.json`, so nothing says what the schema is.
    #[error("migration {} has no schema.json snapshot", folder.display())]
    MissingSnapshot {
        /// The migration folder.
        folder: PathBuf,
    },
    /// A `schema.json` cannot be read.
    #[error("the schema snapshot {} is not valid", path.display())]
    InvalidSnapshot {
        /// The file.
        path: PathBuf,
        /// What the JSON reader reported.
        #[source]
        source: serde_json::Error,
    },
    /// A migration with statements can only get its snapshot from a database.
    #[error("a database is needed to run the new migration and write its schema.json")]
    NeedsDatabase,
    /// Connecting to the server failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A query failed (reading a catalog, creating the scratch database, ...).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The scratch database the new migrations are tried on could not be created.
    #[error("cannot create a scratch database to try the new migrations on")]
    ScratchDatabase(#[source] QueryError),
    /// A migration failed on the scratch database.
    #[error("migration {name} failed on a scratch database")]
    MigrationFailed {
        /// The migration folder's name.
        name: String,
        /// What Diesel or the server reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The new migrations do not make the schema they were generated for.
    #[error(
        "the generated migration does not make the live schema: {}",
        differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    DoesNotReach {
        /// What still differs after running it.
        differences: Vec<Difference>,
    },
    /// A `down.sql` does not bring the schema back to the one before its migration.
    #[error(
        "down.sql of {name} does not restore the schema before it: {}",
        differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    DownDoesNotRestore {
        /// The migration folder's name.
        name: String,
        /// What differs after reverting it.
        differences: Vec<Difference>,
    },
    /// A column type that `schema.rs` cannot be written for.
    #[error("column {table}.{column} has type {data_type}, which schema.rs cannot describe")]
    UnsupportedType {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Its type, as the schema spells it.
        data_type: String,
    },
}

impl Hint for MigrationFilesError {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::Io { .. } => "check the path and its permissions, then run the command again",
            Self::InvalidName { .. } => "use a name like add_bio_to_users",
            Self::MissingSnapshot { .. } | Self::InvalidSnapshot { .. } => {
                "generate the snapshots with `VIBEN_UPDATE_SNAPSHOTS=1 cargo test -p viben-db \
                 --test schema_snapshots` (see migrations/README.md)"
            }
            Self::NeedsDatabase => {
                "pass --database-url URL (or set DATABASE_URL) for a server where viben may \
                 create a scratch database"
            }
            Self::Connect(err) => return err.hint(),
            Self::Query(err) => return err.hint(),
            Self::ScratchDatabase(_) => {
                "use a role that may create databases (`ALTER ROLE <role> CREATEDB`), for \
                 example a local development server"
            }
            Self::MigrationFailed { .. } => {
                "fix the migration's SQL, then run the command again; nothing was added"
            }
            Self::DoesNotReach { .. } => {
                "the live database has something a migration cannot make from the \
                 differences alone: write up.sql by hand (`viben db generate NAME` without \
                 --from-url gives an empty one)"
            }
            Self::DownDoesNotRestore { .. } => {
                "write down.sql by hand so it undoes up.sql, then check it with `viben db revert`"
            }
            Self::UnsupportedType { .. } => {
                "write this table's definition in schema.rs by hand, or use `diesel \
                 print-schema`"
            }
        };
        Some(text.to_owned())
    }
}

impl From<diesel::result::Error> for MigrationFilesError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Query(err.into())
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> MigrationFilesError {
    let path = path.to_path_buf();
    move |source| MigrationFilesError::Io {
        action,
        path,
        source,
    }
}

/// The `up.sql` and `down.sql` of a migration to write by hand. Diesel refuses to run a file
/// without a statement ("Received an empty query"), so it holds one that does nothing.
pub const PLACEHOLDER_SQL: &str = "-- Your SQL goes here, in place of the statement below, which only keeps Diesel \
     from refusing\n-- an empty file.\nSELECT 1;\n";

/// A migrations folder: one sub-folder per migration, in version order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationsDir {
    root: PathBuf,
}

/// A migration to add: its folder name and its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMigration {
    /// `YYYY-MM-DD-HHMMSS_name` (see [`MigrationsDir::folder_name`]).
    pub folder: String,
    /// `up.sql`.
    pub up: String,
    /// `down.sql`.
    pub down: String,
    /// Whether `down.sql` undoes `up.sql`, so it is tried on the scratch database (a down.sql
    /// that refuses on purpose is not).
    pub reversible: bool,
}

impl MigrationsDir {
    /// The migrations folder at `root` (it need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The migration folders, oldest first (a missing root has none).
    pub fn folders(&self) -> Result<Vec<PathBuf>, MigrationFilesError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io("read", &self.root)(err)),
        };
        let mut folders = Vec::new();
        for entry in entries {
            let path = entry.map_err(io("read", &self.root))?.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden && path.join("up.sql").is_file() {
                folders.push(path);
            }
        }
        folders.sort();
        Ok(folders)
    }

    /// The schema all the migrations make: the newest one's `schema.json` (empty when there
    /// is no migration).
    pub fn latest_schema(&self) -> Result<Schema, MigrationFilesError> {
        match self.folders()?.last() {
            Some(folder) => read_snapshot(folder),
            None => Ok(Schema::default()),
        }
    }

    /// A new migration's folder name, `YYYY-MM-DD-HHMMSS_name` at `at` (UTC), moved on a second
    /// at a time past every existing version, so versions stay unique and in the order the
    /// migrations were added.
    pub fn folder_name(
        &self,
        name: &str,
        at: DateTime<Utc>,
        also_taken: &[String],
    ) -> Result<String, MigrationFilesError> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(MigrationFilesError::InvalidName {
                name: name.to_owned(),
            });
        }
        let version = |folder: &str| folder.split('_').next().unwrap_or_default().to_owned();
        let newest = self
            .folders()?
            .iter()
            .filter_map(|f| f.file_name().map(|n| version(&n.to_string_lossy())))
            .chain(also_taken.iter().map(|f| version(f)))
            .filter_map(|v| chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%d-%H%M%S").ok())
            .max();
        let mut stamp = at.naive_utc();
        if let Some(newest) = newest
            && stamp < newest + chrono::Duration::seconds(1)
        {
            stamp = newest + chrono::Duration::seconds(1);
        }
        Ok(format!("{}_{name}", stamp.format("%Y-%m-%d-%H%M%S")))
    }

    /// Adds `new` (in order), each with its `schema.json`, after trying them on a scratch
    /// database on the server `scratch_server` names: run from the first migration, compared
    /// with `reaches` when given (the schema they were generated for), and reverted where
    /// reversible to check `down.sql`. Without a server, only placeholders
    /// ([`PLACEHOLDER_SQL`]) can be added (their snapshot is the previous one). Returns the new
    /// folders' paths.
    pub fn add(
        &self,
        scratch_server: Option<&DatabaseUrl>,
        new: &[NewMigration],
        reaches: Option<&Schema>,
    ) -> Result<Vec<PathBuf>, MigrationFilesError> {
        let existing = self.folders()?;
        let previous_schema = match existing.last() {
            Some(folder) => read_snapshot(folder)?,
            None => Schema::default(),
        };
        std::fs::create_dir_all(&self.root).map_err(io("create", &self.root))?;
        let staging = tempfile::Builder::new()
            .prefix(".viben-new-")
            .tempdir_in(&self.root)
            .map_err(io("create a staging folder in", &self.root))?;
        for migration in new {
            let folder = staging.path().join(&migration.folder);
            std::fs::create_dir(&folder).map_err(io("create", &folder))?;
            write(&folder.join("up.sql"), &migration.up)?;
            write(&folder.join("down.sql"), &migration.down)?;
        }
        match scratch_server {
            Some(server) => self.try_on_scratch(
                server,
                &existing,
                staging.path(),
                new,
                &previous_schema,
                reaches,
            )?,
            None => {
                if new
                    .iter()
                    .any(|m| m.up != PLACEHOLDER_SQL || m.down != PLACEHOLDER_SQL)
                {
                    return Err(MigrationFilesError::NeedsDatabase);
                }
                for migration in new {
                    let path = staging.path().join(&migration.folder).join("schema.json");
                    write(&path, &previous_schema.to_snapshot())?;
                }
            }
        }
        let mut added = Vec::new();
        for migration in new {
            let from = staging.path().join(&migration.folder);
            let to = self.root.join(&migration.folder);
            if to.exists() {
                return Err(io("create", &to)(std::io::Error::from(
                    std::io::ErrorKind::AlreadyExists,
                )));
            }
            std::fs::rename(&from, &to).map_err(io("rename", &to))?;
            added.push(to);
        }
        Ok(added)
    }

    /// Runs the existing migrations and then the staged ones on a scratch database, writing
    /// each staged one's snapshot, and checks what `add` promises.
    fn try_on_scratch(
        &self,
        server: &DatabaseUrl,
        existing: &[PathBuf],
        staging: &Path,
        new: &[NewMigration],
        previous_schema: &Schema,
        reaches: Option<&Schema>,
    ) -> Result<(), MigrationFilesError> {
        // Diesel reads one folder: copies of every migration, old and new, side by side.
        let run_dir = tempfile::tempdir().map_err(io("create", &std::env::temp_dir()))?;
        for folder in existing {
            let name = folder.file_name().unwrap_or_default();
            copy_migration(folder, &run_dir.path().join(name))?;
        }
        for migration in new {
            copy_migration(
                &staging.join(&migration.folder),
                &run_dir.path().join(&migration.folder),
            )?;
        }
        let scratch = ScratchDatabase::create(server)?;
        let mut conn = scratch.connect()?;
        let source = FileBasedMigrations::from_path(run_dir.path()).map_err(|e| {
            MigrationFilesError::MigrationFailed {
                name: run_dir.path().display().to_string(),
                source: Box::new(e),
            }
        })?;
        for folder in existing {
            conn.run_next_migration(source.clone()).map_err(|source| {
                MigrationFilesError::MigrationFailed {
                    name: folder_label(folder),
                    source,
                }
            })?;
        }
        // Each new migration up, down (where it can be undone) and up again, so every
        // down.sql is tried, also before a later one that refuses.
        let mut before = previous_schema.clone();
        for migration in new {
            let run = |conn: &mut PgConnection, what: &str| {
                conn.run_next_migration(source.clone())
                    .map(drop)
                    .map_err(|source| MigrationFilesError::MigrationFailed {
                        name: format!("{}{what}", migration.folder),
                        source,
                    })
            };
            run(&mut conn, "")?;
            let schema = Schema::of(&catalog::read(&mut conn)?);
            if migration.reversible {
                conn.revert_last_migration(source.clone())
                    .map_err(|source| MigrationFilesError::MigrationFailed {
                        name: format!("{} (down.sql)", migration.folder),
                        source,
                    })?;
                let reverted = Schema::of(&catalog::read(&mut conn)?);
                let differences = meaningful(catalog::diff(&before, &reverted));
                if !differences.is_empty() {
                    return Err(MigrationFilesError::DownDoesNotRestore {
                        name: migration.folder.clone(),
                        differences,
                    });
                }
                run(&mut conn, " (up.sql after down.sql)")?;
            }
            write(
                &staging.join(&migration.folder).join("schema.json"),
                &schema.to_snapshot(),
            )?;
            before = schema;
        }
        if let Some(target) = reaches {
            let differences = meaningful(catalog::diff(&without_recommended(target), &before));
            if !differences.is_empty() {
                return Err(MigrationFilesError::DoesNotReach { differences });
            }
        }
        drop(conn);
        scratch.drop_now();
        Ok(())
    }
}

/// What a migration or a push cannot change short of rebuilding a table (the column order)
/// left out.
fn meaningful(differences: Vec<Difference>) -> Vec<Difference> {
    differences
        .into_iter()
        .filter(|d| !d.is_cosmetic())
        .collect()
}

/// `schema` without the indexes `viben db indexes` recommends: they belong to no migration.
pub(crate) fn without_recommended(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for table in &mut schema.tables {
        let name = table.name.clone();
        table.indexes.retain(|index| {
            !crate::indexes::is_recommended(&Difference::ExtraIndex {
                table: name.clone(),
                name: index.name.clone(),
                definition: index.definition.clone(),
            })
        });
    }
    schema
}

fn folder_label(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_snapshot(folder: &Path) -> Result<Schema, MigrationFilesError> {
    let path = folder.join("schema.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(MigrationFilesError::MissingSnapshot {
                folder: folder.to_path_buf(),
            });
        }
        Err(err) => return Err(io("read", &path)(err)),
    };
    Schema::from_snapshot(&text).map_err(|source| MigrationFilesError::InvalidSnapshot {
        path: path.clone(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), MigrationFilesError> {
    std::fs::write(path, text).map_err(io("write", path))
}

/// Copies the files Diesel reads from a migration folder.
fn copy_migration(from: &Path, to: &Path) -> Result<(), MigrationFilesError> {
    std::fs::create_dir(to).map_err(io("create", to))?;
    for name in ["up.sql", "down.sql", "metadata.toml"] {
        let file = from.join(name);
        if file.is_file() {
            std::fs::copy(&file, to.join(name)).map_err(io("read", &file))?;
        }
    }
    Ok(())
}

/// The SQL statements of a file: split at `;` outside quotes, comments and dollar-quoted
/// bodies, each trimmed, comments-only pieces left out.
pub(crate) fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                current.push(c);
                for (_, d) in chars.by_ref() {
                    current.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if sql[at..].starts_with("--") => {
                // A line comment: kept out of the statement.
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '$' => {
                let rest = &sql[at + 1..];
                let tag_len = rest
                    .find('$')
                    .filter(|&n| rest[..n].chars().all(|t| t.is_alphanumeric() || t == '_'));
                match tag_len {
                    Some(n) => {
                        let tag = &sql[at..at + n + 2];
                        let body_start = at + n + 2;
                        let end = sql[body_start..]
                            .find(tag)
                            .map_or(sql.len(), |e| body_start + e + tag.len());
                        current.push_str(&sql[at..end]);
                        while chars.peek().is_some_and(|(i, _)| *i < end) {
                            chars.next();
                        }
                    }
                    None => current.push(c),
                }
            }
            ';' => {
                let statement = current.trim().to_owned();
                if !statement.is_empty() {
                    out.push(statement);
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let statement = current.trim().to_owned();
    if !statement.is_empty() {
        out.push(statement);
    }
    out
}

/// A statement with its whitespace collapsed, to compare two spellings of the same SQL.
pub(crate) fn normalized(statement: &str) -> String {
    statement.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A database made to try migrations on, dropped when done (also on an early return).
struct ScratchDatabase {
    admin: DatabaseUrl,
    url: DatabaseUrl,
    name: String,
    dropped: bool,
}

impl ScratchDatabase {
    fn create(server: &DatabaseUrl) -> Result<Self, MigrationFilesError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("viben_scratch_{}_{nanos}", std::process::id());
        let mut admin = PoolBuilder::default().url(server).connect()?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| MigrationFilesError::ScratchDatabase(e.into()))?;
        Ok(Self {
            admin: server.clone(),
            url: server.with_database(&name),
            name,
            dropped: false,
        })
    }

    fn connect(&self) -> Result<PgConnection, MigrationFilesError> {
        Ok(PoolBuilder::default().url(&self.url).connect()?)
    }

    fn drop_now(mut self) {
        self.drop_database();
    }

    fn drop_database(&mut self) {
        if self.dropped {
            return;
        }
        self.dropped = true;
        let dropped = PoolBuilder::default()
            .url(&self.admin)
            .connect()
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .map_err(|e| e.to_string())
            });
        if let Err(err) = dropped {
            tracing::warn!(
                target: "viben_db::migrate",
                database = %self.name,
                "cannot drop the scratch database: {}",
                self.admin.scrub(&err)
            );
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        self.drop_database();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_comments_and_dollar_bodies() {
        let sql = "-- a comment; not a statement\nCREATE TABLE \"a;b\" (x text DEFAULT ';');\n\
                   DO $$ BEGIN RAISE EXCEPTION 'no; really'; END $$;ALTER TABLE t ADD x int";
        assert_eq!(
            statements(sql),
            vec![
                "CREATE TABLE \"a;b\" (x text DEFAULT ';')".to_owned(),
                "DO $$ BEGIN RAISE EXCEPTION 'no; really'; END $$".to_owned(),
                "ALTER TABLE t ADD x int".to_owned(),
            ]
        );
    }

    #[test]
    fn folder_names_move_past_taken_versions() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = MigrationsDir::new(dir.path());
        let at = DateTime::parse_from_rfc3339("2026-11-30T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let first = migrations.folder_name("add_bio", at, &[]).unwrap();
        assert_eq!(first, "2026-11-30-180000_add_bio");
        let second = migrations
            .folder_name("add_index", at, std::slice::from_ref(&first))
            .unwrap();
        assert_eq!(second, "2026-11-30-180001_add_index");
        assert!(matches!(
            migrations.folder_name("Add Bio", at, &[]),
            Err(MigrationFilesError::InvalidName { .. })
        ));
    }
}
