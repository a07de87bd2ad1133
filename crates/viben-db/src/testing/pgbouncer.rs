//! A PgBouncer in transaction mode in front of a test server, in a temporary folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::LocalServerError;
use super::local::{free_port, id_of, running_as_root, spawn_watchdog, system};
use crate::DatabaseUrl;

/// How long a started PgBouncer is given to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A PgBouncer this process started (from the installed `pgbouncer`) in front of a
/// PostgreSQL server, with `pool_mode = transaction`: clients share a few server connections,
/// and each transaction may run on another one. Stopped, and its folder removed, when dropped.
///
/// Clients log in without a password (`auth_type = trust`) as the user the upstream URL names;
/// PgBouncer logs in to the server as that user without a password too, so the server must
/// trust 127.0.0.1, as the tests' servers do. When the tests run as root it runs as the
/// `postgres` OS user, as PgBouncer refuses root.
#[derive(Debug)]
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl PgBouncer {
    /// Starts one on a free port in front of the server `upstream` names, with
    /// `default_pool_size = pool_size` server connections per database and user.
    pub fn start(upstream: &DatabaseUrl, pool_size: u32) -> Result<Self, LocalServerError> {
        let program = find_pgbouncer()?;
        let user = current_user(upstream)?;
        let as_postgres_user = running_as_root();
        let parent = if as_postgres_user && Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("viben-pgbouncer-")
            .tempdir_in(parent)
            .map_err(system("make a temporary folder"))?
            .keep();
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            match start_on(
                &program,
                &dir,
                upstream,
                &user,
                pool_size,
                port,
                as_postgres_user,
            ) {
                Ok(child) => {
                    let bouncer = Self { dir, port, child };
                    bouncer.spawn_watchdog()?;
                    return Ok(bouncer);
                }
                Err(e) => last = Some(e),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last.unwrap_or(LocalServerError::PgBouncerNotInstalled))
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `url` (a database on the upstream server) through this PgBouncer: the same user and
    /// database, this host and port.
    pub fn url_for(&self, url: &DatabaseUrl) -> DatabaseUrl {
        url.with_param("host", "127.0.0.1")
            .with_param("port", &self.port.to_string())
    }

    /// PgBouncer's own process id (from its pid file; else the child's, which as root is
    /// runuser's, and runuser passes SIGTERM on).
    fn pid(&self) -> u32 {
        std::fs::read_to_string(self.dir.join("pgbouncer.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .unwrap_or_else(|| self.child.id())
    }

    /// A small `sh` loop, in its own process group, that stops PgBouncer and removes its folder
    /// when this process exits without dropping it (killed, or aborted), as the server's
    /// watchdog does.
    fn spawn_watchdog(&self) -> Result<(), LocalServerError> {
        // Only while the pid file is there: after a drop (which removes the folder) the pid
        // may belong to another process.
        spawn_watchdog(
            &format!(
                "[ -f '{dir}/pgbouncer.pid' ] && kill -TERM {pid} 2>/dev/null; rm -rf '{dir}'",
                pid = self.pid(),
                dir = self.dir.display(),
            ),
            "start the PgBouncer watchdog",
        )
    }

    /// The end of its log, for failure messages.
    pub fn log(&self) -> String {
        log_tail(&self.dir)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // SIGTERM: immediate shutdown. Sent to PgBouncer itself (its pid file), as runuser
        // does not pass SIGKILL on.
        let pid = self.pid();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_on(
    program: &Path,
    dir: &Path,
    upstream: &DatabaseUrl,
    user: &str,
    pool_size: u32,
    port: u16,
    as_postgres_user: bool,
) -> Result<Child, LocalServerError> {
    let path = |name: &str| dir.join(name).display().to_string();
    let config = format!(
        "[databases]\n\
         * = host={host} port={upstream_port}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {auth}\n\
         pool_mode = transaction\n\
         default_pool_size = {pool_size}\n\
         max_client_conn = 200\n\
         pidfile = {pid}\n\
         logfile = {log}\n",
        host = upstream.host(),
        upstream_port = upstream.port(),
        auth = path("users.txt"),
        pid = path("pgbouncer.pid"),
        log = path("pgbouncer.log"),
    );
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(system(format!("write {}", path(name))))
    };
    write("pgbouncer.ini", &config)?;
    write("users.txt", &format!("\"{user}\" \"\"\n"))?;
    let _ = std::fs::remove_file(dir.join("pgbouncer.log"));
    let mut command = if as_postgres_user {
        let (uid, gid) = (id_of("-u")?, id_of("-g")?);
        for entry in [
            dir.to_owned(),
            dir.join("pgbouncer.ini"),
            dir.join("users.txt"),
        ] {
            std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).map_err(system(format!(
                "give {} to the postgres user",
                entry.display()
            )))?;
        }
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    let mut child = command
        .arg(dir.join("pgbouncer.ini"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(system("run pgbouncer"))?;
    // Poll until it answers (or exits: the port was taken), within READY_WITHIN.
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LocalServerError::Failed {
                program: "pgbouncer".to_owned(),
                status,
                output: log_tail(dir),
            });
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        if started.elapsed() > READY_WITHIN {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LocalServerError::NotReady {
                what: "pgbouncer".to_owned(),
                within: READY_WITHIN,
                log: log_tail(dir),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(QueryableByName)]
struct User {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The user `upstream` logs in as, asked of the server itself.
fn current_user(upstream: &DatabaseUrl) -> Result<String, LocalServerError> {
    let failed = |e: &dyn std::fmt::Display| LocalServerError::NotReady {
        what: format!("the server at {upstream} (for PgBouncer)"),
        within: Duration::ZERO,
        log: upstream.scrub(e.to_string().trim()),
    };
    let mut conn = PgConnection::establish(upstream.expose()).map_err(|e| failed(&e))?;
    diesel::sql_query("SELECT current_user::text AS name")
        .get_result::<User>(&mut conn)
        .map(|u| u.name)
        .map_err(|e| failed(&e))
}

fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// The `pgbouncer` program: on PATH, else where Debian and others install it.
fn find_pgbouncer() -> Result<PathBuf, LocalServerError> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| p.is_file())
        .ok_or(LocalServerError::PgBouncerNotInstalled)
}
