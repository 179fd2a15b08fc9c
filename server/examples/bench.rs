//! `make bench`: drives the real server and database and prints figures.
//!
//! 1. Live service, through the server's HTTP API: customers enter a push
//!    queue with 100 representatives READY; each representative answers an
//!    offer the moment it reaches them (by LISTEN, as their desk's server
//!    hears it), ends and wraps up. Enter-to-offer is measured from sending
//!    `POST /help/queue` to the OFFER wake-up arriving.
//! 2. Matching: representatives with room (three chat seats each, the
//!    product's default) and customers, 32 at a time. Pull: a line waiting,
//!    representatives pressing "Next customer". Push: representatives READY,
//!    customers arriving as fast as the server lets them in (each offered in
//!    the transaction that lets them in), every offer heard accepted; offers
//!    and accepts per second are printed apart.
//! 3. Without the engine: pgbench's clients run the same SQL the server
//!    runs for a match (pull: "Next customer"; push: enter and offer, then
//!    accept), one customer at a time; what the database itself allows
//!    for a match of this product. The engine should be within 10% of it.
//!
//! Needs DATABASE_URL naming a PostgreSQL server where it may create the
//! database `switchboard_bench` (scripts/bench starts a throwaway one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use app::engine::control::{self, EndedBy};
use app::engine::events::{EventKind, Notice, NOTIFY_CHANNEL};
use app::engine::line::{self, NewRequest};
use app::engine::{agents, offers, pull, Engine};
use app::queue::Channel;
use app::states::{AgentId, HelpSessionId, QueueId};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The sizes of a run: `make bench`'s, or tiny ones under
/// `scripts/bench --small` (the suite's proof that this still runs).
#[derive(Clone, Copy)]
struct Sizes {
    live_agents: usize,
    /// Customers arriving per second in the live run.
    arrivals: u64,
    live_run: Duration,
    /// Representatives per mode in the matching run; each has three chat
    /// seats.
    match_agents: usize,
    /// Presses (or customers) per pgbench client in the run without the
    /// engine: 32 clients make 5,760 of each, inside the 6,000 seats of
    /// 2,000 agents (96 inside 120 when small).
    bare_per_client: u32,
}

static SIZES: LazyLock<Sizes> = LazyLock::new(|| {
    if support::small() {
        Sizes { live_agents: 4, arrivals: 20, live_run: Duration::from_secs(2), match_agents: 40, bare_per_client: 3 }
    } else {
        // Arrivals: far more than any contact center sees, well inside
        // what the machine can serve.
        Sizes { live_agents: 100, arrivals: 100, live_run: Duration::from_secs(10), match_agents: 2_000, bare_per_client: 180 }
    }
});
const SEATS: usize = 3;
/// Representatives (and customers) acting at the same moment in the
/// matching run.
const WORKERS: usize = 32;

mod support;

use support::{percentile, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (pool, options) = support::fresh_database("switchboard_bench", 40).await?;

    // The real server, in this process, on a real socket.
    let mut config = server::config::Config::from_env()?;
    // Every customer comes from this one address, far faster than the
    // anonymous are allowed.
    config.limits.help_per_address_per_minute = 1_000_000;
    config.limits.help_per_minute = 1_000_000;
    let application = server::application::Application::build(pool.clone(), &config).await?;
    let engine = application.state.engine.clone();
    let base = support::serve(application.router.clone()).await?;

    let live_run = live_service(&engine, &base).await?;
    let matching = matching(&engine).await?;
    let pgbench = Pgbench::find(&options)?;
    let bare = without_engine(&engine, &pgbench).await?;

    println!();
    let Sizes { live_agents, arrivals, live_run: run_for, match_agents, .. } = *SIZES;
    println!("live service (HTTP API, {live_agents} representatives READY, {arrivals} arrivals/s, {} s)", run_for.as_secs());
    println!(
        "  customers served         {} ({:.0}/s: enter, offer, accept, end, wrap-up)",
        live_run.served, live_run.served_per_second
    );
    println!("  enter-to-offer           p50 {:.1} ms, p99 {:.1} ms over {} offers", live_run.p50, live_run.p99, live_run.offers);
    println!("matching ({WORKERS} at a time; {} customers and {match_agents} representatives per mode)", match_agents * SEATS);
    println!("  pull (Next customer)     {:.0} matches/s", matching.pull);
    println!("  push offers              {:.0} matches/s (customers entering, each offered)", matching.offers);
    println!("  push accepted            {:.0} /s (offer and accept)", matching.push);
    println!("without the engine (pgbench running the same SQL, {WORKERS} clients, one customer at a time)");
    println!("  pull (Next customer)     {:.0} matches/s", bare.pull);
    println!("  push (enter+offer, accept) {:.0} matches/s", bare.push);
    println!(
        "engine / without it          pull {:.0}%, push {:.0}%",
        100.0 * matching.pull / bare.pull,
        100.0 * matching.push / bare.push
    );
    pool.close().await;
    Ok(())
}

struct LiveRun {
    served: usize,
    served_per_second: f64,
    offers: usize,
    p50: f64,
    p99: f64,
}

/// Customers through the HTTP API; representatives answer by LISTEN.
async fn live_service(engine: &Engine, base: &str) -> Result<LiveRun, Error> {
    let pool = engine.pool();
    let queue = make_queue(pool, "Bench live", "push").await?;
    let Sizes { live_agents, arrivals, live_run, .. } = *SIZES;
    let agents = make_agents(pool, "live", live_agents, queue).await?;
    for agent in &agents {
        agents::set_ready(engine, *agent).await?;
    }
    println!(
        "live service: {live_agents} representatives READY, {arrivals} customers arriving per second for {} s",
        live_run.as_secs()
    );

    // When each customer's enqueue request was sent, and when their offer
    // was heard.
    let sent: Arc<Mutex<HashMap<HelpSessionId, Instant>>> = Arc::default();
    let heard: Arc<Mutex<HashMap<HelpSessionId, Instant>>> = Arc::default();
    let served = Arc::new(AtomicUsize::new(0));
    let mut offers = offer_stream(pool).await?;
    let desks = {
        let engine = engine.clone();
        let heard = heard.clone();
        let served = served.clone();
        tokio::spawn(async move {
            while let Some((session, agent)) = offers.recv().await {
                heard.lock().map_err(|_| "poisoned")?.insert(session, Instant::now());
                let engine = engine.clone();
                let served = served.clone();
                tokio::spawn(async move {
                    if take(&engine, agent, session).await.is_ok() {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            Ok::<(), Error>(())
        })
    };

    let started = Instant::now();
    let http = reqwest::Client::new();
    let mut arrivals = tokio::time::interval(Duration::from_micros(1_000_000 / arrivals));
    let mut customers = Vec::new();
    let mut n = 0u64;
    while started.elapsed() < live_run {
        arrivals.tick().await;
        n += 1;
        let (http, base, sent) = (http.clone(), base.to_owned(), sent.clone());
        customers.push(tokio::spawn(async move {
            let created: Value = http
                .post(format!("{base}/help/session"))
                .json(&json!({ "name": format!("customer {n}"), "reason": "bench", "channel": "audio", "queue": queue }))
                .send()
                .await?
                .json()
                .await?;
            let token = created["token"].as_str().ok_or("no token")?;
            let id: HelpSessionId = created["help_session_id"].as_str().ok_or("no id")?.parse()?;
            sent.lock().map_err(|_| "poisoned")?.insert(id, Instant::now());
            let response = http.post(format!("{base}/help/queue")).bearer_auth(token).send().await?;
            if !response.status().is_success() {
                return Err(format!("enqueue answered {}", response.status()).into());
            }
            Ok::<(), Error>(())
        }));
    }
    for customer in customers {
        customer.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Let the last answers land, then stop listening.
    tokio::time::sleep(Duration::from_millis(500)).await;
    desks.abort();

    let sent = sent.lock().map_err(|_| "poisoned")?;
    let heard = heard.lock().map_err(|_| "poisoned")?;
    let mut waits: Vec<f64> = heard
        .iter()
        .filter_map(|(session, at)| sent.get(session).map(|from| at.duration_since(*from).as_secs_f64() * 1000.0))
        .collect();
    waits.sort_by(f64::total_cmp);
    let served = served.load(Ordering::Relaxed);
    Ok(LiveRun {
        served,
        served_per_second: served as f64 / elapsed,
        offers: waits.len(),
        p50: percentile(&waits, 0.50),
        p99: percentile(&waits, 0.99),
    })
}

/// OFFER wake-ups, as (help session, representative), heard the way every
/// server hears them.
async fn offer_stream(pool: &PgPool) -> Result<mpsc::UnboundedReceiver<(HelpSessionId, AgentId)>, Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    let (offers, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(notification) = listener.recv().await {
            let Ok(notice) = serde_json::from_str::<Notice>(notification.payload()) else { continue };
            if let (true, Some(session), Some(agent)) = (notice.is(EventKind::Offer), notice.help_session, notice.agent) {
                if offers.send((session, agent)).is_err() {
                    break;
                }
            }
        }
    });
    Ok(received)
}

struct Matching {
    pull: f64,
    push: f64,
    offers: f64,
}

/// Matches per second with a line waiting and representatives with room.
async fn matching(engine: &Engine) -> Result<Matching, Error> {
    let pool = engine.pool();
    let pull_queue = make_queue(pool, "Bench pull", "pull").await?;
    let push_queue = make_queue(pool, "Bench push", "push").await?;
    let match_agents = SIZES.match_agents;
    let pull_agents = make_agents(pool, "pull", match_agents, pull_queue).await?;
    let push_agents = make_agents(pool, "push", match_agents, push_queue).await?;
    let waiting = match_agents * SEATS;
    let started = Instant::now();
    enter_customers(engine, pull_queue, waiting).await?;
    println!(
        "matching: {waiting} customers entered a pull queue through the engine in {:.1} s; {match_agents} representatives per mode",
        started.elapsed().as_secs_f64()
    );
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;

    // Pull: each representative presses "Next customer" until their seats
    // are full.
    let started = Instant::now();
    let taken = Arc::new(AtomicUsize::new(0));
    run_split(pull_agents, |agent| {
        let engine = engine.clone();
        let taken = taken.clone();
        async move {
            for _ in 0..SEATS {
                if pull::next_customer(&engine, agent).await?.is_some() {
                    taken.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        }
    })
    .await?;
    let pull = taken.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Push: representatives READY with room and nobody waiting; then
    // customers arrive as fast as the server takes them, each offered in
    // the transaction that lets them in; every offer heard is accepted.
    run_split(push_agents, |agent| {
        let engine = engine.clone();
        async move {
            agents::set_ready(&engine, agent).await?;
            Ok(())
        }
    })
    .await?;
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    let mut offers = offer_stream(pool).await?;
    let started = Instant::now();
    let accepted = Arc::new(AtomicUsize::new(0));
    let all_offered: Arc<Mutex<Option<Instant>>> = Arc::default();
    let acceptors = {
        let engine = engine.clone();
        let accepted = accepted.clone();
        let all_offered = all_offered.clone();
        tokio::spawn(async move {
            let gate = Arc::new(tokio::sync::Semaphore::new(WORKERS));
            let mut offered = 0;
            while let Some((session, agent)) = offers.recv().await {
                offered += 1;
                if offered == waiting {
                    *all_offered.lock().map_err(|_| "poisoned")? = Some(Instant::now());
                }
                let permit = gate.clone().acquire_owned().await?;
                let engine = engine.clone();
                let accepted = accepted.clone();
                tokio::spawn(async move {
                    if offers::accept(&engine, agent, session).await.is_ok() {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(permit);
                });
            }
            Ok::<(), Error>(())
        })
    };
    enter_customers(engine, push_queue, waiting).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while accepted.load(Ordering::Relaxed) < waiting {
        if Instant::now() > deadline {
            return Err(format!("push matching did not finish in 60 s: {} accepted", accepted.load(Ordering::Relaxed)).into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let push = accepted.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    acceptors.abort();
    let offered_in = all_offered.lock().map_err(|_| "poisoned")?.ok_or("not every offer was heard")? - started;
    let offers = waiting as f64 / offered_in.as_secs_f64();
    Ok(Matching { pull, push, offers })
}

/// `count` customers enter `queue` through the engine, `WORKERS` at a time.
async fn enter_customers(engine: &Engine, queue: QueueId, count: usize) -> Result<(), Error> {
    run_split((0..count).collect(), |n| {
        let engine = engine.clone();
        async move {
            let request = NewRequest {
                from_api: None,
                from_widget: None,
                from_address: None,
                language: None,
                queue_id: queue,
                customer_name: format!("waiting {n}"),
                reason: "bench".into(),
                channel: Channel::Chat,
                phone: None,
                priority: 0,
                window: None,
            };
            line::enter(&engine, request).await?;
            Ok(())
        }
    })
    .await
}

/// Runs `work` for every item, `WORKERS` at a time.
async fn run_split<T, F, Fut>(items: Vec<T>, work: F) -> Result<(), Error>
where
    T: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    let mut lanes: Vec<Vec<T>> = (0..WORKERS).map(|_| Vec::new()).collect();
    for (n, item) in items.into_iter().enumerate() {
        lanes[n % WORKERS].push(item);
    }
    let mut tasks = Vec::new();
    for lane in lanes {
        let jobs: Vec<Fut> = lane.into_iter().map(&work).collect();
        tasks.push(tokio::spawn(async move {
            for job in jobs {
                job.await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Accept, end and wrap up, as a representative at their desk would.
async fn take(engine: &Engine, agent: AgentId, session: HelpSessionId) -> Result<(), app::error::AppError> {
    offers::accept(engine, agent, session).await?;
    control::end(engine, session, EndedBy::Agent).await?;
    control::wrap_up(engine, agent, session, "Resolved", "").await
}

async fn make_queue(pool: &PgPool, name: &str, mode: &str) -> Result<QueueId, Error> {
    Ok(sqlx::query_scalar("INSERT INTO queues (name, routing_mode, when_nobody) VALUES ($1, $2, 'accept') RETURNING id")
        .bind(name)
        .bind(mode)
        .fetch_one(pool)
        .await?)
}

/// Representatives who serve only `queue`, with the product's default
/// channels and capacity, logged in (NOT_READY).
async fn make_agents(pool: &PgPool, label: &str, count: usize, queue: QueueId) -> Result<Vec<AgentId>, Error> {
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO representatives (email, display_name, role, password_hash)
         SELECT format('%s%s@bench.example', $1::text, n), format('Bench %s %s', $1::text, n), 'agent', 'x'
           FROM generate_series(1, $2) AS n
         RETURNING id",
    )
    .bind(label)
    .bind(count as i32)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO agent_states (representative_id, state, reason) SELECT id, 'NOT_READY', 'Logged in' FROM unnest($1::uuid[]) AS id")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    let capacity = agents::DEFAULT_CAPACITY;
    let channels: Vec<&str> = capacity.iter().map(|(channel, _, _)| channel.as_str()).collect();
    let live: Vec<i32> = capacity.iter().map(|(_, live, _)| *live).collect();
    let sessions: Vec<i32> = capacity.iter().map(|(_, _, sessions)| *sessions).collect();
    sqlx::query(
        "INSERT INTO agent_channels (representative_id, channel, max_live, max_sessions)
         SELECT id, c.channel, c.max_live, c.max_sessions
           FROM unnest($1::uuid[]) AS id
          CROSS JOIN unnest($2::text[], $3::int[], $4::int[]) AS c (channel, max_live, max_sessions)",
    )
    .bind(&ids)
    .bind(&channels)
    .bind(&live)
    .bind(&sessions)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) SELECT $1, id FROM unnest($2::uuid[]) AS id")
        .bind(queue)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids.into_iter().map(AgentId).collect())
}

/// pgbench (on PATH, or in Debian's PostgreSQL directories), run on the
/// bench database.
struct Pgbench {
    program: String,
    connection: Vec<String>,
}

impl Pgbench {
    fn find(options: &PgConnectOptions) -> Result<Self, Error> {
        let program = ["pgbench".to_owned()]
            .into_iter()
            .chain(
                std::fs::read_dir("/usr/lib/postgresql")
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|entry| entry.path().join("bin/pgbench").to_string_lossy().into_owned()),
            )
            .find(|candidate| std::process::Command::new(candidate).arg("--version").output().is_ok())
            .ok_or("pgbench not found (Debian: apt-get install postgresql-contrib, or postgresql)")?;
        // A Unix socket directory when the URL names one (`?host=/dir`).
        let host = match options.get_socket() {
            Some(socket) => socket.to_string_lossy().into_owned(),
            None => options.get_host().to_owned(),
        };
        let connection = vec![
            "-h".into(),
            host,
            "-p".into(),
            options.get_port().to_string(),
            "-U".into(),
            options.get_username().to_owned(),
            "switchboard_bench".into(),
        ];
        Ok(Self { program, connection })
    }

    /// Runs `script` (its name, and its text) with `clients` and the
    /// further options given; answers the transactions per second.
    async fn run(&self, name: &str, script: &str, clients: u32, options: &[&str]) -> Result<f64, Error> {
        let path = std::env::temp_dir().join(format!("switchboard-bench-{name}.sql"));
        std::fs::write(&path, script)?;
        let output = tokio::process::Command::new(&self.program)
            .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", "2"])
            .args(options)
            .arg("-f")
            .arg(&path)
            .args(&self.connection)
            .output()
            .await?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!("pgbench ({name}) failed: {text}{}", String::from_utf8_lossy(&output.stderr)).into());
        }
        text.lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|tps| tps.parse().ok())
            .ok_or_else(|| format!("pgbench ({name}) printed no tps: {text}{}", String::from_utf8_lossy(&output.stderr)).into())
    }
}

struct Bare {
    pull: f64,
    push: f64,
}

/// The engine's own SQL, without the engine: pgbench's clients run the
/// statements the server runs for a match, one customer at a time, on
/// fresh queues and agents of their own. Pull: "Next customer"
/// (`take_next_customer`) with a line waiting, each client pressing for its
/// own agents in turn, three presses each. Push: a customer enters and is
/// offered in one transaction (the writes of `line::enter`, without its
/// admission check, so if anything generous), then the offer is accepted
/// (`accept_offer`). What the database itself allows for a match of this
/// product on this machine.
async fn without_engine(engine: &Engine, pgbench: &Pgbench) -> Result<Bare, Error> {
    let pool = engine.pool();
    let clients = WORKERS as u32;
    let Sizes { match_agents, bare_per_client, .. } = *SIZES;
    let per_client = bare_per_client.to_string();

    let pull_queue = make_queue(pool, "Bare pull", "pull").await?;
    let pull_agents = make_agents(pool, "barepull", match_agents, pull_queue).await?;
    enter_customers(engine, pull_queue, match_agents * SEATS).await?;
    sqlx::query("CREATE TABLE bench_agents (n integer PRIMARY KEY, id uuid NOT NULL)").execute(pool).await?;
    sqlx::query("INSERT INTO bench_agents SELECT n::integer, id FROM unnest($1::uuid[]) WITH ORDINALITY AS a (id, n)")
        .bind(&pull_agents)
        .execute(pool)
        .await?;
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    // Client c presses for agents c + 1, c + 1 + 32, ... three times each.
    let script = format!(
        "\\set k :k + 1\n\
         \\set a :client_id + {clients} * ((:k - 1) / {SEATS}) + 1\n\
         SELECT outcome FROM take_next_customer((SELECT id FROM bench_agents WHERE n = :a));\n"
    );
    let tps = pgbench.run("bare-pull", &script, clients, &["-t", &per_client, "-D", "k=0"]).await?;
    let pull = tps * connected(pool, pull_queue).await? / f64::from(clients * bare_per_client);

    let push_queue = make_queue(pool, "Bare push", "push").await?;
    let push_agents = make_agents(pool, "barepush", match_agents, push_queue).await?;
    for agent in &push_agents {
        agents::set_ready(engine, *agent).await?;
    }
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    let script = "BEGIN;\n\
         WITH s AS (INSERT INTO help_sessions (queue_id, customer_name, reason, channel, status) \
                    VALUES (:q, 'bare', 'bench', 'chat', 'waiting') RETURNING id, queue_id, channel, priority, entered_at), \
              e AS (INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at) \
                    SELECT id, queue_id, channel, priority, entered_at FROM s) \
         INSERT INTO events (kind, help_session_id, queue_id, detail) \
         SELECT 'ENTER_QUEUE', id, queue_id, jsonb_build_object('channel', channel, 'priority', priority) FROM s;\n\
         SELECT help_session_id AS offered_session, representative_id AS offered_agent FROM offer_customers(:q, 1) \\gset\n\
         COMMIT;\n\
         SELECT kind FROM accept_offer(:offered_agent, :offered_session);\n";
    let queue = format!("q={push_queue}");
    let tps = pgbench.run("bare-push", script, clients, &["-t", &per_client, "-D", &queue]).await?;
    let push = tps * connected(pool, push_queue).await? / f64::from(clients * bare_per_client);
    Ok(Bare { pull, push })
}

/// Matches made in the queue (its CONNECT events).
async fn connected(pool: &PgPool, queue: QueueId) -> Result<f64, Error> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE queue_id = $1 AND kind = 'CONNECT'")
        .bind(queue)
        .fetch_one(pool)
        .await?;
    Ok(count as f64)
}
