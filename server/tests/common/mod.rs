//! Shared test harness: the real router on a real socket over a fresh
//! database (from `#[sqlx::test]`), and a cookie-keeping HTTP client.
#![allow(dead_code)]

use app::model::{DisplayName, Email, NewPassword, Role};
use app::people::repo;
use app::states::{AgentId, HelpSessionId, QueueId};
use reqwest::{Client, StatusCode};
use sqlx::PgPool;

pub const PASSWORD: &str = "correct horse battery";

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A signed-in representative, as a test drives them.
pub struct SignedIn {
    pub client: Client,
    pub cookie: String,
    pub id: AgentId,
}

/// The next text message within `wait`, if any (`None` also when the
/// socket closed).
pub async fn next_text(socket: &mut Socket, wait: std::time::Duration) -> Option<String> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(text.to_string()),
            Ok(Some(Ok(_))) => continue,
            Ok(_) | Err(_) => return None,
        }
    }
}

/// Whether the server closes `socket` within `wait` (messages before the
/// close are skipped).
pub async fn closes(socket: &mut Socket, wait: std::time::Duration) -> bool {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

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
    // Tests scrape /metrics; its own test closes it and gives it a token.
    config.metrics_access = server::metrics::MetricsAccess::Open;
    // One key for every test's database, never a file.
    config.secret_key = server::config::SecretKeySource::Given(
        app::secrets::Secrets::parse("dGhlIHRlc3RzJyBrZXksIDMyIGJ5dGVzIGV4YWN0bHk=").unwrap(),
    );
    // Tests make many customers from one address; the limits' own tests
    // set them low.
    config.limits = app::limits::LimitSettings {
        help_per_address_per_minute: 100_000,
        help_per_minute: 100_000,
        ..app::limits::LimitSettings::default()
    };
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
        let header_timeout = std::time::Duration::from_secs(config.header_timeout_seconds);
        tokio::spawn(server::listen::serve(listener, router, header_timeout, std::future::pending()));
        Self { base: format!("http://{addr}"), pool }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (so
    /// tests can see them).
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
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
        self.sign_in_as(role).await.client
    }

    /// A new user of the given role, signed in: their client, their session
    /// cookie (for sockets) and their id.
    pub async fn sign_in_as(&self, role: Role) -> SignedIn {
        let email = format!("{}-{}@example.com", role.as_str(), rand_suffix());
        self.add_user(&email, &format!("Test {}", role.label()), role).await;
        let client = self.client();
        let response = self.login(&client, &email, PASSWORD).await;
        let cookie = session_cookie(&response).expect("a session cookie");
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
        let id: AgentId = sqlx::query_scalar("SELECT id FROM representatives WHERE email = $1")
            .bind(&email)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        SignedIn { client, cookie, id }
    }

    /// Opens a WebSocket at `path` with extra request headers (a cookie, an
    /// Origin); `Err(status)` when the server refuses the handshake.
    pub async fn socket(&self, path: &str, headers: &[(&str, &str)]) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("{}{path}", self.base.replace("http://", "ws://")).into_client_request().unwrap();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("cannot connect: {other}"),
        }
    }

    /// Calls a server function with form fields and an API client's Accept.
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client.post(self.url(&format!("/api/{endpoint}"))).header("accept", "application/json").form(form).send().await.unwrap()
    }

    /// What a representative does at the desk (a `DeskCommand`, as JSON).
    pub async fn desk(&self, client: &Client, command: serde_json::Value) -> reqwest::Response {
        self.call_json(client, "desk/do", &serde_json::json!({ "command": command })).await
    }

    /// Calls a server function that takes JSON.
    pub async fn call_json(&self, client: &Client, endpoint: &str, body: &serde_json::Value) -> reqwest::Response {
        client.post(self.url(&format!("/api/{endpoint}"))).header("accept", "application/json").json(body).send().await.unwrap()
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
    server::http::session_cookie(response.headers())
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

/// The setup form that creates the first admin.
pub fn admin_form<'a>(token: &'a str, email: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("token", token),
        ("email", email),
        ("display_name", "First Admin"),
        ("password", "the first admin's password"),
        ("password_again", "the first admin's password"),
    ]
}

/// The cookie that carries a customer's token on their page.
pub fn customer_cookie(token: &str) -> String {
    format!("{}={token}", app::customer::COOKIE)
}

/// A server function called with the customer's cookie.
pub async fn as_customer(app: &TestApp, token: &str, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
    Client::new()
        .post(app.url(&format!("/api/{endpoint}")))
        .header("accept", "application/json")
        .header("cookie", customer_cookie(token))
        .form(form)
        .send()
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
    let (id, token) = api_session(app, queue, name, channel).await;
    let enqueued = Client::new().post(enqueue_at.url("/help/queue")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(enqueued.status(), StatusCode::OK);
    (id, token)
}

/// A help session made through the API (`POST /help/session`) and not put
/// in line; its id and token.
pub async fn api_session(app: &TestApp, queue: QueueId, name: &str, channel: &str) -> (HelpSessionId, String) {
    let created: serde_json::Value = Client::new()
        .post(app.url("/help/session"))
        .json(&serde_json::json!({ "name": name, "reason": "help", "channel": channel, "queue": queue }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (created["help_session_id"].as_str().unwrap().parse().unwrap(), created["token"].as_str().unwrap().to_owned())
}

/// A new representative of `role`, signed in, serving a new push queue
/// `name` (besides "General").
pub async fn serving(app: &TestApp, role: Role, name: &str) -> (SignedIn, QueueId) {
    let signed_in = app.sign_in_as(role).await;
    let queue = add_queue(&app.pool, name, "push", "longest_idle").await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(queue)
        .bind(signed_in.id)
        .execute(&app.pool)
        .await
        .unwrap();
    (signed_in, queue)
}

/// A representative named `name` (email from the name) who serves `queue`
/// only.
pub async fn named_agent(pool: &PgPool, name: &str, queue: QueueId) -> AgentId {
    add_agent(pool, &format!("{}@example.com", name.to_lowercase().replace(' ', ".")), name, queue).await
}

/// Logged in and READY.
pub async fn ready(engine: &app::engine::Engine, agent: AgentId) {
    app::engine::agents::log_in(engine, agent).await.unwrap();
    app::engine::agents::set_ready(engine, agent).await.unwrap();
}

/// A customer asking for help by audio in `queue`.
pub async fn enter_audio(engine: &app::engine::Engine, queue: QueueId, name: &str) -> app::states::HelpSessionId {
    let request = app::engine::line::NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: queue,
        customer_name: name.into(),
        reason: "help".into(),
        channel: app::queue::Channel::Audio,
        phone: None,
        priority: 0,
        window: None,
    };
    app::engine::line::enter(engine, request).await.unwrap()
}

/// A help session's status, as stored.
pub async fn status_of(pool: &PgPool, help_session: HelpSessionId) -> String {
    sqlx::query_scalar("SELECT status FROM help_sessions WHERE id = $1").bind(help_session).fetch_one(pool).await.unwrap()
}

/// The names in `queue`'s line, in its order.
pub async fn line_names(pool: &PgPool, queue: QueueId) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT h.customer_name FROM queue_entries e JOIN help_sessions h ON h.id = e.help_session_id
          WHERE e.queue_id = $1 ORDER BY e.priority DESC, e.enqueued_at, e.help_session_id",
    )
    .bind(queue)
    .fetch_all(pool)
    .await
    .unwrap()
}
