//! `viben sessions ...`

use std::cell::RefCell;
use std::io::{self, BufWriter, Read, Write};

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use viben_model::{Message, MessageRole, SessionMeta};
use viben_store::{JsonlReader, Store};

use crate::cli::SessionsCommand;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Table, cell, done, escape, escape_multiline, print_json, say};

/// The longest message the store takes (a log line of 16 MiB); standard input is read no
/// further than this, so `yes | viben sessions append ID` fails instead of filling memory.
const MAX_CONTENT_BYTES: u64 = 16 * 1024 * 1024;

/// `sessions show --json`: the metadata's fields with the messages beside them, the messages
/// serialized as they are read, so no log is held in memory whole.
#[derive(Serialize)]
struct SessionWithMessages<'a> {
    #[serde(flatten)]
    meta: &'a SessionMeta,
    messages: MessageStream<'a>,
}

/// Serializes the records of a reader as a JSON array, one at a time; bad lines become the
/// reader's warnings. A read that fails (an I/O error) ends the array where it is, so stdout
/// still holds one whole JSON document, and the error is kept for the caller to report.
struct MessageStream<'a> {
    reader: &'a RefCell<JsonlReader<Message>>,
    failed: &'a RefCell<Option<viben_store::StoreError>>,
}

impl Serialize for MessageStream<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut reader = self.reader.borrow_mut();
        let mut seq = serializer.serialize_seq(None)?;
        while let Some(message) = reader.next_lenient() {
            match message {
                Ok(message) => seq.serialize_element(&message)?,
                Err(err) => {
                    *self.failed.borrow_mut() = Some(err);
                    break;
                }
            }
        }
        seq.end()
    }
}

pub(crate) fn run(context: &Context, command: SessionsCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        SessionsCommand::List {
            agent,
            limit: Some(limit),
            after,
            format,
        } => {
            let page = store
                .sessions()
                .page(agent.as_deref(), after.as_deref(), limit)?;
            for error in &page.errors {
                Failure::warn(viben_model::Report(error));
            }
            if format.json {
                return print_json(&serde_json::json!({
                    "sessions": page.items,
                    "next": page.next,
                }));
            }
            print_sessions(page.items)?;
            if let Some(next) = page.next {
                let agent = agent
                    .map(|a| format!(" --agent {}", super::users::shell_quote(&a)))
                    .unwrap_or_default();
                say!(
                    "next page: viben sessions list{agent} --limit {limit} --after {}",
                    super::users::shell_quote(&next)
                )?;
            }
            Ok(())
        }
        SessionsCommand::List { agent, format, .. } => {
            let listing = match &agent {
                Some(agent) => store.sessions().list_for_agent(agent)?,
                None => store.sessions().list()?,
            };
            for error in &listing.errors {
                Failure::warn(viben_model::Report(error));
            }
            if format.json {
                return print_json(&listing.items);
            }
            print_sessions(listing.items)
        }
        SessionsCommand::Show { id, last, format } => show(&store, &id, last, format.json),
        SessionsCommand::Create {
            agent,
            title,
            format,
        } => {
            let meta = SessionMeta::new(agent, title);
            store.sessions().create(&meta)?;
            if format.json {
                return print_json(&meta);
            }
            done(&format!("created session {}", meta.id))
        }
        SessionsCommand::Append {
            id,
            role,
            content,
            format,
        } => {
            if role.trim().is_empty() {
                return Err(Failure::with_hint(
                    "the role is empty",
                    "pass --role user, assistant, system or tool",
                ));
            }
            let content = match content {
                Some(content) => content,
                None => read_stdin()?,
            };
            if content.is_empty() {
                return Err(Failure::with_hint(
                    "the message is empty",
                    "pass --content TEXT, or the text on standard input",
                ));
            }
            let message = Message::new(MessageRole::from(role), content);
            store.sessions().append(&id, &message)?;
            if format.json {
                return print_json(&message);
            }
            done(&format!(
                "appended a {} message to session {id}",
                message.role
            ))
        }
        SessionsCommand::Delete { id, yes: _ } => {
            store.sessions().delete(&id)?;
            done(&format!("deleted session {id}"))
        }
        SessionsCommand::Export { id, format, output } => {
            super::export::run(&store, &id, format, output.as_deref())
        }
    }
}

/// The sessions as a table.
fn print_sessions(sessions: Vec<SessionMeta>) -> Result<(), Failure> {
    let mut table = Table::new(&["ID", "AGENT", "TITLE", "CREATED", "UPDATED"]);
    for session in sessions {
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

/// Prints a session and its messages as they are read from the log, so memory stays flat
/// whatever the log's length. Lines that are not messages are reported on stderr at the end.
fn show(store: &Store, id: &str, last: Option<usize>, json: bool) -> Result<(), Failure> {
    let meta = store.sessions().get(id)?;
    let reader = match last {
        Some(n) => store.sessions().read_last(id, n)?,
        None => store.sessions().read(id)?,
    };
    let reader = RefCell::new(reader);
    let failed = RefCell::new(None);
    let mut out = BufWriter::new(io::stdout().lock());
    if json {
        let value = SessionWithMessages {
            meta: &meta,
            messages: MessageStream {
                reader: &reader,
                failed: &failed,
            },
        };
        serde_json::to_writer_pretty(&mut out, &value).map_err(|e| match e.io_error_kind() {
            // A closed or full stdout, as for every other command.
            Some(kind) => Failure::output(io::Error::from(kind)),
            None => Failure::from(e),
        })?;
        writeln!(out).map_err(Failure::output)?;
    } else {
        // Stored text is data, not terminal commands: escaped as every printer escapes it.
        writeln!(
            out,
            "session {}  agent {}",
            escape(&meta.id),
            escape(&meta.agent_id)
        )
        .map_err(Failure::output)?;
        if let Some(title) = &meta.title {
            writeln!(out, "title   {}", escape(title)).map_err(Failure::output)?;
        }
        writeln!(out, "created {}", meta.created_at.to_rfc3339()).map_err(Failure::output)?;
        let mut reader = reader.borrow_mut();
        while let Some(message) = reader.next_lenient() {
            let message = message?;
            writeln!(
                out,
                "\n[{}] {}\n{}",
                message.created_at.to_rfc3339(),
                escape(&message.role.to_string()),
                escape_multiline(&message.content)
            )
            .map_err(Failure::output)?;
        }
    }
    out.flush().map_err(Failure::output)?;
    if let Some(err) = failed.into_inner() {
        return Err(err.into());
    }
    for warning in reader.borrow().warnings() {
        Failure::warn(warning);
    }
    Ok(())
}

/// The message's text from standard input, without one final newline (as `echo` adds).
fn read_stdin() -> Result<String, Failure> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_CONTENT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONTENT_BYTES {
        return Err(Failure::with_hint(
            format!(
                "the message on standard input is longer than {MAX_CONTENT_BYTES} bytes (16 MiB), the most a session log line holds"
            ),
            "split it into several messages",
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        Failure::with_hint(
            format!(
                "the message on standard input is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "convert it to UTF-8 (iconv -t UTF-8)",
        )
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}
