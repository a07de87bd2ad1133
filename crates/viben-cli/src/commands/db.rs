//! `viben db migrate | status | check | adopt | revert`

use viben_db::Adopted;
use viben_db::{catalog, migrate};

use crate::cli::{DbCommand, SchemaCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, print_json};

pub(crate) fn run(context: &Context, command: DbCommand) -> Result<(), Failure> {
    match command {
        DbCommand::Users(command) => super::users::run(context, command),
        DbCommand::Schema(command) => schema(context, command),
    }
}

fn schema(context: &Context, command: SchemaCommand) -> Result<(), Failure> {
    if let SchemaCommand::Revert { yes: false } = command {
        return Err(Failure::with_hint(
            "db revert drops the tables of the last migration and the data in them",
            "run `viben db revert --yes` to confirm",
        ));
    }
    let mut conn = context.connect()?;
    match command {
        SchemaCommand::Migrate => {
            let applied = migrate::run_pending(&mut conn)?;
            if applied.is_empty() {
                println!("the database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }
        SchemaCommand::Status(format) => {
            let status = migrate::status(&mut conn)?;
            if format.json {
                return print_json(&serde_json::json!({
                    "applied": status.applied,
                    "pending": status.pending,
                }));
            }
            let mut table = Table::new(&["MIGRATION", "STATE"]);
            for version in &status.applied {
                table.row(vec![version.clone(), "applied".into()]);
            }
            for version in &status.pending {
                table.row(vec![version.clone(), "pending".into()]);
            }
            table.print()
        }
        SchemaCommand::Check => {
            let differences = catalog::check_drift(&mut conn)?;
            for difference in &differences {
                println!("{difference}");
            }
            match differences.len() {
                0 => {
                    println!("the schema matches");
                    Ok(())
                }
                n => Err(Failure::with_hint(
                    format!("the live schema differs from the expected one in {n} place(s)"),
                    "run `viben db migrate` (or `viben db adopt` for the web app's database), \
                     or fix the schema by hand",
                )),
            }
        }
        SchemaCommand::Adopt => {
            match viben_db::adopt(&mut conn)? {
                Adopted::Recorded(versions) => {
                    println!("adopted: recorded {} as applied", versions.join(", "))
                }
                Adopted::AlreadyManaged => println!("nothing to adopt: migrations are recorded"),
            }
            Ok(())
        }
        SchemaCommand::Revert { .. } => {
            match migrate::revert_last(&mut conn)? {
                Some(version) => println!("reverted {version}"),
                None => println!("nothing to revert"),
            }
            Ok(())
        }
    }
}
