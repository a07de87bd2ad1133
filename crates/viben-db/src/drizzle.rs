//! `db import-drizzle`: the web app's drizzle-kit migrations (`DIR/meta/_journal.json` and
//! `DIR/NNNN_name.sql`, statements separated by `--> statement-breakpoint`) added as Diesel
//! migrations, in journal order, each once.
//!
//! A drizzle migration is present when a migration folder ends with its tag
//! (`…_0001_add_column`), or when a migration runs the same statements (the first Diesel
//! migration is the web app's first drizzle migration, statement for statement). Each new one
//! becomes `YYYY-MM-DD-HHMMSS_<tag>` (the time drizzle-kit wrote it, moved past the newest
//! version), with a `down.sql` that undoes it statement by statement where every statement
//! can be undone (a created table, column, constraint, index, type or sequence; a renamed
//! column or table), else one that refuses with a message saying why. The migrations are
//! added through [`MigrationsDir::add`]: tried on a scratch database, with their snapshot.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use viben_model::Hint;

use crate::DatabaseUrl;
use crate::migration_files::{
    MigrationFilesError, MigrationsDir, NewMigration, normalized, statements,
};

/// The marker drizzle-kit writes between statements.
pub const STATEMENT_BREAKPOINT: &str = "--> statement-breakpoint";

/// Why an import added nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The journal is missing or is not drizzle-kit's.
    #[error("{} is not a drizzle-kit journal: {problem}", path.display())]
    Journal {
        /// `DIR/meta/_journal.json`.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The journal names a migration whose SQL file cannot be read.
    #[error("cannot read {} (migration {tag} of the journal)", path.display())]
    MigrationFile {
        /// The SQL file.
        path: PathBuf,
        /// Its tag in the journal.
        tag: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A migration was imported before and its SQL has changed since.
    #[error(
        "drizzle migration {tag} changed since it was imported as {}",
        folder.display()
    )]
    Changed {
        /// Its tag.
        tag: String,
        /// The migration folder it was imported as.
        folder: PathBuf,
    },
    /// Adding the migrations failed.
    #[error(transparent)]
    Files(#[from] MigrationFilesError),
}

impl Hint for ImportError {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::Journal { .. } => {
                "pass the folder drizzle-kit writes to (its `out`, holding meta/_journal.json), \
                 or regenerate it with `npx drizzle-kit generate`"
            }
            Self::MigrationFile { .. } => {
                "restore the file from version control, or regenerate the migrations with \
                 `npx drizzle-kit generate`"
            }
            Self::Changed { .. } => {
                "an applied migration must not change: restore its SQL file, and make the \
                 change in a new drizzle migration"
            }
            Self::Files(err) => return err.hint(),
        };
        Some(text.to_owned())
    }
}

#[derive(Deserialize)]
struct Journal {
    dialect: String,
    entries: Vec<JournalEntry>,
}

#[derive(Deserialize)]
struct JournalEntry {
    idx: u32,
    when: i64,
    tag: String,
    #[serde(default = "yes")]
    breakpoints: bool,
}

fn yes() -> bool {
    true
}

/// One migration of a drizzle-kit folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrizzleMigration {
    /// Its tag (`0001_add_column`), also its file's name.
    pub tag: String,
    /// When drizzle-kit wrote it (milliseconds since the epoch, UTC).
    pub when_ms: i64,
    /// Its statements, in order.
    pub statements: Vec<String>,
}

/// Reads `dir`'s journal and each migration it lists, in journal order.
pub fn read(dir: &Path) -> Result<Vec<DrizzleMigration>, ImportError> {
    let path = dir.join("meta").join("_journal.json");
    let journal_error = |problem: String| ImportError::Journal {
        path: path.clone(),
        problem,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| journal_error(e.to_string()))?;
    let journal: Journal = serde_json::from_str(&text).map_err(|e| journal_error(e.to_string()))?;
    if journal.dialect != "postgresql" {
        return Err(journal_error(format!(
            "its dialect is {}, not postgresql",
            journal.dialect
        )));
    }
    let mut entries = journal.entries;
    entries.sort_by_key(|e| e.idx);
    let mut migrations = Vec::new();
    for entry in entries {
        let valid_tag = !entry.tag.is_empty()
            && entry
                .tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_tag {
            return Err(journal_error(format!(
                "entry {} has the tag {:?}, which is not a drizzle-kit file name",
                entry.idx, entry.tag
            )));
        }
        let file = dir.join(format!("{}.sql", entry.tag));
        let sql = std::fs::read_to_string(&file).map_err(|source| ImportError::MigrationFile {
            path: file.clone(),
            tag: entry.tag.clone(),
            source,
        })?;
        let chunks: Vec<&str> = if entry.breakpoints {
            sql.split(STATEMENT_BREAKPOINT).collect()
        } else {
            vec![sql.as_str()]
        };
        migrations.push(DrizzleMigration {
            tag: entry.tag,
            when_ms: entry.when,
            statements: chunks.into_iter().flat_map(statements).collect(),
        });
    }
    Ok(migrations)
}

/// What [`import`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imported {
    /// The new migration folders, in order.
    pub added: Vec<PathBuf>,
    /// Migrations already present: `(tag, the folder that has it)`.
    pub present: Vec<(String, PathBuf)>,
    /// New migrations whose `down.sql` refuses (a statement that cannot be undone).
    pub irreversible: Vec<String>,
}

/// Imports the migrations of the drizzle-kit folder `from` that `into` does not have yet,
/// trying them on a scratch database on `scratch_server` (see [`MigrationsDir::add`]). Running
/// it again imports nothing.
pub fn import(
    from: &Path,
    into: &MigrationsDir,
    scratch_server: Option<&DatabaseUrl>,
) -> Result<Imported, ImportError> {
    let migrations = read(from)?;
    let existing: Vec<(PathBuf, Vec<String>)> = into
        .folders()?
        .into_iter()
        .map(|folder| {
            let up = std::fs::read_to_string(folder.join("up.sql")).unwrap_or_default();
            let normal = statements(&up).iter().map(|s| normalized(s)).collect();
            (folder, normal)
        })
        .collect();
    let mut imported = Imported::default();
    let mut new = Vec::new();
    for migration in migrations {
        let up = up_sql(&migration);
        let by_tag = existing.iter().find(|(folder, _)| {
            folder.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .ends_with(&format!("_{}", migration.tag))
            })
        });
        if let Some((folder, _)) = by_tag {
            let stored = std::fs::read_to_string(folder.join("up.sql")).unwrap_or_default();
            if stored != up {
                return Err(ImportError::Changed {
                    tag: migration.tag,
                    folder: folder.clone(),
                });
            }
            imported.present.push((migration.tag, folder.clone()));
            continue;
        }
        let normal: Vec<String> = migration.statements.iter().map(|s| normalized(s)).collect();
        if let Some((folder, _)) = existing.iter().find(|(_, n)| *n == normal) {
            imported.present.push((migration.tag, folder.clone()));
            continue;
        }
        let at = chrono::DateTime::from_timestamp_millis(migration.when_ms).unwrap_or_default();
        let taken: Vec<String> = new
            .iter()
            .map(|m: &NewMigration| m.folder.clone())
            .collect();
        let folder = into.folder_name(&migration.tag, at, &taken)?;
        let (down, reversible) = down_sql(&migration, &folder);
        if !reversible {
            imported.irreversible.push(folder.clone());
        }
        new.push(NewMigration {
            folder,
            up,
            down,
            reversible,
        });
    }
    if !new.is_empty() {
        imported.added = into.add(scratch_server, &new, None)?;
    }
    Ok(imported)
}

fn up_sql(migration: &DrizzleMigration) -> String {
    let mut text = format!(
        "-- Imported from drizzle-kit migration {} by `viben db import-drizzle`.\n",
        migration.tag
    );
    for statement in &migration.statements {
        text.push_str(&format!("\n{statement};\n"));
    }
    text
}

/// `down.sql`: each statement undone, newest first; or, when one cannot be, a `down.sql` that
/// refuses to run, naming it. The flag says which.
fn down_sql(migration: &DrizzleMigration, folder: &str) -> (String, bool) {
    let mut undo = Vec::new();
    let mut cannot = Vec::new();
    for statement in &migration.statements {
        match reverse(statement) {
            Some(reversed) => undo.push(reversed),
            None => cannot.push(normalized(statement)),
        }
    }
    let header = format!(
        "-- Undoes drizzle-kit migration {} (written by `viben db import-drizzle`).\n",
        migration.tag
    );
    if cannot.is_empty() {
        let mut text = header;
        for statement in undo.iter().rev() {
            text.push_str(&format!("\n{statement};\n"));
        }
        return (text, true);
    }
    let reason = format!(
        "migration {folder} cannot be reverted: {} cannot be undone (the data it dropped or \
         changed is not kept); restore a backup, or write this down.sql by hand",
        cannot.join("; ")
    );
    let text = format!(
        "{header}-- It cannot be undone automatically, so it refuses to run:\n\
         DO $viben$ BEGIN RAISE EXCEPTION '%', '{}'; END $viben$;\n",
        reason.replace('\'', "''")
    );
    (text, false)
}

/// The statement that undoes `statement`, for the statements drizzle-kit writes that can be
/// undone without data: what they create is dropped, what they rename is renamed back.
fn reverse(statement: &str) -> Option<String> {
    let words = tokens(statement);
    let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
    let is = |at: usize, word: &str| upper.get(at).is_some_and(|w| w == word);
    let skip_if_not_exists = |at: usize| {
        if is(at, "IF") && is(at + 1, "NOT") && is(at + 2, "EXISTS") {
            at + 3
        } else {
            at
        }
    };
    if is(0, "CREATE") {
        let (kind, at) = if is(1, "UNIQUE") && is(2, "INDEX") {
            ("INDEX", 3)
        } else {
            (upper.get(1)?.as_str(), 2)
        };
        let at = if kind == "INDEX" && is(at, "CONCURRENTLY") {
            at + 1
        } else {
            at
        };
        let name = words.get(skip_if_not_exists(at))?;
        return match kind {
            "TABLE" | "INDEX" | "TYPE" | "SEQUENCE" | "SCHEMA" | "VIEW" => {
                Some(format!("DROP {kind} {name}"))
            }
            _ => None,
        };
    }
    if is(0, "ALTER") && is(1, "TABLE") {
        let at = if is(2, "ONLY") { 3 } else { 2 };
        let table = words.get(at)?;
        let at = at + 1;
        if is(at, "ADD") && is(at + 1, "COLUMN") {
            let column = words.get(skip_if_not_exists(at + 2))?;
            return Some(format!("ALTER TABLE {table} DROP COLUMN {column}"));
        }
        if is(at, "ADD") && is(at + 1, "CONSTRAINT") {
            let name = words.get(at + 2)?;
            return Some(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
        }
        if is(at, "RENAME") && is(at + 1, "COLUMN") && is(at + 3, "TO") {
            let (old, new) = (words.get(at + 2)?, words.get(at + 4)?);
            return Some(format!("ALTER TABLE {table} RENAME COLUMN {new} TO {old}"));
        }
        if is(at, "RENAME") && is(at + 1, "TO") {
            let new = words.get(at + 2)?;
            let old = table.rsplit('.').next().unwrap_or(table);
            return Some(format!("ALTER TABLE {new} RENAME TO {old}"));
        }
    }
    None
}

/// The words of a statement, a double-quoted name (with its schema: `"public"."users"`) kept
/// as one; stops at the first parenthesis, past which no word is needed.
fn tokens(statement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in statement.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '(' if !quoted => break,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::reverse;

    #[test]
    fn what_drizzle_kit_creates_is_dropped_and_what_it_renames_is_renamed_back() {
        let cases = [
            (
                "CREATE TABLE \"api_keys\" (\n\t\"id\" text PRIMARY KEY NOT NULL\n)",
                Some("DROP TABLE \"api_keys\""),
            ),
            (
                "ALTER TABLE \"users\" ADD COLUMN \"bio\" text",
                Some("ALTER TABLE \"users\" DROP COLUMN \"bio\""),
            ),
            (
                "CREATE UNIQUE INDEX IF NOT EXISTS \"u_idx\" ON \"users\" USING btree (\"a\")",
                Some("DROP INDEX \"u_idx\""),
            ),
            (
                "ALTER TABLE \"a\" ADD CONSTRAINT \"a_fk\" FOREIGN KEY (\"x\") REFERENCES \"b\"(\"id\")",
                Some("ALTER TABLE \"a\" DROP CONSTRAINT \"a_fk\""),
            ),
            (
                "ALTER TABLE \"users\" RENAME COLUMN \"bio\" TO \"about\"",
                Some("ALTER TABLE \"users\" RENAME COLUMN \"about\" TO \"bio\""),
            ),
            (
                "CREATE TYPE \"public\".\"role\" AS ENUM('a', 'b')",
                Some("DROP TYPE \"public\".\"role\""),
            ),
            ("ALTER TABLE \"users\" DROP COLUMN \"bio\"", None),
            (
                "ALTER TABLE \"users\" ALTER COLUMN \"role\" SET DATA TYPE integer",
                None,
            ),
            ("DROP TABLE \"users\" CASCADE", None),
        ];
        for (statement, undone) in cases {
            assert_eq!(reverse(statement).as_deref(), undone, "{statement}");
        }
    }
}
