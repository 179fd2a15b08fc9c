//! The conversation on the server (SPEC §6): signaling relayed only to the
//! other side of the same help session, a customer's token reaching no other
//! session, hold / resume / switch keeping the seats, chat in order and
//! bounded, and the rating once after the end.

mod common;

use std::time::Duration;

use app::engine::control::{self, EndedBy};
use app::engine::{agents, offers, Engine};
use app::states::{AgentId, HelpSessionId, QueueId};
use common::{as_customer, customer_cookie, next_text, session_cookie, status_of, Socket, TestApp, PASSWORD};
use futures_util::SinkExt;
use reqwest::StatusCode;
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message;

/// Opens a WebSocket, with the cookie given; `Err(status)` when the server
/// refuses the handshake.
async fn connect(app: &TestApp, path: &str, cookie: Option<&str>) -> Result<Socket, u16> {
    match cookie {
        Some(cookie) => app.socket(path, &[("cookie", cookie)]).await,
        None => app.socket(path, &[]).await,
    }
}

/// A representative who can sign in, serving `queue` only.
async fn representative(app: &TestApp, name: &str, queue: QueueId) -> (AgentId, reqwest::Client, String) {
    let email = format!("{}@example.com", name.to_lowercase());
    app.add_user(&email, name, app::model::Role::Agent).await;
    let id: AgentId =
        sqlx::query_scalar("SELECT id FROM representatives WHERE email = $1").bind(&email).fetch_one(&app.pool).await.unwrap();
    sqlx::query("DELETE FROM queue_members WHERE representative_id = $1").bind(id).execute(&app.pool).await.unwrap();
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(queue)
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let client = app.client();
    let cookie = session_cookie(&app.login(&client, &email, PASSWORD).await).unwrap();
    (id, client, cookie)
}

async fn ready(engine: &Engine, agent: AgentId) {
    agents::log_in(engine, agent).await.unwrap();
    agents::set_ready(engine, agent).await.unwrap();
}

/// A customer enters and the (only READY) representative accepts them.
async fn talking(
    app: &TestApp,
    engine: &Engine,
    queue: QueueId,
    agent: AgentId,
    name: &str,
    channel: &str,
) -> (HelpSessionId, String) {
    let (session, token) = common::api_customer(app, app, queue, name, channel).await;
    offers::accept(engine, agent, session).await.unwrap();
    (session, token)
}

async fn seat(pool: &PgPool, agent: AgentId, channel: &str) -> (i32, i32) {
    sqlx::query_as("SELECT live, sessions FROM agent_channels WHERE representative_id = $1 AND channel = $2")
        .bind(agent)
        .bind(channel)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn kinds(pool: &PgPool, session: HelpSessionId) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM events WHERE help_session_id = $1 ORDER BY id")
        .bind(session)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn signaling_reaches_only_the_other_side_of_the_same_session(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Signals", "push", "longest_idle").await;
    let (ann, _, ann_cookie) = representative(&app, "Ann", queue).await;
    let (bob, _, bob_cookie) = representative(&app, "Bob", queue).await;
    ready(&engine, ann).await;
    let (xena, xena_token) = talking(&app, &engine, queue, ann, "Xena", "video").await;
    ready(&engine, bob).await;
    let (yuri, yuri_token) = talking(&app, &engine, queue, bob, "Yuri", "video").await;

    let mut ann_page = connect(&app, &format!("/ws/signal?session={xena}"), Some(&ann_cookie)).await.unwrap();
    let mut xena_page = connect(&app, &format!("/ws/signal?session={xena}&token={xena_token}"), None).await.unwrap();
    let mut bob_page = connect(&app, &format!("/ws/signal?session={yuri}"), Some(&bob_cookie)).await.unwrap();
    let mut yuri_page = connect(&app, &format!("/ws/signal?session={yuri}&token={yuri_token}"), None).await.unwrap();
    let json = |text: Option<String>| -> serde_json::Value { serde_json::from_str(&text.expect("a message")).unwrap() };
    // Each page is told first who it is and whom media flows with.
    let wait = Duration::from_secs(5);
    let ann_peers = json(next_text(&mut ann_page, wait).await);
    assert_eq!(ann_peers["me"], ann.to_string());
    assert_eq!(
        ann_peers["peers"],
        serde_json::json!([{ "party": "customer", "send": "everything", "receive": true, "shown": true }])
    );
    let xena_peers = json(next_text(&mut xena_page, wait).await);
    assert_eq!(xena_peers["me"], "customer");
    assert_eq!(xena_peers["peers"][0]["party"], ann.to_string());
    for page in [&mut bob_page, &mut yuri_page] {
        assert_eq!(json(next_text(page, wait).await)["type"], "peers");
    }

    // A message goes to the participant it names, with its sender.
    let offer = r#"{"type":"offer","to":"customer","gen":"g1","sdp":{"type":"offer","sdp":"v=0 xena"}}"#;
    ann_page.send(Message::Text(offer.into())).await.unwrap();
    let heard = json(next_text(&mut xena_page, wait).await);
    assert_eq!((heard["type"].as_str(), heard["from"].as_str()), (Some("offer"), Some(ann.to_string().as_str())));
    assert_eq!(heard["sdp"]["sdp"], "v=0 xena");
    let answer = format!(r#"{{"type":"answer","to":"{ann}","gen":"g1","sdp":{{"type":"answer","sdp":"v=0 from xena"}}}}"#);
    xena_page.send(Message::Text(answer.into())).await.unwrap();
    let heard = json(next_text(&mut ann_page, wait).await);
    assert_eq!((heard["type"].as_str(), heard["from"].as_str()), (Some("answer"), Some("customer")));
    // Addressed to someone outside the conversation: nobody gets it.
    let astray = format!(r#"{{"type":"ready","to":"{bob}"}}"#);
    xena_page.send(Message::Text(astray.into())).await.unwrap();

    // Nobody else heard anything, and nobody hears their own.
    for page in [&mut bob_page, &mut yuri_page, &mut ann_page, &mut xena_page] {
        assert_eq!(next_text(page, Duration::from_millis(1500)).await, None);
    }

    // The other conversation has its own line.
    let hello = format!(r#"{{"type":"ready","to":"{bob}"}}"#);
    yuri_page.send(Message::Text(hello.into())).await.unwrap();
    assert_eq!(json(next_text(&mut bob_page, wait).await)["from"], "customer");
    assert_eq!(next_text(&mut ann_page, Duration::from_millis(1000)).await, None);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_token_reaches_no_other_session(pool: PgPool) {
    let mut config = common::test_config();
    config.ice = app::conversation::ice::IceConfig {
        stun_urls: vec!["stun:stun.example.com:3478".into()],
        turn_urls: vec!["turn:turn.example.com:3478".into()],
        turn_secret: Some("a shared secret".into()),
        turn_ttl_seconds: 600,
    };
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Tokens", "push", "longest_idle").await;
    let (ann, ann_client, _) = representative(&app, "Ann", queue).await;
    let (bob, _, bob_cookie) = representative(&app, "Bob", queue).await;
    ready(&engine, ann).await;
    let (xena, xena_token) = talking(&app, &engine, queue, ann, "Xena", "video").await;
    ready(&engine, bob).await;
    let (yuri, yuri_token) = talking(&app, &engine, queue, bob, "Yuri", "video").await;

    // Xena's token opens Xena's conversation only.
    assert!(connect(&app, &format!("/ws/signal?session={xena}&token={xena_token}"), None).await.is_ok());
    assert_eq!(connect(&app, &format!("/ws/signal?session={yuri}&token={xena_token}"), None).await.err(), Some(404));
    assert_eq!(connect(&app, &format!("/ws/chat?session={yuri}"), Some(&customer_cookie(&xena_token))).await.err(), Some(404));
    assert_eq!(connect(&app, &format!("/ws/signal?session={yuri}"), None).await.err(), Some(404));
    // Nor does another representative's sign-in.
    assert_eq!(connect(&app, &format!("/ws/signal?session={xena}"), Some(&bob_cookie)).await.err(), Some(404));

    let yuri_id = yuri.to_string();
    let sent = as_customer(&app, &xena_token, "conversation/message", &[("help_session", &yuri_id), ("body", "hi")]).await;
    assert_eq!(sent.status(), StatusCode::NOT_FOUND);
    let ice = as_customer(&app, &xena_token, "conversation/ice", &[("help_session", &yuri_id)]).await;
    assert_eq!(ice.status(), StatusCode::NOT_FOUND);
    let ended = as_customer(&app, &yuri_token, "help/end", &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(status_of(&pool, xena).await, "active", "Yuri's end touched only Yuri's conversation");
    assert_eq!(status_of(&pool, yuri).await, "wrap_up");
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&pool).await.unwrap();
    assert_eq!(messages, 0);

    // Xena's own ICE servers, with TURN credentials in coturn's scheme.
    let xena_id = xena.to_string();
    let ice = as_customer(&app, &xena_token, "conversation/ice", &[("help_session", &xena_id)]).await;
    assert_eq!(ice.status(), StatusCode::OK);
    let servers: serde_json::Value = ice.json().await.unwrap();
    assert_eq!(servers[0]["urls"][0], "stun:stun.example.com:3478");
    let username = servers[1]["username"].as_str().unwrap();
    let (expiry, id) = username.split_once(':').unwrap();
    assert_eq!(id, xena_id);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 590..=now + 610).contains(&expiry.parse::<u64>().unwrap()));
    assert_eq!(servers[1]["credential"], app::conversation::ice::turn_password("a shared secret", username));
    // Her representative gets them too; the other does not.
    let ann_ice = app.call(&ann_client, "conversation/ice", &[("help_session", &xena_id)]).await;
    assert_eq!(ann_ice.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn hold_resume_and_switch_keep_the_seats(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Holds", "push", "longest_idle").await;
    let (ann, _, _) = representative(&app, "Ann", queue).await;
    ready(&engine, ann).await;
    let (first, _) = talking(&app, &engine, queue, ann, "First", "video").await;
    assert_eq!(seat(&pool, ann, "video").await, (1, 1));

    // Hold frees the live place: the next video customer is offered.
    control::hold(&engine, ann, first).await.unwrap();
    assert_eq!(status_of(&pool, first).await, "on_hold");
    assert_eq!(seat(&pool, ann, "video").await, (0, 1));
    let (second, _) = common::api_customer(&app, &app, queue, "Second", "video").await;
    assert_eq!(seat(&pool, ann, "video").await, (1, 2), "the offer holds the live place");
    // While that offer holds it, the first cannot come back.
    let refused = control::resume(&engine, ann, first).await.unwrap_err();
    assert!(matches!(refused, app::error::AppError::Conflict(_)), "{refused:?}");
    assert_eq!(status_of(&pool, first).await, "on_hold");
    offers::accept(&engine, ann, second).await.unwrap();

    // Switching back holds the second in the same transaction.
    control::resume(&engine, ann, first).await.unwrap();
    assert_eq!(status_of(&pool, first).await, "active");
    assert_eq!(status_of(&pool, second).await, "on_hold");
    assert_eq!(seat(&pool, ann, "video").await, (1, 2));
    assert_eq!(kinds(&pool, first).await, ["ENTER_QUEUE", "OFFER", "CONNECT", "HOLD", "RESUME"]);
    assert_eq!(kinds(&pool, second).await, ["ENTER_QUEUE", "OFFER", "CONNECT", "HOLD"]);

    // Only the agent's own live customer can be held.
    assert!(control::hold(&engine, ann, second).await.is_err());
    control::end(&engine, first, EndedBy::Agent).await.unwrap();
    control::end(&engine, second, EndedBy::Agent).await.unwrap();
    assert_eq!(seat(&pool, ann, "video").await, (0, 0));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn chat_is_ordered_bounded_and_replies_stay_in_their_conversation(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Chats", "push", "longest_idle").await;
    let (ann, ann_client, ann_cookie) = representative(&app, "Ann", queue).await;
    ready(&engine, ann).await;
    let (xena, xena_token) = talking(&app, &engine, queue, ann, "Xena", "chat").await;
    let (yuri, yuri_token) = talking(&app, &engine, queue, ann, "Yuri", "chat").await;
    let xena_id = xena.to_string();
    let mut ann_chat = connect(&app, &format!("/ws/chat?session={xena}"), Some(&ann_cookie)).await.unwrap();
    assert_eq!(next_text(&mut ann_chat, Duration::from_secs(5)).await.as_deref(), Some("[]"));

    assert_eq!(
        as_customer(&app, &xena_token, "conversation/message", &[("help_session", &xena_id), ("body", "My order is late")])
            .await
            .status(),
        StatusCode::OK
    );
    let first: i64 =
        sqlx::query_scalar("SELECT id FROM messages WHERE help_session_id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    let reply = app
        .call(
            &ann_client,
            "conversation/message",
            &[("help_session", &xena_id), ("body", "Checking now"), ("reply_to", &first.to_string())],
        )
        .await;
    assert_eq!(reply.status(), StatusCode::OK);

    // Pushed to the representative's page, in order, with the reply: each
    // push holds only what is new.
    let mut pushed: Vec<serde_json::Value> = Vec::new();
    while pushed.len() < 2 {
        let text = next_text(&mut ann_chat, Duration::from_secs(5)).await.expect("the chat is pushed");
        let batch: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        pushed.extend(batch);
    }
    assert_eq!(pushed.len(), 2, "no message is pushed twice");
    assert_eq!(pushed[0]["body"], "My order is late");
    assert_eq!(pushed[0]["author"], "Xena");
    assert_eq!((&pushed[0]["mine"], &pushed[0]["role"]), (&false.into(), &"customer".into()));
    assert_eq!(pushed[1]["author"], "Ann");
    assert_eq!((&pushed[1]["mine"], &pushed[1]["role"]), (&true.into(), &"agent".into()));
    assert_eq!(pushed[1]["reply_to"], first);
    // The customer's page sees the same chat from their side.
    let mut xena_chat = connect(&app, &format!("/ws/chat?session={xena}&token={xena_token}"), None).await.unwrap();
    let theirs: Vec<serde_json::Value> =
        serde_json::from_str(&next_text(&mut xena_chat, Duration::from_secs(5)).await.unwrap()).unwrap();
    assert_eq!(theirs.iter().map(|m| m["mine"].as_bool()).collect::<Vec<_>>(), [Some(true), Some(false)]);

    // Too long: a clear 400, nothing stored.
    let long = "é".repeat(2001);
    let refused = as_customer(&app, &xena_token, "conversation/message", &[("help_session", &xena_id), ("body", &long)]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(common::error_message(refused).await.contains("at most 2000 characters"));
    // A reply to another conversation's message: refused.
    let yuri_id = yuri.to_string();
    let elsewhere = as_customer(
        &app,
        &yuri_token,
        "conversation/message",
        &[("help_session", &yuri_id), ("body", "me too"), ("reply_to", &first.to_string())],
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 2);

    // After the end, no more messages.
    control::end(&engine, xena, EndedBy::Agent).await.unwrap();
    let late = as_customer(&app, &xena_token, "conversation/message", &[("help_session", &xena_id), ("body", "hello?")]).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_customer_ends_and_rates_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Ratings", "push", "longest_idle").await;
    let (ann, _, _) = representative(&app, "Ann", queue).await;
    ready(&engine, ann).await;
    let (xena, token) = talking(&app, &engine, queue, ann, "Xena", "audio").await;

    let early = as_customer(&app, &token, "help/rate", &[("stars", "5")]).await;
    assert_eq!(early.status(), StatusCode::CONFLICT, "no rating before the end");
    assert_eq!(as_customer(&app, &token, "help/end", &[]).await.status(), StatusCode::OK);
    assert_eq!(status_of(&pool, xena).await, "wrap_up");
    let six = as_customer(&app, &token, "help/rate", &[("stars", "6")]).await;
    assert_eq!(six.status(), StatusCode::BAD_REQUEST);
    let rated = as_customer(&app, &token, "help/rate", &[("stars", "4"), ("comment", "  Friendly  ")]).await;
    assert_eq!(rated.status(), StatusCode::OK);
    let again = as_customer(&app, &token, "help/rate", &[("stars", "1")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    control::wrap_up(&engine, ann, xena, "Resolved", "Explained the bill").await.unwrap();

    let (rating, comment, disposition): (i16, String, String) =
        sqlx::query_as("SELECT rating, rating_comment, disposition FROM help_sessions WHERE id = $1")
            .bind(xena)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((rating, comment.as_str(), disposition.as_str()), (4, "Friendly", "Resolved"));
    assert_eq!(kinds(&pool, xena).await, ["ENTER_QUEUE", "OFFER", "CONNECT", "END_BY_CUSTOMER", "RATED", "WRAP_UP_DONE"]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_representative_lost_past_grace_sends_the_customer_back_to_the_front(pool: PgPool) {
    let mut config = common::test_config();
    config.grace_seconds = 1;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Lost", "push", "longest_idle").await;
    let (ann, _, ann_cookie) = representative(&app, "Ann", queue).await;
    let desk = connect(&app, "/ws/rep", Some(&ann_cookie)).await.unwrap();
    agents::set_ready(&engine, ann).await.unwrap();
    let (xena, token) = talking(&app, &engine, queue, ann, "Xena", "video").await;
    // Someone else waits meanwhile (Ann's only video seat is taken).
    common::api_customer(&app, &app, queue, "Later", "video").await;
    let mut page = connect(&app, &format!("/ws/customer?token={token}"), None).await.unwrap();
    let talking_view = next_text(&mut page, Duration::from_secs(5)).await.unwrap();
    assert!(talking_view.contains("\"matched\""), "{talking_view}");

    // The desk's connection drops and does not come back.
    drop(desk);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let view: serde_json::Value = loop {
        let text = next_text(&mut page, Duration::from_secs(10)).await.expect("the customer's page is told");
        let view: serde_json::Value = serde_json::from_str(&text).unwrap();
        if view["type"] == "waiting" {
            break view;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {view}");
    };
    assert_eq!(view["back"]["why"], "reconnecting");
    assert_eq!(view["position"], 1, "back at the front, before the customer who came later");
    assert_eq!(status_of(&pool, xena).await, "waiting");
}
