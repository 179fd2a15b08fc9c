//! Holding up under attack and faults: each hole found when the product was
//! attacked, reproduced, failing safe. Presence races are run many times.

mod common;

use std::time::Duration;

use app::engine::presence::{self, Rules, Subject};
use app::engine::{agents, offers};
use app::model::Role;
use app::states::HelpSessionId;
use common::{as_customer, closes, next_text, status_of, TestApp};
use futures_util::SinkExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const RULES: Rules = Rules { grace_seconds: 10.0, unconnected_seconds: 120.0 };

async fn lost_at(pool: &PgPool, help_session: HelpSessionId) -> Option<time::OffsetDateTime> {
    sqlx::query_scalar("SELECT customer_lost_at FROM help_sessions WHERE id = $1")
        .bind(help_session)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_last_two_pages_closing_together_always_leave_their_owner_lost(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Race", "pull", "longest_idle").await;
    let agent = common::add_agent(&pool, "racer@example.com", "Racer", queue).await;
    let instance = Uuid::new_v4();
    presence::beat(&engine, instance).await.unwrap();
    let (customer, _) = common::api_customer(&app, &app, queue, "Rae", "chat").await;

    for trial in 0..40 {
        for subject in [Subject::Customer(customer), Subject::Agent(agent)] {
            let a = presence::open(&engine, instance, subject).await.unwrap();
            let b = presence::open(&engine, instance, subject).await.unwrap();
            let (closed_a, closed_b) = tokio::join!(presence::close(&engine, a), presence::close(&engine, b));
            closed_a.unwrap();
            closed_b.unwrap();
            let lost: bool = match subject {
                Subject::Customer(id) => lost_at(&pool, id).await.is_some(),
                Subject::Agent(id) => {
                    sqlx::query_scalar("SELECT lost_at IS NOT NULL FROM agent_states WHERE representative_id = $1")
                        .bind(id)
                        .fetch_one(&pool)
                        .await
                        .unwrap()
                }
            };
            assert!(lost, "trial {trial}: {subject:?} stayed present with no page");
        }
    }
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_close_that_never_reached_the_database_is_reconciled(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Outage", "pull", "longest_idle").await;
    let (customer, _) = common::api_customer(&app, &app, queue, "Otto", "chat").await;
    let instance = Uuid::new_v4();
    presence::beat(&engine, instance).await.unwrap();
    let kept = presence::open(&engine, instance, Subject::Customer(customer)).await.unwrap();
    let _leaked = presence::open(&engine, instance, Subject::Customer(customer)).await.unwrap();
    // The socket of `leaked` went; its close failed (the database was away).
    sqlx::query("UPDATE connections SET opened_at = now() - interval '1 minute'").execute(&pool).await.unwrap();

    presence::reconcile(&engine, instance, &[kept], RULES).await.unwrap();
    let rows: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM connections").fetch_all(&pool).await.unwrap();
    assert_eq!(rows, [kept], "the row no socket holds is gone");
    assert!(lost_at(&pool, customer).await.is_none(), "one page is still open");

    presence::reconcile(&engine, instance, &[], RULES).await.unwrap();
    assert!(lost_at(&pool, customer).await.is_some(), "with no page left, the customer is lost");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn sessions_no_page_ever_connected_to_do_not_stay_forever(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Ghosts", "pull", "longest_idle").await;
    let (waiting, _) = common::api_customer(&app, &app, queue, "Wanda", "chat").await;
    let (created, _) = common::api_session(&app, queue, "Carl", "chat").await;
    let (fresh, _) = common::api_customer(&app, &app, queue, "Fran", "chat").await;
    sqlx::query("UPDATE help_sessions SET entered_at = now() - interval '3 minutes' WHERE id = ANY($1)")
        .bind(vec![waiting, created])
        .execute(&pool)
        .await
        .unwrap();

    presence::reconcile(&engine, Uuid::new_v4(), &[], RULES).await.unwrap();
    presence::sweep_lost(&engine, RULES.grace_seconds).await.unwrap();

    assert_eq!(status_of(&pool, waiting).await, "abandoned");
    assert_eq!(status_of(&pool, created).await, "expired");
    assert_eq!(status_of(&pool, fresh).await, "waiting", "a page may still be loading");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn general_ships_with_a_maximum_length_and_wait(pool: PgPool) {
    let limits: (Option<i32>, Option<i32>) =
        sqlx::query_as("SELECT max_length, max_wait_seconds FROM queues WHERE name = 'General'").fetch_one(&pool).await.unwrap();
    assert_eq!(limits, (Some(200), Some(3600)));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn help_requests_from_one_address_are_rate_limited(pool: PgPool) {
    let mut config = common::test_config();
    config.limits.help_per_address_per_minute = 3;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let queue = common::add_queue(&pool, "Flood", "pull", "longest_idle").await;
    let http = reqwest::Client::new();
    let body = json!({ "name": "Flo", "reason": "help", "channel": "chat", "queue": queue });

    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..5 {
        let response = http.post(app.url("/help/session")).json(&body).send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
        }
    }

    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    let refused = refused.unwrap();
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let error: Value = refused.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().starts_with("Too many requests for help from your network."), "{error}");
    // The page's form is limited by the same count.
    let page = app
        .call(
            &app.client(),
            "help/request",
            &[("queue", &queue.to_string()), ("name", "Flo"), ("reason", "help"), ("channel", "chat")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn one_customer_cannot_open_endless_sockets_or_send_huge_frames(pool: PgPool) {
    let mut config = common::test_config();
    config.limits.sockets_per_subject = 2;
    let app = TestApp::spawn_with(pool.clone(), config).await;
    let queue = common::add_queue(&pool, "Sockets", "pull", "longest_idle").await;
    let (_, token) = common::api_customer(&app, &app, queue, "Sol", "chat").await;
    let path = format!("/ws/customer?token={token}");

    let mut first = app.socket(&path, &[]).await.unwrap();
    let _second = app.socket(&path, &[]).await.unwrap();
    assert_eq!(app.socket(&path, &[]).await.err(), Some(429));

    // 1 MiB in one message: the socket is closed, not buffered.
    next_text(&mut first, Duration::from_secs(5)).await.expect("the first view");
    let _ = first.send(Message::Text("x".repeat(1 << 20).into())).await;
    assert!(closes(&mut first, Duration::from_secs(5)).await);
    // Its slot is free again.
    let mut again = None;
    for _ in 0..50 {
        match app.socket(&path, &[]).await {
            Ok(socket) => {
                again = Some(socket);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert!(again.is_some(), "a closed socket frees its slot");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_chat_flood_is_slowed_and_pushes_only_what_is_new(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let queue = common::add_queue(&pool, "Chatty", "push", "longest_idle").await;
    let agent = common::add_agent(&pool, "cat@example.com", "Cat", queue).await;
    agents::log_in(&engine, agent).await.unwrap();
    agents::set_ready(&engine, agent).await.unwrap();
    let (customer, token) = common::api_customer(&app, &app, queue, "Chad", "chat").await;
    offers::accept(&engine, agent, customer).await.unwrap();
    let id = customer.to_string();
    let cookie = common::customer_cookie(&token);
    let mut chat = app.socket(&format!("/ws/chat?session={customer}"), &[("cookie", cookie.as_str())]).await.unwrap();
    assert_eq!(next_text(&mut chat, Duration::from_secs(5)).await.as_deref(), Some("[]"));

    let mut statuses = Vec::new();
    for n in 0..30 {
        let body = format!("message {n}");
        let sent = as_customer(&app, &token, "conversation/message", &[("help_session", &id), ("body", &body)]).await;
        statuses.push(sent.status().as_u16());
    }

    let accepted = statuses.iter().filter(|status| **status == 200).count();
    assert!((10..20).contains(&accepted), "{statuses:?}");
    assert!(statuses.contains(&429));
    // The pushes add up to each stored message once.
    let mut pushed = Vec::new();
    while pushed.len() < accepted {
        let batch: Vec<Value> =
            serde_json::from_str(&next_text(&mut chat, Duration::from_secs(5)).await.expect("pushed")).unwrap();
        assert!(batch.len() <= accepted);
        pushed.extend(batch);
    }
    assert_eq!(pushed.len(), accepted);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn other_sites_cannot_change_anything(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.sign_in_as(Role::Admin).await;
    let change = |origin: Option<&'static str>, content_type: &'static str| {
        let mut request = admin
            .client
            .post(app.url("/api/people/add"))
            .header("content-type", content_type)
            .body("email=new%40example.com&display_name=New&role=agent&password=a+long+password");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };

    let foreign = change(Some("https://evil.example"), "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let plain = change(None, "text/plain").await.unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let here = app.base.clone();
    let here: &'static str = Box::leak(here.into_boxed_str());
    let same = change(Some(here), "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(same.status(), StatusCode::OK);
    let added: i64 = sqlx::query_scalar("SELECT count(*) FROM representatives WHERE email = 'new@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(added, 1, "only the same-site request added someone");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_answer_carries_the_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let http = reqwest::Client::new();

    let page = http.get(app.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let body = page.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the policy's nonce");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{csp}");

    for path in ["/", "/healthz", "/help/session", "/pkg/does-not-exist.js"] {
        let response = http.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}: no HSTS over plain HTTP");
        assert_eq!(headers["cache-control"], "no-cache", "{path}: kept only if checked again");
    }
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_api_refusal_is_json(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let queue = common::add_queue(&pool, "Api", "pull", "longest_idle").await;
    let http = reqwest::Client::new();
    let post = |body: String, content_type: &'static str| {
        http.post(app.url("/help/session")).header("content-type", content_type).body(body).send()
    };

    let cases = [
        (
            "missing field",
            post(json!({ "name": "A", "channel": "chat" }).to_string(), "application/json").await.unwrap(),
            422,
            "reason",
        ),
        (
            "wrong type",
            post(json!({ "name": 5, "reason": "r", "channel": "chat" }).to_string(), "application/json").await.unwrap(),
            422,
            "name",
        ),
        (
            "unknown field",
            post(json!({ "name": "A", "reason": "r", "channel": "chat", "x": 1 }).to_string(), "application/json").await.unwrap(),
            422,
            "x",
        ),
        ("not JSON", post("{".into(), "application/json").await.unwrap(), 400, "JSON"),
        (
            "wrong content type",
            post("name=A".into(), "application/x-www-form-urlencoded").await.unwrap(),
            415,
            "application/json",
        ),
        ("too large", post(format!("{{\"name\": \"{}\"}}", "x".repeat(100_000)), "application/json").await.unwrap(), 413, ""),
        ("bad id in the path", http.delete(app.url("/help/queue/not-a-uuid")).send().await.unwrap(), 400, "UUID"),
        (
            "NUL in the name",
            post(json!({ "name": "A\u{0}B", "reason": "r", "channel": "chat", "queue": queue }).to_string(), "application/json")
                .await
                .unwrap(),
            400,
            "control characters",
        ),
    ];
    for (case, response, status, names) in cases {
        assert_eq!(response.status().as_u16(), status, "{case}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{case}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"].as_str().unwrap_or_else(|| panic!("{case}: {body}"));
        assert!(message.contains(names), "{case}: {message}");
    }

    // The bearer scheme in any case.
    let (_, token) = common::api_customer(&app, &app, queue, "Bea", "chat").await;
    let lower = http.get(app.url("/help/session")).header("authorization", format!("bearer {token}")).send().await.unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn control_characters_are_a_400_everywhere(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let admin = app.sign_in_as(Role::Admin).await;
    let (rep, queue) = common::serving(&app, Role::Agent, "Texts").await;
    agents::log_in(&engine, rep.id).await.unwrap();
    agents::set_ready(&engine, rep.id).await.unwrap();
    let (customer, token) = common::api_customer(&app, &app, queue, "Tex", "chat").await;
    offers::accept(&engine, rep.id, customer).await.unwrap();
    let id = customer.to_string();
    let bad = "a\u{0}b";
    let reversed = "a\u{202E}b";

    let sign_in = app.login(&app.client(), "ann\u{0}@example.com", "whatever").await;
    let not_ready = app.desk(&rep.client, serde_json::json!({ "do": "set_state", "state": "NOT_READY", "reason": bad })).await;
    let chat = as_customer(&app, &token, "conversation/message", &[("help_session", &id), ("body", reversed)]).await;
    let queue_name = app
        .call_json(
            &admin.client,
            "queues/save",
            &serde_json::json!({ "settings": { "name": bad, "channels": ["chat"], "nobody_message": "Back at 9." } }),
        )
        .await;
    for (what, response) in
        [("sign-in email", sign_in), ("not-ready reason", not_ready), ("chat", chat), ("queue name", queue_name)]
    {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        let message = common::error_message(response).await;
        assert!(message.contains("control characters") || message.contains("direction"), "{what}: {message}");
    }
    let report = app
        .call(
            &admin.client,
            "metrics/report",
            &[("query[span]", "custom"), ("query[from]", "-9999-01-01"), ("query[to]", "-9999-01-02")],
        )
        .await;
    assert_eq!(report.status(), StatusCode::BAD_REQUEST);
    let message = common::error_message(report).await;
    assert!(message.contains("between the years 2000 and 9999"), "{message}");

    let unknown = app.desk(&rep.client, serde_json::json!({ "do": "dance", "help_session": id })).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST, "a desk command of no known kind");
    assert!(common::error_message(unknown).await.contains("dance"));
    assert_eq!(app.desk(&rep.client, serde_json::json!({ "do": "end", "help_session": id })).await.status(), StatusCode::OK);
    let note = app
        .desk(&rep.client, serde_json::json!({ "do": "wrap_up", "help_session": id, "disposition": "Resolved", "note": bad }))
        .await;
    assert_eq!(note.status(), StatusCode::BAD_REQUEST, "wrap-up note");
    let rating = as_customer(&app, &token, "help/rate", &[("stars", "5"), ("comment", bad)]).await;
    assert_eq!(rating.status(), StatusCode::BAD_REQUEST, "rating comment");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_disabled_representative_is_out_at_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let admin = app.sign_in_as(Role::Admin).await;
    let (rep, queue) = common::serving(&app, Role::Agent, "Revoke").await;
    let mut desk = app.socket("/ws/rep", &[("cookie", rep.cookie.as_str())]).await.unwrap();
    next_text(&mut desk, Duration::from_secs(5)).await.expect("the desk");
    agents::set_ready(&engine, rep.id).await.unwrap();
    let (customer, _) = common::api_customer(&app, &app, queue, "Vic", "chat").await;
    offers::accept(&engine, rep.id, customer).await.unwrap();
    let mut chat = app.socket(&format!("/ws/chat?session={customer}"), &[("cookie", rep.cookie.as_str())]).await.unwrap();

    let target = rep.id.to_string();
    let disabled = app.call(&admin.client, "people/disabled", &[("id", target.as_str()), ("disabled", "true")]).await;
    assert_eq!(disabled.status(), StatusCode::OK);

    assert!(closes(&mut desk, Duration::from_secs(5)).await, "the desk closes");
    assert!(closes(&mut chat, Duration::from_secs(5)).await, "the chat closes");
    assert_eq!(status_of(&pool, customer).await, "waiting", "the customer is back in line");
    let state: String = sqlx::query_scalar("SELECT state FROM agent_states WHERE representative_id = $1")
        .bind(rep.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "LOGGED_OUT");
    assert_eq!(app.socket("/ws/rep", &[("cookie", rep.cookie.as_str())]).await.err(), Some(401));

    // A demoted admin's board closes too.
    let other = app.sign_in_as(Role::Admin).await;
    let mut board = app.socket("/ws/admin", &[("cookie", other.cookie.as_str())]).await.unwrap();
    next_text(&mut board, Duration::from_secs(5)).await.expect("the board");
    let demoted = app.call(&admin.client, "people/role", &[("id", other.id.to_string().as_str()), ("role", "agent")]).await;
    assert_eq!(demoted.status(), StatusCode::OK);
    assert!(closes(&mut board, Duration::from_secs(5)).await, "the board closes");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_token_stops_working_after_its_session(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let queue = common::add_queue(&pool, "Tokens", "pull", "longest_idle").await;
    let http = reqwest::Client::new();
    let (id, token) = common::api_session(&app, queue, "Tia", "chat").await;
    let read = || http.get(app.url("/help/session")).bearer_auth(&token).send();

    let before: Value = read().await.unwrap().json().await.unwrap();
    assert_eq!(before["type"], "not_queued", "a session made but not queued says so");
    assert_eq!(http.post(app.url("/help/queue")).bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(http.delete(app.url(&format!("/help/queue/{id}"))).bearer_auth(&token).send().await.unwrap().status(), 204);
    assert_eq!(read().await.unwrap().status(), StatusCode::OK, "still readable just after");

    sqlx::query("UPDATE help_sessions SET ended_at = now() - interval '31 minutes'").execute(&pool).await.unwrap();
    assert_eq!(read().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.socket(&format!("/ws/customer?token={token}"), &[]).await.err(), Some(401));
    // Only a hash of the token is stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM customer_tokens WHERE token_hash = convert_to($1, 'UTF8')")
        .bind(&token)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn invented_methods_share_one_metrics_series(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let http = reqwest::Client::new();
    for method in ["BREW", "WHEN", "FROB"] {
        let _ = http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url("/healthz")).send().await;
    }
    let scraped = http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for method in ["BREW", "WHEN", "FROB"] {
        assert!(!scraped.contains(method), "{method} made a series of its own");
    }
    assert!(scraped.contains("method=\"other\""));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_client_trickling_its_headers_is_dropped(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = common::test_config();
    config.header_timeout_seconds = 1;
    let app = TestApp::spawn_with(pool, config).await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection is still open after 5 s");
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"), "the trickled request was never answered");

    // Whole requests are answered as ever.
    assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), StatusCode::OK);
}
