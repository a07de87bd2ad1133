//! `viben channels ...`

use crate::cli::ChannelsCommand;
use crate::commands::models::yes_no;
use crate::context::Context;
use crate::failure::Failure;
use viben_model::Secret;

use crate::output::{Table, is_secret_name, mask_secrets, print_json};

pub(crate) fn run(context: &Context, command: ChannelsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ChannelsCommand::List(format) => {
            let channels = store.list_channels()?;
            if format.json {
                let mut value = serde_json::to_value(&channels)?;
                mask_secrets(&mut value);
                return print_json(&value);
            }
            let mut table = Table::new(&["ID", "KIND", "AGENT", "ENABLED"]);
            for channel in channels {
                let enabled = yes_no(channel.is_enabled());
                table.row(vec![
                    channel.id,
                    channel.kind.to_string(),
                    channel.agent,
                    enabled,
                ]);
            }
            table.print()
        }
        ChannelsCommand::Show { id, format } => {
            let channel = store.get_channel(&id)?;
            if format.json {
                let mut value = serde_json::to_value(&channel)?;
                mask_secrets(&mut value);
                return print_json(&value);
            }
            let mut table = Table::new(&["FIELD", "VALUE"]);
            table.row(vec!["id".into(), channel.id.clone()]);
            table.row(vec!["kind".into(), channel.kind.to_string()]);
            table.row(vec!["agent".into(), channel.agent.clone()]);
            table.row(vec!["enabled".into(), yes_no(channel.is_enabled())]);
            for (name, value) in channel.settings.iter().chain(&channel.extra) {
                let mut value = value.clone();
                mask_secrets(&mut value);
                let shown = if is_secret_name(name) {
                    Secret::MASK.to_owned()
                } else {
                    value.to_string()
                };
                table.row(vec![name.clone(), shown]);
            }
            table.print()
        }
    }
}
