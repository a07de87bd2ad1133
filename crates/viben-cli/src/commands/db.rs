//! `viben db migrate | status | check | adopt | push | indexes | revert`

use std::io::IsTerminal as _;

use serde_json::{Value, json};
use viben_db::Adopted;
use viben_db::catalog::{self, Difference, Schema};
use viben_db::{PgConnection, migrate};

use crate::cli::{DbCommand, SchemaCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, Table, done, print_json, say};

pub(crate) fn run(context: &Context, command: DbCommand) -> Result<(), Failure> {
    match command {
        DbCommand::Users(command) => super::users::run(context, command),
        DbCommand::Connections(command) => super::connections::run(context, command),
        DbCommand::Schema(command) => schema(context, command),
        DbCommand::Files(command) => super::migration_files::run(context, command),
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
            if !output::json() {
                for version in &applied {
                    say!("applied {version}")?;
                }
            }
            // "Up to date" only when it is: advice elsewhere says "run `viben db migrate`",
            // which must not answer "nothing to do" while the schema is still wrong.
            let expected = migrate::MIGRATIONS.expected_schema(&mut conn)?;
            let differences = migrate::check_drift(&mut conn)?;
            let matches = differences.iter().all(Difference::is_cosmetic);
            if output::json() {
                print_json(&json!({
                    "applied": applied,
                    "schema_matches": matches,
                    "differences": drift_json(&differences, &expected),
                }))?;
            } else if matches && applied.is_empty() {
                say!("the database is up to date")?;
            }
            if matches {
                return Ok(());
            }
            if !output::json() {
                print_drift(&differences, &expected, "")?;
            }
            Err(Failure::with_hint(
                format!(
                    "the migrations are applied, but the schema differs from the expected one \
                     in {} place(s)",
                    differences.len()
                ),
                drift_hint(&mut conn, &differences, &expected)?,
            ))
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
            let expected = migrate::MIGRATIONS.expected_schema(&mut conn)?;
            let differences = migrate::check_drift(&mut conn)?;
            let matches = differences.iter().all(Difference::is_cosmetic);
            // The naming rules are advice for whoever changes the schema next: warnings,
            // which do not decide the exit code.
            let naming = catalog::check_naming(&mut conn)?;
            if output::json() {
                print_json(&json!({
                    "schema_matches": matches,
                    "differences": drift_json(&differences, &expected),
                    "naming": naming,
                }))?;
            } else {
                print_drift(&differences, &expected, "")?;
                for violation in &naming {
                    Failure::warn(format_args!("naming convention: {violation}"));
                }
            }
            if differences.is_empty() {
                if !output::json() {
                    say!("the schema matches")?;
                }
                Ok(())
            } else if matches {
                if !output::json() {
                    say!("the schema matches, apart from the column order, which no query uses")?;
                }
                Ok(())
            } else {
                Err(Failure::with_hint(
                    format!(
                        "the live schema differs from the expected one in {} place(s)",
                        differences.len()
                    ),
                    drift_hint(&mut conn, &differences, &expected)?,
                ))
            }
        }
        SchemaCommand::Adopt => match viben_db::adopt(&mut conn)? {
            Adopted::Recorded(versions) => done(&format!(
                "adopted: recorded {} as applied",
                versions.join(", ")
            )),
            Adopted::AlreadyManaged => done("nothing to adopt: migrations are recorded"),
        },
        SchemaCommand::Push {
            yes,
            dry_run,
            allow_data_loss,
        } => push(&mut conn, yes, dry_run, allow_data_loss),
        SchemaCommand::Indexes { apply } => indexes(&mut conn, apply),
        SchemaCommand::Revert { .. } => match migrate::revert_last(&mut conn)? {
            Some(version) => done(&format!("reverted {version}")),
            None => done("nothing to revert"),
        },
    }
}

/// Prints each difference, and under it the SQL that restores the `expected` schema where
/// there is one.
fn print_drift(differences: &[Difference], expected: &Schema, indent: &str) -> Result<(), Failure> {
    for difference in differences {
        say!("{indent}{difference}")?;
        if let Some(sql) = difference.repair_sql(expected) {
            say!("{indent}  fix: {sql}")?;
        }
    }
    Ok(())
}

/// The differences for `--json`: each in words, with the SQL that restores it where there is
/// one.
fn drift_json(differences: &[Difference], expected: &Schema) -> Vec<Value> {
    differences
        .iter()
        .map(|d| json!({ "difference": d.to_string(), "fix": d.repair_sql(expected) }))
        .collect()
}

/// What to do about schema drift, chosen so that the command it names changes something:
/// `viben db migrate` only while migrations are pending, `viben db adopt` for the web app's
/// database; otherwise the changes were made by hand, and only SQL (or a new database) undoes
/// them.
pub(crate) fn drift_hint(
    conn: &mut PgConnection,
    differences: &[Difference],
    expected: &Schema,
) -> Result<String, Failure> {
    let status = migrate::status(conn)?;
    let tables_missing = differences
        .iter()
        .filter(|d| matches!(d, Difference::MissingTable { .. }))
        .count();
    if !status.pending.is_empty() {
        if status.applied.is_empty() && tables_missing < expected.tables.len() {
            return Ok(
                "this is the web app's database, which Diesel has not recorded: restore \
                       it with the SQL shown after each `fix:`, then run `viben db adopt`"
                    .to_owned(),
            );
        }
        return Ok(format!(
            "run `viben db migrate`, which applies the {} pending migration(s)",
            status.pending.len()
        ));
    }
    let mut ways = Vec::new();
    if differences.iter().any(|d| d.repair_sql(expected).is_some()) {
        ways.push("run the SQL shown after each `fix:` (with psql)");
    }
    let extra = |d: &&Difference| {
        matches!(
            d,
            Difference::ExtraTable { .. } | Difference::ExtraColumn { .. }
        )
    };
    if differences.iter().any(|d| extra(&d)) {
        ways.push("drop the tables and columns that are not part of the schema, if nothing else uses their data");
    }
    ways.push("re-create the database and run `viben db migrate` there");
    Ok(format!(
        "every migration is applied, so these changes were made by hand and `viben db migrate` \
         has nothing to redo: {}",
        ways.join(", or ")
    ))
}

/// `viben db push`: shows the plan, asks on a terminal (or takes `--yes`), then pushes.
fn push(
    conn: &mut PgConnection,
    yes: bool,
    dry_run: bool,
    allow_data_loss: bool,
) -> Result<(), Failure> {
    let plan = viben_db::push::plan(conn, &migrate::MIGRATIONS)?;
    let steps_json = |steps: &[viben_db::push::PushStep]| -> Vec<Value> {
        steps
            .iter()
            .map(
                |s| json!({ "summary": s.summary, "sql": s.sql, "rewrites_rows": s.rewrites_rows }),
            )
            .collect()
    };
    let left_alone: Vec<String> = plan.left_alone.iter().map(ToString::to_string).collect();
    if !output::json() {
        for step in &plan.steps {
            // Line by line: `say!` escapes line breaks, and a CREATE TABLE spans several.
            for line in step.to_string().lines() {
                say!("{line}")?;
            }
        }
        for difference in &left_alone {
            say!("-- left alone: {difference}")?;
        }
    }
    let finish_without_change = |applied: bool| -> Result<(), Failure> {
        if output::json() {
            print_json(&json!({
                "steps": steps_json(&plan.steps),
                "left_alone": left_alone,
                "applied": applied,
                "recorded": Vec::<String>::new(),
            }))
        } else {
            Ok(())
        }
    };
    if plan.is_empty() {
        finish_without_change(false)?;
        return if output::json() {
            Ok(())
        } else {
            say!("the schema matches the migrations; nothing to push")
        };
    }
    if dry_run {
        return finish_without_change(false);
    }
    let losing = plan.data_loss().count();
    if losing > 0 && !allow_data_loss {
        return Err(Failure::with_hint(
            format!(
                "{losing} step(s) change a column's type, which may lose data; nothing was changed"
            ),
            "check the rows named above, then run `viben db push --allow-data-loss`",
        ));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(
                "db push changes the schema and needs a confirmation, and there is no terminal \
                 to ask on; nothing was changed",
                "review the plan with `viben db push --dry-run`, then run `viben db push --yes`",
            ));
        }
        if !confirm(&format!("run these {} statement(s)?", plan.steps.len()))? {
            return Err(Failure::with_hint(
                "not confirmed; nothing was changed",
                "run `viben db push` again when ready",
            ));
        }
    }
    let data_loss = if allow_data_loss {
        viben_db::push::DataLoss::Allow
    } else {
        viben_db::push::DataLoss::Refuse
    };
    let pushed = viben_db::push::push(conn, &migrate::MIGRATIONS, &plan, data_loss)?;
    if output::json() {
        return print_json(&json!({
            "steps": steps_json(&pushed.steps),
            "left_alone": left_alone,
            "applied": true,
            "recorded": pushed.recorded,
        }));
    }
    say!(
        "pushed: {} statement(s) in one transaction",
        pushed.steps.len()
    )?;
    if !pushed.recorded.is_empty() {
        say!("recorded as applied: {}", pushed.recorded.join(", "))?;
    }
    Ok(())
}

/// Asks a yes/no question on the terminal; only `y` or `yes` is a yes.
fn confirm(question: &str) -> Result<bool, Failure> {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} [y/N] ").map_err(Failure::output)?;
    stderr.flush().map_err(Failure::output)?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(Failure::output)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `viben db indexes [--apply]`: the recommended indexes, their state and their tables' sizes.
fn indexes(conn: &mut PgConnection, apply: bool) -> Result<(), Failure> {
    use viben_db::indexes::{self, Applied, IndexState};
    let applied = if apply {
        indexes::apply(conn)?
    } else {
        Vec::new()
    };
    let status = indexes::status(conn)?;
    let state_word = |state: &IndexState| match state {
        IndexState::Present => "present",
        IndexState::Missing => "missing",
        IndexState::Invalid => "invalid (an interrupted build)",
        IndexState::Different { .. } => "another index has this name",
    };
    let applied_word = |name: &str| {
        applied
            .iter()
            .find(|(index, _)| index.name == name)
            .map(|(_, a)| match a {
                Applied::AlreadyPresent => "already present",
                Applied::Created => "created",
                Applied::Rebuilt => "rebuilt",
                Applied::LeftAlone => "left alone",
                Applied::NoTable => "not built: the table does not exist (run `viben db migrate`)",
            })
    };
    if output::json() {
        let items: Vec<Value> = status
            .iter()
            .map(|s| {
                json!({
                    "name": s.index.name,
                    "table": s.index.table,
                    "state": state_word(&s.state),
                    "applied": applied_word(s.index.name),
                    "table_rows": s.table_rows,
                    "table_bytes": s.table_bytes,
                    "serves": s.index.serves,
                    "definition": s.index.definition,
                })
            })
            .collect();
        return print_json(&json!({ "indexes": items }));
    }
    let mut table = Table::new(&["INDEX", "TABLE", "STATE", "ROWS", "SIZE", "SERVES"]);
    for s in &status {
        table.row(vec![
            s.index.name.to_owned(),
            s.index.table.to_owned(),
            match applied_word(s.index.name) {
                Some(done) if done != "already present" => {
                    format!("{} ({done})", state_word(&s.state))
                }
                _ => state_word(&s.state).to_owned(),
            },
            s.table_rows
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            s.table_bytes.map_or_else(|| "-".to_owned(), human_bytes),
            s.index.serves.to_owned(),
        ]);
    }
    table.print()?;
    let missing = status
        .iter()
        .filter(|s| matches!(s.state, IndexState::Missing | IndexState::Invalid))
        .count();
    if missing > 0 {
        say!("create the missing ones with `viben db indexes --apply` (safe on a live database)")?;
    }
    Ok(())
}

/// Bytes as people read them: `8.0 kB`, `1.5 GB`.
fn human_bytes(bytes: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}
