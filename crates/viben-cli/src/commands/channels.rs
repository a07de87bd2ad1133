//! `viben channels ...`

use viben_model::{Channel, ChannelKind, Secret};
use viben_store::{Store, StoreError};

use crate::cli::ChannelsCommand;
use crate::commands::models::yes_no;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, Table, extra_rows, print_json};

/// The command that creates a channel, for hints.
const CREATE_EXAMPLE: &str = "viben channels set ID --kind telegram --agent AGENT";

pub(crate) fn run(context: &Context, command: ChannelsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        ChannelsCommand::List(format) => {
            let channels = store.channels().list()?;
            if format.json {
                let shown: Vec<_> = channels.iter().map(Channel::redacted).collect();
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
            let channel = store
                .channels()
                .get(&id)
                .map_err(|e| failure(e, &id))?
                .redacted();
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
        ChannelsCommand::Set {
            id,
            kind,
            agent,
            settings,
            unset,
            token_stdin,
            token_env,
            token_field,
        } => {
            let change = Change::parse(
                kind,
                agent,
                &settings,
                unset,
                token_stdin,
                token_env,
                token_field,
            )?;
            set(&store, &id, &change)
        }
        ChannelsCommand::Delete { id } => {
            store.channels().delete(&id).map_err(|e| failure(e, &id))?;
            output::done(&format!("deleted channel {id}"))
        }
        ChannelsCommand::Enable { id } => toggle(&store, &id, true),
        ChannelsCommand::Disable { id } => toggle(&store, &id, false),
    }
}

/// What `channels set` changes: each field given; the others stay as they are.
struct Change {
    kind: Option<ChannelKind>,
    agent: Option<String>,
    settings: Vec<(String, serde_yaml::Value)>,
    unset: Vec<String>,
    token: Option<Token>,
    token_field: String,
}

/// Where the bot token comes from.
enum Token {
    /// Kept in the file, from standard input.
    Inline(Secret),
    /// The name of an environment variable that holds it.
    Variable(String),
}

impl Change {
    /// Checks the flags before anything is read from standard input or written: a secret
    /// given where only plain settings go is refused without being echoed.
    fn parse(
        kind: Option<String>,
        agent: Option<String>,
        settings: &[String],
        unset: Vec<String>,
        token_stdin: bool,
        token_env: Option<String>,
        token_field: String,
    ) -> Result<Self, Failure> {
        if kind.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(Failure::usage(
                "--kind is empty",
                "pass --kind telegram, slack, discord or web",
            ));
        }
        if !viben_model::redact::is_secret_name(&token_field) || token_field.ends_with("_env") {
            return Err(Failure::usage(
                format!("--token-field {token_field:?} is not a name for a secret setting"),
                "name the setting like a secret (bot_token, signing_secret, webhook_url), so \
                 every listing masks it",
            ));
        }
        let mut parsed = Vec::new();
        for setting in settings {
            let Some((key, value)) = setting.split_once('=') else {
                return Err(Failure::usage(
                    "--setting takes KEY=VALUE",
                    "pass e.g. --setting chat_id=42",
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(Failure::usage(
                    "--setting has an empty key",
                    "pass e.g. --setting chat_id=42",
                ));
            }
            // Not echoed: a secret on the command line is in the shell's history already, and
            // need not be on the screen too.
            let secret_name = viben_model::redact::is_secret_name(key) && !key.ends_with("_env");
            if secret_name || viben_model::redact::redact_text(value) != value {
                return Err(Failure::usage(
                    format!(
                        "--setting {key} holds a secret, which does not belong on a command line \
                         (its value is not shown)"
                    ),
                    format!(
                        "pipe it in with `--token-stdin --token-field {}`, or name the \
                         variable holding it with `--token-env VAR --token-field {}`",
                        if secret_name { key } else { "webhook_url" },
                        if secret_name { key } else { "webhook_url" },
                    ),
                ));
            }
            parsed.push((key.to_owned(), setting_value(value)));
        }
        let token = if let Some(var) = token_env {
            if !viben_model::is_env_var_name(&var) {
                // Not echoed: what is not a variable name is most often the token itself.
                return Err(Failure::usage(
                    "--token-env takes the name of an environment variable, and the value given \
                     is not one (not shown, in case it is the token itself)",
                    "pass a name of letters, digits and '_' such as TELEGRAM_BOT_TOKEN, or pipe \
                     the token itself to --token-stdin",
                ));
            }
            Some(Token::Variable(var))
        } else if token_stdin {
            Some(Token::Inline(super::read_secret_from_stdin(
                "bot token",
                "pass show telegram-bot | viben channels set tg --token-stdin",
            )?))
        } else {
            None
        };
        Ok(Self {
            kind: kind.map(ChannelKind::from),
            agent,
            settings: parsed,
            unset,
            token,
            token_field,
        })
    }

    /// The channel after the change; `None` for a channel that does not exist and cannot be
    /// made from the flags (no --kind or no --agent).
    fn apply(&self, id: &str, existing: Option<&Channel>) -> Option<Channel> {
        let mut channel = match existing {
            Some(channel) => channel.clone(),
            None => Channel::new(id, self.kind.clone()?, self.agent.clone()?),
        };
        if let Some(kind) = &self.kind {
            channel.kind = kind.clone();
        }
        if let Some(agent) = &self.agent {
            channel.agent.clone_from(agent);
        }
        for key in &self.unset {
            channel.settings.remove(key.as_str());
        }
        for (key, value) in &self.settings {
            channel.settings.insert(key.as_str().into(), value.clone());
        }
        // One source per token, as a provider has one source for its key.
        let variable_field = format!("{}_env", self.token_field);
        match &self.token {
            Some(Token::Inline(secret)) => {
                channel.settings.remove(variable_field.as_str());
                channel
                    .settings
                    .insert(self.token_field.as_str().into(), secret.expose().into());
            }
            Some(Token::Variable(var)) => {
                channel.settings.remove(self.token_field.as_str());
                channel
                    .settings
                    .insert(variable_field.as_str().into(), var.as_str().into());
            }
            None => {}
        }
        Some(channel)
    }
}

/// A setting's value as YAML reads it (`42` a number, `true` a boolean), else the text itself.
fn setting_value(text: &str) -> serde_yaml::Value {
    match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Ok(value @ (serde_yaml::Value::Bool(_) | serde_yaml::Value::Number(_))) => value,
        _ => serde_yaml::Value::String(text.to_owned()),
    }
}

fn set(store: &Store, id: &str, change: &Change) -> Result<(), Failure> {
    let existed = store.channels().get(id).is_ok();
    let result = store.channels().upsert(id, |existing| {
        change
            .apply(id, existing)
            .ok_or_else(|| StoreError::NotFound {
                kind: "channel",
                id: id.to_owned(),
            })
    });
    let channel = match result {
        Ok(channel) => channel,
        Err(StoreError::NotFound {
            kind: "channel", ..
        }) => {
            return Err(Failure::usage(
                format!("channel {id:?} does not exist, and creating it needs --kind and --agent"),
                format!("run `viben channels set {id} --kind telegram --agent AGENT`"),
            ));
        }
        Err(err) => return Err(failure(err, id)),
    };
    let verb = if existed { "changed" } else { "created" };
    changed(&format!("{verb} channel {id}"), &channel)
}

fn toggle(store: &Store, id: &str, enabled: bool) -> Result<(), Failure> {
    let channel = store
        .channels()
        .set_enabled(id, enabled)
        .map_err(|e| failure(e, id))?;
    let verb = if enabled { "enabled" } else { "disabled" };
    changed(&format!("{verb} channel {id}"), &channel)
}

/// Says what changed: the sentence, or with `--json` the sentence and the channel as written
/// (secrets masked).
fn changed(message: &str, channel: &Channel) -> Result<(), Failure> {
    if output::json() {
        return print_json(&serde_json::json!({
            "message": message,
            "channel": channel.redacted(),
        }));
    }
    output::done(message)
}

/// A store error with a hint naming the command that helps: the listing for a channel that is
/// not there, the agents for an agent that is not.
fn failure(err: StoreError, id: &str) -> Failure {
    match &err {
        StoreError::NotFound {
            kind: "channel", ..
        } => Failure::with_hint(
            &err,
            format!(
                "see the channels with `viben channels list`, or create {id:?} with `{CREATE_EXAMPLE}`"
            ),
        ),
        StoreError::NotFound {
            kind: "agent",
            id: agent,
        } => Failure::with_hint(
            &err,
            format!(
                "see the agents with `viben agents list`, or create {agent:?} with `viben agents \
                 create {agent} --name NAME --model MODEL --provider PROVIDER`"
            ),
        ),
        _ => err.into(),
    }
}
