//! `viben models ...`

use viben_model::ModelEntry;

use crate::cli::ModelsCommand;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, print_json};

pub(crate) fn run(context: &Context, command: ModelsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ModelsCommand::List(format) => {
            let catalog = store.load_models()?;
            if format.json {
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
        ModelsCommand::Default { id: None } => match store.load_models()?.default {
            Some(id) => {
                println!("{id}");
                Ok(())
            }
            None => Err(Failure::with_hint(
                "models.yaml sets no default model",
                "set one with `viben models default <id>`",
            )),
        },
        ModelsCommand::Default { id: Some(id) } => {
            store.set_default_model(Some(&id))?;
            println!("default model is now {id}");
            Ok(())
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
            store.add_model(entry)?;
            println!("added model {id}");
            Ok(())
        }
        ModelsCommand::Remove { id } => {
            store.remove_model(&id)?;
            println!("removed model {id}");
            Ok(())
        }
        ModelsCommand::Enable { id } => {
            store.enable_model(&id)?;
            println!("enabled model {id}");
            Ok(())
        }
        ModelsCommand::Disable { id } => {
            store.disable_model(&id)?;
            println!("disabled model {id}");
            Ok(())
        }
    }
}

pub(crate) fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}
