//! Shared test harness: the real router on a real socket over a fresh
//! database (from `#[sqlx::test]`), and a cookie-keeping HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;

use app::model::{DisplayName, Email, NewPassword, Role};
use app::people::repo;
use app::states::{AgentId, HelpSessionId, QueueId};
use reqwest::{Client, StatusCode};
use sqlx::PgPool;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
}

pub fn test_config() -> server::config::Config {
    // Built from defaults; tests never depend on the caller's environment
    // beyond DATABASE_URL (read by #[sqlx::test] itself).
    let mut config = server::config::Config::from_env().expect("default configuration");
    config.sign_in = app::state::SignInRules::default();
    config.secure_cookies = false;
    config.trusted_proxies = 0;
    config.limits = app::limits::LimitSettings::default();
    config
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> Self {
        Self::spawn_with(pool, test_config()).await
    }

    pub async fn spawn_with(pool: PgPool, config: server::config::Config) -> Self {
        define(&pool).await;
        let router = server::application::Application::build(pool.clone(), &config).await.unwrap().router;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .unwrap();
        });
        Self { base: format!("http://{addr}"), pool }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (so
    /// tests can see them).
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn add_user(&self, email: &str, name: &str, role: Role) {
        repo::add(
            &self.pool,
            &Email::parse(email).unwrap(),
            &DisplayName::parse(name).unwrap(),
            role,
            NewPassword::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
    }

    /// Posts the sign-in form the way the page's script does.
    pub async fn login(&self, client: &Client, email: &str, password: &str) -> reqwest::Response {
        client
            .post(self.url("/api/login"))
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password), ("next", "")])
            .send()
            .await
            .unwrap()
    }

    /// A signed-in client for a new user of the given role.
    pub async fn signed_in(&self, role: Role) -> Client {
        let email = format!("{}-{}@example.com", role.as_str(), rand_suffix());
        self.add_user(&email, &format!("Test {}", role.label()), role).await;
        let client = self.client();
        let response = self.login(&client, &email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
        client
    }

    /// Calls a server function with form fields and an API client's Accept.
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// The engine's SQL functions on a test's fresh database (`#[sqlx::test]`
/// runs the migrations only), as a server applies them at start-up.
pub async fn define(pool: &PgPool) {
    app::engine::definitions::apply(pool).await.unwrap();
}

/// The engine on a test's fresh database.
pub async fn engine(pool: &PgPool) -> app::engine::Engine {
    define(pool).await;
    app::engine::Engine::new(pool.clone())
}

pub fn rand_suffix() -> String {
    use rand::Rng;
    format!("{:08x}", rand::thread_rng().gen::<u32>())
}

/// The value of the session cookie a response set, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("switchboard_session="))
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
}

/// The error message of a server function's JSON error body.
pub async fn error_message(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    // AppError serializes as {"Variant": "message"}, {"Variant": {"message":
    // ..., ...}} or "Forbidden".
    match body {
        serde_json::Value::Object(map) => match map.values().next() {
            Some(serde_json::Value::Object(fields)) => fields["message"].as_str().unwrap_or_default().to_owned(),
            other => other.and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
        },
        serde_json::Value::String(variant) => variant,
        other => other.to_string(),
    }
}

/// A representative (with a placeholder hash: engine tests never sign in)
/// who serves `queue` only.
pub async fn add_agent(pool: &PgPool, email: &str, name: &str, queue: QueueId) -> AgentId {
    let mut tx = pool.begin().await.unwrap();
    let id: AgentId = sqlx::query_scalar(
        "INSERT INTO representatives (email, display_name, role, password_hash) VALUES ($1, $2, 'agent', 'x') RETURNING id",
    )
    .bind(email)
    .bind(name)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    app::engine::agents::provision(&mut tx, id).await.unwrap();
    sqlx::query("DELETE FROM queue_members WHERE representative_id = $1").bind(id).execute(&mut *tx).await.unwrap();
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(queue)
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A queue that lets customers wait even with nobody logged in.
pub async fn add_queue(pool: &PgPool, name: &str, mode: &str, strategy: &str) -> QueueId {
    sqlx::query_scalar(
        "INSERT INTO queues (name, routing_mode, strategy, when_nobody) VALUES ($1, $2, $3, 'accept') RETURNING id",
    )
    .bind(name)
    .bind(mode)
    .bind(strategy)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A customer asks for help through the service-kit API of `app`
/// (`POST /help/session`, then `POST /help/queue` on `enqueue_at`); returns
/// their help session and token.
pub async fn api_customer(
    app: &TestApp,
    enqueue_at: &TestApp,
    queue: QueueId,
    name: &str,
    channel: &str,
) -> (HelpSessionId, String) {
    let http = Client::new();
    let created: serde_json::Value = http
        .post(app.url("/help/session"))
        .json(&serde_json::json!({ "name": name, "reason": "help", "channel": channel, "queue": queue }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let enqueued = http.post(enqueue_at.url("/help/queue")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(enqueued.status(), StatusCode::OK);
    (created["help_session_id"].as_str().unwrap().parse().unwrap(), token)
}
