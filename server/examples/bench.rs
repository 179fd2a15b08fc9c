//! `make bench`: drives the real server and database and prints figures.
//!
//! Customers enter through the server's HTTP API (half to a push queue with
//! 100 READY agents, half to a pull queue with 20 agents pressing "Next
//! customer"); the agents take them, end and wrap up through the routing
//! engine. Then pgbench runs, on the same database in the same run, one
//! transaction of the same shape as a match (insert an entry, claim the head
//! with FOR UPDATE SKIP LOCKED, delete it, insert an assignment): the ceiling
//! a match can approach.
//!
//! Needs DATABASE_URL naming a PostgreSQL server where it may create the
//! database `switchboard_bench` (scripts/bench starts a throwaway one).

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::routing::{self, agents, EndedBy};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor, PgPool};
use uuid::Uuid;

const PUSH_AGENTS: usize = 100;
const PULL_AGENTS: usize = 20;
const CLIENTS: usize = 16;
const RUN: Duration = Duration::from_secs(15);
const PGBENCH_SECONDS: u32 = 15;
const PGBENCH_CLIENTS: u32 = 8;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set (run `make bench`)")?;
    let admin = PgConnectOptions::from_str(&server_url)?;
    let mut conn = admin.clone().connect().await?;
    conn.execute("DROP DATABASE IF EXISTS switchboard_bench WITH (FORCE)").await?;
    conn.execute("CREATE DATABASE switchboard_bench").await?;
    let options = admin.database("switchboard_bench");
    let pool = PgPoolOptions::new().max_connections(40).connect_with(options.clone()).await?;
    server::database::MIGRATOR.run(&pool).await?;

    // The real server, in this process, on a real socket.
    let config = server::config::Config::from_env()?;
    let state = server::http::state(pool.clone(), &config).await?;
    let live = server::live::Live::new(Duration::from_secs(config.grace_seconds));
    live.start(pool.clone());
    let router = server::http::router(state, &config, live);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });

    let push_queue = make_queue(&pool, "Bench push", "push").await?;
    let pull_queue = make_queue(&pool, "Bench pull", "pull").await?;
    let mut push_agents = Vec::new();
    for n in 0..PUSH_AGENTS {
        let id = make_agent(&pool, n, push_queue).await?;
        agents::log_in(&pool, id).await?;
        agents::set_ready(&pool, id).await?;
        push_agents.push(id);
    }
    let mut pull_agents = Vec::new();
    for n in 0..PULL_AGENTS {
        let id = make_agent(&pool, PUSH_AGENTS + n, pull_queue).await?;
        agents::log_in(&pool, id).await?;
        pull_agents.push(id);
    }
    println!(
        "switchboard bench: {PUSH_AGENTS} push agents READY, {PULL_AGENTS} pull agents, {CLIENTS} HTTP clients entering customers for {} s",
        RUN.as_secs()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();

    // Push agents: answer every offer as it comes (read from the offers
    // table by one dispatcher task, as a desk would receive it).
    {
        let pool = pool.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let offers: Vec<(Uuid, Uuid)> =
                    sqlx::query_as("SELECT representative_id, help_session_id FROM offers").fetch_all(&pool).await?;
                let mut handled = Vec::new();
                for (agent, session) in offers {
                    let pool = pool.clone();
                    handled.push(tokio::spawn(async move { take(&pool, agent, session).await }));
                }
                for task in handled {
                    task.await??;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Ok::<(), Error>(())
        }));
    }
    // Pull agents: "Next customer" as fast as they can.
    for agent in pull_agents {
        let pool = pool.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                match routing::next_customer(&pool, agent).await? {
                    Some(taken) => finish(&pool, agent, taken.help_session_id).await?,
                    None => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
            Ok::<(), Error>(())
        }));
    }
    // Customers enter through the HTTP API.
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let base = base.clone();
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let queue = if (c + n as usize) % 2 == 0 { push_queue } else { pull_queue };
                let created: Value = http
                    .post(format!("{base}/help/session"))
                    .json(&json!({ "name": format!("customer {c}-{n}"), "reason": "bench", "channel": "audio", "queue": queue }))
                    .send()
                    .await?
                    .json()
                    .await?;
                let token = created["token"].as_str().ok_or("no token")?;
                let response = http.post(format!("{base}/help/queue")).bearer_auth(token).send().await?;
                if !response.status().is_success() {
                    return Err(format!("enqueue answered {}", response.status()).into());
                }
                n += 1;
            }
            Ok::<u64, Error>(n)
        }));
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::SeqCst);
    let elapsed = started.elapsed().as_secs_f64();
    let mut entered = 0;
    for client in clients {
        entered += client.await??;
    }
    for task in tasks {
        task.await??;
    }

    let connects: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'CONNECT'").fetch_one(&pool).await?;
    let (p50, p99, offered): (Option<f64>, Option<f64>, i64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), count(*)
           FROM (SELECT extract(epoch FROM o.at - e.at) * 1000 AS ms
                   FROM events e
                   JOIN LATERAL (SELECT at FROM events o WHERE o.help_session_id = e.help_session_id
                                    AND o.kind = 'OFFER' ORDER BY id LIMIT 1) o ON true
                  WHERE e.kind = 'ENTER_QUEUE' AND e.queue_id = $1) waits",
    )
    .bind(push_queue)
    .fetch_one(&pool)
    .await?;
    let matches_per_second = connects as f64 / elapsed;

    let ceiling = pgbench(&pool, &options).await?;
    println!();
    println!("customers entered        {entered} ({:.0}/s)", entered as f64 / elapsed);
    println!("matches (CONNECT)        {connects} in {elapsed:.1} s = {matches_per_second:.0} matches/s");
    println!(
        "enter-to-offer (push)    p50 {:.1} ms, p99 {:.1} ms over {offered} offers",
        p50.unwrap_or(f64::NAN),
        p99.unwrap_or(f64::NAN)
    );
    println!("pgbench same-shape tx    {ceiling:.0} tps ({PGBENCH_CLIENTS} clients, {PGBENCH_SECONDS} s)");
    println!("matches / ceiling        {:.0}%", 100.0 * matches_per_second / ceiling);
    pool.close().await;
    Ok(())
}

async fn take(pool: &PgPool, agent: Uuid, session: Uuid) -> Result<(), Error> {
    match routing::accept(pool, agent, session).await {
        Ok(()) => finish(pool, agent, session).await,
        Err(app::error::AppError::NotFound(_)) => Ok(()),
        Err(error) => Err(error.to_string().into()),
    }
}

async fn finish(pool: &PgPool, agent: Uuid, session: Uuid) -> Result<(), Error> {
    routing::end(pool, session, EndedBy::Agent).await?;
    routing::wrap_up(pool, agent, session, "Resolved", "").await?;
    Ok(())
}

async fn make_queue(pool: &PgPool, name: &str, mode: &str) -> Result<Uuid, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO queues (name, routing_mode, when_nobody) VALUES ($1, $2, 'accept') RETURNING id",
    )
    .bind(name)
    .bind(mode)
    .fetch_one(pool)
    .await?)
}

async fn make_agent(pool: &PgPool, n: usize, queue: Uuid) -> Result<Uuid, Error> {
    let mut tx = pool.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO representatives (email, display_name, role, password_hash) VALUES ($1, $2, 'agent', 'x') RETURNING id",
    )
    .bind(format!("bench{n}@example.com"))
    .bind(format!("Bench agent {n}"))
    .fetch_one(&mut *tx)
    .await?;
    agents::provision(&mut tx, id).await?;
    sqlx::query("DELETE FROM queue_members WHERE representative_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(queue)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// pgbench with a transaction shaped like a match, on the same database.
async fn pgbench(pool: &PgPool, options: &PgConnectOptions) -> Result<f64, Error> {
    pool.execute(
        "CREATE TABLE bench_entries (id bigserial PRIMARY KEY, queue int NOT NULL, enqueued_at timestamptz NOT NULL DEFAULT now());
         CREATE INDEX ON bench_entries (queue, enqueued_at, id);
         CREATE TABLE bench_assignments (entry_id bigint NOT NULL, agent int NOT NULL, at timestamptz NOT NULL DEFAULT now());",
    )
    .await?;
    let script = std::env::temp_dir().join("switchboard-bench.sql");
    std::fs::write(
        &script,
        "\\set q random(1, 4)\n\
         BEGIN;\n\
         INSERT INTO bench_entries (queue) VALUES (:q);\n\
         WITH head AS (SELECT id FROM bench_entries WHERE queue = :q ORDER BY enqueued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED), \
              gone AS (DELETE FROM bench_entries WHERE id IN (SELECT id FROM head) RETURNING id) \
         INSERT INTO bench_assignments (entry_id, agent) SELECT id, :q FROM gone;\n\
         END;\n",
    )?;
    // A Unix socket directory when the URL names one (`?host=/dir`).
    let host = match options.get_socket() {
        Some(socket) => socket.to_string_lossy().into_owned(),
        None => options.get_host().to_owned(),
    };
    let port = options.get_port().to_string();
    let user = options.get_username().to_owned();
    let pgbench = ["pgbench".to_owned()]
        .into_iter()
        .chain(std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|entry| {
            entry.path().join("bin/pgbench").to_string_lossy().into_owned()
        }))
        .find(|candidate| std::process::Command::new(candidate).arg("--version").output().is_ok())
        .ok_or("pgbench not found (Debian: apt-get install postgresql-contrib, or postgresql)")?;
    let output = tokio::process::Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-c", &PGBENCH_CLIENTS.to_string(), "-j", "2", "-T", &PGBENCH_SECONDS.to_string()])
        .arg("-f")
        .arg(&script)
        .args(["-h", &host, "-p", &port, "-U", &user, "switchboard_bench"])
        .output()
        .await?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| format!("pgbench printed no tps: {text}{}", String::from_utf8_lossy(&output.stderr)).into())
}
