//! A PostgreSQL server started from the installed binaries, in a temporary folder.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::DatabaseUrl;

/// The environment variable naming the folder that holds PostgreSQL's server binaries
/// (`initdb`, `pg_ctl`). When set, it is the only folder searched: pointing it at an empty
/// folder shows what a machine without PostgreSQL sees.
pub const PG_BINDIR: &str = "VIBEN_PG_BINDIR";

/// Why a [`LocalServer`] could not be started, stopped or restarted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalServerError {
    /// `initdb` and `pg_ctl` are not in the folder [`PG_BINDIR`] names.
    #[error(
        "PostgreSQL's server binaries (initdb and pg_ctl) were not found in {}, the folder \
         {PG_BINDIR} names",
        .0.display()
    )]
    NotInBindir(PathBuf),

    /// `initdb` and `pg_ctl` are nowhere this looks.
    #[error(
        "PostgreSQL's server binaries (initdb and pg_ctl) were not found (looked in \
         `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH)"
    )]
    NotInstalled,

    /// Running as root, with no `postgres` OS user to run the server as.
    #[error(
        "running as root, and there is no postgres OS user to run PostgreSQL as (PostgreSQL \
         refuses root); create one (`useradd -r postgres`) or run the tests as another user"
    )]
    NoPostgresUser,

    /// A step failed on the system: a folder, a port, a process.
    #[error("cannot {action}")]
    System {
        /// What was being done: `make a temporary folder`, `run initdb`, ...
        action: String,
        /// The system's error.
        #[source]
        source: io::Error,
    },

    /// `initdb` or `pg_ctl` ran and failed.
    #[error("{program} failed ({status}): {output}")]
    Failed {
        /// The program.
        program: String,
        /// How it exited.
        status: ExitStatus,
        /// What it printed.
        output: String,
    },

    /// PgBouncer is not installed.
    #[error(
        "PgBouncer was not found (looked on PATH and in /usr/sbin, /usr/bin, /usr/local/bin); \
         install it (Debian and Ubuntu: `apt-get install pgbouncer`; macOS: \
         `brew install pgbouncer`)"
    )]
    PgBouncerNotInstalled,

    /// A server or pooler did not start answering in time.
    #[error("{what} did not accept connections within {} s: {log}", .within.as_secs())]
    NotReady {
        /// What was started.
        what: String,
        /// How long it was given.
        within: std::time::Duration,
        /// The end of its log.
        log: String,
    },

    /// A path the server's tools are given is not UTF-8.
    #[error("{} is not UTF-8", .0.display())]
    NotUtf8(PathBuf),
}

/// A [`LocalServerError::System`] for `action`.
pub(super) fn system(action: impl Into<String>) -> impl FnOnce(io::Error) -> LocalServerError {
    move |source| LocalServerError::System {
        action: action.into(),
        source,
    }
}

/// Starts a small `sh` loop, in its own process group, that waits for this process to exit
/// (killed or aborted too, when nothing is dropped) and then runs `cleanup`.
pub(super) fn spawn_watchdog(cleanup: &str, action: &str) -> Result<(), LocalServerError> {
    use std::os::unix::process::CommandExt;
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}",
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_| ())
        .map_err(system(action))
}

/// A PostgreSQL server this process started from the installed binaries, in a temporary
/// folder; stopped and removed when dropped (and by a watchdog when the process exits).
#[derive(Debug)]
pub struct LocalServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
    settings: Vec<(String, String)>,
}

impl LocalServer {
    /// Starts a new server (initdb, then pg_ctl start) on a free port.
    pub fn start() -> Result<Self, LocalServerError> {
        Self::start_with(&[])
    }

    /// [`LocalServer::start`] with server settings (`-c name=value`), such as
    /// `("ssl", "on")`; relative file names in them are read from the data folder, where
    /// [`LocalServer::install_file`] puts files.
    pub fn start_with(settings: &[(&str, &str)]) -> Result<Self, LocalServerError> {
        Self::initialized(settings)?.started()
    }

    /// A server set up (initdb) but not started, with the port it will listen on chosen now;
    /// [`LocalServer::restart`] starts it. For tests of what happens before the server is up
    /// (a cold start), and for files to install before it starts.
    pub fn create(settings: &[(&str, &str)]) -> Result<Self, LocalServerError> {
        let mut server = Self::initialized(settings)?;
        server.port = free_port()?;
        Ok(server)
    }

    fn initialized(settings: &[(&str, &str)]) -> Result<Self, LocalServerError> {
        let bin = find_bin_dir()?;
        let as_postgres_user = running_as_root();
        // As root, under /tmp: the postgres user must be able to reach the folder, and TMPDIR
        // may point somewhere only root can enter.
        let parent = if as_postgres_user && Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("viben-pg-")
            .tempdir_in(parent)
            .map_err(system("make a temporary folder"))?
            .keep();
        let server = Self {
            dir,
            bin,
            port: 0,
            as_postgres_user,
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        server.init()?;
        Ok(server)
    }

    /// Writes `contents` to `name` in the server's data folder, owned by the user the server
    /// runs as, with the permission bits `mode` (a TLS key must be `0o600`); returns its path.
    pub fn install_file(
        &self,
        name: &str,
        contents: &[u8],
        mode: u32,
    ) -> Result<PathBuf, LocalServerError> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.data_dir().join(name);
        let action = format!("write {}", path.display());
        std::fs::write(&path, contents).map_err(system(action.clone()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(system(action.clone()))?;
        if self.as_postgres_user {
            std::os::unix::fs::chown(&path, Some(id_of("-u")?), Some(id_of("-g")?))
                .map_err(system(action))?;
        }
        Ok(path)
    }

    /// [`LocalServer::start`], plus the watchdog that stops the server when this process exits
    /// (for servers kept in statics, which are never dropped).
    pub fn start_watched() -> Result<Self, LocalServerError> {
        let server = Self::start()?;
        server.spawn_watchdog()?;
        Ok(server)
    }

    fn init(&self) -> Result<(), LocalServerError> {
        if self.as_postgres_user {
            let uid = id_of("-u")?;
            let gid = id_of("-g")?;
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid)).map_err(system(format!(
                "give {} to the postgres user",
                self.dir.display()
            )))?;
        }
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )
        .map(|_| ())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<String, LocalServerError> {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(system(format!("run {program}")))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(LocalServerError::Failed {
                program: program.to_owned(),
                status: output.status,
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }

    fn pg_ctl_start(&self, port: u16) -> Result<(), LocalServerError> {
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            path_str(&self.dir)?
        );
        for (name, value) in &self.settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir())?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .map(|_| ())
    }

    /// Starts the watchdog that stops this server and removes its folder when this process
    /// exits: for a server kept in a static, which is never dropped.
    pub fn watch(&self) -> Result<(), LocalServerError> {
        self.spawn_watchdog()
    }

    fn spawn_watchdog(&self) -> Result<(), LocalServerError> {
        let run_as = if self.as_postgres_user {
            "runuser -u postgres -- "
        } else {
            ""
        };
        spawn_watchdog(
            &format!(
                "{run_as}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
                pg_ctl = self.bin.join("pg_ctl").display(),
                data = self.data_dir().display(),
                dir = self.dir.display(),
            ),
            "start the watchdog",
        )
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::new(format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.port
        ))
    }

    /// Stops the server (`pg_ctl stop -m fast`: open connections are cut).
    pub fn stop(&self) -> Result<(), LocalServerError> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir())?,
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        )
        .map(|_| ())
    }

    /// Starts the server, stopped or only [created](LocalServer::create), on its port.
    pub fn restart(&self) -> Result<(), LocalServerError> {
        self.pg_ctl_start(self.port)
    }
}

impl LocalServer {
    fn started(mut self) -> Result<Self, LocalServerError> {
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            match self.pg_ctl_start(port) {
                Ok(()) => {
                    self.port = port;
                    return Ok(self);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(LocalServerError::NotInstalled))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path_str(path: &Path) -> Result<&str, LocalServerError> {
    path.to_str()
        .ok_or_else(|| LocalServerError::NotUtf8(path.to_owned()))
}

pub(super) fn free_port() -> Result<u16, LocalServerError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(system("find a free port"))
}

pub(super) fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub(super) fn id_of(flag: &str) -> Result<u32, LocalServerError> {
    let output = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .map_err(system("run id"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| LocalServerError::NoPostgresUser)
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bin_dir() -> Result<PathBuf, LocalServerError> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os(PG_BINDIR) {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(LocalServerError::NotInBindir(dir))
        };
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| has_tools(dir))
        .ok_or(LocalServerError::NotInstalled)
}
