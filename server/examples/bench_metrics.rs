//! `make bench`, metrics part: a realistic history, then the dashboard's
//! timings.
//!
//! 1. History: about 1 million help sessions over the last 90 days in five
//!    queues, 60 representatives READY 08:00–18:00 every day, customers
//!    arriving in those hours. 85% answered (wait 0–2 min, talk 1–15 min,
//!    wrap-up up to 2 min, 30% rated), 10% abandoned, 5% cancelled. Written
//!    straight into the event log as the server would have.
//! 2. The roll-up of that whole log, as the first server to start would do
//!    it (events per second).
//! 3. The dashboard: the 30-day report's query, and `GET /admin?span=30d`
//!    rendered by the real server (signed in as an admin), each run 20 times;
//!    and the live board pushed to admin pages on every change.
//! 4. The supervisor's wallboard with 50 more queues and 200 more
//!    representatives (each serving two queues, all READY or NOT_READY):
//!    reading it, and the time from a representative's state change to the
//!    wallboard showing it on an open `/ws/supervisor` socket.
//!
//! Needs DATABASE_URL naming a PostgreSQL server where it may create the
//! database `switchboard_metrics_bench` (scripts/bench starts a throwaway one).

use std::time::Instant;

use app::metrics::{board, report, roll, ReportQuery};
use app::model::{DisplayName, Email, NewPassword, Role};
use sqlx::Executor;

const DAYS: i64 = 90;
const QUEUES: i64 = 5;
const REPRESENTATIVES: i64 = 60;
const WALL_QUEUES: i64 = 50;
const WALL_REPRESENTATIVES: i64 = 200;
const PASSWORD: &str = "bench admin password";

mod support;

/// Help sessions in the history, and runs of each measurement: `make
/// bench`'s, or tiny ones under `scripts/bench --small` (the suite's proof
/// that this still runs).
fn sizes() -> (i64, usize) {
    if support::small() {
        (2_000, 2)
    } else {
        (1_000_000, 20)
    }
}

use support::Error;

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    support::percentile(samples, p)
}

fn summary(name: &str, samples: &mut [f64]) {
    println!(
        "  {name:<32} p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms ({} runs)",
        percentile(samples, 0.5),
        percentile(samples, 0.9),
        percentile(samples, 1.0),
        samples.len()
    );
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (pool, _) = support::fresh_database("switchboard_metrics_bench", 10).await?;

    let (sessions, runs) = sizes();
    println!("metrics: generating {sessions} help sessions over {DAYS} days…");
    let started = Instant::now();
    generate(&pool).await?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&pool).await?;
    let generated = started.elapsed();

    let started = Instant::now();
    let rolled = roll::roll(&pool, 5.0).await?;
    let rolling = started.elapsed();
    let buckets: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_buckets").fetch_one(&pool).await?;

    // The real server, in this process, on a real socket.
    let config = server::config::Config::from_env()?;
    let application = server::application::Application::build(pool.clone(), &config).await?;
    app::people::repo::add(
        &pool,
        &Email::parse("bench-admin@example.com")?,
        &DisplayName::parse("Bench Admin")?,
        Role::Admin,
        NewPassword::parse(PASSWORD)?,
    )
    .await?;
    let base = support::serve(application.router.clone()).await?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let signed = client
        .post(format!("{base}/api/login"))
        .header("accept", "application/json")
        .form(&[("email", "bench-admin@example.com"), ("password", PASSWORD), ("next", "")])
        .send()
        .await?;
    if !signed.status().is_success() {
        return Err(format!("cannot sign in: {}", signed.status()).into());
    }

    let cookie = server::http::session_cookie(signed.headers()).ok_or("no session cookie")?;

    let settings = config.metrics.clone();
    let query = ReportQuery { span: "30d".into(), from: None, to: None, queue: None };
    let mut queries = Vec::new();
    let mut offered = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let report = report::report(&pool, &settings, &query).await?;
        queries.push(started.elapsed().as_secs_f64() * 1000.0);
        offered = report.total.offered;
    }
    let mut pages = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let response = client.get(format!("{base}/admin?span=30d")).send().await?;
        if !response.status().is_success() {
            return Err(format!("/admin answered {}", response.status()).into());
        }
        let body = response.text().await?;
        pages.push(started.elapsed().as_secs_f64() * 1000.0);
        if !body.contains("table-representatives") {
            return Err("the page has no report".into());
        }
        bytes = body.len();
    }
    let mut boards = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        board::board(&pool, &settings).await?;
        boards.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    let (wallboard_reads, wallboard_pushes, wallboard_bytes) = wallboard(&application, &base, &cookie).await?;

    println!();
    println!("metrics ({sessions} help sessions over {DAYS} days, {QUEUES} queues, {REPRESENTATIVES} representatives)");
    println!("  history written              {events} events in {:.1} s", generated.as_secs_f64());
    println!(
        "  roll-up of the whole log     {rolled} events in {:.1} s ({:.0} events/s), {buckets} buckets",
        rolling.as_secs_f64(),
        rolled as f64 / rolling.as_secs_f64()
    );
    println!("  30 days: {offered} customers offered");
    summary("30-day report query", &mut queries);
    summary("GET /admin?span=30d (whole page)", &mut pages);
    println!("  page size                    {} kB", bytes / 1024);
    summary("live board (each push)", &mut boards);
    println!("wallboard of an admin: {WALL_QUEUES} more queues, {WALL_REPRESENTATIVES} more representatives");
    let (mut reads, mut pushes) = (wallboard_reads, wallboard_pushes);
    summary("wallboard read (each push)", &mut reads);
    summary("state change to wallboard push", &mut pushes);
    println!("  wallboard push size          {} kB", wallboard_bytes / 1024);
    pool.close().await;
    Ok(())
}

/// The history, in SQL: sessions, then their events, then the
/// representatives' days.
async fn generate(pool: &sqlx::PgPool) -> Result<(), Error> {
    let (sessions, _) = sizes();
    let mut tx = pool.begin().await?;
    tx.execute(sqlx::query(&format!("INSERT INTO queues (name) SELECT 'Queue ' || n FROM generate_series(1, {QUEUES}) n")))
        .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO representatives (email, display_name, role, password_hash)
         SELECT 'rep' || n || '@example.com', 'Representative ' || n, 'agent', 'x' FROM generate_series(1, {REPRESENTATIVES}) n"
    )))
    .await?;
    // One row per session with its timings; fate: answered, abandoned or cancelled.
    tx.execute(sqlx::query(&format!(
        "CREATE TEMP TABLE fake ON COMMIT DROP AS
         WITH q AS (SELECT array_agg(id ORDER BY name) AS ids FROM queues WHERE name LIKE 'Queue %'),
              r AS (SELECT array_agg(id ORDER BY display_name) AS ids FROM representatives WHERE role = 'agent')
         SELECT gen_random_uuid() AS id,
                q.ids[1 + (n % {QUEUES})] AS queue,
                r.ids[1 + (random() * ({REPRESENTATIVES} - 1))::int] AS agent,
                date_trunc('day', now()) - make_interval(days => (n % {DAYS})::int + 1)
                    + make_interval(hours => 8) + make_interval(secs => random() * 36000) AS entered,
                random() AS fate,
                random() * 120 AS wait,
                60 + random() * 840 AS talk,
                random() * 120 AS wrap,
                1 + (random() * 4)::int AS stars,
                random() AS rates
           FROM generate_series(1, {sessions}) n, q, r"
    )))
    .await?;
    tx.execute(sqlx::query(
        "INSERT INTO events (at, kind, help_session_id, queue_id, representative_id, detail)
         SELECT e.at, e.kind, f.id, f.queue, e.agent, e.detail FROM fake f CROSS JOIN LATERAL (VALUES
             (f.entered, 'ENTER_QUEUE', NULL::uuid, '{\"channel\": \"video\", \"priority\": 0}'::jsonb, true),
             (f.entered + make_interval(secs => f.wait * 0.9), 'OFFER', f.agent, '{}', f.fate < 0.85),
             (f.entered + make_interval(secs => f.wait), 'CONNECT', f.agent, '{\"mode\": \"push\"}', f.fate < 0.85),
             (f.entered + make_interval(secs => f.wait + f.talk), 'END_BY_AGENT', f.agent, '{}', f.fate < 0.85),
             (f.entered + make_interval(secs => f.wait + f.talk + f.wrap), 'WRAP_UP_DONE', f.agent, '{\"disposition\": \"resolved\"}', f.fate < 0.85),
             (f.entered + make_interval(secs => f.wait + f.talk + f.wrap + 30), 'RATED', f.agent,
                 jsonb_build_object('rating', f.stars), f.fate < 0.85 AND f.rates < 0.3),
             (f.entered + make_interval(secs => f.wait * 2.5), 'ABANDON', NULL, '{}', f.fate >= 0.85 AND f.fate < 0.95),
             (f.entered + make_interval(secs => f.wait * 2.5), 'CANCEL', NULL, '{}', f.fate >= 0.95)
         ) AS e (at, kind, agent, detail, happens)
         WHERE e.happens",
    ))
    .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO events (at, kind, representative_id, detail)
         SELECT date_trunc('day', now()) - make_interval(days => d) + make_interval(hours => s.hour), 'AGENT_STATE', r.id,
                jsonb_build_object('state', s.state)
           FROM representatives r, generate_series(1, {DAYS}) d,
                (VALUES (8, 'READY'), (18, 'LOGGED_OUT')) AS s (hour, state)
          WHERE r.role = 'agent'"
    )))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The wallboard at the size of a large floor: reads of it, and state
/// changes seen through an open socket (ms), and the size of one push.
async fn wallboard(
    application: &server::application::Application,
    base: &str,
    cookie: &str,
) -> Result<(Vec<f64>, Vec<f64>, usize), Error> {
    let (_, runs) = sizes();
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let pool = &application.state.pool;
    let mut tx = pool.begin().await?;
    tx.execute(sqlx::query(&format!("INSERT INTO queues (name) SELECT 'Floor ' || n FROM generate_series(1, {WALL_QUEUES}) n")))
        .await?;
    tx.execute(sqlx::query(&format!(
        "INSERT INTO representatives (email, display_name, role, password_hash)
         SELECT 'floor' || n || '@example.com', 'Floor ' || n, 'agent', 'x' FROM generate_series(1, {WALL_REPRESENTATIVES}) n"
    )))
    .await?;
    tx.execute(sqlx::query(
        "INSERT INTO agent_states (representative_id, state, reason)
         SELECT id, CASE WHEN random() < 0.7 THEN 'READY' ELSE 'NOT_READY' END, 'Break' FROM representatives
          WHERE email LIKE 'floor%'",
    ))
    .await?;
    tx.execute(sqlx::query(
        "INSERT INTO queue_members (queue_id, representative_id)
         SELECT q.id, r.id FROM representatives r
           JOIN LATERAL (SELECT id FROM queues WHERE name LIKE 'Floor %'
                          ORDER BY (hashtext(name || r.id::text)) LIMIT 2) q ON true
          WHERE r.email LIKE 'floor%'",
    ))
    .await?;
    tx.commit().await?;
    let me = sqlx::query_as::<_, (uuid::Uuid, String, String)>(
        "SELECT id, email, display_name FROM representatives WHERE email = 'bench-admin@example.com'",
    )
    .fetch_one(pool)
    .await?;
    let me = app::model::Me { id: me.0, email: me.1, display_name: me.2, role: Role::Admin };
    let state = &application.state;
    let mut reads = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        app::supervision::board::wallboard(pool, &state.metrics, &me).await?;
        reads.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    let mut request = format!("{}/ws/supervisor", base.replace("http://", "ws://")).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let first = socket.next().await.ok_or("the wallboard socket closed")??;
    let bytes = first.len();
    let floor: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM representatives WHERE email = 'floor1@example.com'").fetch_one(pool).await?;
    let floor = app::states::AgentId::from(floor);
    let mut pushes = Vec::new();
    for run in 0..runs {
        let reason = format!("Bench {run}");
        let started = Instant::now();
        app::engine::agents::set_not_ready_reason(&state.engine, floor, &reason).await?;
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if text.contains(&format!("\"{reason}\"")) => break,
                Ok(Some(Ok(_))) => {}
                _ => return Err(format!("no wallboard push showed \"{reason}\" within 10 s").into()),
            }
        }
        pushes.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((reads, pushes, bytes))
}
