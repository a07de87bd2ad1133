//! The command line, as clap parses it: every command, flag and its help text.

use std::path::PathBuf;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};

/// Manage Viben's desktop store (~/.viben) and the web accounts database.
#[derive(Debug, Parser)]
#[command(
    name = "viben",
    version,
    about,
    long_about = None,
    after_help = "Every command takes --json: results become one JSON document on stdout, and \
                  a failure one JSON object {\"error\": ..., \"hint\": ...} on stderr.\n\
                  Exit codes: 0 success; 1 the operation failed (not found, invalid, conflict, \
                  unreachable); 2 wrong usage; 141 stdout was closed early (as by `| head`).\n\
                  Secrets (API keys, access tokens, passwords and tokens in URLs, webhook URLs, \
                  authorization headers) are never printed."
)]
pub(crate) struct Cli {
    /// The store's root folder [default: $VIBEN_HOME, else ~/.viben]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    /// PostgreSQL connection string [default: $POSTGRES_URL, else $DATABASE_URL]
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub(crate) database_url: Option<String>,

    /// Print results as one JSON document, and a failure as one JSON object on stderr
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Trace what the libraries do on stderr: -v connections, migrations and store writes,
    /// -vv every statement and pool checkout too (RUST_LOG, when set, chooses instead)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the store's folders (safe to run again)
    Init,
    // `about` rather than a doc comment: rustdoc would read `<id>` as an HTML tag.
    #[command(subcommand, about = "Agents: agents/<id>/config.yaml")]
    Agents(AgentsCommand),
    /// The model catalog: models.yaml
    #[command(subcommand)]
    Models(ModelsCommand),
    // `about` rather than a doc comment: rustdoc would read `<id>` as an HTML tag.
    #[command(subcommand, about = "LLM providers: providers/<name>.yaml")]
    Providers(ProvidersCommand),
    /// Channels: channels.yaml
    #[command(subcommand)]
    Channels(ChannelsCommand),
    // `about` rather than a doc comment: rustdoc would read `<id>` as an HTML tag.
    #[command(subcommand, about = "Conversation sessions: sessions/<id>/")]
    Sessions(SessionsCommand),
    /// Telemetry files: telemetry/
    #[command(subcommand)]
    Telemetry(TelemetryCommand),
    /// Validate the whole store; prints each problem as path:line:column: message
    Check {
        /// First rebuild what viben derives from the files (the session index,
        /// sessions/.index.jsonl), taking in session folders copied in by hand
        #[arg(long)]
        repair: bool,
    },
    /// The web accounts database
    #[command(subcommand)]
    Db(DbCommand),
    /// Check the store and, when a database URL is set, the database; print what to fix
    Doctor,
}

/// Whether to print JSON, for the commands that read it from their own arguments.
///
/// `--json` itself is one global flag on [`Cli`], so every command takes it; `Format` adds no
/// argument and reads that flag from the subcommand's matches (clap copies global values into
/// them), so a command can keep `List(Format)` or `#[command(flatten)] format: Format`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Format {
    /// Print one JSON document instead of a table.
    pub(crate) json: bool,
}

impl FromArgMatches for Format {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let json = matches
            .try_get_one::<bool>("json")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false);
        Ok(Self { json })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for Format {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd
    }
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
    /// Create an agent (a provider or model not configured yet is warned about, not refused)
    Create {
        /// The new agent's id (also its folder name)
        id: String,
        /// Name shown to people
        #[arg(long, required = true)]
        name: String,
        /// The model's id in models.yaml
        #[arg(long, required = true)]
        model: String,
        /// The provider's name
        #[arg(long, required = true)]
        provider: String,
        #[command(flatten)]
        fields: AgentOptions,
    },
    /// Change an agent's fields (at least one)
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

/// The agent fields `edit` takes: each one given is changed, the others stay.
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
    #[command(flatten)]
    pub(crate) options: AgentOptions,
}

/// The optional agent fields, which `create` and `edit` both take.
#[derive(Debug, Args, Default)]
pub(crate) struct AgentOptions {
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
    /// Print the default model's id, or set it (to a model in the catalog)
    Default {
        /// The model to make the default
        id: Option<String>,
    },
    /// Add a model (a provider not configured yet is warned about, not refused)
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
        /// The name of the environment variable that holds the API key (not the key itself)
        #[arg(long, value_name = "VAR")]
        api_key_env: Option<String>,
        /// Read the API key from standard input (so it stays out of shell history); only the
        /// first line is the key, as `pass show` prints it
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
    /// List sessions, newest first (a page at a time with --limit)
    List {
        /// Only this agent's sessions
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// At most this many sessions, reading only theirs; prints the next page's command
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// The cursor printed after the previous page
        #[arg(long, value_name = "ID", requires = "limit")]
        after: Option<String>,
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
    /// Print the records of one signal in a time range, as they are read (any range, flat memory)
    Show {
        /// Which records: traces (spans), metrics or logs
        #[arg(long, value_enum)]
        signal: Signal,
        /// From this time (RFC 3339, or a UTC day YYYY-MM-DD) [default: 24 hours ago]
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// Up to this time, excluded (RFC 3339, or a UTC day: the end of that day) [default: now]
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
    },
    /// Delete old telemetry files (give --keep-days, --max-bytes, or both)
    #[command(group(
        clap::ArgGroup::new("limit")
            .args(["keep_days", "max_bytes"])
            .required(true)
            .multiple(true)
    ))]
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
    /// Record the migrations as applied on a database the web app (Drizzle) created, up to the
    /// newest one whose schema it has
    Adopt,
    /// Bring the live schema to the migrations' schema (development): shows the SQL, asks, then
    /// runs it in one transaction; extra tables, columns and indexes are kept
    Push {
        /// Apply without asking (needed without a terminal)
        #[arg(long, conflicts_with = "dry_run")]
        yes: bool,
        /// Print the SQL and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Allow steps that may lose data (a column's type change)
        #[arg(long)]
        allow_data_loss: bool,
    },
    /// The indexes viben recommends beyond the web app's schema: present or missing, with the
    /// size of their tables
    Indexes {
        /// Create the missing ones (CREATE INDEX CONCURRENTLY: writes go on meanwhile)
        #[arg(long)]
        apply: bool,
    },
    /// Revert the last migration (drops the tables of the last migration and the data in them)
    Revert {
        /// Confirm that data may be dropped (required)
        #[arg(long, required = true)]
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

/// A telemetry signal (`telemetry/<signal>/`).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Signal {
    /// Spans (`telemetry/traces/`)
    Traces,
    /// Metric points (`telemetry/metrics/`)
    Metrics,
    /// Log records (`telemetry/logs/`)
    Logs,
}
