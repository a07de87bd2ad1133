//! `viben providers ...`

use std::io::Read;

use viben_model::{ProviderConfig, Secret};

use crate::cli::ProvidersCommand;
use crate::commands::models::yes_no;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, extra_rows, print_json};

pub(crate) fn run(context: &Context, command: ProvidersCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ProvidersCommand::List(format) => {
            let listing = store.list_providers()?;
            for error in &listing.errors {
                Failure::warn(error);
            }
            if format.json {
                let masked: Vec<_> = listing.items.iter().map(masked).collect::<Result<_, _>>()?;
                return print_json(&masked);
            }
            let mut table = Table::new(&["NAME", "BASE URL", "KEY", "ENABLED"]);
            for provider in &listing.items {
                table.row(vec![
                    provider.name.clone(),
                    cell(provider.base_url.as_ref()),
                    key_source(provider),
                    yes_no(provider.is_enabled()),
                ]);
            }
            table.print()
        }
        ProvidersCommand::Show { name, format } => {
            let provider = store.get_provider(&name)?;
            if format.json {
                return print_json(&masked(&provider)?);
            }
            let mut table = Table::new(&["FIELD", "VALUE"]);
            table.row(vec!["name".into(), provider.name.clone()]);
            table.row(vec!["base_url".into(), cell(provider.base_url.as_ref())]);
            table.row(vec!["key".into(), key_source(&provider)]);
            table.row(vec!["enabled".into(), yes_no(provider.is_enabled())]);
            extra_rows(&provider.extra)?
                .into_iter()
                .for_each(|row| table.row(row));
            table.print()
        }
        ProvidersCommand::Set {
            name,
            base_url,
            api_key_env,
            api_key_stdin,
        } => {
            let api_key = if api_key_stdin {
                Some(read_key_from_stdin()?)
            } else {
                None
            };
            let mut provider = match store.get_provider(&name) {
                Ok(provider) => provider,
                Err(viben_store::StoreError::NotFound { .. }) => ProviderConfig::new(&name),
                Err(err) => return Err(err.into()),
            };
            if base_url.is_some() {
                provider.base_url = base_url;
            }
            // The two ways to give a key exclude each other: setting one clears the other.
            if let Some(var) = api_key_env {
                provider.api_key_env = Some(var);
                provider.api_key = None;
            }
            if let Some(key) = api_key {
                provider.api_key = Some(key);
                provider.api_key_env = None;
            }
            store.set_provider(&provider)?;
            println!("saved provider {name}");
            Ok(())
        }
        ProvidersCommand::Delete { name } => {
            store.delete_provider(&name)?;
            println!("deleted provider {name}");
            Ok(())
        }
    }
}

/// The provider as JSON with its inline key replaced by `***`.
fn masked(provider: &ProviderConfig) -> Result<serde_json::Value, Failure> {
    let mut value = serde_json::to_value(provider)?;
    if let Some(key) = value.get_mut("api_key") {
        *key = Secret::MASK.into();
    }
    Ok(value)
}

/// Where the key comes from, without the key.
fn key_source(provider: &ProviderConfig) -> String {
    match (&provider.api_key, &provider.api_key_env) {
        (Some(_), _) => format!("{} (in the file)", Secret::MASK),
        (None, Some(var)) => format!("${var}"),
        (None, None) => "-".into(),
    }
}

fn read_key_from_stdin() -> Result<Secret, Failure> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let key = text.trim();
    if key.is_empty() {
        return Err(Failure::with_hint(
            "no API key on standard input",
            "pipe the key in, e.g. `pass show anthropic | viben providers set anthropic --api-key-stdin`",
        ));
    }
    Ok(Secret::new(key))
}
