//! `viben providers ...`

use std::io::Read;

use viben_model::{ProviderConfig, Secret};

use crate::cli::ProvidersCommand;
use crate::commands::models::yes_no;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, done, extra_rows, print_json};

pub(crate) fn run(context: &Context, command: ProvidersCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ProvidersCommand::List(format) => {
            let listing = store.providers().list()?;
            for error in &listing.errors {
                Failure::warn(viben_model::Report(error));
            }
            let shown: Vec<_> = listing.items.iter().map(ProviderConfig::redacted).collect();
            if format.json {
                return print_json(&shown);
            }
            let mut table = Table::new(&["NAME", "BASE URL", "KEY", "ENABLED"]);
            for provider in &shown {
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
            let provider = store.providers().get(&name)?.redacted();
            if format.json {
                return print_json(&provider);
            }
            let mut table = Table::record(&["FIELD", "VALUE"]);
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
            if let Some(var) = &api_key_env
                && !viben_model::is_env_var_name(var)
            {
                // Not echoed: what is not a variable name is most often the key itself.
                return Err(Failure::usage(
                    "--api-key-env takes the name of an environment variable, and the value \
                     given is not one (not shown, in case it is the key itself)",
                    "pass a name of letters, digits and '_' such as ANTHROPIC_API_KEY, or pipe \
                     the key itself to --api-key-stdin",
                ));
            }
            let api_key = if api_key_stdin {
                Some(read_key_from_stdin()?)
            } else {
                None
            };
            // One locked read-modify-write: another process setting the same provider
            // meanwhile does not lose its change.
            store.providers().upsert(&name, |provider| {
                if base_url.is_some() {
                    provider.base_url.clone_from(&base_url);
                }
                if let Some(var) = &api_key_env {
                    provider.set_api_key_env(var.clone());
                }
                if let Some(key) = &api_key {
                    provider.set_api_key(key.clone());
                }
                Ok(())
            })?;
            done(&format!("saved provider {name}"))
        }
        ProvidersCommand::Delete { name } => {
            store.providers().delete(&name)?;
            done(&format!("deleted provider {name}"))
        }
    }
}

/// Where the key comes from, without the key.
fn key_source(provider: &ProviderConfig) -> String {
    match (&provider.api_key, &provider.api_key_env) {
        (Some(_), _) => format!("{} (in the file)", Secret::MASK),
        (None, Some(var)) => format!("${var}"),
        (None, None) => "-".into(),
    }
}

/// The key is the first line of standard input (see [`read_secret_from_stdin`]).
fn read_key_from_stdin() -> Result<Secret, Failure> {
    read_secret_from_stdin(
        "API key",
        "pass show anthropic | viben providers set anthropic --api-key-stdin",
    )
}

/// A secret (`what`: "API key", "bot token") from the first line of standard input;
/// `example` is a command line that pipes one in, for the hints.
///
/// Secrets are one line. Password managers print more: `pass show` puts the password on the
/// first line and notes (`login: …`, `url: …`) after it, by its own convention, so the first
/// line is the secret and the rest is ignored with a warning that does not quote it.
pub(crate) fn read_secret_from_stdin(what: &str, example: &str) -> Result<Secret, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes)?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Failure::with_hint(
            format!("the {what} on standard input is not UTF-8 text"),
            format!("pipe the {what} as text, e.g. `{example}`"),
        ));
    };
    let mut lines = text.lines();
    let key = lines.next().unwrap_or("").trim();
    if key.is_empty() {
        return Err(Failure::with_hint(
            format!("no {what} on the first line of standard input"),
            format!("pipe the {what} in, e.g. `{example}`"),
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(Failure::with_hint(
            format!("the {what} on standard input holds control characters"),
            format!("pipe the {what} alone, without escape sequences"),
        ));
    }
    let ignored = lines.filter(|line| !line.trim().is_empty()).count();
    if ignored > 0 {
        Failure::warn(format!(
            "used the first line of standard input as the {what} and ignored {ignored} more \
             line(s) (password managers print notes after the password)"
        ));
    }
    Ok(Secret::new(key))
}
