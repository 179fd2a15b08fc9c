//! The service kit's HTTP API, over HTTP.

mod common;

use app::model::Role;
use common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

async fn pull_queue(app: &TestApp) -> Uuid {
    sqlx::query_scalar("INSERT INTO queues (name, routing_mode, when_nobody) VALUES ('Kit', 'pull', 'accept') RETURNING id")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn create(app: &TestApp, queue: Uuid, name: &str) -> (Uuid, String) {
    let response = reqwest::Client::new()
        .post(app.url("/help/session"))
        .json(&json!({ "name": name, "reason": "Order 1234", "channel": "chat", "queue": queue }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (body["help_session_id"].as_str().unwrap().parse().unwrap(), body["token"].as_str().unwrap().to_owned())
}

async fn enqueue(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::new().post(app.url("/help/queue")).bearer_auth(token).send().await.unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn create_enqueue_and_see_the_position(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let (_, first) = create(&app, queue, "Ann").await;
    let (_, second) = create(&app, queue, "Bea").await;

    assert_eq!(enqueue(&app, &first).await.status(), StatusCode::OK);
    let response = enqueue(&app, &second).await;

    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["type"], "waiting");
    assert_eq!(view["position"], 2);
    assert_eq!(view["estimate"], "can't estimate right now");
    let again = enqueue(&app, &second).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let status: Value =
        reqwest::Client::new().get(app.url("/help/session")).bearer_auth(&first).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["position"], 1);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_token_cancels_only_its_own_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let (mine, my_token) = create(&app, queue, "Ann").await;
    let (theirs, their_token) = create(&app, queue, "Bea").await;
    enqueue(&app, &my_token).await;
    enqueue(&app, &their_token).await;
    let client = reqwest::Client::new();
    let cancel = |id: Uuid, token: Option<&str>| {
        let mut request = client.delete(app.url(&format!("/help/queue/{id}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    assert_eq!(cancel(theirs, Some(&my_token)).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(cancel(theirs, None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let tampered = format!("{}x", &their_token[..their_token.len() - 1]);
    assert_eq!(cancel(theirs, Some(&tampered)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(cancel(mine, Some(&my_token)).await.unwrap().status(), StatusCode::NO_CONTENT);
    let again = cancel(mine, Some(&my_token)).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "You are not waiting in a queue.");

    let statuses: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, status FROM help_sessions ORDER BY customer_name").fetch_all(&app.pool).await.unwrap();
    assert_eq!(statuses, [(mine, "cancelled".to_owned()), (theirs, "waiting".to_owned())]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_representative_dequeues_the_next_customer_or_gets_204(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let rep = app.signed_in(Role::Agent).await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) SELECT $1, id FROM representatives")
        .bind(queue)
        .execute(&app.pool)
        .await
        .unwrap();
    app.call(&rep, "desk", &[]).await; // opening the desk logs in
    let (first, token) = create(&app, queue, "Ann").await;
    enqueue(&app, &token).await;

    let taken = rep.delete(app.url("/help/queue")).send().await.unwrap();

    assert_eq!(taken.status(), StatusCode::OK);
    let body: Value = taken.json().await.unwrap();
    assert_eq!(body["help_session_id"], first.to_string());
    assert_eq!(body["customer_name"], "Ann");
    let empty = rep.delete(app.url("/help/queue")).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::NO_CONTENT);
    let anonymous = app.client().delete(app.url("/help/queue")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn bad_requests_get_a_400_that_says_why(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let client = reqwest::Client::new();
    let cases = [
        (json!({ "name": "", "reason": "x", "channel": "chat", "queue": queue }), "Name is required."),
        (
            json!({ "name": "Ann", "reason": "x", "channel": "fax", "queue": queue }),
            "Channel must be video, audio, chat or callback, not \"fax\".",
        ),
        (
            json!({ "name": "Ann", "reason": "x", "channel": "callback", "queue": queue, "phone": "0207 946" }),
            "Phone number must be in international format: a + and the country code, e.g. +44 20 7946 0958.",
        ),
        (
            json!({ "name": "Ann", "reason": "r".repeat(501), "channel": "chat", "queue": queue }),
            "Reason must be at most 500 characters.",
        ),
    ];
    for (body, message) in cases {
        let response = client.post(app.url("/help/session")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], message);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM help_sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0, "nothing stored from bad requests");
}

/// A stranger who knows a customer's phone number asks for a callback to
/// it: refused with 409 `callback_exists`, and the answer holds no id, no
/// token and nothing of the waiting customer; the victim's callback is
/// untouched.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_phone_number_is_not_a_key_to_someone_elses_callback(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let ask = |name: &str| json!({ "name": name, "reason": "My private reason", "channel": "callback", "queue": queue, "phone": "+44 20 7946 0958" });
    let client = reqwest::Client::new();
    let victim = client.post(app.url("/help/session")).json(&ask("Victoria")).send().await.unwrap();
    assert_eq!(victim.status(), StatusCode::CREATED);
    let victim: Value = victim.json().await.unwrap();

    let stranger = client.post(app.url("/help/session")).json(&ask("Mallory")).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::CONFLICT);
    let text = stranger.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer, json!({ "error": "A callback to this number is already waiting.", "code": "callback_exists" }));
    assert!(!text.contains(victim["help_session_id"].as_str().unwrap()) && !text.contains("Victoria"), "{text}");

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM help_sessions").fetch_one(&app.pool).await.unwrap();
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM customer_tokens").fetch_one(&app.pool).await.unwrap();
    assert_eq!((sessions, tokens), (1, 1), "no second session and no token for the stranger");
}

/// Opening a `/back` link changes nothing: no cookie until the customer's
/// own click posts it. The link's token works once; the browser gets a
/// fresh one; another site cannot post it for them.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_back_link_asks_first_and_works_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let queue = pull_queue(&app).await;
    let (_, token) = create(&app, queue, "Nora").await;
    let link =
        app::customer::token::issue(&app.pool, app::customer::token::session_of(&app.pool, &token).await.unwrap().unwrap())
            .await
            .unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let opened = http.get(app.url(&format!("/back?token={link}"))).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert!(opened.headers().get("set-cookie").is_none(), "opening the link sets nothing");
    assert!(opened.text().await.unwrap().contains("Return to your place in line?"));

    // Another site posting the link for them is refused at the door.
    let forged = http
        .post(app.url("/back"))
        .header("origin", "https://evil.example")
        .form(&[("token", link.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let returned = http
        .post(app.url("/back"))
        .header("origin", app.url("").trim_end_matches('/'))
        .form(&[("token", link.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(returned.status(), StatusCode::SEE_OTHER);
    let cookie = returned.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(!cookie.contains(&link), "a fresh token, not the link's: {cookie}");
    assert!(app::customer::token::session_of(&app.pool, &link).await.unwrap().is_none(), "the link's token is spent");
    // Again: nothing.
    let again = http
        .post(app.url("/back"))
        .header("origin", app.url("").trim_end_matches('/'))
        .form(&[("token", link.as_str())])
        .send()
        .await
        .unwrap();
    assert!(again.headers().get("set-cookie").is_none());
    // The customer's own token still works.
    assert!(app::customer::token::session_of(&app.pool, &token).await.unwrap().is_some());
}
