//! With no DATABASE_URL the server runs its own PostgreSQL in a data
//! directory: it comes up, serves, stops cleanly, and starts again on the
//! same data.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn command(data_dir: &Path, log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    command
        .env_remove("DATABASE_URL")
        .env_remove("SWITCHBOARD_SECRET_KEY")
        .env("SWITCHBOARD_PGDATA", data_dir)
        .env("SWITCHBOARD_SECRET_KEY_FILE", data_dir.with_file_name("secret-key"))
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/readyz")).await {
            if response.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server never became ready:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn stop(mut child: Child, log: &Path) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "server exited with {status}:\n{}", std::fs::read_to_string(log).unwrap_or_default());
            return;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn sign_in(base: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .header("accept", "application/json")
        .form(&[("email", "nia@example.com"), ("password", "nia's long password"), ("next", "")])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_embedded_database_starts_stops_and_keeps_its_data() {
    // PostgreSQL runs as the `postgres` user when the tests run as root, so
    // the directory must be reachable for it.
    let dir = tempfile::Builder::new().prefix("sbemb").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("pg");
    let log = dir.path().join("server.log");

    // The command line initializes the cluster, adds a user, and stops it.
    let mut add = command(&data, &log)
        .args(["user", "add", "--email", "nia@example.com", "--name", "Nia", "--role", "agent"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"nia's long password\n").unwrap();
    assert!(add.wait().unwrap().success(), "{}", std::fs::read_to_string(&log).unwrap());
    assert!(data.join("PG_VERSION").exists());
    assert!(!data.join("postmaster.pid").exists(), "the command left PostgreSQL running");

    for round in 1..=2 {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = command(&data, &log).env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}")).spawn().unwrap();
        wait_ready(&base, &log).await;

        assert_eq!(sign_in(&base).await, 200, "round {round}: the user from before is there");
        stop(server, &log);
        assert!(!data.join("postmaster.pid").exists(), "round {round}: PostgreSQL still running after shutdown");
    }
    // No TCP port: the cluster listened only on its socket in the data directory.
    let conf = std::fs::read_to_string(&log).unwrap();
    assert!(!conf.contains("listening on IPv4"), "PostgreSQL opened a TCP port");

    // The first start made the secret key beside the data, for its user
    // only, and the second used it. Started with another key, the server
    // refuses and says why.
    let key = dir.path().join("secret-key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(conf.contains("made the key stored secrets are sealed with"), "{conf}");
    let other = command(&data, &log)
        .env("SWITCHBOARD_SECRET_KEY", "b3RoZXIga2V5LCBvdGhlciBrZXksIDMyIGJ5dGVzISE=")
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{}", free_port()))
        .status()
        .unwrap();
    assert!(!other.success(), "the server started with another key");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("is not the key this database's secrets were sealed with"), "{said}");
    assert!(!data.join("postmaster.pid").exists(), "the refused start left PostgreSQL running");
}
