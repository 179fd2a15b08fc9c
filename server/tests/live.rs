//! The live parts over real WebSockets: servers waking each other through
//! LISTEN/NOTIFY, positions pushed as the line moves, and presence with a
//! grace period.

mod common;

use app::states::{HelpSessionId, QueueId};

use std::time::Duration;

use common::{session_cookie, Socket, TestApp, PASSWORD};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message;

async fn connect(app: &TestApp, path: &str, cookie: Option<&str>) -> Socket {
    match cookie {
        Some(cookie) => app.socket(path, &[("cookie", cookie)]).await,
        None => app.socket(path, &[]).await,
    }
    .unwrap()
}

/// Reads messages until one satisfies `want`; fails after 10 s.
async fn wait_for(socket: &mut Socket, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next()).await;
        match next {
            Ok(Some(Ok(Message::Text(text)))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if want(&value) {
                    return value;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("socket ended while waiting for {what}: {other:?}"),
            Err(_) => panic!("no message with {what} within 10 s"),
        }
    }
}

async fn push_queue(pool: &PgPool) -> QueueId {
    sqlx::query_scalar("INSERT INTO queues (name, routing_mode, when_nobody) VALUES ('Live', 'push', 'accept') RETURNING id")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A video customer enters through the API of `app`.
async fn customer(app: &TestApp, queue: QueueId, name: &str) -> (HelpSessionId, String) {
    common::api_customer(app, app, queue, name, "video").await
}

fn config_with_grace(seconds: u64) -> server::config::Config {
    let mut config = common::test_config();
    config.grace_seconds = seconds;
    config
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_entering_on_one_server_is_offered_to_an_agent_on_another(pool: PgPool) {
    let server_a = TestApp::spawn(pool.clone()).await;
    let server_b = TestApp::spawn(pool.clone()).await;
    let queue = push_queue(&pool).await;
    server_b.add_user("ria@example.com", "Ria", app::model::Role::Agent).await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) SELECT $1, id FROM representatives")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    let rep = server_b.client();
    let cookie = session_cookie(&server_b.login(&rep, "ria@example.com", PASSWORD).await).unwrap();
    let mut desk = connect(&server_b, "/ws/rep", Some(&cookie)).await;
    wait_for(&mut desk, "the desk", |desk| desk["state"].is_string()).await;
    assert_eq!(server_b.desk(&rep, json!({ "do": "set_state", "state": "READY" })).await.status(), 200);

    let (id, _) = customer(&server_a, queue, "Cal").await;

    let desk = wait_for(&mut desk, "the offer", |desk| desk["offers"].as_array().is_some_and(|offers| !offers.is_empty())).await;
    assert_eq!(desk["offers"][0]["help_session_id"], id.to_string());
    assert_eq!(desk["offers"][0]["customer_name"], "Cal");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn positions_move_up_live_when_someone_ahead_leaves(pool: PgPool) {
    let server_a = TestApp::spawn(pool.clone()).await;
    let server_b = TestApp::spawn(pool.clone()).await;
    let queue = push_queue(&pool).await;
    let (first, first_token) = customer(&server_a, queue, "First").await;
    let (_, second_token) = customer(&server_a, queue, "Second").await;
    let mut second = connect(&server_a, &format!("/ws/customer?token={second_token}"), None).await;
    wait_for(&mut second, "position 2", |view| view["position"] == 2).await;

    // The first leaves through the other server.
    let response = reqwest::Client::new()
        .delete(server_b.url(&format!("/help/queue/{first}")))
        .bearer_auth(&first_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    wait_for(&mut second, "position 1", |view| view["position"] == 1).await;
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_reload_inside_the_grace_period_keeps_the_place(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), config_with_grace(2)).await;
    let queue = push_queue(&pool).await;
    let (id, token) = customer(&app, queue, "Reloader").await;
    let mut page = connect(&app, &format!("/ws/customer?token={token}"), None).await;
    wait_for(&mut page, "the position", |view| view["position"] == 1).await;

    // Reload: the page closes and opens again a moment later.
    page.close(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut page = connect(&app, &format!("/ws/customer?token={token}"), None).await;
    tokio::time::sleep(Duration::from_secs(4)).await;

    wait_for(&mut page, "the position", |view| view["position"] == 1).await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1").bind(id).fetch_one(&pool).await.unwrap();
    assert_eq!(status, "waiting");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_gone_past_the_grace_period_is_abandoned(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), config_with_grace(1)).await;
    let queue = push_queue(&pool).await;
    let (gone, token) = customer(&app, queue, "Leaver").await;
    let (_, stays_token) = customer(&app, queue, "Stayer").await;
    let mut stays = connect(&app, &format!("/ws/customer?token={stays_token}"), None).await;
    let mut page = connect(&app, &format!("/ws/customer?token={token}"), None).await;
    wait_for(&mut page, "the position", |view| view["position"] == 1).await;

    page.close(None).await.unwrap();

    wait_for(&mut stays, "moving up", |view| view["position"] == 1).await;
    let (status, kinds): (String, Vec<String>) = (
        sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1").bind(gone).fetch_one(&pool).await.unwrap(),
        sqlx::query_scalar("SELECT kind FROM events WHERE help_session_id = $1 ORDER BY id")
            .bind(gone)
            .fetch_all(&pool)
            .await
            .unwrap(),
    );
    assert_eq!(status, "abandoned");
    assert_eq!(kinds, ["ENTER_QUEUE", "ABANDON"]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_agent_lost_past_the_grace_period_hands_customers_back_to_the_front(pool: PgPool) {
    let app = TestApp::spawn_with(pool.clone(), config_with_grace(1)).await;
    let queue = push_queue(&pool).await;
    app.add_user("lou@example.com", "Lou", app::model::Role::Agent).await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) SELECT $1, id FROM representatives")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    let rep = app.client();
    let cookie = session_cookie(&app.login(&rep, "lou@example.com", PASSWORD).await).unwrap();
    let mut desk = connect(&app, "/ws/rep", Some(&cookie)).await;
    app.desk(&rep, json!({ "do": "set_state", "state": "READY" })).await;
    let (first, _) = customer(&app, queue, "First").await;
    let first_id = first.to_string();
    assert_eq!(app.desk(&rep, json!({ "do": "accept", "help_session": first_id })).await.status(), 200);
    customer(&app, queue, "Second").await;

    // The desk's connection drops and does not come back.
    wait_for(&mut desk, "the desk", |desk| desk["customers"].as_array().is_some_and(|c| !c.is_empty())).await;
    drop(desk);
    tokio::time::sleep(Duration::from_secs(4)).await;

    let line: Vec<String> = sqlx::query_scalar(
        "SELECT h.customer_name FROM queue_entries e JOIN help_sessions h ON h.id = e.help_session_id
          ORDER BY e.priority DESC, e.enqueued_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(line, ["First", "Second"], "the first customer is back at the front");
    let state: String = sqlx::query_scalar(
        "SELECT state FROM agent_states s JOIN representatives r ON r.id = s.representative_id WHERE r.email = 'lou@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(state, "LOGGED_OUT");
}
