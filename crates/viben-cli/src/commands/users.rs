//! `viben db users list | show | create | delete | update` (import and export are in
//! [`super::user_files`])

use serde_json::{Value, json};
use viben_db::QueryError;
use viben_db::users::{self, UserCursor, UserMatch};
use viben_model::{NewUser, OAuthConnection, Role, Secret, User, UserPatch, UserWithConnections};

use crate::cli::{UserFields, UsersCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, Table, cell, done, print_json, say};

pub(crate) fn run(context: &Context, command: UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::Import {
            file,
            format,
            batch_size,
        } => super::user_files::import(context, &file, format, batch_size),
        UsersCommand::Export { format, output } => {
            super::user_files::export(context, format, output.as_deref())
        }
        UsersCommand::Update { key, fields } => {
            // The flags are checked before connecting: a wrong command line costs no round trip.
            let patch = patch_of(fields)?;
            let mut conn = context.connect()?;
            let (_, user) = find(&mut conn, &key)?;
            let updated = users::update(&mut conn, &user.id, &patch)?;
            if output::json() {
                return print_json(&user_json(&updated));
            }
            done(&format!("updated user {} ({})", updated.id, updated.email))
        }
        UsersCommand::List {
            limit,
            after,
            format,
        } => {
            let mut conn = context.connect()?;
            let after = after.as_deref().map(str::parse::<UserCursor>).transpose()?;
            let page = users::list(&mut conn, after.as_ref(), limit)?;
            let next = page.next.as_ref().map(UserCursor::to_string);
            if format.json {
                let items: Vec<Value> = page.items.iter().map(user_json).collect();
                return print_json(&json!({ "users": items, "next": next }));
            }
            let mut table = Table::new(&["ID", "EMAIL", "USERNAME", "ROLE", "CREATED"]);
            for user in &page.items {
                table.row(vec![
                    user.id.clone(),
                    user.email.clone(),
                    user.username.clone(),
                    user.role.to_string(),
                    cell(user.created_at.map(|t| t.to_rfc3339())),
                ]);
            }
            table.print()?;
            if let Some(next) = next {
                // Pasted into a shell: the cursor is a base64url token, and quoted anyway in
                // case that ever changes.
                say!(
                    "next page: viben db users list --limit {limit} --after {}",
                    shell_quote(&next)
                )?;
            }
            Ok(())
        }
        UsersCommand::Show { key, format } => {
            let mut conn = context.connect()?;
            let (rule, user) = find(&mut conn, &key)?;
            let found = users::get_with_connections(&mut conn, &user.id)?;
            if format.json {
                let mut value = user_with_connections_json(&found);
                value["matched_by"] = rule.into();
                return print_json(&value);
            }
            let user = &found.user;
            // A record: its last column is printed whole, however long.
            let mut table = Table::record(&["FIELD", "VALUE"]);
            table.row(vec!["matched_by".to_owned(), rule.to_owned()]);
            let fields = [
                ("id", Some(user.id.clone())),
                ("email", Some(user.email.clone())),
                ("username", Some(user.username.clone())),
                ("display_name", user.display_name.clone()),
                ("avatar_url", user.avatar_url.clone()),
                ("github_username", user.github_username.clone()),
                ("email_verified", Some(user.email_verified.to_string())),
                ("role", Some(user.role.to_string())),
                ("created_at", user.created_at.map(|t| t.to_rfc3339())),
                ("updated_at", user.updated_at.map(|t| t.to_rfc3339())),
            ];
            for (name, value) in fields {
                table.row(vec![name.to_owned(), cell(value)]);
            }
            for connection in &found.oauth_connections {
                table.row(vec![
                    "oauth_connection".into(),
                    format!(
                        "{} {} ({})",
                        connection.provider, connection.provider_id, connection.id
                    ),
                ]);
            }
            table.print()
        }
        UsersCommand::Create {
            email,
            username,
            display_name,
            id,
        } => {
            let mut conn = context.connect()?;
            let mut new = NewUser::new(email, username);
            new.display_name = display_name;
            new.id = id;
            let user = users::create(&mut conn, &new)?;
            if output::json() {
                return print_json(&user_json(&user));
            }
            done(&format!("created user {} ({})", user.id, user.email))
        }
        UsersCommand::Delete { id } => {
            let mut conn = context.connect()?;
            users::delete(&mut conn, &id)?;
            done(&format!("deleted user {id}"))
        }
    }
}

/// The patch `update` applies: each flag given sets its field, each `--no-…` flag clears one.
/// An empty value is refused rather than stored: clearing is spelled `--no-…`, so a variable
/// that expanded to nothing (`--avatar-url "$URL"`) does not erase a field by accident.
fn patch_of(fields: UserFields) -> Result<UserPatch, Failure> {
    let non_empty = |flag: &str, value: Option<String>| match value {
        Some(value) if value.trim().is_empty() => {
            let clear = match flag {
                "display-name" | "avatar-url" | "github-username" => {
                    format!("to clear it, pass --no-{flag}")
                }
                _ => format!("give a value to --{flag}, or leave the flag out"),
            };
            Err(Failure::usage(format!("--{flag} is empty"), clear))
        }
        other => Ok(other),
    };
    let optional = |value: Option<String>, clear: bool| {
        if clear { Some(None) } else { value.map(Some) }
    };
    let patch = UserPatch {
        email: non_empty("email", fields.email)?,
        username: non_empty("username", fields.username)?,
        display_name: optional(
            non_empty("display-name", fields.display_name)?,
            fields.no_display_name,
        ),
        avatar_url: optional(
            non_empty("avatar-url", fields.avatar_url)?,
            fields.no_avatar_url,
        ),
        github_username: optional(
            non_empty("github-username", fields.github_username)?,
            fields.no_github_username,
        ),
        email_verified: fields.email_verified,
        role: non_empty("role", fields.role)?.map(Role::from),
    };
    if patch.is_empty() {
        return Err(Failure::usage(
            "nothing to change",
            "pass at least one of --email, --username, --display-name, --avatar-url, \
             --github-username, --role, --email-verified (or --no-display-name, \
             --no-avatar-url, --no-github-username); see `viben db users update --help`",
        ));
    }
    Ok(patch)
}

/// The user whose id, email or username is `key`, and which of the three matched
/// ([`users::find_by_key`]); when the key also matches other users by a later rule (an id
/// that is another user's username), a warning names them, so the choice is never silent.
pub(crate) fn find(
    conn: &mut viben_db::PgConnection,
    key: &str,
) -> Result<(&'static str, User), Failure> {
    let matches = match users::find_by_key(conn, key) {
        Ok(matches) => matches,
        Err(err @ QueryError::NotFound { .. }) => {
            return Err(Failure::with_hint(
                err,
                "list users with `viben db users list`",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let rule = matches.found.matched_by.as_str();
    let user = matches.found.user;
    for UserMatch {
        user: other,
        matched_by,
    } in matches.others
    {
        let other_rule = matched_by.as_str();
        let next = if other.id.contains(char::is_control) {
            format!("that user's id is {:?}", other.id)
        } else {
            format!(
                "run `viben db users show {}` for that one",
                shell_quote(&other.id)
            )
        };
        Failure::warn(format!(
            "{key:?} is the {rule} of the user shown and also the {other_rule} of user {:?}; \
             the {rule} match is shown (id comes first, then email, then username): {next}",
            other.id
        ));
    }
    Ok((rule, user))
}

/// `text` as one word for a POSIX shell: bare when it holds only characters no shell treats
/// specially, else single-quoted (a `'` inside becomes `'\''`).
pub(crate) fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

pub(crate) fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "github_username": user.github_username,
        "email_verified": user.email_verified,
        "role": user.role.as_str(),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

pub(crate) fn connection_json(connection: &OAuthConnection) -> Value {
    json!({
        "id": connection.id,
        "user_id": connection.user_id,
        "provider": connection.provider.as_str(),
        "provider_id": connection.provider_id,
        "access_token": connection.access_token.as_ref().map(|_| Secret::MASK),
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    })
}

fn user_with_connections_json(found: &UserWithConnections) -> Value {
    let mut value = user_json(&found.user);
    value["oauth_connections"] = found
        .oauth_connections
        .iter()
        .map(connection_json)
        .collect();
    value
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn shell_quoting_keeps_every_character_literal() {
        assert_eq!(shell_quote("MjAyNi0w_-"), "MjAyNi0w_-");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            shell_quote("q'; touch pwned; echo '"),
            r"'q'\''; touch pwned; echo '\'''"
        );
        assert_eq!(shell_quote("$(id) `id` \\ \n"), "'$(id) `id` \\ \n'");
    }
}
