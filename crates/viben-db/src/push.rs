//! `db push`: bring a live database to the schema the migrations make, in one transaction,
//! without destroying data silently (the Rust side of the web app's `pnpm db:push`).
//!
//! [`plan`] reads the live catalog and lists the statements that restore what is missing or
//! different: missing tables (created with their columns, then their constraints and
//! indexes), missing columns with their type, default and nullability, defaults, nullability,
//! constraints and indexes. What the schema does not have (extra tables, columns,
//! constraints, indexes) is listed and left alone, and so is the column order (only a
//! rebuilt table changes it). A type change may lose data (a value the new type cannot hold),
//! so its step is marked with the table's row count and [`push`] refuses it unless
//! [`DataLoss::Allow`] is given.
//!
//! [`push`] plans again under the migration lock, refuses when the plan is not the one the
//! caller showed (the database changed in between), runs every step in one transaction,
//! checks that nothing but what was left alone still differs, and records every migration
//! as applied, so `db migrate` and `db check` agree afterwards.

use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use viben_model::Hint;

use crate::catalog::{self, Difference, Schema, Table, ident};
use crate::migrate::{self, MigrationSet};
use crate::{MigrationError, QueryError};

/// One statement of a push, with what it does in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushStep {
    /// What the statement restores, one line (`add column users.avatar_url`).
    pub summary: String,
    /// The SQL, ending in `;`.
    pub sql: String,
    /// When the step may lose data: the rows it rewrites (a type change of a table with this
    /// many rows).
    pub rewrites_rows: Option<i64>,
}

/// What a push would do, and what it leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushPlan {
    /// The statements, in the order they run.
    pub steps: Vec<PushStep>,
    /// Differences a push does not touch: what the schema does not have (kept, with its
    /// data) and the column order.
    pub left_alone: Vec<Difference>,
}

impl PushPlan {
    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The steps that may lose data.
    pub fn data_loss(&self) -> impl Iterator<Item = &PushStep> {
        self.steps.iter().filter(|s| s.rewrites_rows.is_some())
    }
}

/// Whether a push may run steps that can lose data (type changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLoss {
    /// Refuse the push when a step may lose data (the default).
    Refuse,
    /// Run such steps too: the caller confirmed the loss.
    Allow,
}

/// Why a push did not run. A refused push changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// Reading the catalog, the snapshots or running a statement failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// A step may lose data and [`DataLoss::Refuse`] was given.
    #[error(
        "the push would change a column's type, which may lose data: {}; nothing was changed",
        steps.join(", ")
    )]
    DataLoss {
        /// Each such step, in words, with the rows it rewrites.
        steps: Vec<String>,
    },
    /// The database changed between the plan shown and the push.
    #[error("the database changed since the plan was made; nothing was changed")]
    PlanChanged,
    /// After the steps, the schema still differs (a step could not restore it).
    #[error(
        "after the push the schema still differs: {}; nothing was changed (the transaction \
         was rolled back)",
        remaining.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Incomplete {
        /// What still differs.
        remaining: Vec<Difference>,
    },
}

impl Hint for PushError {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::Migration(err) => return err.hint(),
            Self::DataLoss { .. } => {
                "check the rows, then run `viben db push --allow-data-loss` to go ahead"
            }
            Self::PlanChanged => "run `viben db push` again to see the new plan",
            Self::Incomplete { .. } => "fix these by hand, then run `viben db check`",
        };
        Some(text.to_owned())
    }
}

impl From<diesel::result::Error> for PushError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Migration(err.into())
    }
}

impl From<QueryError> for PushError {
    fn from(err: QueryError) -> Self {
        Self::Migration(err.into())
    }
}

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The steps it ran.
    pub steps: Vec<PushStep>,
    /// Migration versions it recorded as applied (the ones not recorded before).
    pub recorded: Vec<String>,
}

/// The statements that bring the live database to the schema all of `migrations` make.
/// Read-only.
pub fn plan(
    conn: &mut PgConnection,
    migrations: &MigrationSet,
) -> Result<PushPlan, MigrationError> {
    let expected = migrations.latest_schema()?;
    let live = Schema::of(&catalog::read(conn)?);
    Ok(plan_between(&expected, &live, |table| {
        row_count(conn, table).map(Some)
    })?)
}

/// The statements that bring `live` to `expected`; `rows` counts the rows a type change
/// rewrites (`None` where nobody needs to know, as when `db generate` writes a migration).
pub(crate) fn plan_between(
    expected: &Schema,
    live: &Schema,
    mut rows: impl FnMut(&str) -> Result<Option<i64>, QueryError>,
) -> Result<PushPlan, QueryError> {
    // The recommended indexes are known extras: not drift, and not worth listing.
    let differences: Vec<Difference> = catalog::diff(expected, live)
        .into_iter()
        .filter(|d| !crate::indexes::is_recommended(d))
        .collect();
    let mut plan = PushPlan::default();
    // Tables and columns first, then column changes, keys, foreign keys (which need the keys
    // they reference) and indexes, so every statement finds what it needs.
    let mut later: Vec<(Stage, PushStep)> = Vec::new();
    for difference in differences {
        match &difference {
            Difference::MissingTable { table } => {
                let Some(want) = expected.table(table) else {
                    continue;
                };
                plan.steps.push(PushStep {
                    summary: format!("create table {table}"),
                    sql: create_table(want),
                    rewrites_rows: None,
                });
                for constraint in &want.constraints {
                    later.push((
                        Stage::of_constraint(&constraint.definition),
                        PushStep {
                            summary: format!("add constraint {} on {table}", constraint.name),
                            sql: format!(
                                "ALTER TABLE {} ADD CONSTRAINT {} {};",
                                ident(table),
                                ident(&constraint.name),
                                constraint.definition
                            ),
                            rewrites_rows: None,
                        },
                    ));
                }
                for index in &want.indexes {
                    later.push((
                        Stage::Index,
                        PushStep {
                            summary: format!("create index {} on {table}", index.name),
                            sql: format!("{};", index.definition),
                            rewrites_rows: None,
                        },
                    ));
                }
            }
            Difference::ExtraTable { .. }
            | Difference::ExtraColumn { .. }
            | Difference::ExtraConstraint { .. }
            | Difference::ExtraIndex { .. }
            | Difference::ColumnOrder { .. } => plan.left_alone.push(difference),
            Difference::MissingColumn { table, column } => {
                if let Some(sql) = difference.repair_sql(expected) {
                    plan.steps.push(PushStep {
                        summary: format!("add column {table}.{column}"),
                        sql,
                        rewrites_rows: None,
                    });
                }
            }
            Difference::WrongType {
                table,
                column,
                expected: want,
                found,
            } => {
                if let Some(sql) = difference.repair_sql(expected) {
                    later.push((
                        Stage::Column,
                        PushStep {
                            summary: format!("change {table}.{column} from {found} to {want}"),
                            sql,
                            rewrites_rows: rows(table)?,
                        },
                    ));
                }
            }
            other => {
                let stage = match other {
                    Difference::MissingConstraint { expected, .. }
                    | Difference::WrongConstraint { expected, .. } => {
                        Stage::of_constraint(expected)
                    }
                    Difference::MissingIndex { .. } | Difference::WrongIndex { .. } => Stage::Index,
                    _ => Stage::Column,
                };
                if let Some(sql) = other.repair_sql(expected) {
                    later.push((
                        stage,
                        PushStep {
                            summary: other.to_string(),
                            sql,
                            rewrites_rows: None,
                        },
                    ));
                }
            }
        }
    }
    // A stable sort: within a stage, the catalog's order.
    later.sort_by_key(|(stage, _)| *stage);
    plan.steps.extend(later.into_iter().map(|(_, step)| step));
    Ok(plan)
}

/// When a step runs, after the tables and columns it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// A column's type, default or nullability.
    Column,
    /// A primary key, unique or check constraint.
    Key,
    /// A foreign key, after the keys it references.
    ForeignKey,
    /// An index.
    Index,
}

impl Stage {
    fn of_constraint(definition: &str) -> Self {
        if definition.starts_with("foreign key") {
            Self::ForeignKey
        } else {
            Self::Key
        }
    }
}

/// Runs `shown` (the plan the caller showed and had confirmed) in one transaction under the
/// migration lock, and records every migration as applied. Refuses when the plan made now
/// differs from `shown`, when a step may lose data and `data_loss` is [`DataLoss::Refuse`],
/// and when something other than what a push leaves alone still differs afterwards; a
/// refused push changes nothing.
pub fn push(
    conn: &mut PgConnection,
    migrations: &MigrationSet,
    shown: &PushPlan,
    data_loss: DataLoss,
) -> Result<Pushed, PushError> {
    let _span = tracing::info_span!(target: "viben_db::migrate", "push").entered();

    migrate::with_lock(conn, |conn| {
        let plan = plan(conn, migrations)?;
        // The same statements and the same things left alone; row counts may have moved
        // (rows written meanwhile), and the refusal below uses the fresh ones.
        let statements = |p: &PushPlan| -> Vec<(String, String)> {
            p.steps
                .iter()
                .map(|s| (s.summary.clone(), s.sql.clone()))
                .collect()
        };
        if statements(&plan) != statements(shown) || plan.left_alone != shown.left_alone {
            return Err(PushError::PlanChanged);
        }
        let losing: Vec<String> = plan
            .data_loss()
            .map(|step| {
                format!(
                    "{} ({} row(s))",
                    step.summary,
                    step.rewrites_rows.unwrap_or_default()
                )
            })
            .collect();
        if data_loss == DataLoss::Refuse && !losing.is_empty() {
            return Err(PushError::DataLoss { steps: losing });
        }
        for step in &plan.steps {
            conn.batch_execute(&step.sql)?;
        }
        let expected = migrations.latest_schema()?;
        let live = Schema::of(&catalog::read(conn)?);
        let remaining: Vec<Difference> = catalog::diff(&expected, &live)
            .into_iter()
            .filter(|d| !leaves_alone(d))
            .collect();
        if !remaining.is_empty() {
            return Err(PushError::Incomplete { remaining });
        }
        let recorded = migrate::record_all(conn, migrations)?;
        Ok(Pushed {
            steps: plan.steps,
            recorded,
        })
    })
}

/// What a push leaves alone: what the schema does not have, and the column order.
fn leaves_alone(difference: &Difference) -> bool {
    matches!(
        difference,
        Difference::ExtraTable { .. }
            | Difference::ExtraColumn { .. }
            | Difference::ExtraConstraint { .. }
            | Difference::ExtraIndex { .. }
            | Difference::ColumnOrder { .. }
    )
}

/// `CREATE TABLE` with the table's columns (types, defaults, nullability); its constraints
/// and indexes are separate steps.
fn create_table(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut column = format!("{} {}", ident(&c.name), c.data_type);
            if let Some(default) = &c.default {
                column.push_str(&format!(" DEFAULT {default}"));
            }
            if !c.nullable {
                column.push_str(" NOT NULL");
            }
            column
        })
        .collect();
    format!(
        "CREATE TABLE {} (\n    {}\n);",
        ident(&table.name),
        columns.join(",\n    ")
    )
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn row_count(conn: &mut PgConnection, table: &str) -> Result<i64, QueryError> {
    Ok(
        diesel::sql_query(format!("SELECT count(*) AS n FROM {}", ident(table)))
            .get_result::<Count>(conn)?
            .n,
    )
}

impl fmt::Display for PushStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-- {}", self.summary)?;
        if let Some(rows) = self.rewrites_rows {
            write!(f, " (may lose data: rewrites {rows} row(s))")?;
        }
        write!(f, "\n{}", self.sql)
    }
}
