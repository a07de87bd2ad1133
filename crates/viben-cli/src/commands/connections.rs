//! `viben db connections list | link | unlink`: a user's OAuth connections. Access tokens go
//! in from standard input or an environment variable and never come out (shown as `***`).

use serde_json::json;
use viben_db::QueryError;
use viben_db::oauth_connections;
use viben_model::{NewOAuthConnection, OAuthConnection, OAuthProvider, Secret};

use crate::cli::ConnectionsCommand;
use crate::commands::read_secret_from_stdin;
use crate::commands::users::{connection_json, find, shell_quote};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, Table, cell, done, print_json};

pub(crate) fn run(context: &Context, command: ConnectionsCommand) -> Result<(), Failure> {
    match command {
        ConnectionsCommand::List { user, format } => {
            let mut conn = context.connect()?;
            let (_, user) = find(&mut conn, &user)?;
            let connections = oauth_connections::list_for_user(&mut conn, &user.id)?;
            if format.json {
                let items: Vec<_> = connections.iter().map(connection_json).collect();
                return print_json(&json!({ "user_id": user.id, "connections": items }));
            }
            let mut table = Table::new(&["ID", "PROVIDER", "PROVIDER USER ID", "TOKEN", "CREATED"]);
            for connection in &connections {
                table.row(vec![
                    connection.id.clone(),
                    connection.provider.to_string(),
                    connection.provider_id.clone(),
                    token_cell(connection),
                    cell(connection.created_at.map(|t| t.to_rfc3339())),
                ]);
            }
            table.print()
        }
        ConnectionsCommand::Link {
            user,
            provider,
            provider_user_id,
            access_token_stdin,
            access_token_env,
        } => {
            // The token is read before connecting: a missing one fails without a round trip.
            let token = match (access_token_stdin, &access_token_env) {
                (true, _) => Some(read_secret_from_stdin(
                    "access token",
                    "gh auth token | viben db connections link ada --provider github \
                     --provider-user-id 583231 --access-token-stdin",
                )?),
                (false, Some(var)) => Some(token_from_env(var)?),
                (false, None) => None,
            };
            let mut conn = context.connect()?;
            let (_, user) = find(&mut conn, &user)?;
            let provider = OAuthProvider::from(provider);
            let mut new = NewOAuthConnection::new(&user.id, provider.clone(), &provider_user_id);
            if let Some(token) = token {
                new = new.with_access_token(token);
            }
            let connection = match oauth_connections::link(&mut conn, &new) {
                Ok(connection) => connection,
                Err(err @ QueryError::AlreadyLinked { .. }) => {
                    let owner =
                        oauth_connections::find_user(&mut conn, &provider, &provider_user_id)?;
                    let hint = match owner {
                        Some(owner) => format!(
                            "it belongs to user {}: unlink it there first with `viben db \
                             connections unlink {} --provider {} --provider-user-id {}`",
                            owner.id,
                            shell_quote(&owner.id),
                            shell_quote(provider.as_str()),
                            shell_quote(&provider_user_id)
                        ),
                        None => "list the user's connections with `viben db connections list`"
                            .to_owned(),
                    };
                    return Err(Failure::with_hint(err, hint));
                }
                Err(err) => return Err(err.into()),
            };
            if output::json() {
                return print_json(&connection_json(&connection));
            }
            done(&format!(
                "linked user {} to {} account {} (connection {}, access token {})",
                user.id,
                connection.provider,
                connection.provider_id,
                connection.id,
                if connection.access_token.is_some() {
                    "stored"
                } else {
                    "none"
                }
            ))
        }
        ConnectionsCommand::Unlink {
            user,
            provider,
            provider_user_id,
        } => {
            let mut conn = context.connect()?;
            let (_, user) = find(&mut conn, &user)?;
            let provider = OAuthProvider::from(provider);
            let matching: Vec<OAuthConnection> =
                oauth_connections::list_for_user(&mut conn, &user.id)?
                    .into_iter()
                    .filter(|c| c.provider == provider)
                    .filter(|c| {
                        provider_user_id
                            .as_ref()
                            .is_none_or(|id| &c.provider_id == id)
                    })
                    .collect();
            let connection = match matching.as_slice() {
                [one] => one,
                [] => {
                    let which = match &provider_user_id {
                        Some(id) => format!("{provider} account {id}"),
                        None => format!("{provider} account"),
                    };
                    return Err(Failure::with_hint(
                        format!("user {} has no {which} linked", user.id),
                        format!(
                            "list its connections with `viben db connections list {}`",
                            shell_quote(&user.id)
                        ),
                    ));
                }
                several => {
                    let ids: Vec<&str> = several.iter().map(|c| c.provider_id.as_str()).collect();
                    return Err(Failure::usage(
                        format!(
                            "user {} has {} {provider} accounts linked ({})",
                            user.id,
                            several.len(),
                            ids.join(", ")
                        ),
                        "choose one with --provider-user-id",
                    ));
                }
            };
            oauth_connections::unlink(&mut conn, &connection.id)?;
            if output::json() {
                return print_json(&json!({ "unlinked": connection_json(connection) }));
            }
            done(&format!(
                "unlinked user {} from {} account {} (connection {})",
                user.id, connection.provider, connection.provider_id, connection.id
            ))
        }
    }
}

fn token_cell(connection: &OAuthConnection) -> String {
    match connection.access_token {
        Some(_) => Secret::MASK.to_owned(),
        None => "-".to_owned(),
    }
}

/// The access token held by environment variable `var`: read now and stored in the database
/// (unlike a provider's `--api-key-env`, which stores the name: the web app reads tokens from
/// the table, not from viben's environment).
fn token_from_env(var: &str) -> Result<Secret, Failure> {
    if !viben_model::is_env_var_name(var) {
        // Not echoed: what is not a variable name is most often the token itself.
        return Err(Failure::usage(
            "--access-token-env takes the name of an environment variable, and the value \
             given is not one (not shown, in case it is the token itself)",
            "pass a name of letters, digits and '_' such as GITHUB_TOKEN, or pipe the token \
             itself to --access-token-stdin",
        ));
    }
    let value = match std::env::var(var) {
        Ok(value) => value,
        Err(std::env::VarError::NotPresent) => {
            return Err(Failure::with_hint(
                format!("environment variable {var} is not set"),
                format!("export {var} first, or pipe the token to --access-token-stdin"),
            ));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Failure::with_hint(
                format!("environment variable {var} is not UTF-8 text"),
                "pipe the token to --access-token-stdin instead",
            ));
        }
    };
    let token = value.trim();
    if token.is_empty() {
        return Err(Failure::with_hint(
            format!("environment variable {var} is empty"),
            format!("set {var} to the token, or pipe the token to --access-token-stdin"),
        ));
    }
    if token.chars().any(char::is_control) {
        return Err(Failure::with_hint(
            format!("the access token in {var} holds control characters"),
            "set it to the token alone",
        ));
    }
    Ok(Secret::new(token))
}
