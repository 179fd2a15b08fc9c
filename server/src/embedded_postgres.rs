//! A private PostgreSQL cluster for when no `DATABASE_URL` is given: found on
//! this machine, initialized once in a data directory, listening only on a
//! Unix socket inside that directory (no TCP port to collide with), stopped
//! cleanly at shutdown and reused on the next start.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::unistd::{Gid, Uid, User};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::process::Command;

/// The role the cluster is created with; it owns the database.
const SUPERUSER: &str = "switchboard";
const DATABASE: &str = "switchboard";
/// Names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server programs found (initdb, pg_ctl, postgres). Install them \
         (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`), \
         put their directory on PATH, or set DATABASE_URL to an existing database"
    )]
    NotInstalled,
    #[error("running as root, PostgreSQL must run as the `postgres` system user, which does not exist: create it (`useradd --system postgres`) or set DATABASE_URL")]
    NoPostgresUser,
    #[error("data directory {path}: {message}")]
    DataDir { path: PathBuf, message: String },
    #[error("`{command}` failed: {output}")]
    Command { command: String, output: String },
    #[error("could not run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("could not create the database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A running cluster this process uses.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    run_as: Option<(Uid, Gid)>,
    /// Whether this process started the server (and so stops it). A cluster
    /// that was already running, for example under a server while someone
    /// runs `switchboard user add`, is used and left running.
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Finds the programs, initializes the data directory if it is new,
    /// starts the server unless it already runs, and makes sure the
    /// application database exists.
    pub async fn start(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::NotInstalled)?;
        let run_as = if Uid::effective().is_root() {
            let user = User::from_name("postgres").ok().flatten().ok_or(EmbeddedError::NoPostgresUser)?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        let data_dir = absolute(data_dir)?;
        let mut cluster = Self { bin_dir, data_dir, run_as, started_here: false };

        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.initialize().await?;
        }
        if cluster.is_running().await? {
            tracing::info!(data_dir = %cluster.data_dir.display(), "embedded PostgreSQL already running; using it");
        } else {
            cluster.run_pg_ctl(&["start", "-w", "-t", "120", "-l"], Some(&cluster.log_file()), true).await?;
            cluster.started_here = true;
            tracing::info!(data_dir = %cluster.data_dir.display(), "embedded PostgreSQL started");
        }
        cluster.ensure_database().await?;
        Ok(cluster)
    }

    /// How to reach the application database: over the socket in the data
    /// directory.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.server_options().database(DATABASE)
    }

    fn server_options(&self) -> PgConnectOptions {
        PgConnectOptions::new().host(&self.data_dir.to_string_lossy()).port(PORT).username(SUPERUSER)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server with a fast shutdown (sessions are closed, data is
    /// flushed), if this process started it.
    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        // Already down (a Ctrl-C in a terminal can reach PostgreSQL too, and it
        // shuts itself down on SIGINT): nothing left to do.
        if !self.started_here || !self.is_running().await? {
            return Ok(());
        }
        self.run_pg_ctl(&["stop", "-w", "-m", "fast"], None, false).await?;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    fn log_file(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    async fn initialize(&self) -> Result<(), EmbeddedError> {
        let dir_error = |message: String| EmbeddedError::DataDir { path: self.data_dir.clone(), message };
        std::fs::create_dir_all(&self.data_dir).map_err(|e| dir_error(e.to_string()))?;
        std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| dir_error(e.to_string()))?;
        if let Some((uid, gid)) = self.run_as {
            nix::unistd::chown(&self.data_dir, Some(uid), Some(gid))
                .map_err(|e| dir_error(format!("cannot hand it to the postgres user: {e}")))?;
        }
        tracing::info!(data_dir = %self.data_dir.display(), "initializing embedded PostgreSQL (first start)");
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        let args = ["-D", &data_dir, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"];
        self.run(&self.bin_dir.join("initdb"), &args, true).await.map(drop)
    }

    async fn is_running(&self) -> Result<bool, EmbeddedError> {
        let mut command = self.command(&self.bin_dir.join("pg_ctl"));
        command.args(["status", "-D"]).arg(&self.data_dir);
        let status = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map_err(|source| EmbeddedError::Spawn { program: "pg_ctl".into(), source })?;
        // pg_ctl status: 0 running, 3 not running, 4 no data directory.
        Ok(status.success())
    }

    async fn run_pg_ctl(&self, args: &[&str], log: Option<&Path>, with_options: bool) -> Result<(), EmbeddedError> {
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        let mut all: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        if let Some(log) = log {
            all.push(log.to_string_lossy().into_owned());
        }
        all.extend(["-D".into(), data_dir.clone()]);
        if with_options {
            // pg_ctl passes -o through a shell, so the socket directory is
            // quoted; a quote in the path itself is refused earlier.
            all.extend(["-o".into(), format!("-c listen_addresses='' -k '{data_dir}'")]);
        }
        self.run(&self.bin_dir.join("pg_ctl"), &all, false).await.map(drop)
    }

    async fn run(&self, program: &Path, args: &[impl AsRef<OsStr>], capture_stdout: bool) -> Result<String, EmbeddedError> {
        let mut command = self.command(program);
        command.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
        // pg_ctl start leaves the server holding its stdout; reading it to the
        // end would wait for the server to exit.
        command.stdout(if capture_stdout { Stdio::piped() } else { Stdio::null() });
        let output =
            command.output().await.map_err(|source| EmbeddedError::Spawn { program: program.display().to_string(), source })?;
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.success() {
            Ok(text)
        } else {
            let log_tail = std::fs::read_to_string(self.log_file())
                .map(|log| log.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"))
                .unwrap_or_default();
            Err(EmbeddedError::Command {
                command: format!(
                    "{} {}",
                    program.display(),
                    args.iter().map(|a| a.as_ref().to_string_lossy()).collect::<Vec<_>>().join(" ")
                ),
                output: format!("{}\n{}", text.trim(), log_tail).trim().to_owned(),
            })
        }
    }

    /// A command that runs as the `postgres` user when we are root (initdb and
    /// postgres refuse to run as root).
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir("/").kill_on_drop(false);
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw());
            command.env("HOME", "/var/lib/postgresql");
        }
        command
    }

    async fn ensure_database(&self) -> Result<(), EmbeddedError> {
        let mut conn = self.server_options().database("postgres").connect().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            // Identifiers cannot be bound as parameters; DATABASE is a constant.
            sqlx::query(&format!("CREATE DATABASE {DATABASE}")).execute(&mut conn).await?;
        }
        conn.close().await?;
        Ok(())
    }
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    let absolute =
        std::path::absolute(path).map_err(|e| EmbeddedError::DataDir { path: path.to_owned(), message: e.to_string() })?;
    let text = absolute.to_string_lossy();
    if text.contains('\'') || text.contains('"') {
        return Err(EmbeddedError::DataDir { path: absolute.clone(), message: "must not contain quotes".into() });
    }
    // The socket path (`<dir>/.s.PGSQL.5432`) must fit the kernel's limit of
    // 107 bytes for Unix socket addresses.
    if text.len() > 90 {
        return Err(EmbeddedError::DataDir {
            path: absolute.clone(),
            message: "is too long to hold PostgreSQL's socket (at most 90 characters); choose a shorter SWITCHBOARD_PGDATA"
                .into(),
        });
    }
    Ok(absolute)
}

/// Where `initdb`, `pg_ctl` and `postgres` are: on PATH, where `pg_config`
/// says, or in Debian's versioned directory (newest version first).
fn find_bin_dir() -> Option<PathBuf> {
    search_bin_dir(std::env::var_os("PATH"), "pg_config", Path::new("/usr/lib/postgresql"))
}

fn search_bin_dir(path: Option<std::ffi::OsString>, pg_config: &str, debian_root: &Path) -> Option<PathBuf> {
    let complete = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|name| dir.join(name).is_file());

    if let Some(path) = path {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() {
                // Follow a symlink to the directory that holds the whole set.
                let real = std::fs::canonicalize(dir.join("initdb")).ok();
                if let Some(real_dir) = real.as_deref().and_then(Path::parent) {
                    if complete(real_dir) {
                        return Some(real_dir.to_owned());
                    }
                }
                if complete(&dir) {
                    return Some(dir);
                }
            }
        }
    }

    if let Ok(output) = std::process::Command::new(pg_config).arg("--bindir").output() {
        if output.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            if complete(&dir) {
                return Some(dir);
            }
        }
    }

    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(debian_root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_install(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for name in ["initdb", "pg_ctl", "postgres"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
    }

    #[test]
    fn nothing_installed_finds_nothing_and_says_what_to_do() {
        let root = tempfile::tempdir().unwrap();
        let found = search_bin_dir(Some("".into()), "/nonexistent/pg_config", root.path());
        assert_eq!(found, None);
        let message = EmbeddedError::NotInstalled.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn the_newest_debian_version_wins() {
        let root = tempfile::tempdir().unwrap();
        fake_install(&root.path().join("9/bin"));
        fake_install(&root.path().join("15/bin"));
        fake_install(&root.path().join("13/bin"));
        std::fs::create_dir_all(root.path().join("16/bin")).unwrap(); // incomplete

        let found = search_bin_dir(None, "/nonexistent/pg_config", root.path());

        assert_eq!(found, Some(root.path().join("15/bin")));
    }

    #[test]
    fn path_comes_first() {
        let root = tempfile::tempdir().unwrap();
        fake_install(&root.path().join("debian/15/bin"));
        fake_install(&root.path().join("on-path"));

        let found = search_bin_dir(
            Some(root.path().join("on-path").into_os_string()),
            "/nonexistent/pg_config",
            &root.path().join("debian"),
        );

        assert_eq!(found, Some(root.path().join("on-path")));
    }

    #[test]
    fn data_directories_that_cannot_hold_a_socket_are_refused() {
        assert!(absolute(Path::new("/tmp/it's")).is_err());
        assert!(absolute(&Path::new("/tmp").join("d".repeat(100))).is_err());
        assert!(absolute(Path::new("/tmp/pg")).is_ok());
    }
}
