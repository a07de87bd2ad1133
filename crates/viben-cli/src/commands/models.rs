//! `viben models ...`

use viben_model::ModelEntry;

use crate::cli::ModelsCommand;
use crate::commands::warn_if_unknown_provider;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, Table, cell, done, print_json, say};

pub(crate) fn run(context: &Context, command: ModelsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ModelsCommand::List(format) => {
            let mut catalog = store.models().document()?;
            if format.json {
                // Unknown fields may hold credentials (a per-model `api_key`): the one rule masks
                // them; known fields are printed whole.
                viben_model::redact::redact_mapping(&mut catalog.extra);
                for entry in &mut catalog.models {
                    viben_model::redact::redact_mapping(&mut entry.extra);
                }
                return print_json(&catalog);
            }
            let default = catalog.default.as_deref();
            let mut table =
                Table::new(&["ID", "NAME", "PROVIDER", "BASE MODEL", "ENABLED", "DEFAULT"]);
            for entry in &catalog.models {
                let is_default = default == Some(entry.id.as_str());
                table.row(vec![
                    entry.id.clone(),
                    cell(entry.name.as_ref()),
                    entry.provider.clone(),
                    cell(entry.base_model.as_ref()),
                    yes_no(entry.is_enabled()),
                    if is_default {
                        "*".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            table.print()
        }
        ModelsCommand::Default { id: None } => match store.models().document()?.default {
            Some(id) if output::json() => print_json(&serde_json::json!({ "default": id })),
            Some(id) => say!("{id}"),
            None => Err(Failure::with_hint(
                "models.yaml sets no default model",
                "set one with `viben models default <id>`",
            )),
        },
        ModelsCommand::Default { id: Some(id) } => {
            store.models().set_default(Some(&id))?;
            done(&format!("default model is now {id}"))
        }
        ModelsCommand::Add {
            id,
            provider,
            name,
            base_model,
            temperature,
        } => {
            let mut entry = ModelEntry::new(id, provider);
            entry.name = name;
            entry.base_model = base_model;
            entry.temperature = temperature;
            let id = entry.id.clone();
            let provider = entry.provider.clone();
            store.models().add(entry)?;
            warn_if_unknown_provider(&store, &provider);
            done(&format!("added model {id}"))
        }
        ModelsCommand::Remove { id } => {
            store.models().delete(&id)?;
            done(&format!("removed model {id}"))
        }
        ModelsCommand::Enable { id } => {
            store.models().enable(&id)?;
            done(&format!("enabled model {id}"))
        }
        ModelsCommand::Disable { id } => {
            store.models().disable(&id)?;
            done(&format!("disabled model {id}"))
        }
    }
}

pub(crate) fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}
