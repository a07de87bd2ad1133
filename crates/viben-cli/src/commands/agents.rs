//! `viben agents ...`

use viben_model::AgentConfig;
use viben_store::Referrers;

use crate::cli::{AgentFields, AgentOptions, AgentsCommand};
use crate::commands::{warn_if_unknown_model, warn_if_unknown_provider};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, done, extra_rows, print_json};

pub(crate) fn run(context: &Context, command: AgentsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        AgentsCommand::List(format) => {
            let listing = store.agents().list()?;
            // Unreadable configs are reported, never fatal: one bad file must not hide the rest.
            for error in &listing.errors {
                Failure::warn(viben_model::Report(error));
            }
            if format.json {
                let shown: Vec<_> = listing.items.into_iter().map(masked).collect();
                return print_json(&shown);
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
            let agent = store.agents().get(&id)?;
            if format.json {
                return print_json(&masked(agent));
            }
            let mut table = Table::record(&["FIELD", "VALUE"]);
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
        AgentsCommand::Create {
            id,
            name,
            model,
            provider,
            fields,
        } => {
            let mut agent = AgentConfig::new(id, name, model, provider);
            apply_options(&mut agent, fields);
            store.agents().create(&agent)?;
            warn_if_unknown_provider(&store, &agent.provider);
            warn_if_unknown_model(&store, &agent.model, &agent.provider);
            done(&format!("created agent {}", agent.id))
        }
        AgentsCommand::Edit { id, fields } => {
            if fields.is_empty() {
                return Err(Failure::usage(
                    "agents edit was given no field to change",
                    "pass at least one of --name, --model, --provider, --description, \
                     --system-prompt, --temperature, --max-tokens",
                ));
            }
            let (model_given, provider_given) = (fields.model.is_some(), fields.provider.is_some());
            let agent = store
                .agents()
                .update(&id, |agent| {
                    apply(agent, fields);
                    Ok(())
                })?
                .value;
            if provider_given {
                warn_if_unknown_provider(&store, &agent.provider);
            }
            if model_given {
                warn_if_unknown_model(&store, &agent.model, &agent.provider);
            }
            done(&format!("updated agent {id}"))
        }
        AgentsCommand::Delete { id, force } => {
            let referrers = if force {
                Referrers::Keep
            } else {
                Referrers::Refuse
            };
            store.agents().delete_with(&id, referrers)?;
            done(&format!("deleted agent {id}"))
        }
    }
}

/// The agent with secrets in its unknown fields (an `api_key` added by hand) masked, as the
/// table shows them; the known fields are the person's own text and are printed whole.
fn masked(mut agent: AgentConfig) -> AgentConfig {
    viben_model::redact::redact_mapping(&mut agent.extra);
    agent
}

impl AgentFields {
    /// Whether no flag was given, so an edit would change nothing.
    fn is_empty(&self) -> bool {
        let options = &self.options;
        self.name.is_none()
            && self.model.is_none()
            && self.provider.is_none()
            && options.description.is_none()
            && options.system_prompt.is_none()
            && options.temperature.is_none()
            && options.max_tokens.is_none()
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
    apply_options(agent, fields.options);
}

/// Sets the optional fields the flags give; the others stay as they are.
fn apply_options(agent: &mut AgentConfig, options: AgentOptions) {
    if options.description.is_some() {
        agent.description = options.description;
    }
    if options.system_prompt.is_some() {
        agent.system_prompt = options.system_prompt;
    }
    if options.temperature.is_some() {
        agent.temperature = options.temperature;
    }
    if options.max_tokens.is_some() {
        agent.max_tokens = options.max_tokens;
    }
}
