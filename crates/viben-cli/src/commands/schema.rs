//! `viben schema`: the JSON Schemas of the store's files, for editors and file checkers.

use viben_model::Hint;
use viben_model::schema::FileKind;

use crate::cli::FileSchemaArgs;
use crate::failure::Failure;
use crate::output::{self, print_json, write_stdout};

pub(crate) fn run(args: FileSchemaArgs) -> Result<(), Failure> {
    match args.kind {
        Some(name) if !args.list => {
            let kind: FileKind =
                name.parse()
                    .map_err(|err: viben_model::schema::UnknownFileKind| {
                        Failure::usage(&err, err.hint().unwrap_or_default())
                    })?;
            // The schema is JSON already: `--json` changes nothing.
            write_stdout(&kind.schema_text())
        }
        _ => list(),
    }
}

/// The kinds, the files each describes and the name of its committed copy in `schemas/`.
fn list() -> Result<(), Failure> {
    if output::json() {
        let kinds: Vec<_> = FileKind::ALL
            .iter()
            .map(|kind| {
                serde_json::json!({
                    "kind": kind.name(),
                    "describes": kind.path(),
                    "file": format!("schemas/{}", kind.file_name()),
                })
            })
            .collect();
        return print_json(&kinds);
    }
    let mut table = output::Table::new(&["KIND", "DESCRIBES"]);
    for kind in FileKind::ALL {
        table.row(vec![kind.name().to_owned(), kind.path().to_owned()]);
    }
    table.print()?;
    output::line(
        "print one with `viben schema <kind>`; docs/store.md shows how to use them in an editor",
    )
}
