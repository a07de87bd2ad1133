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
    /// Write the whole store to a .tar.gz (API keys, tokens and other secrets left out unless
    /// --include-secrets)
    Backup {
        /// The archive to write (mode 0600; an existing file is replaced once the archive is
        /// complete)
        file: PathBuf,
        /// Keep secrets in the archive (then keep it as safe as the store itself)
        #[arg(long)]
        include_secrets: bool,
    },
    /// Replace the store with one from `viben backup`, all or nothing: unpacked beside it,
    /// checked, then swapped in
    Restore {
        /// The archive to read
        file: PathBuf,
        /// Replace a store that holds files (without it, only an empty or missing store)
        #[arg(long)]
        force: bool,
        /// The most bytes the archive may unpack to [default: 8 GiB]
        #[arg(long, value_name = "BYTES")]
        max_size: Option<u64>,
    },
    /// The web accounts database
    #[command(subcommand)]
    Db(DbCommand),
    /// Check the store and, when a database URL is set, the database; print what to fix
    Doctor,
    /// Print a shell completion script: `source <(viben completions bash)`
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the manual page (roff) for `man -l -`, or write one page per command
    Man {
        /// Write viben.1 and one page per subcommand (viben-db-users-import.1, ...) into this
        /// folder instead of printing viben.1
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of a store file, for editors (no kind: list the kinds)
    Schema(FileSchemaArgs),
    /// A local web page over the store and, when a database URL is set, the accounts
    /// database (127.0.0.1 only; the printed URL carries this run's token)
    Studio {
        /// The port on 127.0.0.1 (default: a free one)
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// Open the page in the default browser too
        #[arg(long)]
        open: bool,
    },
    /// Print each change to the store as it happens, one line each, until Ctrl-C; with --json,
    /// one JSON object per line (a stream, unlike other commands' one document)
    Watch,
}

/// A shell `viben completions` writes a script for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CompletionShell {
    /// Bash: `source <(viben completions bash)` in ~/.bashrc
    Bash,
    /// Zsh: `viben completions zsh > "${fpath[1]}/_viben"`
    Zsh,
    /// Fish: `viben completions fish > ~/.config/fish/completions/viben.fish`
    Fish,
}

/// `viben schema [<kind>] [--list]`.
#[derive(Debug, Args)]
pub(crate) struct FileSchemaArgs {
    /// The kind of file: agent, provider, models, channels, profile, session, message, span,
    /// metric or log
    pub(crate) kind: Option<String>,
    /// List the kinds and the files each describes
    #[arg(long, conflicts_with = "kind")]
    pub(crate) list: bool,
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
    /// Show one channel (tokens and webhook URLs are printed as ***)
    Show {
        /// The channel's id
        id: String,
        #[command(flatten)]
        format: Format,
    },
    /// Create a channel (--kind and --agent needed), or change the fields given of one
    Set {
        /// The channel's id
        id: String,
        /// What it connects to: telegram, slack, discord, web (or another kind)
        #[arg(long)]
        kind: Option<String>,
        /// The agent that answers (it must exist)
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// A kind-specific setting, read as a YAML scalar (42 is a number); repeat for more.
        /// Not for secrets: use --token-stdin or --token-env
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Remove a setting; repeat for more
        #[arg(long = "unset", value_name = "KEY")]
        unset: Vec<String>,
        /// Read the bot token from standard input (so it stays out of shell history); only the
        /// first line is the token. channels.yaml is then written with mode 0600
        #[arg(long, conflicts_with = "token_env")]
        token_stdin: bool,
        /// The name of the environment variable that holds the bot token (not the token
        /// itself), saved as the setting <FIELD>_env
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// The setting the token (or, with --token-env, <FIELD>_env) goes into
        #[arg(long, value_name = "FIELD", default_value = "bot_token")]
        token_field: String,
    },
    /// Delete a channel
    Delete {
        /// The channel's id
        id: String,
    },
    /// Turn a channel on
    Enable {
        /// The channel's id
        id: String,
    },
    /// Turn a channel off (it stays in channels.yaml)
    Disable {
        /// The channel's id
        id: String,
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
    /// Write a session's messages as JSON lines or a Markdown transcript (streamed: any length
    /// of log)
    Export {
        /// The session's id
        id: String,
        /// jsonl: one message per line, as stored; markdown: a transcript for people
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Write to this file (mode 0600, replaced only once the export is complete) instead
        /// of standard output; --json then prints a summary. Without it, --json prints the
        /// messages as one array (jsonl) or {"markdown": "..."}
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// What `sessions export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// JSON lines: one message per line
    Jsonl,
    /// A Markdown transcript: a heading per message with its role and time
    Markdown,
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
    #[command(flatten)]
    Files(MigrationFilesCommand),
    /// Web users
    #[command(subcommand)]
    Users(UsersCommand),
    /// Users' OAuth connections (access tokens are never printed)
    #[command(subcommand)]
    Connections(ConnectionsCommand),
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

/// The commands that write migration files and schema.rs (no database needed but to try them).
#[derive(Debug, Subcommand)]
pub(crate) enum MigrationFilesCommand {
    /// Write a new migration (up.sql, down.sql, schema.json): empty, or with the statements
    /// that reach the schema of a database changed by hand (--from-url); then schema.rs
    Generate {
        /// The migration's name, snake_case (add_bio_to_users)
        name: String,
        /// A database changed by hand, whose schema the migration makes (a scratch database is
        /// created on its server to try the migration)
        #[arg(long, value_name = "URL", hide_env_values = true)]
        from_url: Option<String>,
        #[command(flatten)]
        files: MigrationFiles,
    },
    /// Import the web app's drizzle-kit migrations (DIR/meta/_journal.json) not imported yet,
    /// trying them on a scratch database on the --database-url server; then schema.rs
    ImportDrizzle {
        /// The folder drizzle-kit writes to (its `out`)
        dir: PathBuf,
        #[command(flatten)]
        files: MigrationFiles,
    },
    /// Print schema.rs (Diesel's table! definitions) for the newest migration's schema
    PrintSchema {
        #[command(flatten)]
        files: MigrationFiles,
    },
}

/// Where the migration files and schema.rs are [default: as the nearest diesel.toml says,
/// else ./migrations and no schema.rs].
#[derive(Debug, Args)]
pub(crate) struct MigrationFiles {
    /// The migrations folder [default: diesel.toml's migrations_directory, else ./migrations]
    #[arg(long, value_name = "DIR")]
    pub(crate) migrations: Option<PathBuf>,
    /// Where to write schema.rs [default: diesel.toml's print_schema file]
    #[arg(long, value_name = "PATH")]
    pub(crate) schema_rs: Option<PathBuf>,
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
    /// Change a user's fields (at least one); the others stay as they are
    Update {
        /// The user's id, email or username
        key: String,
        #[command(flatten)]
        fields: UserFields,
    },
    /// Add users from a CSV or JSON-lines file, all or nothing, through COPY
    Import {
        /// The file to read (`-` for standard input, which needs --format)
        file: PathBuf,
        /// The file's format [default: from its extension: .csv, or .jsonl/.ndjson]
        #[arg(long, value_enum)]
        format: Option<UserFileFormat>,
        /// Rows sent per COPY statement (all of them in one transaction)
        #[arg(long, default_value_t = 5000, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
    },
    /// Write every user, streamed a page at a time, in the columns `import` reads
    Export {
        /// The format [default: from the -o file's extension, else jsonl]
        #[arg(long, value_enum)]
        format: Option<UserFileFormat>,
        /// Write to this file (replaced only once complete) instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The user fields `update` takes: each one given is changed, the others stay.
#[derive(Debug, Args, Default)]
pub(crate) struct UserFields {
    /// New email address
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// New username
    #[arg(long)]
    pub(crate) username: Option<String>,
    /// Name shown to people
    #[arg(long, conflicts_with = "no_display_name")]
    pub(crate) display_name: Option<String>,
    /// Clear the display name
    #[arg(long)]
    pub(crate) no_display_name: bool,
    /// URL of the avatar image
    #[arg(long, value_name = "URL", conflicts_with = "no_avatar_url")]
    pub(crate) avatar_url: Option<String>,
    /// Clear the avatar URL
    #[arg(long)]
    pub(crate) no_avatar_url: bool,
    /// GitHub login
    #[arg(long, value_name = "LOGIN", conflicts_with = "no_github_username")]
    pub(crate) github_username: Option<String>,
    /// Clear the GitHub login
    #[arg(long)]
    pub(crate) no_github_username: bool,
    /// Role: user, admin (or another role the web app knows)
    #[arg(long)]
    pub(crate) role: Option<String>,
    /// Whether the email address is verified
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pub(crate) email_verified: Option<bool>,
}

/// The formats `db users import` reads and `db users export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum UserFileFormat {
    /// Comma-separated values with a header line naming the columns
    Csv,
    /// One JSON object per line
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectionsCommand {
    /// List a user's OAuth connections, oldest first (tokens shown as ***)
    List {
        /// The user's id, email or username
        user: String,
        #[command(flatten)]
        format: Format,
    },
    /// Link a user to an identity at an OAuth provider (or replace that link's token)
    Link {
        /// The user's id, email or username
        user: String,
        /// The provider: github, google (or another the web app knows)
        #[arg(long)]
        provider: String,
        /// The user's id at the provider
        #[arg(long, value_name = "ID")]
        provider_user_id: String,
        /// Read the access token from standard input (its first line), so it stays out of
        /// shell history
        #[arg(long, conflicts_with = "access_token_env")]
        access_token_stdin: bool,
        /// Read the access token from this environment variable (the name, not the token)
        #[arg(long, value_name = "VAR")]
        access_token_env: Option<String>,
    },
    /// Remove a user's connection to a provider
    Unlink {
        /// The user's id, email or username
        user: String,
        /// The provider
        #[arg(long)]
        provider: String,
        /// Which identity, when the user has several at this provider
        #[arg(long, value_name = "ID")]
        provider_user_id: Option<String>,
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
