//! Admins create and edit queues and their members.

mod common;

use app::model::Role;
use app::queue::QueueWithMembers;
use common::{error_message, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

/// What the queues page sends: a queue's settings (the rest keep their defaults).
fn queue(name: &str) -> Value {
    json!({ "settings": {
        "name": name,
        "channels": ["chat", "callback"],
        "routing_mode": "pull",
        "strategy": "round_robin",
        "rona_seconds": 20,
        "wrap_up_seconds": 30,
        "service_level_seconds": 45,
        "max_length": 50,
        "when_nobody": "accept",
        "nobody_message": "Back at 9.",
    } })
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_admin_creates_and_edits_a_queue_with_members(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("bo@example.com", "Bo", Role::Agent).await;
    let bo: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM representatives WHERE email = 'bo@example.com'").fetch_one(&app.pool).await.unwrap();
    let bo = bo.to_string();

    let mut billing = queue("Billing");
    billing["members"] = json!([bo]);
    let created = app.call_json(&admin, "queues/save", &billing).await;

    assert_eq!(created.status(), StatusCode::OK);
    let created: QueueWithMembers = created.json().await.unwrap();
    assert_eq!(created.queue.settings.name, "Billing");
    assert_eq!(created.queue.settings.rona_seconds, 20);
    assert_eq!(created.queue.settings.max_length, Some(50));
    assert_eq!(created.queue.settings.max_wait_seconds, None);
    assert_eq!(created.members, [bo.parse::<uuid::Uuid>().unwrap()]);

    // Edit: push, no members, no length limit.
    let id = created.queue.id.to_string();
    let mut edit = queue("Billing & Payments");
    edit["id"] = json!(id);
    edit["settings"]["max_length"] = Value::Null;
    edit["settings"]["routing_mode"] = json!("push");
    let edited: QueueWithMembers = app.call_json(&admin, "queues/save", &edit).await.json().await.unwrap();
    assert_eq!(edited.queue.id, created.queue.id);
    assert_eq!(edited.queue.settings.name, "Billing & Payments");
    assert_eq!(edited.queue.settings.max_length, None);
    assert!(edited.members.is_empty());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn queue_settings_are_checked(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    // What is sent, and the status and message it gets.
    let changed = |name: &str, field: &str, value: Value| {
        let mut sent = queue(name);
        sent["settings"][field] = value;
        sent
    };
    let cases = [
        (queue("General"), StatusCode::CONFLICT, "A queue named \"General\" exists already."),
        (queue(""), StatusCode::BAD_REQUEST, "Queue name is required, at most 60 characters."),
        (changed("Slow", "rona_seconds", json!(2)), StatusCode::BAD_REQUEST, "No-answer time must be between 5 and 300 seconds."),
        (changed("None", "channels", json!([])), StatusCode::BAD_REQUEST, "Choose at least one channel."),
        (
            changed(
                "Night",
                "hours",
                json!({ "time_zone": "UTC", "days": [{ "weekday": 1, "opens": "18:00", "closes": "08:00" }] }),
            ),
            StatusCode::BAD_REQUEST,
            "On Monday the queue must close after it opens.",
        ),
        (
            changed(
                "Premium",
                "callback_limits",
                json!({ "cap": 10, "per_address": 1, "expiry_hours": 24, "prefixes": ["+900x"] }),
            ),
            StatusCode::BAD_REQUEST,
            "Allowed callback prefixes are a + and 1 to 6 digits, like +44 or +1; \"+900x\" is not.",
        ),
    ];
    for (sent, status, message) in cases {
        let response = app.call_json(&admin, "queues/save", &sent).await;
        assert_eq!(response.status(), status, "{message}");
        assert_eq!(error_message(response).await, message);
    }
    // A value of no known kind is the sender's mistake too.
    let odd = app.call_json(&admin, "queues/save", &changed("Odd", "routing_mode", json!("sideways"))).await;
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
    assert!(error_message(odd).await.contains("sideways"));
    let agent = app.signed_in(Role::Agent).await;
    assert_eq!(app.call_json(&agent, "queues/save", &queue("Sneaky")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.call(&agent, "queues/list", &[]).await.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn general_exists_and_new_representatives_join_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;

    let queues: Vec<QueueWithMembers> = app.call(&admin, "queues/list", &[]).await.json().await.unwrap();

    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0].queue.settings.name, "General");
    assert!(queues[0].queue.settings.auto_join);
    assert_eq!(queues[0].members.len(), 1, "the admin made by the test joined General");
}
