//! `schema.rs` (Diesel's `table!` definitions) written from a [`Schema`], as `diesel
//! print-schema` writes it, so the migrations stay the one source of truth for the schema and
//! no diesel_cli is needed to regenerate the file after `db generate` or `db import-drizzle`.
//!
//! Written the way diesel_cli 2.3 writes it (the crate's own `src/schema.rs` is compared with
//! this output in a test): tables by name, columns in table order, `Nullable<…>` where NULL is
//! allowed, a `joinable!` per single-column foreign key to another table's primary key (none
//! when two keys lead to the same table: Diesel would not know which to join on), one
//! `allow_tables_to_appear_in_same_query!`. A table without a primary key is left out, as
//! diesel_cli leaves it out. `varchar(n)` is written without its `#[max_length]`: the schema
//! snapshot does not keep the length.

use crate::catalog::{Schema, Table};
use crate::migration_files::MigrationFilesError;

/// The `schema.rs` text for `schema`.
pub fn schema_rs(schema: &Schema) -> Result<String, MigrationFilesError> {
    let mut out = String::from("// @generated automatically by Diesel CLI.\n");
    let mut printed = Vec::new();
    for table in &schema.tables {
        let Some(key) = primary_key(table) else {
            continue;
        };
        out.push_str("\ndiesel::table! {\n");
        if rust_name(&table.name) != table.name {
            out.push_str(&format!("    #[sql_name = \"{}\"]\n", table.name));
        }
        out.push_str(&format!(
            "    {} ({}) {{\n",
            rust_name(&table.name),
            key.iter()
                .map(|k| rust_name(k))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for column in &table.columns {
            let Some(sql_type) = diesel_type(&column.data_type) else {
                return Err(MigrationFilesError::UnsupportedType {
                    table: table.name.clone(),
                    column: column.name.clone(),
                    data_type: column.data_type.clone(),
                });
            };
            if rust_name(&column.name) != column.name {
                out.push_str(&format!("        #[sql_name = \"{}\"]\n", column.name));
            }
            let sql_type = if column.nullable {
                format!("Nullable<{sql_type}>")
            } else {
                sql_type.to_owned()
            };
            out.push_str(&format!(
                "        {} -> {sql_type},\n",
                rust_name(&column.name)
            ));
        }
        out.push_str("    }\n}\n");
        printed.push(table);
    }
    let mut joins = Vec::new();
    for table in &printed {
        let keys: Vec<(String, String)> = table
            .constraints
            .iter()
            .filter_map(|c| foreign_key(&c.definition))
            .filter(|(_, parent)| *parent != table.name)
            .collect();
        for (column, parent) in &keys {
            let to_same_parent = keys.iter().filter(|(_, p)| p == parent).count();
            let parent_printed = printed.iter().any(|t| &t.name == parent);
            if to_same_parent == 1 && parent_printed {
                joins.push(format!(
                    "diesel::joinable!({} -> {} ({}));\n",
                    rust_name(&table.name),
                    rust_name(parent),
                    rust_name(column)
                ));
            }
        }
    }
    joins.sort();
    if !joins.is_empty() {
        out.push('\n');
        out.extend(joins);
    }
    if printed.len() > 1 {
        let names: Vec<String> = printed.iter().map(|t| rust_name(&t.name)).collect();
        out.push_str(&format!(
            "\ndiesel::allow_tables_to_appear_in_same_query!({},);\n",
            names.join(", ")
        ));
    }
    Ok(out)
}

/// The primary key's columns, from the constraint worded `primary key (a, b)`.
fn primary_key(table: &Table) -> Option<Vec<String>> {
    table.constraints.iter().find_map(|c| {
        let columns = c
            .definition
            .strip_prefix("primary key (")?
            .strip_suffix(')')?;
        Some(columns.split(", ").map(str::to_owned).collect())
    })
}

/// `(column, parent table)` of a single-column foreign key, from its wording
/// `foreign key (user_id) references users(id) on delete … on update …`.
fn foreign_key(definition: &str) -> Option<(String, String)> {
    let rest = definition.strip_prefix("foreign key (")?;
    let (columns, rest) = rest.split_once(") references ")?;
    if columns.contains(',') {
        return None;
    }
    let (parent, _) = rest.split_once('(')?;
    Some((columns.to_owned(), parent.to_owned()))
}

/// The Diesel SQL type for an `information_schema` type name, as diesel_cli names it.
fn diesel_type(data_type: &str) -> Option<&'static str> {
    Some(match data_type {
        "text" => "Text",
        "boolean" => "Bool",
        "smallint" => "Int2",
        "integer" => "Int4",
        "bigint" => "Int8",
        "real" => "Float4",
        "double precision" => "Float8",
        "numeric" => "Numeric",
        "character varying" => "Varchar",
        "character" => "Bpchar",
        "timestamp without time zone" => "Timestamp",
        "timestamp with time zone" => "Timestamptz",
        "date" => "Date",
        "time without time zone" => "Time",
        "interval" => "Interval",
        "uuid" => "Uuid",
        "json" => "Json",
        "jsonb" => "Jsonb",
        "bytea" => "Bytea",
        "inet" => "Inet",
        "cidr" => "Cidr",
        "money" => "Money",
        "oid" => "Oid",
        _ => return None,
    })
}

/// A name as a Rust identifier: a keyword gets a trailing `_` (with `#[sql_name]` giving the
/// real one), as diesel_cli does.
fn rust_name(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
        "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}
