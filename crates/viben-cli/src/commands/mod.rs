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
        Command::Check => check::check(context),
        Command::Db(command) => db::run(context, command),
        Command::Doctor => doctor::run(context),
    }
}
