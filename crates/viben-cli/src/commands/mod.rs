//! One module per command group; each turns parsed arguments into library calls and output.

mod agents;
mod backup;
mod channels;
mod check;
mod completions;
mod connections;
mod db;
mod doctor;
mod export;
mod migration_files;
mod models;
mod providers;
mod schema;
mod sessions;
mod studio;
mod telemetry;
mod user_files;
mod users;
mod watch;

use std::io::Read;

use viben_model::Secret;
use viben_store::{Store, StoreError};

use crate::cli::Command;
use crate::context::Context;
use crate::failure::Failure;

/// Runs one parsed command.
pub(crate) fn run(context: &Context, command: Command) -> Result<(), Failure> {
    match command {
        Command::Init => check::init(context),
        Command::Agents(command) => agents::run(context, command),
        Command::Models(command) => models::run(context, command),
        Command::Providers(command) => providers::run(context, command),
        Command::Channels(command) => channels::run(context, command),
        Command::Sessions(command) => sessions::run(context, command),
        Command::Telemetry(command) => telemetry::run(context, command),
        Command::Check { repair } => check::check(context, repair),
        Command::Backup {
            file,
            include_secrets,
        } => backup::backup(context, &file, include_secrets),
        Command::Restore {
            file,
            force,
            max_size,
        } => backup::restore(context, &file, force, max_size),
        Command::Db(command) => db::run(context, command),
        Command::Doctor => doctor::run(context),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { out_dir } => completions::man(out_dir.as_deref()),
        Command::Schema(args) => schema::run(args),
        Command::Studio { port, open } => studio::run(context, port, open),
        Command::Watch => watch::run(context),
    }
}

/// Warns on stderr when `provider` has no `providers/<name>.yaml`: saving a reference to it is
/// allowed (the provider may be set up next), but `check` will report it, so say so now.
pub(crate) fn warn_if_unknown_provider(store: &Store, provider: &str) {
    match store.providers().get(provider) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => Failure::warn(format!(
            "provider {provider:?} has no providers/{provider}.yaml yet; add it with \
             `viben providers set {provider}`"
        )),
        // Unreadable or invalid: `check` names what is wrong with it; the command goes on.
        Err(err) => Failure::warn(viben_model::Report(&err)),
    }
}

/// Warns on stderr when `model` is not in models.yaml, as `check` would report it later.
pub(crate) fn warn_if_unknown_model(store: &Store, model: &str, provider: &str) {
    match store.models().document() {
        Ok(catalog) if catalog.get(model).is_none() => Failure::warn(format!(
            "model {model:?} is not in models.yaml yet; add it with \
             `viben models add {model} --provider {provider}`"
        )),
        Ok(_) => {}
        Err(err) => Failure::warn(viben_model::Report(&err)),
    }
}

/// A secret (an API key, an access token) is the first line of standard input; `what` names it
/// in errors, `example` is a command line that pipes one in.
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
    let secret = lines.next().unwrap_or("").trim();
    if secret.is_empty() {
        return Err(Failure::with_hint(
            format!("no {what} on the first line of standard input"),
            format!("pipe the {what} in, e.g. `{example}`"),
        ));
    }
    if secret.chars().any(char::is_control) {
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
    Ok(Secret::new(secret))
}
