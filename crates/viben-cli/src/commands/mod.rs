//! One module per command group; each turns parsed arguments into library calls and output.

mod agents;
mod channels;
mod check;
mod db;
mod doctor;
mod models;
mod providers;
mod sessions;
mod telemetry;
mod users;

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
        Command::Db(command) => db::run(context, command),
        Command::Doctor => doctor::run(context),
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
