//! `viben db generate | import-drizzle | print-schema`: the commands that write migration
//! files and `schema.rs`, found where diesel_cli finds them (the nearest `diesel.toml`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;
use viben_db::DatabaseUrl;
use viben_db::migration_files::MigrationsDir;

use crate::cli::{MigrationFiles, MigrationFilesCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, print_json, say};

/// Runs one of the commands on migration files.
pub(crate) fn run(context: &Context, command: MigrationFilesCommand) -> Result<(), Failure> {
    match command {
        MigrationFilesCommand::Generate {
            name,
            from_url,
            files,
        } => generate(&name, from_url.as_deref(), &files),
        MigrationFilesCommand::ImportDrizzle { dir, files } => import(context, &dir, &files),
        MigrationFilesCommand::PrintSchema { files } => print_schema(&files),
    }
}

/// The paths a command works on, from its flags, else `diesel.toml`, else the defaults.
struct Paths {
    migrations: MigrationsDir,
    schema_rs: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
struct DieselToml {
    #[serde(default)]
    print_schema: Option<PrintSchemaSection>,
    #[serde(default)]
    migrations_directory: Option<MigrationsSection>,
}

#[derive(Deserialize)]
struct PrintSchemaSection {
    file: Option<PathBuf>,
}

#[derive(Deserialize)]
struct MigrationsSection {
    dir: PathBuf,
}

impl Paths {
    fn resolve(files: &MigrationFiles) -> Result<Self, Failure> {
        let (root, config) = match nearest_diesel_toml()? {
            Some((root, config)) => (root, config),
            None => (PathBuf::from("."), DieselToml::default()),
        };
        let migrations = files.migrations.clone().unwrap_or_else(|| {
            config
                .migrations_directory
                .map_or_else(|| root.join("migrations"), |m| root.join(m.dir))
        });
        let schema_rs = files.schema_rs.clone().or_else(|| {
            config
                .print_schema
                .and_then(|p| p.file)
                .map(|file| root.join(file))
        });
        Ok(Self {
            migrations: MigrationsDir::new(migrations),
            schema_rs,
        })
    }

    /// Writes `schema.rs` for the newest migration's schema, when there is a path for it;
    /// through a temporary file, so a failure leaves the old one whole.
    fn write_schema_rs(&self) -> Result<Option<&Path>, Failure> {
        let Some(path) = &self.schema_rs else {
            return Ok(None);
        };
        let text = viben_db::print_schema::schema_rs(&self.migrations.latest_schema()?)?;
        let temporary = path.with_extension("rs.viben-tmp");
        let written =
            std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(Failure::with_hint(
                format!("cannot write {}: {err}", path.display()),
                "check the path given with --schema-rs (or diesel.toml's print_schema file)",
            ));
        }
        Ok(Some(path))
    }
}

/// The nearest `diesel.toml` from the current folder up, and the folder it is in.
fn nearest_diesel_toml() -> Result<Option<(PathBuf, DieselToml)>, Failure> {
    let Ok(mut folder) = std::env::current_dir() else {
        return Ok(None);
    };
    loop {
        let path = folder.join("diesel.toml");
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|err| {
                Failure::with_hint(
                    format!("cannot read {}: {err}", path.display()),
                    "check its permissions, or pass --migrations DIR and --schema-rs PATH",
                )
            })?;
            let config: DieselToml = toml::from_str(&text).map_err(|err| {
                Failure::with_hint(
                    format!("{} is not valid: {}", path.display(), err.message()),
                    "fix it (see https://diesel.rs/guides/configuring-diesel-cli), or pass \
                     --migrations DIR and --schema-rs PATH",
                )
            })?;
            return Ok(Some((folder, config)));
        }
        if !folder.pop() {
            return Ok(None);
        }
    }
}

fn folder_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `viben db generate NAME [--from-url URL]`.
fn generate(name: &str, from_url: Option<&str>, files: &MigrationFiles) -> Result<(), Failure> {
    let paths = Paths::resolve(files)?;
    let from_url = from_url.map(DatabaseUrl::new);
    if let Some(url) = &from_url {
        url.validate()?;
    }
    let generated = viben_db::generate::generate(
        &paths.migrations,
        name,
        from_url.as_ref(),
        chrono::Utc::now(),
    )?;
    let schema_rs = paths.write_schema_rs()?;
    if output::json() {
        let steps = |steps: &[viben_db::push::PushStep]| -> Vec<serde_json::Value> {
            steps
                .iter()
                .map(|s| json!({ "summary": s.summary, "sql": s.sql }))
                .collect()
        };
        return print_json(&json!({
            "folder": generated.folder.display().to_string(),
            "up": steps(&generated.sql.up),
            "down": steps(&generated.sql.down),
            "schema_rs": schema_rs.map(|p| p.display().to_string()),
            "recorded": generated.recorded,
        }));
    }
    say!(
        "created {} (up.sql, down.sql, schema.json)",
        generated.folder.display()
    )?;
    for step in &generated.sql.up {
        say!("  up: {}", step.summary)?;
    }
    if generated.sql.is_empty() {
        say!("  up.sql and down.sql hold a placeholder: write the change in them")?;
    } else {
        say!(
            "  tried on a scratch database: up.sql makes the live schema, down.sql restores \
             the one before"
        )?;
    }
    if generated.recorded {
        say!("  recorded as applied on the database it was made from, which has the change")?;
    }
    let next = if generated.sql.is_empty() {
        "write up.sql and down.sql, regenerate the snapshot (VIBEN_UPDATE_SNAPSHOTS=1 cargo \
         test -p viben-db --test schema_snapshots) and schema.rs (`viben db print-schema`)"
    } else if generated.recorded {
        "build, then apply it elsewhere with `viben db migrate`"
    } else {
        "build, then apply it with `viben db migrate` (or `viben db adopt` on a database \
         drizzle-kit made)"
    };
    finish(schema_rs, next)
}

/// What was written to schema.rs, and the next step.
fn finish(schema_rs: Option<&Path>, next: &str) -> Result<(), Failure> {
    match schema_rs {
        Some(path) => say!("wrote {}", path.display())?,
        None => say!(
            "schema.rs not written: pass --schema-rs PATH (or set print_schema.file in \
             diesel.toml)"
        )?,
    }
    say!("next: {next}")
}

/// `viben db import-drizzle DIR`.
fn import(context: &Context, dir: &Path, files: &MigrationFiles) -> Result<(), Failure> {
    let paths = Paths::resolve(files)?;
    let server = context.database_url()?;
    server.validate()?;
    let imported = viben_db::drizzle::import(dir, &paths.migrations, Some(&server))?;
    let schema_rs = if imported.added.is_empty() {
        None
    } else {
        paths.write_schema_rs()?
    };
    if output::json() {
        return print_json(&json!({
            "imported": imported.added.iter().map(|p| folder_name(p)).collect::<Vec<_>>(),
            "present": imported
                .present
                .iter()
                .map(|(tag, folder)| json!({ "tag": tag, "folder": folder_name(folder) }))
                .collect::<Vec<_>>(),
            "irreversible": imported.irreversible,
            "schema_rs": schema_rs.map(|p| p.display().to_string()),
        }));
    }
    for (tag, folder) in &imported.present {
        say!("present: {tag} (as {})", folder_name(folder))?;
    }
    for folder in &imported.added {
        let name = folder_name(folder);
        if imported.irreversible.contains(&name) {
            say!("imported: {name} (its down.sql refuses: a statement cannot be undone)")?;
        } else {
            say!("imported: {name}")?;
        }
    }
    if imported.added.is_empty() {
        return say!("nothing to import: every drizzle migration is present");
    }
    say!(
        "{} migration(s) added to {}, each tried on a scratch database (up, down where it \
         can be undone, up) with its schema.json",
        imported.added.len(),
        paths.migrations.root().display()
    )?;
    finish(schema_rs, "build, then apply them with `viben db migrate`")
}

/// `viben db print-schema`: to the schema.rs path when one is given or configured, else stdout.
fn print_schema(files: &MigrationFiles) -> Result<(), Failure> {
    let paths = Paths::resolve(files)?;
    match paths.write_schema_rs()? {
        Some(path) if output::json() => {
            print_json(&json!({ "schema_rs": path.display().to_string() }))
        }
        Some(path) => say!("wrote {}", path.display()),
        None => {
            let text = viben_db::print_schema::schema_rs(&paths.migrations.latest_schema()?)?;
            if output::json() {
                return print_json(&json!({ "schema_rs": null, "text": text }));
            }
            for line in text.lines() {
                say!("{line}")?;
            }
            Ok(())
        }
    }
}
