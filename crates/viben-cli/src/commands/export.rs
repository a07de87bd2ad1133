//! `viben sessions export`: a session's log as JSON lines or a Markdown transcript, written
//! as it is read (memory stays flat whatever the log's length).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use viben_model::{Message, SessionMeta};
use viben_store::{JsonlReader, Store, StoreError};

use crate::cli::ExportFormat;
use crate::failure::Failure;
use crate::output::{self, escape, escape_multiline, print_json};

pub(crate) fn run(
    store: &Store,
    id: &str,
    format: ExportFormat,
    path: Option<&Path>,
) -> Result<(), Failure> {
    let meta = store.sessions().get(id)?;
    let mut reader = store.sessions().read(id)?;
    let messages = match path {
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            let written = if output::json() {
                write_json(&mut out, format, &meta, &mut reader)
            } else {
                write(&mut out, format, &meta, &mut reader)
            };
            written
                .and_then(|n| {
                    out.flush().map_err(Trouble::Write)?;
                    Ok(n)
                })
                .map_err(|trouble| trouble.into_failure(None))?
        }
        Some(path) => {
            let mut file = PendingFile::create(path, "viben sessions export")?;
            let written = write(&mut file.writer, format, &meta, &mut reader)
                .map_err(|trouble| trouble.into_failure(Some(path)))?;
            file.persist()?;
            written
        }
    };
    for warning in reader.warnings() {
        Failure::warn(warning);
    }
    let Some(path) = path else {
        return Ok(());
    };
    let format_name = match format {
        ExportFormat::Jsonl => "jsonl",
        ExportFormat::Markdown => "markdown",
    };
    if output::json() {
        return print_json(&serde_json::json!({
            "session": id,
            "format": format_name,
            "file": path.display().to_string(),
            "messages": messages,
        }));
    }
    output::line(&format!(
        "exported {messages} message(s) of session {id} to {} ({format_name})",
        path.display()
    ))
}

/// Why an export stopped: the log could not be read, or the output not written.
enum Trouble {
    Read(StoreError),
    Write(io::Error),
}

impl Trouble {
    /// The failure to report; `file` is where the output went (`None`: standard output).
    fn into_failure(self, file: Option<&Path>) -> Failure {
        match (self, file) {
            (Self::Read(err), _) => err.into(),
            (Self::Write(err), None) => Failure::output(err),
            (Self::Write(err), Some(file)) => Failure::with_hint(
                format!("cannot write {}: {err}", file.display()),
                "free space there or pick another file with -o, then run `viben sessions \
                 export` again",
            ),
        }
    }
}

/// Writes every readable message in `format`; returns how many.
fn write(
    out: &mut impl Write,
    format: ExportFormat,
    meta: &SessionMeta,
    reader: &mut JsonlReader<Message>,
) -> Result<u64, Trouble> {
    if format == ExportFormat::Markdown {
        markdown_header(out, meta).map_err(Trouble::Write)?;
    }
    let mut count = 0;
    while let Some(message) = reader.next_lenient() {
        let message = message.map_err(Trouble::Read)?;
        match format {
            ExportFormat::Jsonl => {
                serde_json::to_writer(&mut *out, &message)
                    .map_err(|e| Trouble::Write(io::Error::other(e)))?;
                out.write_all(b"\n").map_err(Trouble::Write)?;
            }
            ExportFormat::Markdown => markdown_message(out, &message).map_err(Trouble::Write)?,
        }
        count += 1;
    }
    Ok(count)
}

/// The export as one JSON document on standard output, still written as it is read: JSON
/// lines become an array of the messages, a transcript the string `"markdown"` of an object.
fn write_json(
    out: &mut impl Write,
    format: ExportFormat,
    meta: &SessionMeta,
    reader: &mut JsonlReader<Message>,
) -> Result<u64, Trouble> {
    let count = match format {
        ExportFormat::Jsonl => {
            out.write_all(b"[").map_err(Trouble::Write)?;
            let mut count = 0;
            while let Some(message) = reader.next_lenient() {
                let message = message.map_err(Trouble::Read)?;
                let separator: &[u8] = if count == 0 { b"\n  " } else { b",\n  " };
                out.write_all(separator).map_err(Trouble::Write)?;
                serde_json::to_writer(&mut *out, &message)
                    .map_err(|e| Trouble::Write(io::Error::other(e)))?;
                count += 1;
            }
            let end: &[u8] = if count == 0 { b"]" } else { b"\n]" };
            out.write_all(end).map_err(Trouble::Write)?;
            count
        }
        ExportFormat::Markdown => {
            let head = serde_json::json!({ "session": meta.id, "format": "markdown" }).to_string();
            // `{"session":…,"format":"markdown"` then `,"markdown":"…"}`.
            out.write_all(head.trim_end_matches('}').as_bytes())
                .and_then(|()| out.write_all(b",\"markdown\":\""))
                .map_err(Trouble::Write)?;
            let count = write(&mut JsonString(&mut *out), format, meta, reader)?;
            out.write_all(b"\"}").map_err(Trouble::Write)?;
            count
        }
    };
    out.write_all(b"\n").map_err(Trouble::Write)?;
    Ok(count)
}

/// Writes text as the inside of a JSON string (escaped, without the quotes). Every write
/// holds whole characters: the transcript is written with `write!`, a `str` piece at a time.
struct JsonString<W>(W);

impl<W: Write> Write for JsonString<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(io::Error::other)?;
        let quoted = serde_json::to_string(text).map_err(io::Error::other)?;
        self.0.write_all(&quoted.as_bytes()[1..quoted.len() - 1])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn markdown_header(out: &mut impl Write, meta: &SessionMeta) -> io::Result<()> {
    let title = meta
        .title
        .clone()
        .unwrap_or_else(|| format!("Session {}", meta.id));
    writeln!(out, "# {}\n", inline(&title))?;
    writeln!(out, "- Session: {}", inline(&meta.id))?;
    writeln!(out, "- Agent: {}", inline(&meta.agent_id))?;
    writeln!(out, "- Created: {}", time(meta.created_at))?;
    writeln!(out, "- Updated: {}", time(meta.updated_at))
}

/// One message: a heading with its role and time, then its text as a block quote.
///
/// Quoting every line keeps the stored text inside its message: a `# heading`, a `---` or an
/// unclosed code fence in it renders inside the quote (CommonMark closes every block a quote
/// holds when the quote ends) and cannot end the message or start another, while the
/// Markdown the assistant wrote still renders.
fn markdown_message(out: &mut impl Write, message: &Message) -> io::Result<()> {
    writeln!(
        out,
        "\n## {} · {}\n",
        inline(&message.role.to_string()),
        time(message.created_at)
    )?;
    let text = escape_multiline(&message.content);
    if text.is_empty() {
        return writeln!(out, ">");
    }
    for line in text.split('\n') {
        if line.is_empty() {
            writeln!(out, ">")?;
        } else {
            writeln!(out, "> {line}")?;
        }
    }
    Ok(())
}

/// A time for people: to the second, in UTC (the JSON lines keep the stored precision).
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Text for a heading or a list item: control characters escaped, and the characters that
/// Markdown gives a meaning inline backslash-escaped, so a title reads as written.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An output file being written: a temporary file beside it (mode 0600), renamed over it
/// once complete, so a failed command never leaves half a file, nor destroys the previous one.
pub(crate) struct PendingFile {
    path: PathBuf,
    temp: Option<PathBuf>,
    pub(crate) writer: BufWriter<File>,
    /// The command that writes it, for the hints.
    command: &'static str,
}

impl PendingFile {
    pub(crate) fn create(path: &Path, command: &'static str) -> Result<Self, Failure> {
        if path.is_dir() {
            return Err(Failure::with_hint(
                format!("{} is a folder", path.display()),
                format!("give `{command}` the name of a file to write"),
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = path.with_file_name(format!(".{name}.export-{}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // A transcript is as private as the store it comes from.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&temp).map_err(|e| {
            Failure::with_hint(
                format!("cannot create {}: {e}", temp.display()),
                format!(
                    "check that the folder exists and that you may write there, or give \
                     `{command}` another file"
                ),
            )
        })?;
        Ok(Self {
            path: path.to_owned(),
            temp: Some(temp),
            writer: BufWriter::new(file),
            command,
        })
    }

    /// Puts the finished file in place.
    pub(crate) fn persist(mut self) -> Result<(), Failure> {
        let command = self.command;
        let fail = |path: &Path, e: io::Error| {
            Failure::with_hint(
                format!("cannot write {}: {e}", path.display()),
                format!("free space there or pick another file, then run `{command}` again"),
            )
        };
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let finished = self
            .writer
            .flush()
            .and_then(|()| self.writer.get_ref().sync_data())
            .map_err(|e| fail(&temp, e))
            .and_then(|()| fs::rename(&temp, &self.path).map_err(|e| fail(&self.path, e)));
        if finished.is_err() {
            let _ = fs::remove_file(&temp);
        }
        finished
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}
