//! The differences between two schemas (drift), in plain words.

use std::fmt;

use super::schema::{Column, Schema, Table};

/// One way the live schema differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// An expected table does not exist.
    MissingTable {
        /// Table name.
        table: String,
    },
    /// A table exists that the schema does not have.
    ExtraTable {
        /// Table name.
        table: String,
    },
    /// An expected column does not exist.
    MissingColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A column exists that the schema does not have.
    ExtraColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A column has another type.
    WrongType {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Expected type.
        expected: String,
        /// Live type.
        found: String,
    },
    /// A column allows NULL where it should not, or the reverse.
    WrongNullability {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Whether NULL should be allowed.
        expected_nullable: bool,
    },
    /// A column has another default.
    WrongDefault {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Expected default.
        expected: Option<String>,
        /// Live default.
        found: Option<String>,
    },
    /// The columns are all there, in another order.
    ColumnOrder {
        /// Table name.
        table: String,
        /// Expected order.
        expected: Vec<String>,
        /// Live order.
        found: Vec<String>,
    },
    /// An expected constraint does not exist (under its name).
    MissingConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it should be.
        expected: String,
    },
    /// A constraint has the expected name but does something else.
    WrongConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// A constraint exists that the schema does not have.
    ExtraConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it is.
        found: String,
    },
    /// An expected index does not exist (under its name).
    MissingIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
        /// What it should be.
        expected: String,
    },
    /// An index has the expected name but another definition.
    WrongIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// An index exists that the schema does not have.
    ExtraIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
        /// Its definition.
        definition: String,
    },
}

fn or_none(value: Option<&str>) -> String {
    value.map_or_else(|| "no default".to_owned(), |v| format!("default {v}"))
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTable { table } => write!(f, "table {table} is missing"),
            Self::ExtraTable { table } => {
                write!(f, "table {table} exists but is not part of the schema")
            }
            Self::MissingColumn { table, column } => {
                write!(f, "column {table}.{column} is missing")
            }
            Self::ExtraColumn { table, column } => {
                write!(
                    f,
                    "column {table}.{column} exists but is not part of the schema"
                )
            }
            Self::WrongType {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column {table}.{column} has type {found}, expected {expected}"
            ),
            Self::WrongNullability {
                table,
                column,
                expected_nullable,
            } => {
                if *expected_nullable {
                    write!(f, "column {table}.{column} is NOT NULL, expected nullable")
                } else {
                    write!(f, "column {table}.{column} allows NULL, expected NOT NULL")
                }
            }
            Self::WrongDefault {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column {table}.{column} has {}, expected {}",
                or_none(found.as_deref()),
                or_none(expected.as_deref())
            ),
            Self::ColumnOrder {
                table,
                expected,
                found,
            } => write!(
                f,
                "the columns of {table} are in the order {}, expected {}",
                found.join(", "),
                expected.join(", ")
            ),
            Self::MissingConstraint {
                table,
                name,
                expected,
            } => write!(f, "constraint {name} on {table} ({expected}) is missing"),
            Self::WrongConstraint {
                table,
                name,
                expected,
                found,
            } => write!(
                f,
                "constraint {name} on {table} is {found}, expected {expected}"
            ),
            Self::ExtraConstraint { table, name, found } => write!(
                f,
                "constraint {name} on {table} ({found}) is not part of the schema"
            ),
            Self::MissingIndex {
                table,
                name,
                expected,
            } => write!(f, "index {name} on {table} is missing ({expected})"),
            Self::WrongIndex {
                table,
                name,
                expected,
                found,
            } => write!(f, "index {name} on {table} is {found}, expected {expected}"),
            Self::ExtraIndex {
                table,
                name,
                definition,
            } => write!(
                f,
                "index {name} on {table} is not part of the schema ({definition})"
            ),
        }
    }
}

/// What differs between the `expected` schema and the `live` one; empty when they match.
pub fn diff(expected: &Schema, live: &Schema) -> Vec<Difference> {
    let mut out = Vec::new();
    for table in &live.tables {
        if expected.table(&table.name).is_none() {
            out.push(Difference::ExtraTable {
                table: table.name.clone(),
            });
        }
    }
    for want in &expected.tables {
        match live.table(&want.name) {
            None => out.push(Difference::MissingTable {
                table: want.name.clone(),
            }),
            Some(have) => diff_table(want, have, &mut out),
        }
    }
    out
}

fn diff_table(want: &Table, have: &Table, out: &mut Vec<Difference>) {
    let table = || want.name.clone();
    for column in &want.columns {
        match have.columns.iter().find(|c| c.name == column.name) {
            None => out.push(Difference::MissingColumn {
                table: table(),
                column: column.name.clone(),
            }),
            Some(found) => diff_column(&want.name, column, found, out),
        }
    }
    for column in &have.columns {
        if !want.columns.iter().any(|c| c.name == column.name) {
            out.push(Difference::ExtraColumn {
                table: table(),
                column: column.name.clone(),
            });
        }
    }
    // The order of the columns both have; a missing or extra column is reported on its own.
    let common_order = |of: &Table, other: &Table| -> Vec<String> {
        of.columns
            .iter()
            .filter(|c| other.columns.iter().any(|o| o.name == c.name))
            .map(|c| c.name.clone())
            .collect()
    };
    let (expected_order, found_order) = (common_order(want, have), common_order(have, want));
    if expected_order != found_order {
        out.push(Difference::ColumnOrder {
            table: table(),
            expected: expected_order,
            found: found_order,
        });
    }
    for constraint in &want.constraints {
        match have.constraints.iter().find(|c| c.name == constraint.name) {
            None => out.push(Difference::MissingConstraint {
                table: table(),
                name: constraint.name.clone(),
                expected: constraint.definition.clone(),
            }),
            Some(found) if found.definition != constraint.definition => {
                out.push(Difference::WrongConstraint {
                    table: table(),
                    name: constraint.name.clone(),
                    expected: constraint.definition.clone(),
                    found: found.definition.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for constraint in &have.constraints {
        if !want.constraints.iter().any(|c| c.name == constraint.name) {
            out.push(Difference::ExtraConstraint {
                table: table(),
                name: constraint.name.clone(),
                found: constraint.definition.clone(),
            });
        }
    }
    for index in &want.indexes {
        match have.indexes.iter().find(|i| i.name == index.name) {
            None => out.push(Difference::MissingIndex {
                table: table(),
                name: index.name.clone(),
                expected: index.definition.clone(),
            }),
            Some(found) if found.definition != index.definition => {
                out.push(Difference::WrongIndex {
                    table: table(),
                    name: index.name.clone(),
                    expected: index.definition.clone(),
                    found: found.definition.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for index in &have.indexes {
        if !want.indexes.iter().any(|i| i.name == index.name) {
            out.push(Difference::ExtraIndex {
                table: table(),
                name: index.name.clone(),
                definition: index.definition.clone(),
            });
        }
    }
}

fn diff_column(table: &str, want: &Column, have: &Column, out: &mut Vec<Difference>) {
    if have.data_type != want.data_type {
        out.push(Difference::WrongType {
            table: table.to_owned(),
            column: want.name.clone(),
            expected: want.data_type.clone(),
            found: have.data_type.clone(),
        });
    }
    if have.nullable != want.nullable {
        out.push(Difference::WrongNullability {
            table: table.to_owned(),
            column: want.name.clone(),
            expected_nullable: want.nullable,
        });
    }
    if have.default != want.default {
        out.push(Difference::WrongDefault {
            table: table.to_owned(),
            column: want.name.clone(),
            expected: want.default.clone(),
            found: have.default.clone(),
        });
    }
}
