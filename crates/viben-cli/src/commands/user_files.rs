//! `viben db users import FILE` and `viben db users export`: users as CSV or JSON lines, in the
//! same columns both ways, so an export imports again.
//!
//! Both stream. Import reads one row at a time and sends batches through viben-db's `COPY`
//! path, all in one transaction; what it keeps for the whole file is one entry per id, email
//! and username (to name the first line of a duplicate), never the rows. Export reads keyset
//! pages inside one REPEATABLE READ snapshot and writes each page before reading the next.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::json;
use viben_db::QueryError;
use viben_db::users::{self, UserCursor};
use viben_model::{NewUser, Role, User};

use crate::cli::UserFileFormat;
use crate::commands::users::shell_quote;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, done, print_json};
use crate::progress::Progress;

/// The columns, in the order export writes them; import takes them in any order, and needs
/// only `email` and `username`.
const COLUMNS: [&str; 8] = [
    "id",
    "email",
    "username",
    "display_name",
    "avatar_url",
    "github_username",
    "email_verified",
    "role",
];

/// How many problems an import lists before it only counts them.
const MAX_LISTED_PROBLEMS: usize = 20;

/// Users read per page by export.
const EXPORT_PAGE: u32 = 1000;

// ---------------------------------------------------------------------------------------------
// Import

/// A line of the file that cannot be imported.
struct Problem {
    line: u64,
    message: String,
}

/// Why an import stopped, inside its transaction (returning it rolls everything back).
enum Stop {
    /// A database error: the transaction is over.
    Query(QueryError),
    /// The file cannot be read on (an I/O error, a CSV header viben does not know).
    Failed(Failure),
    /// Lines that cannot be imported; every other line was still read and checked.
    Problems { listed: Vec<Problem>, total: usize },
}

impl From<diesel::result::Error> for Stop {
    fn from(err: diesel::result::Error) -> Self {
        Self::Query(err.into())
    }
}

impl From<QueryError> for Stop {
    fn from(err: QueryError) -> Self {
        Self::Query(err)
    }
}

pub(crate) fn import(
    context: &Context,
    file: &Path,
    format: Option<UserFileFormat>,
    batch_size: u32,
) -> Result<(), Failure> {
    let stdin = file == Path::new("-");
    let format = match format.or_else(|| format_of(file)) {
        Some(format) => format,
        None if stdin => {
            return Err(Failure::usage(
                "standard input has no extension to tell its format",
                "pass --format csv or --format jsonl",
            ));
        }
        None => {
            return Err(Failure::usage(
                format!(
                    "cannot tell the format of {} from its extension",
                    file.display()
                ),
                "name it .csv, .jsonl or .ndjson, or pass --format csv or --format jsonl",
            ));
        }
    };
    let name = if stdin {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let (input, size): (Box<dyn Read>, Option<u64>) = if stdin {
        (Box::new(io::stdin().lock()), None)
    } else {
        let opened = File::open(file).map_err(|err| {
            Failure::with_hint(
                format!("cannot open {name}: {err}"),
                "check the path, or pass `-` and pipe the file in",
            )
        })?;
        let size = opened.metadata().ok().map(|m| m.len());
        (Box::new(opened), size)
    };
    // The connection comes before the first row is read: an unreachable database fails at once.
    let mut conn = context.connect()?;
    let progress = Progress::bytes("importing users", size);
    let counted = Counted {
        inner: input,
        progress: &progress,
    };
    let mut rows = Rows::new(format, counted, &name)?;
    let batch_size = batch_size as usize;
    let result = viben_db::transaction(&mut conn, |conn| {
        let mut importer = Importer::default();
        let mut batch = Batch::default();
        while let Some((line, parsed)) = rows.next_row().map_err(Stop::Failed)? {
            match parsed.and_then(|user| importer.check(line, user)) {
                Ok(user) => batch.push(line, user),
                Err(message) => importer.problem(line, message),
            }
            if batch.users.len() >= batch_size {
                importer.flush(conn, &mut batch)?;
            }
        }
        importer.flush(conn, &mut batch)?;
        if importer.problems_total > 0 {
            return Err(Stop::Problems {
                listed: importer.problems,
                total: importer.problems_total,
            });
        }
        Ok(importer.imported)
    });
    drop(rows);
    progress.finish();
    let imported = match result {
        Ok(imported) => imported,
        Err(Stop::Query(err)) => return Err(err.into()),
        Err(Stop::Failed(failure)) => return Err(failure),
        Err(Stop::Problems { listed, total }) => {
            return Err(report_problems(&name, file, stdin, &listed, total));
        }
    };
    if output::json() {
        return print_json(&json!({ "imported": imported, "file": name }));
    }
    done(&format!(
        "{imported} user{} imported from {name}",
        if imported == 1 { "" } else { "s" }
    ))
}

/// Lists the problems on stderr (`FILE:LINE: what is wrong`, or one JSON object each with
/// `--json`), and returns the failure that ends the command.
fn report_problems(
    name: &str,
    file: &Path,
    stdin: bool,
    listed: &[Problem],
    total: usize,
) -> Failure {
    for problem in listed {
        if output::json() {
            output::eprint_json(&json!({ "line": problem.line, "problem": problem.message }));
        } else {
            output::eprint_line(&format!("{name}:{}: {}", problem.line, problem.message));
        }
    }
    let more = total.saturating_sub(listed.len());
    let shown = if more > 0 {
        format!(" ({} listed above, {more} more not shown)", listed.len())
    } else {
        String::new()
    };
    let again = if stdin {
        "viben db users import - --format ...".to_owned()
    } else {
        format!(
            "viben db users import {}",
            shell_quote(&file.display().to_string())
        )
    };
    Failure::with_hint(
        format!(
            "{total} problem{} in {name}{shown}; nothing was imported",
            if total == 1 { "" } else { "s" }
        ),
        format!("fix the lines named above, then run `{again}` again"),
    )
}

/// The format a file's extension names.
fn format_of(file: &Path) -> Option<UserFileFormat> {
    let extension = file.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "csv" => Some(UserFileFormat::Csv),
        "jsonl" | "ndjson" => Some(UserFileFormat::Jsonl),
        _ => None,
    }
}

/// The users waiting for the next `COPY`, with the line each came from.
#[derive(Default)]
struct Batch {
    users: Vec<NewUser>,
    lines: Vec<u64>,
}

impl Batch {
    fn push(&mut self, line: u64, user: NewUser) {
        self.users.push(user);
        self.lines.push(line);
    }
}

/// What the import has seen so far.
#[derive(Default)]
struct Importer {
    /// The first line of each id, email and username in the file.
    seen: HashMap<(&'static str, String), u64>,
    problems: Vec<Problem>,
    problems_total: usize,
    imported: usize,
}

impl Importer {
    /// A parsed user passes viben-db's checks and repeats no id, email or username of an
    /// earlier line.
    fn check(&mut self, line: u64, user: NewUser) -> Result<NewUser, String> {
        users::check_new(&user).map_err(|err| viben_model::Chain(&err).to_string())?;
        let keys = [
            ("id", user.id.clone()),
            ("email", Some(user.email.clone())),
            ("username", Some(user.username.clone())),
        ];
        for (field, value) in keys {
            let Some(value) = value else { continue };
            match self.seen.entry((field, value)) {
                Entry::Occupied(first) => {
                    return Err(format!(
                        "{field} {:?} is already on line {} of this file",
                        first.key().1,
                        first.get()
                    ));
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
        Ok(user)
    }

    fn problem(&mut self, line: u64, message: String) {
        self.problems_total += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(Problem { line, message });
        }
    }

    /// Names the users of the batch whose values are stored already, then copies the batch,
    /// unless a problem was found: from then on batches are only checked.
    fn flush(&mut self, conn: &mut viben_db::PgConnection, batch: &mut Batch) -> Result<(), Stop> {
        if batch.users.is_empty() {
            return Ok(());
        }
        for taken in users::taken(conn, &batch.users)? {
            let user = &batch.users[taken.index];
            let value = match taken.field {
                "id" => user.id.as_deref().unwrap_or_default(),
                "email" => &user.email,
                _ => &user.username,
            };
            self.problem(
                batch.lines[taken.index],
                format!(
                    "{} {value:?} is already taken by a user in the database",
                    taken.field
                ),
            );
        }
        if self.problems_total == 0 {
            self.imported += users::bulk_insert(conn, &batch.users)?;
        }
        batch.users.clear();
        batch.lines.clear();
        Ok(())
    }
}

/// A reader that moves the progress bar by the bytes it reads.
struct Counted<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// One line of the file: its number, and the user or what is wrong with it.
type Row = (u64, Result<NewUser, String>);

/// The rows of a CSV or JSON-lines file, one at a time.
enum Rows<R: Read> {
    Csv {
        reader: csv::Reader<R>,
        columns: Vec<Option<usize>>,
        name: String,
    },
    Jsonl {
        reader: BufReader<R>,
        line: u64,
        text: String,
        name: String,
    },
}

impl<R: Read> Rows<R> {
    fn new(format: UserFileFormat, input: R, name: &str) -> Result<Self, Failure> {
        let name = name.to_owned();
        match format {
            UserFileFormat::Jsonl => Ok(Self::Jsonl {
                reader: BufReader::new(input),
                line: 0,
                text: String::new(),
                name,
            }),
            UserFileFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(input);
                let header = reader
                    .headers()
                    .map_err(|err| read_failure(&name, &err.to_string()))?
                    .clone();
                let columns = csv_columns(&header, &name)?;
                Ok(Self::Csv {
                    reader,
                    columns,
                    name,
                })
            }
        }
    }

    /// The next row, `None` at the end of the file; `Err` only when reading cannot go on.
    fn next_row(&mut self) -> Result<Option<Row>, Failure> {
        match self {
            Self::Csv {
                reader,
                columns,
                name,
            } => {
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        let line = record.position().map_or(0, csv::Position::line);
                        Ok(Some((line, csv_user(&record, columns))))
                    }
                    Err(err) => {
                        let line = err.position().map_or(0, csv::Position::line);
                        if matches!(err.kind(), csv::ErrorKind::Utf8 { .. }) {
                            return Ok(Some((line, Err("the line is not UTF-8 text".to_owned()))));
                        }
                        Err(read_failure(name, &err.to_string()))
                    }
                }
            }
            Self::Jsonl {
                reader,
                line,
                text,
                name,
            } => loop {
                text.clear();
                let mut bytes = Vec::new();
                let read = reader
                    .read_until(b'\n', &mut bytes)
                    .map_err(|err| read_failure(name, &err.to_string()))?;
                if read == 0 {
                    return Ok(None);
                }
                *line += 1;
                let Ok(decoded) = std::str::from_utf8(&bytes) else {
                    return Ok(Some((*line, Err("the line is not UTF-8 text".to_owned()))));
                };
                text.push_str(decoded.trim_end_matches(['\n', '\r']));
                if text.trim().is_empty() {
                    continue;
                }
                return Ok(Some((*line, json_user(text))));
            },
        }
    }
}

fn read_failure(name: &str, err: &str) -> Failure {
    Failure::with_hint(
        format!("cannot read {name}: {err}"),
        "check the file, then run the import again (nothing was imported)",
    )
}

/// For each column of the header, the index in [`COLUMNS`] it fills; refuses unknown, repeated
/// or missing required columns, naming them (the header is line 1).
fn csv_columns(header: &csv::StringRecord, name: &str) -> Result<Vec<Option<usize>>, Failure> {
    let hint = format!(
        "the first line names the columns, among: {} (email and username are required)",
        COLUMNS.join(",")
    );
    let mut columns = Vec::new();
    for (position, title) in header.iter().enumerate() {
        // A byte-order mark, as spreadsheet programs write, is not part of the first name.
        let title = if position == 0 {
            title.trim_start_matches('\u{feff}')
        } else {
            title
        };
        let Some(index) = COLUMNS.iter().position(|c| *c == title.trim()) else {
            return Err(Failure::with_hint(
                format!("{name}:1: unknown column {title:?}"),
                hint,
            ));
        };
        if columns.contains(&Some(index)) {
            return Err(Failure::with_hint(
                format!("{name}:1: column {title:?} appears twice"),
                hint,
            ));
        }
        columns.push(Some(index));
    }
    for required in ["email", "username"] {
        let index = COLUMNS.iter().position(|c| *c == required);
        if !columns.contains(&index) {
            return Err(Failure::with_hint(
                format!("{name}:1: the header has no {required} column"),
                hint,
            ));
        }
    }
    Ok(columns)
}

/// A CSV record as a new user: an empty cell is a missing value.
fn csv_user(record: &csv::StringRecord, columns: &[Option<usize>]) -> Result<NewUser, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "{} fields where the header names {}",
            record.len(),
            columns.len()
        ));
    }
    let mut values: [Option<String>; 8] = Default::default();
    for (cell, column) in record.iter().zip(columns) {
        if let Some(index) = column
            && !cell.is_empty()
        {
            values[*index] = Some(cell.to_owned());
        }
    }
    let [
        id,
        email,
        username,
        display_name,
        avatar_url,
        github_username,
        verified,
        role,
    ] = values;
    let email_verified = match verified.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(format!(
                "email_verified is {other:?}; write true, false, or leave it empty"
            ));
        }
    };
    Ok(NewUser {
        id,
        email: email.ok_or("email is empty")?,
        username: username.ok_or("username is empty")?,
        display_name,
        avatar_url,
        github_username,
        email_verified,
        role: role.map(Role::from),
    })
}

/// A JSON-lines record: an object with the [`COLUMNS`] as keys, `null` or absent for a missing
/// value. Read field by field rather than through serde's derive, so a wrong value names its
/// field (`email_verified is "yes"`), which serde's type errors do not.
fn json_user(text: &str) -> Result<NewUser, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        // serde_json ends its message with "at line 1 column N"; the line is ours to name.
        let message = err.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head);
        format!("not valid JSON: {message} (column {})", err.column())
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Err(
            "not a JSON object; write one {\"email\": ..., \"username\": ...} per line".into(),
        );
    };
    if let Some(unknown) = fields.keys().find(|key| !COLUMNS.contains(&key.as_str())) {
        return Err(format!(
            "unknown field {unknown:?}; the fields are {}",
            COLUMNS.join(", ")
        ));
    }
    let text = |name: &str| match fields.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
        Some(other) => Err(format!("{name} is {other}; write a string or null")),
    };
    let required = |name: &str| text(name)?.ok_or_else(|| format!("{name} is missing"));
    let email_verified = match fields.get("email_verified") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(verified)) => Some(*verified),
        Some(other) => {
            return Err(format!(
                "email_verified is {other}; write true, false or null"
            ));
        }
    };
    let role = text("role")?;
    if role.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err("role is empty; leave it out or write null for the default".to_owned());
    }
    Ok(NewUser {
        id: text("id")?,
        email: required("email")?,
        username: required("username")?,
        display_name: text("display_name")?,
        avatar_url: text("avatar_url")?,
        github_username: text("github_username")?,
        email_verified,
        role: role.map(Role::from),
    })
}

// ---------------------------------------------------------------------------------------------
// Export

/// Why an export stopped, inside its read-only transaction.
enum ExportStop {
    Query(QueryError),
    Write(io::Error),
}

impl From<diesel::result::Error> for ExportStop {
    fn from(err: diesel::result::Error) -> Self {
        Self::Query(err.into())
    }
}

impl From<QueryError> for ExportStop {
    fn from(err: QueryError) -> Self {
        Self::Query(err)
    }
}

impl From<io::Error> for ExportStop {
    fn from(err: io::Error) -> Self {
        Self::Write(err)
    }
}

impl From<csv::Error> for ExportStop {
    fn from(err: csv::Error) -> Self {
        Self::Write(err.into())
    }
}

pub(crate) fn export(
    context: &Context,
    format: Option<UserFileFormat>,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let format = match (format, output) {
        (Some(format), _) => format,
        (None, Some(file)) => format_of(file).ok_or_else(|| {
            Failure::usage(
                format!("cannot tell a format from the name {}", file.display()),
                "name it .csv, .jsonl or .ndjson, or pass --format csv or --format jsonl",
            )
        })?,
        (None, None) => UserFileFormat::Jsonl,
    };
    // `--json` promises one JSON document on stdout: without -o, the users themselves become
    // that document, `{"users": [...]}`, still written a page at a time.
    let document = output.is_none() && output::json();
    if document && format == UserFileFormat::Csv {
        return Err(Failure::usage(
            "--format csv writes CSV to standard output, which --json would make one JSON \
             document",
            "pass -o FILE to write the CSV to a file (the summary is then the JSON), or leave \
             out --format csv",
        ));
    }
    let mut conn = context.connect()?;
    let Some(path) = output else {
        let stdout = io::stdout();
        let mut sink = BufWriter::new(stdout.lock());
        let format = if document {
            Layout::JsonDocument
        } else {
            Layout::Lines(format)
        };
        return match write_users(&mut conn, format, &mut sink, None) {
            Ok(_) => sink.flush().map_err(Failure::output),
            Err(ExportStop::Query(err)) => Err(err.into()),
            Err(ExportStop::Write(err)) => Err(Failure::output(err)),
        };
    };
    let cannot_write = |err: &dyn std::fmt::Display| {
        Failure::with_hint(
            format!("cannot write {}: {err}", path.display()),
            "check that its folder exists and is writable, and that the device has room",
        )
    };
    // A temporary file beside the target, renamed over it once complete: a failed export
    // leaves any earlier file as it was, never a half-written one.
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temporary = tempfile::Builder::new()
        .prefix(".viben-export-")
        .tempfile_in(folder)
        .map_err(|err| cannot_write(&err))?;
    let mut sink = BufWriter::new(temporary.as_file());
    let exported = match write_users(
        &mut conn,
        Layout::Lines(format),
        &mut sink,
        Some("exporting users"),
    ) {
        Ok(exported) => exported,
        Err(ExportStop::Query(err)) => return Err(err.into()),
        Err(ExportStop::Write(err)) => return Err(cannot_write(&err)),
    };
    sink.flush().map_err(|err| cannot_write(&err))?;
    drop(sink);
    temporary
        .as_file()
        .sync_all()
        .map_err(|err| cannot_write(&err))?;
    temporary
        .persist(path)
        .map_err(|err| cannot_write(&err.error))?;
    let name = path.display().to_string();
    if output::json() {
        let format = match format {
            UserFileFormat::Csv => "csv",
            UserFileFormat::Jsonl => "jsonl",
        };
        return print_json(&json!({ "exported": exported, "file": name, "format": format }));
    }
    done(&format!(
        "{exported} user{} exported to {name}",
        if exported == 1 { "" } else { "s" }
    ))
}

/// Writes every user, a page at a time, inside one read-only REPEATABLE READ transaction: the
/// file is one consistent snapshot even while the web app writes, and a page is never held
/// longer than it takes to write it. With `label`, a progress bar counts the users.
fn write_users(
    conn: &mut viben_db::PgConnection,
    layout: Layout,
    sink: &mut dyn Write,
    label: Option<&str>,
) -> Result<u64, ExportStop> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(|conn| {
            let progress = match label {
                Some(label) => {
                    let total = users::count(conn)?;
                    Some(Progress::new(label, u64::try_from(total).ok()))
                }
                None => None,
            };
            let mut writer = match layout {
                Layout::Lines(UserFileFormat::Csv) => {
                    let mut writer = csv::Writer::from_writer(&mut *sink);
                    writer.write_record(COLUMNS)?;
                    Writer::Csv(Box::new(writer))
                }
                Layout::Lines(UserFileFormat::Jsonl) => Writer::Jsonl(&mut *sink),
                Layout::JsonDocument => {
                    sink.write_all(b"{\"users\": [")?;
                    Writer::JsonDocument(&mut *sink)
                }
            };
            let mut after: Option<UserCursor> = None;
            let mut written = 0u64;
            loop {
                let page = users::list(conn, after.as_ref(), EXPORT_PAGE)?;
                for user in &page.items {
                    match &mut writer {
                        Writer::Csv(writer) => writer.write_record(csv_fields(user))?,
                        Writer::Jsonl(sink) => {
                            serde_json::to_writer(&mut **sink, &json_line(user))
                                .map_err(io::Error::from)?;
                            sink.write_all(b"\n")?;
                        }
                        Writer::JsonDocument(sink) => {
                            sink.write_all(if written == 0 { b"\n  " } else { b",\n  " })?;
                            serde_json::to_writer(&mut **sink, &json_line(user))
                                .map_err(io::Error::from)?;
                        }
                    }
                    written += 1;
                }
                if let Some(progress) = &progress {
                    progress.advance(page.items.len() as u64);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            match &mut writer {
                Writer::Csv(writer) => writer.flush()?,
                Writer::JsonDocument(sink) => {
                    sink.write_all(if written == 0 { b"]}\n" } else { b"\n]}\n" })?;
                }
                Writer::Jsonl(_) => {}
            }
            if let Some(progress) = progress {
                progress.finish();
            }
            Ok(written)
        })
}

/// How export lays the users out: a file format, or (`--json` to stdout) one JSON document.
enum Layout {
    Lines(UserFileFormat),
    JsonDocument,
}

/// Where export writes its rows, in the chosen layout.
enum Writer<'a> {
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
    Jsonl(&'a mut dyn Write),
    JsonDocument(&'a mut dyn Write),
}

/// A user's cells in [`COLUMNS`] order; a missing value is an empty cell.
fn csv_fields(user: &User) -> [&str; 8] {
    [
        &user.id,
        &user.email,
        &user.username,
        user.display_name.as_deref().unwrap_or_default(),
        user.avatar_url.as_deref().unwrap_or_default(),
        user.github_username.as_deref().unwrap_or_default(),
        if user.email_verified { "true" } else { "false" },
        user.role.as_str(),
    ]
}

/// A user as one JSON object with the [`COLUMNS`] as keys, serialized straight from borrowed
/// fields (no `serde_json::Value` built per user).
#[derive(Serialize)]
struct JsonLine<'a> {
    id: &'a str,
    email: &'a str,
    username: &'a str,
    display_name: Option<&'a str>,
    avatar_url: Option<&'a str>,
    github_username: Option<&'a str>,
    email_verified: bool,
    role: &'a str,
}

fn json_line(user: &User) -> JsonLine<'_> {
    JsonLine {
        id: &user.id,
        email: &user.email,
        username: &user.username,
        display_name: user.display_name.as_deref(),
        avatar_url: user.avatar_url.as_deref(),
        github_username: user.github_username.as_deref(),
        email_verified: user.email_verified,
        role: user.role.as_str(),
    }
}
