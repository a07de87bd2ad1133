//! The command line, as clap parses it: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Manage Viben's desktop store (~/.viben) and the web accounts database.
#[derive(Debug, Parser)]
#[command(
    name = "viben",
    version,
    about,
    long_about = None,
    after_help = "Listing and showing commands take --json for one JSON document on stdout.\n\
                  Exit codes: 0 success; 1 the operation failed (not found, invalid, conflict, \
                  unreachable); 2 wrong usage.\nSecrets (API keys, access tokens, passwords in \
                  URLs) are never printed."
)]
pub(crate) struct Cli {
    /// The store's root folder [default: $VIBEN_HOME, else ~/.viben]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    /// PostgreSQL connection string [default: $POSTGRES_URL, else $DATABASE_URL]
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub(crate) database_url: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the store's folders (safe to run again)
    Init,
    /// Agents: agents/<id>/config.yaml
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// The model catalog: models.yaml
    #[command(subcommand)]
    Models(ModelsCommand),
    /// LLM providers: providers/<name>.yaml
    #[command(subcommand)]
    Providers(ProvidersCommand),
    /// Channels: channels.yaml
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// Conversation sessions: sessions/<id>/
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Telemetry files: telemetry/
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
    /// Validate the whole store; prints each problem as path:line:column: message
    Check,
    /// The web accounts database
    #[command(subcommand)]
    Db(DbCommand),
    /// Check the store and, when a database URL is set, the database; print what to fix
    Doctor,
}

/// `--json` for listing and showing commands.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct Format {
    /// Print one JSON document instead of a table
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AgentsCommand {
    /// List the agents (unreadable configs are reported on stderr)
    List(Format),
    /// Show one agent
    Show {
        /// The agent's id
        id: String,
        #[command(flatten)]
        format: Format,
    },
    /// Create an agent
    Create {
        /// The new agent's id (also its folder name)
        id: String,
        #[command(flatten)]
        fields: AgentFields,
    },
    /// Change an agent's fields
    Edit {
        /// The agent's id
        id: String,
        #[command(flatten)]
        fields: AgentFields,
    },
    /// Delete an agent (refused while sessions or channels use it, unless --force)
    Delete {
        /// The agent's id
        id: String,
        /// Delete even if sessions or channels still refer to it
        #[arg(long)]
        force: bool,
    },
}

/// The agent fields `create` and `edit` take; `create` requires name, model and provider.
#[derive(Debug, Args, Default)]
pub(crate) struct AgentFields {
    /// Name shown to people
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The model's id in models.yaml
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// The provider's name
    #[arg(long)]
    pub(crate) provider: Option<String>,
    /// What the agent is for
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// The system prompt
    #[arg(long)]
    pub(crate) system_prompt: Option<String>,
    /// Sampling temperature, 0.0 to 2.0
    #[arg(long)]
    pub(crate) temperature: Option<f64>,
    /// Largest reply, in tokens
    #[arg(long)]
    pub(crate) max_tokens: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ModelsCommand {
    /// List the models
    List(Format),
    /// Print the default model's id, or set it
    Default {
        /// The model to make the default
        id: Option<String>,
    },
    /// Add a model
    Add {
        /// The model's id
        id: String,
        /// The provider serving it
        #[arg(long)]
        provider: String,
        /// Name shown to people
        #[arg(long)]
        name: Option<String>,
        /// For a custom model, the provider's model it is built on
        #[arg(long)]
        base_model: Option<String>,
        /// Default sampling temperature, 0.0 to 2.0
        #[arg(long)]
        temperature: Option<f64>,
    },
    /// Remove a model
    Remove {
        /// The model's id
        id: String,
    },
    /// Let agents use a model
    Enable {
        /// The model's id
        id: String,
    },
    /// Stop agents from using a model
    Disable {
        /// The model's id
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProvidersCommand {
    /// List the providers
    List(Format),
    /// Show one provider (the API key is printed as ***)
    Show {
        /// The provider's name
        name: String,
        #[command(flatten)]
        format: Format,
    },
    /// Create or change a provider
    Set {
        /// The provider's name (also its file name)
        name: String,
        /// The API's base URL
        #[arg(long)]
        base_url: Option<String>,
        /// The environment variable that holds the API key
        #[arg(long, value_name = "VAR")]
        api_key_env: Option<String>,
        /// Read the API key from standard input (so it stays out of shell history)
        #[arg(long, conflicts_with = "api_key_env")]
        api_key_stdin: bool,
    },
    /// Delete a provider
    Delete {
        /// The provider's name
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChannelsCommand {
    /// List the channels
    List(Format),
    /// Show one channel
    Show {
        /// The channel's id
        id: String,
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// List sessions, newest first
    List {
        /// Only this agent's sessions
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show a session and its messages (streamed: any length of log)
    Show {
        /// The session's id
        id: String,
        /// Only the last N messages
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        #[command(flatten)]
        format: Format,
    },
    /// Start a session with an agent and print its id
    Create {
        /// The agent the session talks to
        #[arg(long, value_name = "ID")]
        agent: String,
        /// A title for people
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Append a message to a session
    Append {
        /// The session's id
        id: String,
        /// Who wrote it: user, assistant, system, tool (or another role)
        #[arg(long, default_value = "user")]
        role: String,
        /// The message's text [default: standard input, without its last newline]
        #[arg(long)]
        content: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Delete a session and all its messages
    Delete {
        /// The session's id
        id: String,
        /// Confirm that the session's messages are deleted for good
        #[arg(long, required = true)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TelemetryCommand {
    /// Delete old telemetry files
    Prune {
        /// Keep the files of the last N days
        #[arg(long, value_name = "N")]
        keep_days: Option<u32>,
        /// Keep at most this many bytes, deleting the oldest files first
        #[arg(long, value_name = "B")]
        max_bytes: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    #[command(flatten)]
    Schema(SchemaCommand),
    /// Web users
    #[command(subcommand)]
    Users(UsersCommand),
}

/// The commands that work on the schema and its migrations.
#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Apply pending migrations
    Migrate,
    /// List applied and pending migrations
    Status(Format),
    /// Compare the live schema with the expected one
    Check,
    /// Record the initial migration as applied on a database the web app (Drizzle) created
    Adopt,
    /// Revert the last migration (drops data)
    Revert {
        /// Confirm that data may be dropped
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// List users, oldest first, a page at a time
    List {
        /// Page size
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// The cursor printed after the previous page
        #[arg(long)]
        after: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show a user and its OAuth connections
    Show {
        /// The user's id, email or username
        key: String,
        #[command(flatten)]
        format: Format,
    },
    /// Create a user
    Create {
        /// Email address
        #[arg(long)]
        email: String,
        /// Username
        #[arg(long)]
        username: String,
        /// Name shown to people
        #[arg(long)]
        display_name: Option<String>,
        /// The id to use [default: a new UUIDv7]
        #[arg(long)]
        id: Option<String>,
    },
    /// Delete a user and its OAuth connections
    Delete {
        /// The user's id
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
