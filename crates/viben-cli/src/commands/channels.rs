//! `viben channels ...`

use crate::cli::ChannelsCommand;
use crate::commands::models::yes_no;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, extra_rows, print_json};

pub(crate) fn run(context: &Context, command: ChannelsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ChannelsCommand::List(format) => {
            let channels = store.channels().list()?;
            if format.json {
                let shown: Vec<_> = channels
                    .iter()
                    .map(viben_model::Channel::redacted)
                    .collect();
                return print_json(&shown);
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
            let channel = store.channels().get(&id)?.redacted();
            if format.json {
                return print_json(&channel);
            }
            let mut table = Table::record(&["FIELD", "VALUE"]);
            table.row(vec!["id".into(), channel.id.clone()]);
            table.row(vec!["kind".into(), channel.kind.to_string()]);
            table.row(vec!["agent".into(), channel.agent.clone()]);
            table.row(vec!["enabled".into(), yes_no(channel.is_enabled())]);
            for fields in [&channel.settings, &channel.extra] {
                extra_rows(fields)?
                    .into_iter()
                    .for_each(|row| table.row(row));
            }
            table.print()
        }
    }
}
