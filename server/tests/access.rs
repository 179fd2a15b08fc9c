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
}

const WHO: [Who; 4] = [Who::Anonymous, Who::Agent, Who::Supervisor, Who::Admin];

const OK: u16 = 200;
const LOGIN: u16 = 303;
const UNAUTHORIZED: u16 = 401;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;

/// Pages (GET): path and the status for anonymous, agent, supervisor, admin.
const PAGES: &[(&str, [u16; 4])] = &[
    ("/", [OK, OK, OK, OK]),
    ("/login", [OK, OK, OK, OK]),
    ("/rep", [LOGIN, OK, OK, OK]),
    ("/supervisor", [LOGIN, FORBIDDEN, OK, OK]),
    ("/admin", [LOGIN, FORBIDDEN, FORBIDDEN, OK]),
    ("/admin/people", [LOGIN, FORBIDDEN, FORBIDDEN, OK]),
    // An admin exists, so the setup page is gone for everyone.
    ("/setup?token=anything", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("/no-such-page", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ("/healthz", [OK, OK, OK, OK]),
    ("/readyz", [OK, OK, OK, OK]),
];

/// Server functions (POST): endpoint and the status for each role.
const ENDPOINTS: &[(&str, [u16; 4])] = &[
    ("me", [OK, OK, OK, OK]),
    ("people/list", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("people/team", [UNAUTHORIZED, FORBIDDEN, OK, OK]),
    ("people/add", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("people/role", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("people/disabled", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    ("people/password", [UNAUTHORIZED, FORBIDDEN, FORBIDDEN, OK]),
    // The desk: every signed-in role (supervisors and admins take customers too).
    ("desk", [UNAUTHORIZED, OK, OK, OK]),
    ("desk/next", [UNAUTHORIZED, OK, OK, OK]),
    ("desk/channel", [UNAUTHORIZED, OK, OK, OK]),
    // Customers' functions need no sign-in.
    ("help/queues", [OK, OK, OK, OK]),
];

async fn client_for(app: &TestApp, who: Who) -> Client {
    match who {
        Who::Anonymous => app.client(),
        Who::Agent => app.signed_in(Role::Agent).await,
        Who::Supervisor => app.signed_in(Role::Supervisor).await,
        Who::Admin => app.signed_in(Role::Admin).await,
    }
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

    let mut failures = Vec::new();
    for (column, who) in WHO.into_iter().enumerate() {
        let client = client_for(&app, who).await;

        for (path, expected) in PAGES {
            let status = client.get(app.url(path)).send().await.unwrap().status();
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
                "desk/channel" => vec![("channel", "chat"), ("ready", "false")],
                _ => vec![],
            };
            let status = app.call(&client, endpoint, &form).await.status();
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
