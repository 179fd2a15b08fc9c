//! Webhooks against a real HTTP receiver on loopback, started by the test:
//! deliveries signed per Standard Webhooks (checked here with the rule, not
//! the server's code), every event received once however the receiver
//! fails first, the same `webhook-id` on every retry, nothing lost while
//! the receiver is down across a server restart, 410 disabling the
//! endpoint, and addresses receivers may not be on refused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::engine::line::{self, Left};
use app::model::Role;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use common::{add_queue, enter_audio, test_config, TestApp};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgPool;

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

/// A receiver: answers `fail_first` requests with `failure`, then 200.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    seen: Arc<AtomicUsize>,
    fail_first: usize,
    failure: u16,
    /// How long it takes to answer.
    delay: Duration,
}

impl Receiver {
    fn new(fail_first: usize, failure: u16) -> Self {
        Self { got: Arc::default(), seen: Arc::default(), fail_first, failure, delay: Duration::ZERO }
    }

    /// A receiver that answers 200, but only after `delay`.
    fn slow(delay: Duration) -> Self {
        Self { delay, ..Self::new(0, 200) }
    }

    /// Serves on `listener` until the test ends.
    fn serve(&self, listener: tokio::net::TcpListener) {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    let answered = if me.seen.fetch_add(1, Ordering::SeqCst) < me.fail_first { me.failure } else { 200 };
                    tokio::time::sleep(me.delay).await;
                    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    me.got.lock().unwrap().push(Received {
                        id: text("webhook-id"),
                        timestamp: text("webhook-timestamp"),
                        signature: text("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered,
                    });
                    StatusCode::from_u16(answered).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }

    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        self.serve(listener);
        url
    }

    /// The requests it acknowledged with a 2xx.
    fn acknowledged(&self) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|r| r.answered == 200).cloned().collect()
    }

    /// Waits (up to 30 s) until `n` requests are acknowledged.
    async fn until_acknowledged(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            if self.acknowledged().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.acknowledged()
    }
}

/// The Standard Webhooks rule: base64 HMAC-SHA256 of `id.timestamp.body`
/// with the secret's base64-decoded bytes.
fn verifies(secret: &str, received: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|signature| signature == expected)
}

/// Retries within a tenth of a second, answers waited for 2 s.
fn quick_config() -> server::config::Config {
    let mut config = test_config();
    config.webhooks =
        server::webhooks::Schedule { retries: vec![Duration::from_millis(100); 9], timeout: Duration::from_secs(2) };
    config
}

/// An admin adds an endpoint for these types; its id and secret.
async fn add_endpoint(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let admin = app.signed_in(Role::Admin).await;
    assert_eq!(app.call(&admin, "webhooks/private", &[("allow", "true")]).await.status(), reqwest::StatusCode::OK);
    let mut form = vec![("url".to_owned(), url.to_owned())];
    form.extend(types.iter().enumerate().map(|(i, t)| (format!("event_types[{i}]"), (*t).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = app.call(&admin, "webhooks/add", &form).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let added: Value = response.json().await.unwrap();
    (added["endpoint"]["id"].as_str().unwrap().to_owned(), added["secret"].as_str().unwrap().to_owned())
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_event_arrives_signed_once_though_the_receiver_fails_first(pool: PgPool) {
    let app = TestApp::spawn_with(pool, quick_config()).await;
    let receiver = Receiver::new(3, 503);
    let url = receiver.start().await;
    let (_, secret) = add_endpoint(&app, &url, &["help_session.entered", "help_session.cancelled"]).await;
    let engine = common::engine(&app.pool).await;
    let queue = add_queue(&app.pool, "Hooks", "push", "longest_idle").await;

    let mut customers = Vec::new();
    for name in ["Ann", "Bea", "Cy", "Dee", "Eve"] {
        customers.push(enter_audio(&engine, queue, name).await);
    }
    for customer in &customers[..2] {
        line::leave(&engine, *customer, Left::Cancelled).await.unwrap();
    }
    let acknowledged = receiver.until_acknowledged(7).await;

    // Seven events, each acknowledged once, each signed.
    let mut ids: Vec<&str> = acknowledged.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((acknowledged.len(), ids.len()), (7, 7), "{acknowledged:#?}");
    assert!(acknowledged.iter().all(|r| verifies(&secret, r)), "signatures");
    // The three refused were sent again with the same id.
    let all = receiver.got.lock().unwrap().clone();
    let refused: Vec<&Received> = all.iter().filter(|r| r.answered == 503).collect();
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|r| ids.contains(&r.id.as_str()) && verifies(&secret, r)));
    // As recorded: types, and each customer's events in order.
    let bodies: Vec<Value> = acknowledged.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let of = |kind: &str| bodies.iter().filter(|b| b["type"] == kind).count();
    assert_eq!((of("help_session.entered"), of("help_session.cancelled")), (5, 2));
    // Each is the payload the API's document publishes for its type.
    let document: Value = app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for body in &bodies {
        server::api_v1::fits_published(&document, body).unwrap();
    }
    let mut unpublished = bodies[0].clone();
    unpublished["data"]["mood"] = "happy".into();
    assert!(server::api_v1::fits_published(&document, &unpublished).unwrap_err().contains("data.mood is not published"));
    for customer in &customers[..2] {
        let sequence = |kind: &str| {
            bodies.iter().find(|b| b["type"] == kind && b["data"]["help_session_id"] == customer.to_string()).unwrap()["data"]
                ["sequence"]
                .as_i64()
                .unwrap()
        };
        assert!(sequence("help_session.entered") < sequence("help_session.cancelled"));
    }
    // The sender records an attempt after its answer arrived here: wait
    // for the last one to be written.
    let mut recorded = (0, 0);
    for _ in 0..100 {
        recorded = sqlx::query_as(
            "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'), (SELECT count(*) FROM webhook_attempts)",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if recorded.0 == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recorded, (7_i64, all.len() as i64));
}

/// A delivery queued before payloads were rendered by the sender (it kept
/// its payload) is sent with that payload, as it was made.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_delivery_queued_with_its_payload_before_an_upgrade_is_sent_as_it_was(pool: PgPool) {
    let app = TestApp::spawn_with(pool, quick_config()).await;
    let receiver = Receiver::new(0, 200);
    let url = receiver.start().await;
    let (endpoint, secret) = add_endpoint(&app, &url, &["rating.given"]).await;
    let old =
        r#"{"data":{"event_id":1,"rating":4,"sequence":7},"timestamp":"2026-12-01T09:00:00.000000Z","type":"rating.given"}"#;
    sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload) VALUES ($1::uuid, 1, 'rating.given', $2::jsonb)",
    )
    .bind(&endpoint)
    .bind(old)
    .execute(&app.pool)
    .await
    .unwrap();
    let received = receiver.until_acknowledged(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&received[0].body).unwrap(), serde_json::from_str::<Value>(old).unwrap());
    assert!(verifies(&secret, &received[0]));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_receiver_down_across_a_server_restart_gets_everything_after(pool: PgPool) {
    let config = quick_config();
    common::define(&pool).await;
    let first = server::application::Application::build(pool.clone(), &config).await.unwrap();
    // The receiver's port, with nobody listening yet.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    sqlx::query("UPDATE webhook_settings SET allow_private = true").execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ($1, '{help_session.entered}', $2)")
        .bind(format!("http://127.0.0.1:{port}/hooks"))
        .bind(secret)
        .execute(&pool)
        .await
        .unwrap();
    let engine = common::engine(&pool).await;
    let queue = add_queue(&pool, "Hooks", "push", "longest_idle").await;
    for name in ["Ann", "Bea", "Cy"] {
        enter_audio(&engine, queue, name).await;
    }
    // Tried, refused, waiting for the next try.
    for _ in 0..100 {
        let tried: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT delivery_id) FROM webhook_attempts").fetch_one(&pool).await.unwrap();
        if tried == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    first.stop();
    // While no server runs, the receiver comes back and two more enter.
    let receiver = Receiver::new(0, 200);
    receiver.serve(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    for name in ["Dee", "Eve"] {
        enter_audio(&engine, queue, name).await;
    }
    let second = server::application::Application::build(pool.clone(), &config).await.unwrap();
    let acknowledged = receiver.until_acknowledged(5).await;

    let names: Vec<String> = acknowledged
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["data"]["help_session_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 5, "{acknowledged:#?}");
    assert!(acknowledged.iter().all(|r| verifies(secret, r)));
    let failed_first: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_attempts WHERE status_code IS NULL").fetch_one(&pool).await.unwrap();
    assert!(failed_first >= 3, "the first three were tried while the receiver was down");
    second.stop();
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn gone_disables_the_endpoint_and_forbidden_addresses_are_never_called(pool: PgPool) {
    let app = TestApp::spawn_with(pool, quick_config()).await;
    let gone = Receiver::new(usize::MAX, 410);
    let url = gone.start().await;
    let (endpoint, _) = add_endpoint(&app, &url, &["help_session.entered"]).await;
    let engine = common::engine(&app.pool).await;
    let queue = add_queue(&app.pool, "Hooks", "push", "longest_idle").await;

    enter_audio(&engine, queue, "Ann").await;
    let mut reason: Option<String> = None;
    for _ in 0..100 {
        reason = sqlx::query_scalar("SELECT disabled_reason FROM webhook_endpoints WHERE id = $1::uuid AND NOT enabled")
            .bind(&endpoint)
            .fetch_optional(&app.pool)
            .await
            .unwrap()
            .flatten();
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reason.as_deref().unwrap_or_default().contains("410 Gone"), "{reason:?}");
    enter_audio(&engine, queue, "Bea").await;
    let deliveries: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries").fetch_one(&app.pool).await.unwrap();
    assert_eq!((deliveries, gone.got.lock().unwrap().len()), (1, 1), "a disabled endpoint gets nothing more");
    let scraped = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    // Labelled by the endpoint's id: a receiver's URL (a hook's own secret)
    // never reaches a scraper.
    assert!(scraped.contains(&format!("webhook_deliveries{{endpoint=\"{endpoint}\",status=\"failed\"}} 1")), "{scraped}");
    assert!(!scraped.contains(&url), "{scraped}");

    // Private addresses, once the admin says no more; metadata, ever.
    sqlx::query("UPDATE webhook_settings SET allow_private = false").execute(&app.pool).await.unwrap();
    let quiet = Receiver::new(0, 200);
    let private_url = quiet.start().await;
    for url in [private_url.as_str(), "http://169.254.169.254/latest/meta-data"] {
        sqlx::query("INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ($1, '{help_session.entered}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')")
            .bind(url)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    enter_audio(&engine, queue, "Cy").await;
    let mut errors: Vec<String> = Vec::new();
    for _ in 0..100 {
        errors = sqlx::query_scalar("SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.enabled ORDER BY e.url")
            .fetch_all(&app.pool)
            .await
            .unwrap();
        if errors.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(errors.iter().any(|e| e.contains("a private address")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("169.254.169.254") && e.contains("metadata")), "{errors:?}");
    assert!(quiet.got.lock().unwrap().is_empty(), "the private receiver was never called");
}

/// A tarpit receiver (answering only after the sender's timeout) holds up
/// no other receiver: the prompt one gets every delivery while the tarpit
/// still holds its few slots.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_tarpit_receiver_delays_no_other_receivers_deliveries(pool: PgPool) {
    let mut config = test_config();
    config.webhooks = server::webhooks::Schedule { retries: vec![Duration::from_secs(60); 9], timeout: Duration::from_secs(20) };
    let app = TestApp::spawn_with(pool, config).await;
    let tarpit = Receiver::slow(Duration::from_secs(30));
    let prompt = Receiver::new(0, 200);
    add_endpoint(&app, &tarpit.start().await, &["help_session.entered"]).await;
    add_endpoint(&app, &prompt.start().await, &["help_session.entered"]).await;
    let engine = common::engine(&app.pool).await;
    let queue = add_queue(&app.pool, "Hooks", "push", "longest_idle").await;

    let started = Instant::now();
    for n in 0..30 {
        enter_audio(&engine, queue, &format!("Customer {n}")).await;
    }
    let acknowledged = prompt.until_acknowledged(30).await;
    assert_eq!(acknowledged.len(), 30);
    // Well before the tarpit's first attempt could even time out (20 s).
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    let held = tarpit.seen.load(Ordering::SeqCst);
    assert!((1..=4).contains(&held), "the tarpit holds at most its 4 slots: {held}");
}
