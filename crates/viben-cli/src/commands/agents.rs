//! `viben agents ...`

use viben_model::AgentConfig;

use crate::cli::{AgentFields, AgentsCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, extra_rows, print_json};

pub(crate) fn run(context: &Context, command: AgentsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        AgentsCommand::List(format) => {
            let listing = store.list_agents()?;
            // Unreadable configs are reported, never fatal: one bad file must not hide the rest.
            for error in &listing.errors {
                Failure::warn(error);
            }
            if format.json {
                return print_json(&listing.items);
            }
            let mut table = Table::new(&["ID", "NAME", "MODEL", "PROVIDER", "DESCRIPTION"]);
            for agent in listing.items {
                table.row(vec![
                    agent.id,
                    agent.name,
                    agent.model,
                    agent.provider,
                    cell(agent.description),
                ]);
            }
            table.print()
        }
        AgentsCommand::Show { id, format } => {
            let agent = store.get_agent(&id)?;
            if format.json {
                return print_json(&agent);
            }
            let mut table = Table::new(&["FIELD", "VALUE"]);
            let fields = [
                ("id", Some(agent.id)),
                ("name", Some(agent.name)),
                ("description", agent.description),
                ("model", Some(agent.model)),
                ("provider", Some(agent.provider)),
                ("system_prompt", agent.system_prompt),
                ("temperature", agent.temperature.map(|t| t.to_string())),
                ("max_tokens", agent.max_tokens.map(|m| m.to_string())),
            ];
            for (name, value) in fields {
                table.row(vec![name.to_owned(), cell(value)]);
            }
            extra_rows(&agent.extra)?
                .into_iter()
                .for_each(|row| table.row(row));
            table.print()
        }
        AgentsCommand::Create { id, fields } => {
            let missing = |flag: &str| {
                Failure::with_hint(
                    format!("agents create needs --{flag}"),
                    "pass --name, --model and --provider",
                )
            };
            let name = fields.name.clone().ok_or_else(|| missing("name"))?;
            let model = fields.model.clone().ok_or_else(|| missing("model"))?;
            let provider = fields.provider.clone().ok_or_else(|| missing("provider"))?;
            let mut agent = AgentConfig::new(id, name, model, provider);
            apply(&mut agent, fields);
            store.create_agent(&agent)?;
            println!("created agent {}", agent.id);
            Ok(())
        }
        AgentsCommand::Edit { id, fields } => {
            store.update_agent(&id, |agent| {
                apply(agent, fields);
                Ok(())
            })?;
            println!("updated agent {id}");
            Ok(())
        }
        AgentsCommand::Delete { id, force } => {
            store.delete_agent(&id, force)?;
            println!("deleted agent {id}");
            Ok(())
        }
    }
}

/// Sets the fields the flags give; the others stay as they are.
fn apply(agent: &mut AgentConfig, fields: AgentFields) {
    if let Some(name) = fields.name {
        agent.name = name;
    }
    if let Some(model) = fields.model {
        agent.model = model;
    }
    if let Some(provider) = fields.provider {
        agent.provider = provider;
    }
    if fields.description.is_some() {
        agent.description = fields.description;
    }
    if fields.system_prompt.is_some() {
        agent.system_prompt = fields.system_prompt;
    }
    if fields.temperature.is_some() {
        agent.temperature = fields.temperature;
    }
    if fields.max_tokens.is_some() {
        agent.max_tokens = fields.max_tokens;
    }
}
