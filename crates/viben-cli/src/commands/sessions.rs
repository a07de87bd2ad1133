//! `viben sessions ...`

use serde::Serialize;
use viben_model::{Message, SessionMeta};

use crate::cli::SessionsCommand;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, print_json};

/// `sessions show --json`: the metadata's fields with the messages beside them.
#[derive(Serialize)]
struct SessionWithMessages {
    #[serde(flatten)]
    meta: SessionMeta,
    messages: Vec<Message>,
}

pub(crate) fn run(context: &Context, command: SessionsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        SessionsCommand::List { agent, format } => {
            let listing = store.list_sessions(agent.as_deref())?;
            for error in &listing.errors {
                Failure::warn(error);
            }
            if format.json {
                return print_json(&listing.items);
            }
            let mut table = Table::new(&["ID", "AGENT", "TITLE", "CREATED", "UPDATED"]);
            for session in listing.items {
                table.row(vec![
                    session.id,
                    session.agent_id,
                    cell(session.title),
                    session.created_at.to_rfc3339(),
                    session.updated_at.to_rfc3339(),
                ]);
            }
            table.print()
        }
        SessionsCommand::Show { id, last, format } => {
            let meta = store.get_session(&id)?;
            let read = match last {
                Some(n) => store.last_messages(&id, n)?,
                None => store.read_messages(&id)?.collect_lenient()?,
            };
            for warning in &read.warnings {
                Failure::warn(warning);
            }
            if format.json {
                return print_json(&SessionWithMessages {
                    meta,
                    messages: read.records,
                });
            }
            println!("session {}  agent {}", meta.id, meta.agent_id);
            if let Some(title) = &meta.title {
                println!("title   {title}");
            }
            println!("created {}", meta.created_at.to_rfc3339());
            for message in read.records {
                println!();
                println!("[{}] {}", message.created_at.to_rfc3339(), message.role);
                println!("{}", message.content);
            }
            Ok(())
        }
    }
}
