//! Many agents taking many customers at once, from two "server instances"
//! (two independent connection pools on one database), push and pull
//! together, while customers cancel: every customer is served exactly once or
//! cancelled, none is lost, none is served twice — counted in the database.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::engine::control::{self, EndedBy};
use app::engine::line::{self, Left, NewRequest};
use app::engine::{agents, offers, pull, Engine};
use app::error::AppError;
use app::queue::Channel;
use app::states::{AgentId, HelpSessionId, QueueId};
use rand::seq::SliceRandom;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

const CUSTOMERS: usize = 2_000;
const PUSH_AGENTS: usize = 10;
const PULL_AGENTS: usize = 10;
const ENTERING_TASKS: usize = 8;

async fn queue(pool: &PgPool, name: &str, mode: &str) -> QueueId {
    common::add_queue(pool, name, mode, "longest_idle").await
}

async fn agent(engine: &Engine, n: usize, queue: QueueId) -> AgentId {
    let id = common::add_agent(engine.pool(), &format!("agent{n}@example.com"), &format!("Agent {n}"), queue).await;
    agents::log_in(engine, id).await.unwrap();
    id
}

/// Handles one customer from connect to completed.
async fn serve(engine: &Engine, agent: AgentId, session: HelpSessionId) {
    control::end(engine, session, EndedBy::Agent).await.unwrap();
    control::wrap_up(engine, agent, session, "resolved", "").await.unwrap();
}

async fn everyone_placed(pool: &PgPool, entering_done: &AtomicBool) -> bool {
    if !entering_done.load(Ordering::SeqCst) {
        return false;
    }
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM queue_entries").fetch_one(pool).await.unwrap();
    waiting == 0
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_customer_is_served_once_or_cancelled(pool: PgPool) {
    // Two server instances: independent pools (and engines) on the same database.
    common::define(&pool).await;
    let options = (*pool.connect_options()).clone();
    let instances = [
        Engine::new(PgPoolOptions::new().max_connections(20).connect_with(options.clone()).await.unwrap()),
        Engine::new(PgPoolOptions::new().max_connections(20).connect_with(options).await.unwrap()),
    ];
    let engine = instances[0].clone();
    let push_queue = queue(&pool, "Push", "push").await;
    let pull_queue = queue(&pool, "Pull", "pull").await;
    let mut push_agents = Vec::new();
    for n in 0..PUSH_AGENTS {
        let id = agent(&engine, n, push_queue).await;
        push_agents.push(id);
    }
    let mut pull_agents = Vec::new();
    for n in 0..PULL_AGENTS {
        pull_agents.push(agent(&engine, PUSH_AGENTS + n, pull_queue).await);
    }

    let entering_done = Arc::new(AtomicBool::new(false));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();

    // Push agents answer their offers on one instance or the other.
    for (n, agent) in push_agents.iter().copied().enumerate() {
        let engine = instances[n % 2].clone();
        let pool = engine.pool().clone();
        let done = entering_done.clone();
        tasks.push(tokio::spawn(async move {
            agents::set_ready(&engine, agent).await.unwrap();
            loop {
                let offers: Vec<HelpSessionId> =
                    sqlx::query_scalar("SELECT help_session_id FROM offers WHERE representative_id = $1")
                        .bind(agent)
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                if offers.is_empty() {
                    if everyone_placed(&pool, &done).await {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                for session in offers {
                    match offers::accept(&engine, agent, session).await {
                        Ok(()) => serve(&engine, agent, session).await,
                        // The customer cancelled between offer and accept.
                        Err(AppError::NotFound(_)) => {}
                        Err(error) => panic!("accept failed: {error:?}"),
                    }
                }
            }
        }));
    }

    // Pull agents press "Next customer" as fast as they can.
    for (n, agent) in pull_agents.iter().copied().enumerate() {
        let engine = instances[n % 2].clone();
        let pool = engine.pool().clone();
        let done = entering_done.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match pull::next_customer(&engine, agent).await.unwrap() {
                    Some(taken) => serve(&engine, agent, taken.help_session_id).await,
                    None => {
                        if everyone_placed(&pool, &done).await {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
            }
        }));
    }

    // Customers enter through both instances, half to each queue.
    let mut entering = Vec::new();
    for t in 0..ENTERING_TASKS {
        let engine = instances[t % 2].clone();
        entering.push(tokio::spawn(async move {
            for n in (t..CUSTOMERS).step_by(ENTERING_TASKS) {
                let queue_id = if n % 2 == 0 { push_queue } else { pull_queue };
                let request = NewRequest {
                    from_api: None,
                    from_widget: None,
                    from_address: None,
                    language: None,
                    queue_id,
                    customer_name: format!("customer {n}"),
                    reason: "help".into(),
                    channel: Channel::Audio,
                    phone: None,
                    priority: (n % 3 == 0) as i32,
                    window: None,
                };
                line::enter(&engine, request).await.unwrap();
            }
        }));
    }

    // Meanwhile some customers give up.
    let canceller = {
        let engine = instances[1].clone();
        let pool = engine.pool().clone();
        let cancelled = cancelled.clone();
        let done = entering_done.clone();
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                let waiting: Vec<HelpSessionId> =
                    sqlx::query_scalar("SELECT help_session_id FROM queue_entries").fetch_all(&pool).await.unwrap();
                let pick = waiting.choose(&mut rand::thread_rng()).copied();
                if let Some(session) = pick {
                    match line::leave(&engine, session, Left::Cancelled).await {
                        Ok(()) => {
                            cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(AppError::NotFound(_)) => {}
                        Err(error) => panic!("cancel failed: {error:?}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };

    for task in entering {
        task.await.unwrap();
    }
    entering_done.store(true, Ordering::SeqCst);
    canceller.await.unwrap();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(120), task).await.expect("an agent never finished").unwrap();
    }

    // Count in the database.
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM help_sessions GROUP BY status ORDER BY status")
            .fetch_all(&pool)
            .await
            .unwrap();
    let cancelled = cancelled.load(Ordering::SeqCst) as i64;
    assert!(cancelled > 0, "the test should cancel some customers");
    assert_eq!(
        by_status,
        [("cancelled".to_owned(), cancelled), ("completed".to_owned(), CUSTOMERS as i64 - cancelled)],
        "every customer served or cancelled"
    );
    let served_twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT help_session_id FROM events WHERE kind = 'CONNECT'
                                 GROUP BY help_session_id HAVING count(*) > 1) twice",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(served_twice, 0, "nobody connected twice");
    let connects: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'CONNECT'").fetch_one(&pool).await.unwrap();
    assert_eq!(connects, CUSTOMERS as i64 - cancelled, "one connect per completed customer");
    let cancelled_after_connect: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM help_sessions h WHERE status = 'cancelled'
            AND EXISTS (SELECT 1 FROM events e WHERE e.help_session_id = h.id AND e.kind = 'CONNECT')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cancelled_after_connect, 0);
    let leftovers: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM queue_entries), (SELECT count(*) FROM offers),
                (SELECT coalesce(sum(live + sessions), 0)::bigint FROM agent_channels),
                (SELECT coalesce(sum(live_total + sessions_total), 0)::bigint FROM agent_states),
                (SELECT coalesce(sum(wrap_ups), 0)::bigint FROM agent_states)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leftovers, (0, 0, 0, 0, 0), "no entries, offers, seats (by channel or in total) or wrap-ups left over");
    // Both kinds of routing did work.
    let modes: Vec<(String, i64)> =
        sqlx::query_as("SELECT detail->>'mode', count(*) FROM events WHERE kind = 'CONNECT' GROUP BY 1 ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(modes.len(), 2, "{modes:?}");
}

mod common;

/// The same through two real server instances over HTTP: customers enter and
/// cancel through the service-kit API, pull agents dequeue with
/// `DELETE /help/queue`, push agents accept offers on the desk, each agent
/// and customer talking to one server or the other.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn two_server_instances_serve_every_customer_once_or_cancel(pool: PgPool) {
    use serde_json::Value;
    use std::sync::Mutex;

    let servers = Arc::new([common::TestApp::spawn(pool.clone()).await, common::TestApp::spawn(pool.clone()).await]);
    let push_queue = queue(&pool, "Push", "push").await;
    let pull_queue = queue(&pool, "Pull", "pull").await;

    // Agents sign in on alternating servers.
    let mut clients = Vec::new();
    for n in 0..(PUSH_AGENTS + PULL_AGENTS) {
        let queue_id = if n < PUSH_AGENTS { push_queue } else { pull_queue };
        let email = format!("http{n}@example.com");
        servers[n % 2].add_user(&email, &format!("Agent {n}"), app::model::Role::Agent).await;
        sqlx::query("DELETE FROM queue_members WHERE representative_id = (SELECT id FROM representatives WHERE email = $1)")
            .bind(&email)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO queue_members (queue_id, representative_id) SELECT $1, id FROM representatives WHERE email = $2",
        )
        .bind(queue_id)
        .bind(&email)
        .execute(&pool)
        .await
        .unwrap();
        let client = servers[n % 2].client();
        assert_eq!(servers[n % 2].login(&client, &email, common::PASSWORD).await.status(), 200);
        assert_eq!(servers[n % 2].call(&client, "desk", &[]).await.status(), 200);
        clients.push(client);
    }

    let entering_done = Arc::new(AtomicBool::new(false));
    let tokens: Arc<Mutex<Vec<(HelpSessionId, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let mut agents = Vec::new();
    for (n, client) in clients.into_iter().enumerate() {
        let servers = servers.clone();
        let done = entering_done.clone();
        let pool = pool.clone();
        let tokens = tokens.clone();
        agents.push(tokio::spawn(async move {
            let server = &servers[n % 2];
            let me: Uuid = sqlx::query_scalar("SELECT id FROM representatives WHERE email = $1")
                .bind(format!("http{n}@example.com"))
                .fetch_one(&pool)
                .await
                .unwrap();
            let finish = |session: String| {
                let client = client.clone();
                async move {
                    assert_eq!(
                        server.desk(&client, serde_json::json!({ "do": "end", "help_session": session })).await.status(),
                        200
                    );
                    let wrapped = server
                        .desk(&client, serde_json::json!({ "do": "wrap_up", "help_session": session, "disposition": "Resolved" }))
                        .await;
                    assert_eq!(wrapped.status(), 200);
                }
            };
            if n < PUSH_AGENTS {
                assert_eq!(server.desk(&client, serde_json::json!({ "do": "set_state", "state": "READY" })).await.status(), 200);
            } else {
                // The pull line builds up first, so cancelling races taking
                // on a line that is there (on an idle machine the
                // representatives would otherwise take everyone at once).
                while !done.load(Ordering::SeqCst) && tokens.lock().unwrap().len() < CUSTOMERS / 4 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            loop {
                let work: Option<String> = if n < PUSH_AGENTS {
                    let offered: Option<Uuid> =
                        sqlx::query_scalar("SELECT help_session_id FROM offers WHERE representative_id = $1 LIMIT 1")
                            .bind(me)
                            .fetch_optional(&pool)
                            .await
                            .unwrap();
                    match offered {
                        Some(session) => {
                            let id = session.to_string();
                            let accepted = server.desk(&client, serde_json::json!({ "do": "accept", "help_session": id })).await;
                            match accepted.status().as_u16() {
                                200 => Some(id),
                                404 => None, // the customer cancelled meanwhile
                                other => panic!("accept answered {other}"),
                            }
                        }
                        None => None,
                    }
                } else {
                    let taken = client.delete(server.url("/help/queue")).send().await.unwrap();
                    match taken.status().as_u16() {
                        200 => Some(taken.json::<Value>().await.unwrap()["help_session_id"].as_str().unwrap().to_owned()),
                        204 => None,
                        other => panic!("dequeue answered {other}"),
                    }
                };
                match work {
                    Some(session) => finish(session).await,
                    None => {
                        if everyone_placed(&pool, &done).await {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        }));
    }

    let mut entering = Vec::new();
    for t in 0..ENTERING_TASKS {
        let servers = servers.clone();
        let tokens = tokens.clone();
        entering.push(tokio::spawn(async move {
            for n in (t..CUSTOMERS).step_by(ENTERING_TASKS) {
                let server = &servers[n % 2];
                let queue = if n % 2 == 0 { push_queue } else { pull_queue };
                let (id, token) =
                    common::api_customer(server, &servers[(n + 1) % 2], queue, &format!("customer {n}"), "audio").await;
                tokens.lock().unwrap().push((id, token));
            }
        }));
    }
    let canceller = {
        let servers = servers.clone();
        let tokens = tokens.clone();
        let cancelled = cancelled.clone();
        let done = entering_done.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0usize;
            while !done.load(Ordering::SeqCst) {
                let pick = tokens.lock().unwrap().choose(&mut rand::thread_rng()).cloned();
                if let Some((id, token)) = pick {
                    let response =
                        http.delete(servers[n % 2].url(&format!("/help/queue/{id}"))).bearer_auth(&token).send().await.unwrap();
                    match response.status().as_u16() {
                        204 => {
                            cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                        404 => {}
                        other => panic!("cancel answered {other}"),
                    }
                }
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    for task in entering {
        task.await.unwrap();
    }
    entering_done.store(true, Ordering::SeqCst);
    canceller.await.unwrap();
    for task in agents {
        tokio::time::timeout(Duration::from_secs(300), task).await.expect("an agent never finished").unwrap();
    }

    let cancelled = cancelled.load(Ordering::SeqCst) as i64;
    assert!(cancelled > 0);
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM help_sessions GROUP BY status ORDER BY status")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(by_status, [("cancelled".to_owned(), cancelled), ("completed".to_owned(), CUSTOMERS as i64 - cancelled)]);
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT help_session_id FROM events WHERE kind = 'CONNECT' GROUP BY 1 HAVING count(*) > 1) t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(twice, 0);
    let leftovers: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM queue_entries), (SELECT count(*) FROM offers),
                (SELECT coalesce(sum(live + sessions), 0)::bigint FROM agent_channels)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leftovers, (0, 0, 0));
}
