#![allow(dead_code)] // each benchmark uses a part of it
//! What the benchmarks share: a fresh database on the server DATABASE_URL
//! names, and the real server in this process on a real socket.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor, PgPool};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Whether this is a small run (`scripts/bench --small`, which the suite
/// runs): every benchmark at a tiny size, to prove it still builds and
/// runs; its figures mean nothing.
pub fn small() -> bool {
    std::env::var_os("BENCH_SMALL").is_some()
}

/// Drops and creates the database `name`, migrated; returns a pool of
/// `connections` and its connect options.
pub async fn fresh_database(name: &str, connections: u32) -> Result<(PgPool, PgConnectOptions), Error> {
    let server_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set (run `make bench`)")?;
    let admin = PgConnectOptions::from_str(&server_url)?;
    let mut conn = admin.clone().connect().await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await?;
    let options = admin.database(name);
    let pool = PgPoolOptions::new().max_connections(connections).connect_with(options.clone()).await?;
    server::database::MIGRATOR.run(&pool).await?;
    app::engine::definitions::apply(&pool).await?;
    Ok((pool, options))
}

/// Serves `router` on a free local port; returns its base URL.
pub async fn serve(router: axum::Router) -> Result<String, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(server::listen::serve(listener, router, std::time::Duration::from_secs(10), std::future::pending()));
    Ok(base)
}

/// The value at `p` (0 to 1) of sorted samples; NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// DATABASE_URL with the database `name` in place of the one it names.
pub fn database_url(name: &str) -> Result<String, Error> {
    let server_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set (run `make bench`)")?;
    let (before_query, query) = server_url.split_once('?').map_or((server_url.as_str(), None), |(a, b)| (a, Some(b)));
    let (server, _) = before_query.rsplit_once('/').ok_or("DATABASE_URL has no database name")?;
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

/// A field of `/proc/<pid>/status` in kB (0 if unreadable).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find(|line| line.starts_with(field)).and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The fields of `/proc/<pid>/stat` after the command name (the first is
/// the state, field 3).
fn stat(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.split_whitespace().map(str::to_owned).collect()))
        .unwrap_or_default()
}

/// Linux counts processor time in ticks of 1/100 s (USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// Processor time a process has used (user and system), in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let fields = stat(pid);
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15.
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// A process's parent.
pub fn parent(pid: u32) -> u32 {
    stat(pid).get(1).and_then(|field| field.parse().ok()).unwrap_or(0)
}

/// Processor time of a process and its children (PostgreSQL's postmaster
/// and its backends), in seconds.
pub fn tree_cpu_seconds(root: u32) -> f64 {
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent(*pid) == root)
        .map(cpu_seconds)
        .sum();
    cpu_seconds(root) + children
}
