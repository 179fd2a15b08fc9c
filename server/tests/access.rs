//! Every role against every page and endpoint: the expected status, cell by
//! cell.

mod common;

use app::model::Role;
use common::TestApp;
use reqwest::{Client, StatusCode};
use sqlx::PgPool;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Agent,
    Supervisor,
    Admin,
    /// An agent signed in, then disabled: like nobody at all.
    Disabled,
}

const WHO: [Who; 5] = [Who::Anonymous, Who::Agent, Who::Supervisor, Who::Admin, Who::Disabled];

const OK: u16 = 200;
const LOGIN: u16 = 303;
const UNAUTHORIZED: u16 = 401;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;
const CONFLICT: u16 = 409;
const UPGRADED: u16 = 101;

/// Pages (GET): path and the status for anonymous, agent, supervisor,
/// admin, and a disabled agent.
const PAGES: &[(&str, [u16; 5])] = &[
    ("/", [OK, OK, OK, OK, OK]),
    ("/login", [OK, OK, OK, OK, OK]),
    ("/rep", [LOGIN, OK, OK, OK, LOGIN]),
    ("/supervisor", [LOGIN, FORBIDDEN, OK, OK, LOGIN]),
    ("/admin", [LOGIN, FORBIDDEN, FORBIDDEN, OK, LOGIN]),
    ("/admin/people", [LOGIN, FORBIDDEN, FORBIDDEN, OK, LOGIN]),
    ("/admin/api-clients", [LOGIN, FORBIDDEN, FORBIDDEN, OK, LOGIN]),
    ("/admin/webhooks", [LOGIN, FORBIDDEN, FORBIDDEN, OK, LOGIN]),
    ("/admin/widgets", [LOGIN, FORBIDDEN, FORBIDDEN, OK, LOGIN]),
    // The widget: its loader and its panel are for anyone.
    ("/widget.js", [OK; 5]),
    ("/widget?key=wk_AAAAAAAAAAAAAAAAAAAAAA", [OK; 5]),
    // The API answers API clients' tokens only: a sign-in cookie is no key.
    ("/api/v1/queues", [UNAUTHORIZED; 5]),
    ("/api/v1/docs", [OK; 5]),
    // An admin exists, so the setup page is gone for everyone.
    ("/setup?token=anything", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("/no-such-page", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("/healthz", [OK, OK, OK, OK, OK]),
    ("/readyz", [OK, OK, OK, OK, OK]),
];

/// Server functions (POST): endpoint and the status for each role.
const ENDPOINTS: &[(&str, [u16; 5])] = &[
    ("me", [OK, OK, OK, OK, OK]),
    ("people/list", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("supervisor/wallboard", [UNAUTHORIZED, FORBIDDEN, OK, OK, UNAUTHORIZED]),
    ("people/add", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("people/role", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("people/disabled", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("people/password", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("api-clients/list", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("api-clients/add", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("api-clients/rotate", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("api-clients/disabled", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/list", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/add", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/enabled", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/deliveries", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/resend", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/private", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("webhooks/delete", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NOT_FOUND, UNAUTHORIZED]),
    ("widgets/list", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("widgets/add", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("widgets/update", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("widgets/enabled", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("widgets/rotate", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NOT_FOUND, UNAUTHORIZED]),
    ("widgets/delete", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, NOT_FOUND, UNAUTHORIZED]),
    // The widget's panel, and the customer the site vouched for: anyone.
    ("widgets/panel", [OK; 5]),
    ("widgets/identify", [OK; 5]),
    // The desk: every signed-in role (supervisors and admins take customers too).
    ("desk", [UNAUTHORIZED, OK, OK, OK, UNAUTHORIZED]),
    ("desk/next", [UNAUTHORIZED, OK, OK, OK, UNAUTHORIZED]),
    ("desk/do", [UNAUTHORIZED, OK, OK, OK, UNAUTHORIZED]),
    // Joining a live conversation of "General": its supervisors (the table's
    // supervisor is not one) and admins; an agent never. Leaving: only who
    // joined.
    ("supervisor/join", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED]),
    ("supervisor/leave", [UNAUTHORIZED, FORBIDDEN, CONFLICT, OK, UNAUTHORIZED]),
    // Customers' functions need no sign-in.
    ("help/queues", [OK, OK, OK, OK, OK]),
];

/// Sockets: path, whether the upgrade comes from another site's page, and
/// the status for each.
const SOCKETS: &[(&str, bool, [u16; 5])] = &[
    ("/ws/rep", false, [UNAUTHORIZED, UPGRADED, UPGRADED, UPGRADED, UNAUTHORIZED]),
    ("/ws/admin", false, [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, UPGRADED, UNAUTHORIZED]),
    ("/ws/supervisor", false, [UNAUTHORIZED, FORBIDDEN, UPGRADED, UPGRADED, UNAUTHORIZED]),
    // Another site's page opening a socket with the person's cookie (which
    // would log an agent in): refused whoever they are.
    ("/ws/rep", true, [FORBIDDEN; 5]),
    ("/ws/admin", true, [FORBIDDEN; 5]),
    ("/ws/supervisor", true, [FORBIDDEN; 5]),
    ("/ws/customer", true, [FORBIDDEN; 5]),
];

/// What `request` answers; a request left unanswered fails the test with
/// its name rather than hanging it.
async fn answered<T>(request: &str, answer: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), answer)
        .await
        .unwrap_or_else(|_| panic!("{request}: no answer within 30 s"))
}

/// A client for `who`, and its session cookie for sockets.
async fn client_for(app: &TestApp, who: Who) -> (Client, Option<String>) {
    let role = match who {
        Who::Anonymous => return (app.client(), None),
        Who::Agent | Who::Disabled => Role::Agent,
        Who::Supervisor => Role::Supervisor,
        Who::Admin => Role::Admin,
    };
    let signed_in = app.sign_in_as(role).await;
    if who == Who::Disabled {
        sqlx::query("UPDATE representatives SET disabled = true, session_generation = session_generation + 1 WHERE id = $1")
            .bind(signed_in.id)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    (signed_in.client, Some(signed_in.cookie))
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_role_gets_the_right_status_on_every_page_and_endpoint(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("target@example.com", "Target Person", Role::Agent).await;
    app.add_user("owner@example.com", "Owner", Role::Admin).await;
    let target: uuid::Uuid = sqlx::query_scalar("SELECT id FROM representatives WHERE email = 'target@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let target = target.to_string();
    // A live conversation in "General", for the supervisors' endpoints.
    let engine = common::engine(&app.pool).await;
    let general: app::states::QueueId =
        sqlx::query_scalar("SELECT id FROM queues WHERE name = 'General'").fetch_one(&app.pool).await.unwrap();
    let owner = common::add_agent(&app.pool, "serving@example.com", "Serving Rep", general).await;
    common::ready(&engine, owner).await;
    let live = common::enter_audio(&engine, general, "Xena").await;
    app::engine::offers::accept(&engine, owner, live).await.unwrap();
    let live = live.to_string();
    let api_client: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO api_clients (name, scopes, secret) VALUES ('CRM', '{queues:read}', 's') RETURNING id")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let api_client = api_client.to_string();
    let webhook: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ('https://receiver.invalid/hooks', '{help_session.entered}', 'whsec_AAAA') RETURNING id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let webhook = webhook.to_string();
    let widget: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO widgets (key, name, origins, queue_ids, greeting, secret)
         VALUES ('wk_AAAAAAAAAAAAAAAAAAAAAA', 'Shop', '{https://shop.example}', ARRAY[$1], 'Hi', 'widget secret') RETURNING id",
    )
    .bind(general)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let widget = widget.to_string();
    let general_id = general.to_string();
    let vouched = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"name": "Known", "aud": "wk_AAAAAAAAAAAAAAAAAAAAAA", "jti": "access-1", "exp": time::OffsetDateTime::now_utc().unix_timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"widget secret"),
    )
    .unwrap();
    let nowhere = uuid::Uuid::new_v4().to_string();

    let mut failures = Vec::new();
    for (column, who) in WHO.into_iter().enumerate() {
        let (client, cookie) = client_for(&app, who).await;
        for (path, foreign, expected) in SOCKETS {
            let here = app.base.clone();
            let origin = if *foreign { "https://evil.example" } else { here.as_str() };
            let mut headers = vec![("origin", origin)];
            if let Some(cookie) = &cookie {
                headers.push(("cookie", cookie.as_str()));
            }
            let status = match answered(&format!("{who:?} socket {path}"), app.socket(path, &headers)).await {
                Ok(_) => UPGRADED,
                Err(status) => status,
            };
            if status != expected[column] {
                let from = if *foreign { "another site" } else { "this site" };
                failures.push(format!("{who:?} socket {path} from {from}: {status}, expected {}", expected[column]));
            }
        }

        for (path, expected) in PAGES {
            let status = answered(&format!("{who:?} GET {path}"), client.get(app.url(path)).send()).await.unwrap().status();
            if status.as_u16() != expected[column] {
                failures.push(format!("{who:?} GET {path}: {status}, expected {}", expected[column]));
            }
        }

        for (endpoint, expected) in ENDPOINTS {
            let new_email = format!("new-{}@example.com", common::rand_suffix());
            let form: Vec<(&str, &str)> = match *endpoint {
                "people/add" => vec![
                    ("email", new_email.as_str()),
                    ("display_name", "New Person"),
                    ("role", "agent"),
                    ("password", "a good long password"),
                ],
                "people/role" => vec![("id", target.as_str()), ("role", "agent")],
                "people/disabled" => vec![("id", target.as_str()), ("disabled", "false")],
                "people/password" => vec![("id", target.as_str()), ("password", "another long password")],
                "supervisor/join" => vec![("help_session", live.as_str()), ("mode", "monitor")],
                "supervisor/leave" => vec![("help_session", live.as_str())],
                "api-clients/add" => vec![("name", "Shop"), ("scopes[0]", "queues:read")],
                "api-clients/rotate" => vec![("id", api_client.as_str())],
                "api-clients/disabled" => vec![("id", api_client.as_str()), ("disabled", "false")],
                "webhooks/add" => vec![("url", "https://receiver.invalid/other"), ("event_types[0]", "rating.given")],
                "webhooks/enabled" => vec![("id", webhook.as_str()), ("enabled", "true")],
                "webhooks/deliveries" => vec![("id", webhook.as_str())],
                "webhooks/resend" => vec![("id", webhook.as_str()), ("delivery", nowhere.as_str())],
                "webhooks/private" => vec![("allow", "false")],
                // A missing endpoint: the admin gets as far as 404.
                "webhooks/delete" => vec![("id", nowhere.as_str())],
                "widgets/add" | "widgets/update" => vec![
                    ("id", widget.as_str()),
                    ("name", "Shop"),
                    ("origins", "https://shop.example"),
                    ("queues[0]", general_id.as_str()),
                    ("accent", "#2457c5"),
                    ("greeting", "Hi"),
                ],
                "widgets/enabled" => vec![("id", widget.as_str()), ("enabled", "true")],
                // A missing key (a real one's new secret would refuse the
                // vouching token below): the admin gets as far as 404.
                "widgets/rotate" | "widgets/delete" => vec![("id", nowhere.as_str())],
                "widgets/panel" => vec![("key", "wk_AAAAAAAAAAAAAAAAAAAAAA")],
                "widgets/identify" => vec![("key", "wk_AAAAAAAAAAAAAAAAAAAAAA"), ("token", vouched.as_str())],
                _ => vec![],
            };
            let sent = async {
                match *endpoint {
                    "desk/do" => {
                        let command =
                            serde_json::json!({ "command": { "do": "set_channel", "channel": "chat", "ready": false } });
                        app.call_json(&client, endpoint, &command).await
                    }
                    _ => app.call(&client, endpoint, &form).await,
                }
            };
            let status = answered(&format!("{who:?} POST /api/{endpoint}"), sent).await.status();
            if status.as_u16() != expected[column] {
                failures.push(format!("{who:?} POST /api/{endpoint}: {status}, expected {}", expected[column]));
            }
        }
    }
    assert!(failures.is_empty(), "wrong statuses:\n{}", failures.join("\n"));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_wrong_role_sees_a_no_access_page(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let agent = app.signed_in(Role::Agent).await;

    let response = agent.get(app.url("/admin/people")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = response.text().await.unwrap();
    assert!(body.contains("No access"), "{body}");
    assert!(!body.contains("Add a representative"));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn oversized_bodies_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let big = "x".repeat(100 * 1024);

    let response = app.call(&app.client(), "login", &[("email", big.as_str()), ("password", "x"), ("next", "")]).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_form_that_does_not_parse_is_a_400_with_a_message(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;

    let missing = app.call(&admin, "people/role", &[("id", "not-a-uuid")]).await;

    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let message = common::error_message(missing).await;
    assert!(message.starts_with("The form was incomplete"), "{message}");
}
