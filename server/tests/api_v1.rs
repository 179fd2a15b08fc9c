//! `/api/v1` over HTTP, as a website backend calls it: API clients made on
//! the admin's endpoints, every way a token is refused, scopes, the rate
//! limit, help sessions (idempotent creation, reading, listing page by
//! page, cancelling), queue statistics and the OpenAPI document.

mod common;

use app::model::Role;
use common::{test_config, TestApp};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// An API client as the admin made it: its id and secret.
struct ApiClient {
    id: String,
    secret: String,
}

fn audience() -> String {
    format!("{}/api/v1", test_config().public_url)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl ApiClient {
    /// A token with these claims, signed with the client's secret.
    fn sign(&self, claims: Value) -> String {
        self.sign_with(Algorithm::HS256, &self.secret, claims)
    }

    fn sign_with(&self, algorithm: Algorithm, secret: &str, claims: Value) -> String {
        encode(&Header::new(algorithm), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    /// The claims of a good token, a new one each time.
    fn claims(&self) -> Value {
        json!({ "iss": self.id, "sub": self.id, "aud": audience(), "iat": now(), "exp": now() + 300, "jti": Uuid::new_v4().to_string() })
    }

    fn token(&self) -> String {
        self.sign(self.claims())
    }
}

/// The admin's endpoints make a client with these scopes.
async fn make_client(app: &TestApp, admin: &reqwest::Client, name: &str, scopes: &[&str]) -> ApiClient {
    let mut form = vec![("name".to_owned(), name.to_owned())];
    form.extend(scopes.iter().enumerate().map(|(i, scope)| (format!("scopes[{i}]"), (*scope).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.call(admin, "api-clients/add", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let made: Value = response.json().await.unwrap();
    ApiClient { id: made["client"]["id"].as_str().unwrap().to_owned(), secret: made["secret"].as_str().unwrap().to_owned() }
}

/// A request as `client` (a fresh token) with a JSON body if any.
fn request(
    app: &TestApp,
    client: &ApiClient,
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let request = reqwest::Client::new().request(method, app.url(&path)).bearer_auth(client.token());
    match body {
        Some(body) => request.json(&body).send(),
        None => request.send(),
    }
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(app.url(path));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

/// The status and the error's code of an answer.
async fn refused(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

async fn push_queue(app: &TestApp) -> Uuid {
    sqlx::query_scalar("INSERT INTO queues (name, routing_mode, when_nobody) VALUES ('Sales', 'push', 'accept') RETURNING id")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_bad_token_is_refused_saying_why(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "CRM", &["queues:read"]).await;
    let other = make_client(&app, &admin, "Other", &["help_sessions:read"]).await;
    let good = client.claims();
    let with = |changes: Value| {
        let mut claims = client.claims();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        client.sign(claims)
    };
    let unknown = Uuid::new_v4().to_string();
    let cases: Vec<(&str, Option<String>, StatusCode, &str)> =
        vec![
            ("no token", None, StatusCode::UNAUTHORIZED, "token_missing"),
            ("not a JWT", Some("not.a.jwt".into()), StatusCode::UNAUTHORIZED, "token_malformed"),
            ("expired", Some(with(json!({ "iat": now() - 900, "exp": now() - 300 }))), StatusCode::UNAUTHORIZED, "token_expired"),
            (
                "wrong audience",
                Some(with(json!({ "aud": "https://elsewhere.example/api/v1" }))),
                StatusCode::UNAUTHORIZED,
                "wrong_audience",
            ),
            (
                "unknown client",
                Some(client.sign(
                    json!({ "iss": unknown, "sub": unknown, "aud": audience(), "iat": now(), "exp": now() + 60, "jti": "x" }),
                )),
                StatusCode::UNAUTHORIZED,
                "unknown_client",
            ),
            (
                "another client's secret",
                Some(client.sign_with(Algorithm::HS256, &other.secret, good.clone())),
                StatusCode::UNAUTHORIZED,
                "bad_signature",
            ),
            (
                "another algorithm",
                Some(client.sign_with(Algorithm::HS512, &client.secret, client.claims())),
                StatusCode::UNAUTHORIZED,
                "wrong_algorithm",
            ),
            ("sub not the client", Some(with(json!({ "sub": other.id }))), StatusCode::UNAUTHORIZED, "wrong_subject"),
            ("lives too long", Some(with(json!({ "exp": now() + 3600 }))), StatusCode::UNAUTHORIZED, "token_lifetime_too_long"),
            (
                "issued in the future",
                Some(with(json!({ "iat": now() + 300, "exp": now() + 400 }))),
                StatusCode::UNAUTHORIZED,
                "token_not_yet_valid",
            ),
            ("no jti", Some(with(json!({ "jti": null }))), StatusCode::UNAUTHORIZED, "claim_missing"),
            ("no exp", Some(with(json!({ "exp": null }))), StatusCode::UNAUTHORIZED, "claim_missing"),
            ("missing scope", Some(other.token()), StatusCode::FORBIDDEN, "missing_scope"),
        ];
    for (case, token, status, code) in cases {
        let answer = refused(get(&app, "/api/v1/queues", token.as_deref()).await).await;
        assert_eq!(answer, (status, code.to_owned()), "{case}");
    }

    // Clocks a little apart are fine; the same token twice is not.
    let skewed = with(json!({ "iat": now() + 30, "exp": now() + 330 }));
    assert_eq!(get(&app, "/api/v1/queues", Some(&skewed)).await.status(), StatusCode::OK);
    let token = client.sign(good);
    assert_eq!(get(&app, "/api/v1/queues", Some(&token)).await.status(), StatusCode::OK);
    assert_eq!(
        refused(get(&app, "/api/v1/queues", Some(&token)).await).await,
        (StatusCode::UNAUTHORIZED, "token_replayed".into())
    );

    // Disabled: refused at once, with a token signed before; enabled again,
    // accepted.
    let before = client.token();
    let off = app.call(&admin, "api-clients/disabled", &[("id", &client.id), ("disabled", "true")]).await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(
        refused(get(&app, "/api/v1/queues", Some(&before)).await).await,
        (StatusCode::FORBIDDEN, "client_disabled".into())
    );
    app.call(&admin, "api-clients/disabled", &[("id", &client.id), ("disabled", "false")]).await;
    assert_eq!(get(&app, "/api/v1/queues", Some(&client.token())).await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_rotated_secret_works_beside_the_old_one_and_is_shown_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let old = make_client(&app, &admin, "CRM", &["queues:read"]).await;

    let rotated: Value = app.call(&admin, "api-clients/rotate", &[("id", &old.id)]).await.json().await.unwrap();
    let new = ApiClient { id: old.id.clone(), secret: rotated["secret"].as_str().unwrap().to_owned() };

    assert_ne!(new.secret, old.secret);
    assert_eq!(get(&app, "/api/v1/queues", Some(&new.token())).await.status(), StatusCode::OK);
    assert_eq!(get(&app, "/api/v1/queues", Some(&old.token())).await.status(), StatusCode::OK, "the grace period");
    // Once the grace period is over, only the new one.
    sqlx::query("UPDATE api_clients SET previous_until = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    assert_eq!(
        refused(get(&app, "/api/v1/queues", Some(&old.token())).await).await,
        (StatusCode::UNAUTHORIZED, "bad_signature".into())
    );
    // The list never carries a secret.
    let listed = app.call(&admin, "api-clients/list", &[]).await.text().await.unwrap();
    assert!(listed.contains(&old.id) && !listed.contains(&new.secret) && !listed.contains(&old.secret), "{listed}");
    // Only admins manage clients; a bad scope is refused by name.
    let agent = app.signed_in(Role::Agent).await;
    assert_eq!(
        app.call(&agent, "api-clients/add", &[("name", "X"), ("scopes[0]", "queues:read")]).await.status(),
        StatusCode::FORBIDDEN
    );
    let bad = app.call(&admin, "api-clients/add", &[("name", "X"), ("scopes[0]", "everything")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("Unknown scope \\\"everything\\\""));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_client_past_its_rate_is_told_when_to_come_back(pool: PgPool) {
    let mut config = test_config();
    config.limits.api_per_client_per_minute = 3;
    let app = TestApp::spawn_with(pool, config).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "Busy", &["queues:read"]).await;
    let quiet = make_client(&app, &admin, "Quiet", &["queues:read"]).await;

    for _ in 0..3 {
        assert_eq!(get(&app, "/api/v1/queues", Some(&client.token())).await.status(), StatusCode::OK);
    }
    let response = get(&app, "/api/v1/queues", Some(&client.token())).await;

    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(refused(response).await, (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into()));
    assert_eq!(get(&app, "/api/v1/queues", Some(&quiet.token())).await.status(), StatusCode::OK, "each client its own rate");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_backend_puts_customers_in_line_reads_lists_and_cancels(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "Shop", &["help_sessions:write", "help_sessions:read", "queues:read"]).await;
    let queue = push_queue(&app).await;
    let http = reqwest::Client::new();
    let create = |body: Value, key: Option<&str>| {
        let request = http.post(app.url("/api/v1/help-sessions")).bearer_auth(client.token()).json(&body);
        let request = match key {
            Some(key) => request.header("Idempotency-Key", key),
            None => request,
        };
        request.send()
    };
    let ann =
        json!({ "queue_id": queue, "name": "Ann", "reason": "Order 1234", "channel": "chat", "external_reference": "CRM-1" });

    // Created, and the same key and body again: the same session.
    let first = create(ann.clone(), Some("order-1234")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = create(ann.clone(), Some("order-1234")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["help_session"], first["help_session"]);
    // The store kept no customer token: the replay carries fresh ones,
    // which work.
    let stored: String = sqlx::query_scalar("SELECT answer::text FROM api_idempotency").fetch_one(&app.pool).await.unwrap();
    assert!(!stored.contains(first["token"].as_str().unwrap()) && !stored.contains("token"), "{stored}");
    assert_ne!(again["token"], first["token"]);
    let replayed: Value = http
        .get(app.url("/help/session"))
        .bearer_auth(again["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["type"], "waiting");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM help_sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 1, "one session for one key");
    let reused = create(json!({ "queue_id": queue, "name": "Bea", "reason": "Other", "channel": "chat" }), Some("order-1234"))
        .await
        .unwrap();
    assert_eq!(refused(reused).await, (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused".into()));

    let session = &first["help_session"];
    assert_eq!(session["status"], "waiting");
    assert_eq!(session["position"], 1);
    // Nobody serves the queue yet: no estimate, in numbers or in words.
    assert!(session["estimate"].is_null() && session["estimated_wait"] == "can't estimate right now", "{session}");
    assert_eq!(session["external_reference"], "CRM-1");
    let id = session["id"].as_str().unwrap().to_owned();
    // The token opens the customer's own place.
    let token = first["token"].as_str().unwrap();
    let mine: Value = http.get(app.url("/help/session")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!((mine["type"].as_str(), mine["position"].as_i64()), (Some("waiting"), Some(1)));
    let url = first["customer_url"].as_str().unwrap();
    assert!(url.contains("/back?token=") && !url.ends_with(&token.to_string()), "the link has its own token: {url}");

    // Bad bodies are refused naming the field.
    for (body, says) in [
        (json!({ "queue_id": queue, "name": "Cy", "reason": "x", "channel": "chat", "colour": "red" }), "unknown field `colour`"),
        (json!({ "queue_id": queue, "reason": "x", "channel": "chat" }), "missing field `name`"),
        (json!({ "queue_id": queue, "name": "Cy", "reason": "x", "channel": "fax" }), "Channel must be"),
        (json!({ "queue_id": queue, "name": "Cy", "reason": "x", "channel": "callback" }), "Phone number"),
    ] {
        let response = create(body, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let message = response.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{message} should say {says}");
    }
    let nowhere =
        create(json!({ "queue_id": Uuid::new_v4(), "name": "Cy", "reason": "x", "channel": "chat" }), None).await.unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);

    // Two more; listed newest first, two to a page.
    for name in ["Bea", "Cy"] {
        let response =
            create(json!({ "queue_id": queue, "name": name, "reason": "Question", "channel": "audio" }), None).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let page: Value = get(&app, "/api/v1/help-sessions?limit=2", Some(&client.token())).await.json().await.unwrap();
    let names = |page: &Value| {
        page["help_sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["customer_name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&page), ["Cy", "Bea"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        get(&app, &format!("/api/v1/help-sessions?limit=2&cursor={cursor}"), Some(&client.token())).await.json().await.unwrap();
    assert_eq!(names(&rest), ["Ann"]);
    assert!(rest["next_cursor"].is_null());
    let bad_filter = get(&app, "/api/v1/help-sessions?status=lost", Some(&client.token())).await;
    assert_eq!(bad_filter.status(), StatusCode::BAD_REQUEST);
    assert!(bad_filter.text().await.unwrap().contains("status"));
    assert_eq!(get(&app, "/api/v1/help-sessions?colour=red", Some(&client.token())).await.status(), StatusCode::BAD_REQUEST);

    // The queue's live figures count them.
    let stats: Value = get(&app, &format!("/api/v1/queues/{queue}/stats"), Some(&client.token())).await.json().await.unwrap();
    assert_eq!(stats["waiting"], 3);
    assert_eq!(stats["ready_agents"], 0);

    // Cancelled: out of line, then not cancellable again.
    let cancel = || http.delete(app.url(&format!("/api/v1/help-sessions/{id}"))).bearer_auth(client.token()).send();
    assert_eq!(cancel().await.unwrap().status(), StatusCode::NO_CONTENT);
    let read: Value = get(&app, &format!("/api/v1/help-sessions/{id}"), Some(&client.token())).await.json().await.unwrap();
    assert_eq!(read["status"], "cancelled");
    assert!(read["position"].is_null());
    assert_eq!(refused(cancel().await.unwrap()).await, (StatusCode::CONFLICT, "conflict".into()));
    let listed: Value = get(&app, "/api/v1/help-sessions?status=waiting", Some(&client.token())).await.json().await.unwrap();
    assert_eq!(names(&listed), ["Cy", "Bea"]);
    assert_eq!(refused(get(&app, "/api/v1/help-sessions/not-an-id", Some(&client.token())).await).await.0, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_api_describes_itself(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let doc: Value = get(&app, "/api/v1/openapi.json", None).await.json().await.unwrap();
    let page = get(&app, "/api/v1/docs", None).await;
    let unknown = get(&app, "/api/v1/nothing-here", None).await;

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in
        ["/api/v1/queues", "/api/v1/queues/{queue_id}/stats", "/api/v1/help-sessions", "/api/v1/help-sessions/{help_session_id}"]
    {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["client_assertion"].is_object());
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("POST /api/v1/help-sessions") && html.contains("id=\"schema-NewHelpSession\""), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing fetched from elsewhere");
    assert_eq!(refused(unknown).await, (StatusCode::NOT_FOUND, "not_found".into()));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn callbacks_agents_and_the_event_feed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client =
        make_client(&app, &admin, "WFM", &["callbacks:write", "agents:read", "agents:write", "help_sessions:read"]).await;
    let queue = push_queue(&app).await;
    let send = |method, path, body| request(&app, &client, method, path, body);
    let post = |body: Value| send(reqwest::Method::POST, "/api/v1/callbacks".into(), Some(body));

    // A callback, and the same number again: the same one.
    let ask =
        json!({ "queue_id": queue, "name": "Dee", "phone": "+1 415 555 0100", "reason": "Invoice", "external_reference": "T-9" });
    let first = post(ask.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["status"].as_str(), first["phone"].as_str(), first["position"].as_i64()),
        (Some("waiting"), Some("+14155550100"), Some(1))
    );
    let again = post(ask.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    // Another client asking for that number learns only that it is taken.
    let other = make_client(&app, &admin, "Other CRM", &["callbacks:write"]).await;
    let theirs = request(&app, &other, reqwest::Method::POST, "/api/v1/callbacks".into(), Some(ask.clone())).await.unwrap();
    assert_eq!(theirs.status(), StatusCode::CONFLICT);
    let text = theirs.text().await.unwrap();
    assert!(text.contains("callback_exists") && !text.contains(first["id"].as_str().unwrap()) && !text.contains("Dee"), "{text}");
    let half = post(json!({ "queue_id": queue, "name": "Eve", "phone": "+14155550101", "reason": "x", "window_from": "2030-01-01T09:00:00Z" })).await.unwrap();
    assert_eq!(refused(half).await, (StatusCode::BAD_REQUEST, "invalid".into()));
    let bad_phone = post(json!({ "queue_id": queue, "name": "Eve", "phone": "0207946", "reason": "x" })).await.unwrap();
    assert_eq!(bad_phone.status(), StatusCode::BAD_REQUEST);
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        send(reqwest::Method::DELETE, format!("/api/v1/callbacks/{id}"), None).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let read: Value = send(reqwest::Method::GET, format!("/api/v1/callbacks/{id}"), None).await.unwrap().json().await.unwrap();
    assert_eq!((read["status"].as_str(), read["external_reference"].as_str()), (Some("cancelled"), Some("T-9")));
    let twice = send(reqwest::Method::DELETE, format!("/api/v1/callbacks/{id}"), None).await.unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);

    // A workforce tool sets a representative's state, only while they are
    // at the desk.
    let engine = common::engine(&app.pool).await;
    let agent = common::add_agent(&app.pool, "fay@example.com", "Fay", queue.into()).await;
    let state = |body: Value| send(reqwest::Method::PUT, format!("/api/v1/agents/{agent}/state"), Some(body));
    assert_eq!(refused(state(json!({ "state": "READY" })).await.unwrap()).await, (StatusCode::CONFLICT, "conflict".into()));
    app::engine::agents::log_in(&engine, agent).await.unwrap();
    assert_eq!(state(json!({ "state": "NOT_READY" })).await.unwrap().status(), StatusCode::BAD_REQUEST, "a reason is needed");
    assert_eq!(state(json!({ "state": "SLEEPING" })).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let on_break: Value = state(json!({ "state": "NOT_READY", "reason": "Break" })).await.unwrap().json().await.unwrap();
    assert_eq!((on_break["state"].as_str(), on_break["reason"].as_str()), (Some("NOT_READY"), Some("Break")));
    assert_eq!(state(json!({ "state": "READY" })).await.unwrap().status(), StatusCode::OK);
    let listed: Value = send(reqwest::Method::GET, "/api/v1/agents".into(), None).await.unwrap().json().await.unwrap();
    let fay = listed["agents"].as_array().unwrap().iter().find(|a| a["name"] == "Fay").unwrap().clone();
    assert_eq!(fay["state"], "READY");
    let out: Value = state(json!({ "state": "LOGGED_OUT" })).await.unwrap().json().await.unwrap();
    assert_eq!(out["state"], "LOGGED_OUT");
    let nobody =
        send(reqwest::Method::PUT, format!("/api/v1/agents/{}/state", Uuid::new_v4()), Some(json!({ "state": "READY" })))
            .await
            .unwrap();
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    // The feed, two at a time, holds every event in the log once and in
    // order; read again from the last cursor, only what came since.
    let feed = |after: Option<String>| {
        let path = match after {
            Some(after) => format!("/api/v1/events?limit=2&after={after}"),
            None => "/api/v1/events?limit=2".to_owned(),
        };
        send(reqwest::Method::GET, path, None)
    };
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page: Value = feed(after.clone()).await.unwrap().json().await.unwrap();
        let events = page["events"].as_array().unwrap().clone();
        after = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if events.is_empty() {
            break;
        }
        seen.extend(events.iter().map(|e| e["id"].as_i64().unwrap()));
    }
    let logged: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY at, id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(seen, logged);
    assert!(seen.len() >= 6, "callback entered and cancelled, Fay's states: {seen:?}");
    post(json!({ "queue_id": queue, "name": "Gus", "phone": "+14155550102", "reason": "x" })).await.unwrap();
    let since: Value = feed(after).await.unwrap().json().await.unwrap();
    let kinds: Vec<&str> = since["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ENTER_QUEUE", "CALLBACK_REQUESTED"]);
    assert_eq!(feed(Some("nonsense".into())).await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn retries_racing_with_one_key_make_one_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "Shop", &["help_sessions:write"]).await;
    let queue = push_queue(&app).await;
    let body = json!({ "queue_id": queue, "name": "Ann", "reason": "Order 1234", "channel": "chat" });

    let tries = (0..10).map(|_| {
        reqwest::Client::new()
            .post(app.url("/api/v1/help-sessions"))
            .bearer_auth(client.token())
            .header("Idempotency-Key", "retry-me")
            .json(&body)
            .send()
    });
    let answers = futures_util::future::join_all(tries).await;

    let mut made = std::collections::HashSet::new();
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::CREATED => {
                made.insert(answer.json::<Value>().await.unwrap()["help_session"]["id"].as_str().unwrap().to_owned());
            }
            StatusCode::CONFLICT => assert_eq!(refused(answer).await.1, "idempotency_in_progress"),
            other => panic!("unexpected {other}"),
        }
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM help_sessions").fetch_one(&app.pool).await.unwrap();
    assert_eq!((made.len(), count), (1, 1));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_client_manages_webhook_endpoints(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "CRM", &["webhooks:manage"]).await;
    let send = |method, path, body| request(&app, &client, method, path, body);

    let made = send(
        reqwest::Method::POST,
        "/api/v1/webhooks".into(),
        Some(json!({ "url": "https://crm.example.com/hooks", "event_types": ["help_session.answered", "rating.given"] })),
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = made["endpoint"]["id"].as_str().unwrap().to_owned();
    for (body, says) in [
        (json!({ "url": "ftp://crm.example.com", "event_types": ["rating.given"] }), "URL must be"),
        (
            json!({ "url": "https://crm.example.com", "event_types": ["everything"] }),
            "unknown variant `everything`, expected one of",
        ),
        (json!({ "url": "https://crm.example.com", "event_types": [] }), "at least one event type"),
    ] {
        let refused = send(reqwest::Method::POST, "/api/v1/webhooks".into(), Some(body)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let message = refused.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{message} should say {says}");
    }

    let listed: Value = send(reqwest::Method::GET, "/api/v1/webhooks".into(), None).await.unwrap().json().await.unwrap();
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 1);
    assert!(listed["event_types"].as_array().unwrap().iter().any(|t| t == "callback.attempted"));
    assert!(!listed.to_string().contains(made["secret"].as_str().unwrap()), "the secret is shown once");
    let off: Value = send(reqwest::Method::PUT, format!("/api/v1/webhooks/{id}/enabled"), Some(json!({ "enabled": false })))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((off["enabled"].as_bool(), off["disabled_reason"].as_str()), (Some(false), Some("Disabled by an admin.")));
    let vague = send(reqwest::Method::POST, format!("/api/v1/webhooks/{id}/resend"), Some(json!({}))).await.unwrap();
    assert_eq!(vague.status(), StatusCode::BAD_REQUEST);
    let resent: Value =
        send(reqwest::Method::POST, format!("/api/v1/webhooks/{id}/resend"), Some(json!({ "from": "2026-01-01T00:00:00Z" })))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(resent["resent"], 0);
    assert_eq!(
        send(reqwest::Method::DELETE, format!("/api/v1/webhooks/{id}"), None).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(send(reqwest::Method::GET, format!("/api/v1/webhooks/{id}"), None).await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// One client tries to read, list, cancel and watch what another made, and
/// to reach the admin's webhook receivers: each is "no such" thing to it.
/// Supervision never reaches the feed; representatives' own events only
/// with `agents:read`. A client an admin granted `*:all` sees everyone's.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_client_sees_and_changes_only_what_it_made(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let scopes = ["help_sessions:read", "help_sessions:write", "callbacks:write", "webhooks:manage"];
    let shop = make_client(&app, &admin, "Shop", &scopes).await;
    let nosy = make_client(&app, &admin, "Nosy", &scopes).await;
    let auditor =
        make_client(&app, &admin, "Auditor", &["help_sessions:read", "help_sessions:all", "webhooks:manage", "webhooks:all"])
            .await;
    let queue = push_queue(&app).await;
    let send = |client: &ApiClient, method: reqwest::Method, path: String, body: Option<Value>| {
        request(&app, client, method, path, body)
    };

    let made = send(
        &shop,
        reqwest::Method::POST,
        "/api/v1/help-sessions".into(),
        Some(json!({ "queue_id": queue, "name": "Private Person", "reason": "My secret", "channel": "chat" })),
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let session = made.json::<Value>().await.unwrap()["help_session"]["id"].as_str().unwrap().to_owned();
    let called = send(
        &shop,
        reqwest::Method::POST,
        "/api/v1/callbacks".into(),
        Some(json!({ "queue_id": queue, "name": "Private Person", "phone": "+14155550100", "reason": "x" })),
    )
    .await
    .unwrap();
    let callback = called.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    // A supervisor's event about the session, straight into the log.
    sqlx::query("INSERT INTO events (kind, help_session_id, queue_id, at) VALUES ('SUPERVISE_START', $1, $2, now() - interval '1 minute')")
        .bind(Uuid::parse_str(&session).unwrap())
        .bind(queue)
        .execute(&app.pool)
        .await
        .unwrap();
    let admins = app.call(&admin, "webhooks/private", &[("allow", "true")]).await;
    assert_eq!(admins.status(), StatusCode::OK);
    let added = app
        .call(&admin, "webhooks/add", &[("url", "http://127.0.0.1:9/admin-hook"), ("event_types[0]", "help_session.entered")])
        .await;
    let admin_hook = added.json::<Value>().await.unwrap()["endpoint"]["id"].as_str().unwrap().to_owned();

    // The nosy client: nothing of the shop's, nothing of the admin's.
    for path in [
        format!("/api/v1/help-sessions/{session}"),
        format!("/api/v1/callbacks/{callback}"),
        format!("/api/v1/webhooks/{admin_hook}"),
    ] {
        let seen = send(&nosy, reqwest::Method::GET, path.clone(), None).await.unwrap();
        assert_eq!(refused(seen).await, (StatusCode::NOT_FOUND, "not_found".into()), "{path}");
    }
    for path in [
        format!("/api/v1/help-sessions/{session}"),
        format!("/api/v1/callbacks/{callback}"),
        format!("/api/v1/webhooks/{admin_hook}"),
    ] {
        let gone = send(&nosy, reqwest::Method::DELETE, path.clone(), None).await.unwrap();
        assert_eq!(gone.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let listed: Value =
        send(&nosy, reqwest::Method::GET, "/api/v1/help-sessions".into(), None).await.unwrap().json().await.unwrap();
    assert_eq!(listed["help_sessions"], json!([]));
    let hooks: Value = send(&nosy, reqwest::Method::GET, "/api/v1/webhooks".into(), None).await.unwrap().json().await.unwrap();
    assert_eq!(hooks["endpoints"], json!([]));
    let feed = |client| async move {
        let page: Value =
            send(client, reqwest::Method::GET, "/api/v1/events?limit=500".into(), None).await.unwrap().json().await.unwrap();
        page["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    // The feed shows only what has settled; wait for the shop's own events.
    let mut own = Vec::new();
    for _ in 0..50 {
        own = feed(&shop).await;
        if own.iter().any(|kind| kind == "CALLBACK_REQUESTED") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(own.contains(&"ENTER_QUEUE".to_owned()) && !own.iter().any(|kind| kind.starts_with("SUPERVISE")), "{own:?}");
    assert_eq!(feed(&nosy).await, Vec::<String>::new());

    // The auditor, granted everything: the shop's session and the admin's
    // hook, and still no supervision in the feed.
    let seen = send(&auditor, reqwest::Method::GET, format!("/api/v1/help-sessions/{session}"), None).await.unwrap();
    assert_eq!(seen.status(), StatusCode::OK);
    let hooks: Value = send(&auditor, reqwest::Method::GET, "/api/v1/webhooks".into(), None).await.unwrap().json().await.unwrap();
    assert_eq!(hooks["endpoints"].as_array().unwrap().len(), 1);
    let all = feed(&auditor).await;
    assert!(all.contains(&"ENTER_QUEUE".to_owned()) && !all.iter().any(|kind| kind.starts_with("SUPERVISE")), "{all:?}");

    // The shop still has its own, untouched.
    let mine = send(&shop, reqwest::Method::GET, format!("/api/v1/help-sessions/{session}"), None).await.unwrap();
    assert_eq!(mine.json::<Value>().await.unwrap()["status"], "waiting");
}

/// API clients', widgets' and webhook receivers' secrets are stored sealed
/// with the server's key: someone holding a copy of the database signs
/// nothing with what they read. Secrets from before sealing are sealed at
/// start and keep working; a server with another key refuses to start.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn secrets_are_stored_sealed_and_a_copy_of_the_database_signs_nothing(pool: PgPool) {
    use app::secrets::{prepare, KeyRefused, Secrets};
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let client = make_client(&app, &admin, "CRM", &["queues:read"]).await;
    let general: String =
        sqlx::query_scalar("SELECT id::text FROM queues WHERE name = 'General'").fetch_one(&app.pool).await.unwrap();
    let widget: Value = app
        .call(
            &admin,
            "widgets/add",
            &[
                ("name", "Shop"),
                ("origins", "https://shop.example"),
                ("queues[0]", &general),
                ("accent", "#2457c5"),
                ("greeting", "Hi"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let hook: Value = app
        .call(&admin, "webhooks/add", &[("url", "https://receiver.example/hook"), ("event_types[0]", "rating.given")])
        .await
        .json()
        .await
        .unwrap();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT secret FROM api_clients UNION ALL SELECT secret FROM widgets UNION ALL SELECT secret FROM webhook_endpoints",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 3);
    for (stored, shown) in
        stored.iter().zip([client.secret.as_str(), widget["secret"].as_str().unwrap(), hook["secret"].as_str().unwrap()])
    {
        assert!(stored.starts_with("sealed:v1:") && !stored.contains(shown), "{stored} keeps {shown}");
    }
    assert_eq!(get(&app, "/api/v1/queues", Some(&client.token())).await.status(), StatusCode::OK);
    // What a copy of the database holds signs nothing.
    let thief = ApiClient { id: client.id.clone(), secret: stored[0].clone() };
    assert_eq!(
        refused(get(&app, "/api/v1/queues", Some(&thief.token())).await).await,
        (StatusCode::UNAUTHORIZED, "bad_signature".into())
    );

    // A secret stored before sealing is sealed at the next start, and works.
    let key = match test_config().secret_key {
        server::config::SecretKeySource::Given(key) => key,
        other => panic!("{other:?}"),
    };
    sqlx::query("UPDATE api_clients SET secret = 'from-before-sealing'").execute(&app.pool).await.unwrap();
    let before = ApiClient { id: client.id.clone(), secret: "from-before-sealing".into() };
    assert_eq!(get(&app, "/api/v1/queues", Some(&before.token())).await.status(), StatusCode::OK);
    prepare(&app.pool, &key).await.unwrap();
    let sealed: String = sqlx::query_scalar("SELECT secret FROM api_clients").fetch_one(&app.pool).await.unwrap();
    assert!(sealed.starts_with("sealed:v1:"), "{sealed}");
    assert_eq!(get(&app, "/api/v1/queues", Some(&before.token())).await.status(), StatusCode::OK);
    // Another key does not start on this database.
    let (other, _) = Secrets::generate().unwrap();
    assert!(matches!(prepare(&app.pool, &other).await, Err(KeyRefused::Mismatch)));
}
