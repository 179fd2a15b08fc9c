//! `make bench`: live positions at scale, through real servers and real
//! WebSockets.
//!
//! 10,000 customers wait in one pull queue, each with their waiting page's
//! socket open (`/ws/customer`). Then, 10 times a second for 30 s, the line
//! changes: a customer enters (and opens their page), one
//! leaves (`DELETE /help/queue/{id}`), or a representative takes the head
//! (`DELETE /help/queue`). This generator keeps the true line and, for every
//! page whose place changed, how long after the change that page showed its
//! new place. Printed: those delays (p50, p99, max), the pages that never
//! showed their place, each server's memory, and the processor time of the
//! servers and of PostgreSQL, busy and idle. Once with one server, once with
//! two servers on the same database (the pages and changes split between
//! them).
//!
//! Needs DATABASE_URL (a PostgreSQL server where it may create the database
//! `switchboard_bench_lines`) and the release server binary
//! (`target/release/switchboard`, or SWITCHBOARD_BIN); scripts/bench builds
//! it and raises the open-files limit.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use app::engine::control::{self, EndedBy};
use app::engine::line::{self, NewRequest};
use app::engine::{agents, Engine};
use app::queue::Channel;
use app::states::{AgentId, HelpSessionId, QueueId};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::Value;
use sqlx::PgPool;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

mod support;

use support::{percentile, Error};

/// The sizes of a run: `make bench`'s, or tiny ones under
/// `scripts/bench --small` (the suite's proof that this still runs).
#[derive(Clone, Copy)]
struct Sizes {
    /// Customers waiting, each with their page open.
    line: usize,
    changes_per_second: u64,
    run: Duration,
    /// How long the full line stands still before the changes.
    idle: Duration,
}

static SIZES: LazyLock<Sizes> = LazyLock::new(|| {
    if support::small() {
        Sizes { line: 20, changes_per_second: 5, run: Duration::from_secs(2), idle: Duration::from_secs(1) }
    } else {
        Sizes { line: 10_000, changes_per_second: 10, run: Duration::from_secs(30), idle: Duration::from_secs(10) }
    }
});
/// How long pages have after the last change to show their place.
const SETTLE: Duration = Duration::from_secs(3);
const PASSWORD: &str = "bench representative password";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (pool, _) = support::fresh_database("switchboard_bench_lines", 40).await?;
    let url = support::database_url("switchboard_bench_lines")?;
    let engine = Engine::new(pool.clone());
    let binary = std::env::var("SWITCHBOARD_BIN").unwrap_or_else(|_| "target/release/switchboard".into());

    let mut results = Vec::new();
    for servers in [1, 2] {
        sqlx::query("TRUNCATE help_sessions, queue_entries, customer_tokens, events, connections, instances CASCADE")
            .execute(&pool)
            .await?;
        let run = run(&engine, &url, &binary, servers).await?;
        results.push((servers, run));
    }

    let Sizes { line, changes_per_second, run: run_for, .. } = *SIZES;
    println!();
    println!(
        "live positions ({line} customers waiting in one queue, each page's socket open; \
         {changes_per_second} changes/s for {} s: enter, leave, taken)",
        run_for.as_secs()
    );
    for (servers, run) in &results {
        println!("  {servers} server(s)");
        println!(
            "    new place shown          p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} page updates; {} pages never shown",
            run.p50, run.p99, run.max, run.updates, run.missed
        );
        println!(
            "    server memory (RSS)      {}",
            run.rss_mib.iter().map(|mib| format!("{mib:.0} MiB")).collect::<Vec<_>>().join(", ")
        );
        println!("    processor, changing      servers {:.2} cores, PostgreSQL {:.2} cores", run.busy.0, run.busy.1);
        println!("    processor, idle          servers {:.2} cores, PostgreSQL {:.2} cores", run.idle.0, run.idle.1);
    }
    pool.close().await;
    Ok(())
}

struct Run {
    p50: f64,
    p99: f64,
    max: f64,
    updates: usize,
    missed: usize,
    rss_mib: Vec<f64>,
    /// Cores used by the servers and by PostgreSQL.
    busy: (f64, f64),
    idle: (f64, f64),
}

/// The true line as this generator made it, and what each page showed.
#[derive(Default)]
struct Model {
    /// In line order: index + 1 is the place.
    line: Vec<HelpSessionId>,
    pages: HashMap<HelpSessionId, Truth>,
    /// Milliseconds from a change to the page showing its new place.
    delays: Vec<f64>,
}

struct Truth {
    place: i64,
    since: Instant,
    shown: bool,
}

impl Model {
    /// Everyone from `from` on has a new place as of now.
    fn renumber(&mut self, from: usize) {
        let now = Instant::now();
        for (index, id) in self.line.iter().enumerate().skip(from) {
            self.pages.insert(*id, Truth { place: index as i64 + 1, since: now, shown: false });
        }
    }

    fn heard(&mut self, id: HelpSessionId, place: i64, at: Instant) {
        if let Some(truth) = self.pages.get_mut(&id) {
            if truth.place == place && !truth.shown {
                truth.shown = true;
                self.delays.push(at.saturating_duration_since(truth.since).as_secs_f64() * 1000.0);
            }
        }
    }
}

async fn run(engine: &Engine, url: &str, binary: &str, count: usize) -> Result<Run, Error> {
    let pool = engine.pool();
    let queue: QueueId =
        sqlx::query_scalar("INSERT INTO queues (name, routing_mode, when_nobody) VALUES ($1, 'pull', 'accept') RETURNING id")
            .bind(format!("Bench line {count}"))
            .fetch_one(pool)
            .await?;
    let (email, agent) = representative(pool, queue, count).await?;
    agents::log_in(engine, agent).await?;
    agents::set_ready(engine, agent).await?;

    let mut servers = Vec::new();
    for n in 0..count {
        servers.push(Server::start(binary, url, 3100 + n as u16).await?);
    }
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let signed_in = http
        .post(format!("{}/api/login", servers[0].base))
        .form(&[("email", email.as_str()), ("password", PASSWORD), ("next", "")])
        .send()
        .await?;
    if !signed_in.status().is_success() {
        return Err(format!("the representative cannot sign in: {}", signed_in.status()).into());
    }

    let Sizes { line, changes_per_second, run: run_for, idle: idle_for } = *SIZES;
    println!("positions with {count} server(s): {line} customers entering, their pages connecting");
    let tokens = enter(engine, queue, line).await?;
    let order: Vec<HelpSessionId> = sqlx::query_scalar(
        "SELECT help_session_id FROM queue_entries WHERE queue_id = $1 ORDER BY priority DESC, enqueued_at, help_session_id",
    )
    .bind(queue)
    .fetch_all(pool)
    .await?;
    let model = Arc::new(Mutex::new(Model { line: order, ..Model::default() }));
    model.lock().map_err(|_| "poisoned")?.renumber(0);
    let mut pages = HashMap::new();
    for (n, (id, token)) in tokens.iter().enumerate() {
        pages.insert(*id, open_page(&servers[n % count].base, *id, token, model.clone()).await?);
    }
    settle(&model).await;
    model.lock().map_err(|_| "poisoned")?.delays.clear();

    let rss_mib = servers.iter().map(Server::rss_mib).collect();
    let idle = measure(&servers, pool, async {
        tokio::time::sleep(idle_for).await;
        Ok(())
    })
    .await?;

    let tokens: HashMap<HelpSessionId, String> = tokens.into_iter().collect();
    let busy = measure(&servers, pool, async {
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / changes_per_second));
        let started = Instant::now();
        let mut n = 0usize;
        let mut tokens = tokens;
        while started.elapsed() < run_for {
            tick.tick().await;
            let base = &servers[n % count].base;
            n += 1;
            let change = rand::thread_rng().gen_range(0..3);
            let result = match change {
                0 => {
                    let fresh = enter(engine, queue, 1).await?;
                    let (id, token) = fresh.into_iter().next().ok_or("no customer")?;
                    {
                        let mut model = model.lock().map_err(|_| "poisoned")?;
                        model.line.push(id);
                        let last = model.line.len() - 1;
                        model.renumber(last);
                    }
                    pages.insert(id, open_page(base, id, &token, model.clone()).await?);
                    tokens.insert(id, token);
                    Ok(())
                }
                1 => {
                    let (id, index) = {
                        let mut model = model.lock().map_err(|_| "poisoned")?;
                        let index = rand::thread_rng().gen_range(0..model.line.len());
                        let id = model.line.remove(index);
                        model.pages.remove(&id);
                        model.renumber(index);
                        (id, index)
                    };
                    let _ = index;
                    let token = tokens.remove(&id).ok_or("no token")?;
                    let left = http.delete(format!("{base}/help/queue/{id}")).bearer_auth(&token).send().await?;
                    pages.remove(&id);
                    if left.status().as_u16() == 204 {
                        Ok(())
                    } else {
                        Err(format!("leave answered {}", left.status()))
                    }
                }
                _ => {
                    {
                        let mut model = model.lock().map_err(|_| "poisoned")?;
                        let id = model.line.remove(0);
                        model.pages.remove(&id);
                        model.renumber(0);
                        tokens.remove(&id);
                        pages.remove(&id);
                    }
                    let taken = http.delete(format!("{}/help/queue", servers[0].base)).send().await?;
                    let body: Value = taken.json().await?;
                    // Served at once, so the representative has room again.
                    let session: HelpSessionId =
                        body["help_session_id"].as_str().ok_or("nobody taken")?.parse().map_err(|_| "not an id")?;
                    control::end(engine, session, EndedBy::Agent).await?;
                    control::wrap_up(engine, agent, session, "Resolved", "").await?;
                    Ok(())
                }
            };
            result?;
        }
        Ok::<(), Error>(())
    })
    .await?;
    settle(&model).await;

    let (missed, mut delays) = {
        let mut model = model.lock().map_err(|_| "poisoned")?;
        (model.pages.values().filter(|truth| !truth.shown).count(), std::mem::take(&mut model.delays))
    };
    delays.sort_by(f64::total_cmp);
    let delays = &delays;
    let run = Run {
        p50: percentile(delays, 0.5),
        p99: percentile(delays, 0.99),
        max: percentile(delays, 1.0),
        updates: delays.len(),
        missed,
        rss_mib,
        busy,
        idle,
    };
    drop(pages);
    for server in servers {
        server.stop().await;
    }
    Ok(run)
}

/// Waits until every page shows its place, or SETTLE passes.
async fn settle(model: &Mutex<Model>) {
    let deadline = Instant::now() + SETTLE;
    while Instant::now() < deadline {
        let pending = model.lock().map(|model| model.pages.values().filter(|truth| !truth.shown).count()).unwrap_or(0);
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A representative who can sign in and serves `queue`.
async fn representative(pool: &PgPool, queue: QueueId, n: usize) -> Result<(String, AgentId), Error> {
    let email = format!("bench-lines-{n}@example.com");
    let hash = app::auth::password::hash(app::model::NewPassword::parse(PASSWORD)?).await?;
    let mut tx = pool.begin().await?;
    let agent: AgentId = sqlx::query_scalar(
        "INSERT INTO representatives (email, display_name, role, password_hash) VALUES ($1, 'Bench', 'agent', $2) RETURNING id",
    )
    .bind(&email)
    .bind(hash)
    .fetch_one(&mut *tx)
    .await?;
    agents::provision(&mut tx, agent).await?;
    sqlx::query("DELETE FROM queue_members WHERE representative_id = $1").bind(agent).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(queue)
        .bind(agent)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((email, agent))
}

/// `count` customers enter `queue` through the engine, 32 at a time; their
/// tokens.
async fn enter(engine: &Engine, queue: QueueId, count: usize) -> Result<Vec<(HelpSessionId, String)>, Error> {
    let mut entered = Vec::with_capacity(count);
    let mut batch = Vec::new();
    for n in 0..count {
        let engine = engine.clone();
        batch.push(tokio::spawn(async move {
            let request = NewRequest {
                from_api: None,
                from_widget: None,
                from_address: None,
                language: None,
                queue_id: queue,
                customer_name: format!("Customer {n}"),
                reason: "Waiting in a long line".into(),
                channel: Channel::Chat,
                phone: None,
                priority: 0,
                window: None,
            };
            let id = line::enter(&engine, request).await?;
            let token = app::customer::token::issue(engine.pool(), id).await?;
            Ok::<_, app::error::AppError>((id, token))
        }));
        if batch.len() == 32 || n + 1 == count {
            for task in batch.drain(..) {
                entered.push(task.await??);
            }
        }
    }
    Ok(entered)
}

/// A customer's waiting page: its socket, reporting every place it shows.
async fn open_page(base: &str, id: HelpSessionId, token: &str, model: Arc<Mutex<Model>>) -> Result<Page, Error> {
    let url = format!("{}/ws/customer?token={token}", base.replace("http://", "ws://"));
    let (socket, _) = tokio_tungstenite::connect_async(url).await?;
    let (mut write, mut read) = socket.split();
    let task = tokio::spawn(async move {
        let mut heartbeat = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                message = read.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let at = Instant::now();
                        let view: Value = serde_json::from_str(&text).unwrap_or_default();
                        if let Some(place) = view["position"].as_i64() {
                            if let Ok(mut model) = model.lock() {
                                model.heard(id, place, at);
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                },
                _ = heartbeat.tick() => {
                    if write.send(Message::Text("ping".into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(Page(task))
}

/// An open page; closed when dropped.
struct Page(tokio::task::JoinHandle<()>);

impl Drop for Page {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A server process.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(binary: &str, database_url: &str, port: u16) -> Result<Self, Error> {
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("SWITCHBOARD_DB_MAX_CONNECTIONS", "20")
            .env("SWITCHBOARD_HELP_REQUESTS_PER_MINUTE", "1000000")
            .env("SWITCHBOARD_HELP_REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000")
            .env("SWITCHBOARD_UNCONNECTED_SECONDS", "3600")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot start {binary}: {error} (build it with cargo build --release -p server)"))?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(Self { child, base });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("{binary} did not start on port {port}").into())
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    fn rss_mib(&self) -> f64 {
        support::status_kib(self.pid(), "VmRSS:") as f64 / 1024.0
    }

    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// Runs `work` and answers the cores the servers and PostgreSQL used
/// meanwhile.
async fn measure(
    servers: &[Server],
    pool: &PgPool,
    work: impl std::future::Future<Output = Result<(), Error>>,
) -> Result<(f64, f64), Error> {
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pool).await?;
    let postmaster = support::parent(backend as u32);
    let ours = || servers.iter().map(|server| support::cpu_seconds(server.pid())).sum::<f64>();
    let database = || support::tree_cpu_seconds(postmaster);
    let (servers_before, database_before, started) = (ours(), database(), Instant::now());
    work.await?;
    let wall = started.elapsed().as_secs_f64();
    Ok(((ours() - servers_before) / wall, (database() - database_before) / wall))
}
