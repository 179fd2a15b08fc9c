//! Admins create and edit queues and their members.

mod common;

use app::model::Role;
use app::queue::QueueWithMembers;
use common::{error_message, TestApp};
use reqwest::StatusCode;
use sqlx::PgPool;

fn form<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", name),
        ("channels[0]", "chat"),
        ("channels[1]", "callback"),
        ("routing_mode", "pull"),
        ("strategy", "round_robin"),
        ("rona_seconds", "20"),
        ("wrap_up_seconds", "30"),
        ("service_level_seconds", "45"),
        ("max_length", "50"),
        ("when_nobody", "accept"),
        ("nobody_message", "Back at 9."),
    ];
    fields.extend_from_slice(extra);
    fields
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_admin_creates_and_edits_a_queue_with_members(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("bo@example.com", "Bo", Role::Agent).await;
    let bo: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM representatives WHERE email = 'bo@example.com'").fetch_one(&app.pool).await.unwrap();
    let bo = bo.to_string();

    let created = app.call(&admin, "queues/save", &form("Billing", &[("members[0]", bo.as_str())])).await;

    assert_eq!(created.status(), StatusCode::OK);
    let created: QueueWithMembers = created.json().await.unwrap();
    assert_eq!(created.queue.settings.name, "Billing");
    assert_eq!(created.queue.settings.rona_seconds, 20);
    assert_eq!(created.queue.settings.max_length, Some(50));
    assert_eq!(created.queue.settings.max_wait_seconds, None);
    assert_eq!(created.members, [bo.parse::<uuid::Uuid>().unwrap()]);

    // Edit: push, no members, no length limit.
    let id = created.queue.id.to_string();
    let mut edit = form("Billing & Payments", &[("id", id.as_str())]);
    edit.retain(|(k, _)| *k != "max_length");
    edit.iter_mut().filter(|(k, _)| *k == "routing_mode").for_each(|f| f.1 = "push");
    let edited: QueueWithMembers = app.call(&admin, "queues/save", &edit).await.json().await.unwrap();
    assert_eq!(edited.queue.id, created.queue.id);
    assert_eq!(edited.queue.settings.name, "Billing & Payments");
    assert_eq!(edited.queue.settings.max_length, None);
    assert!(edited.members.is_empty());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn queue_settings_are_checked(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    // The form, and the status and message it gets.
    type Case<'a> = (Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: [Case; 4] = [
        (form("General", &[]), StatusCode::CONFLICT, "A queue named \"General\" exists already."),
        (form("", &[]), StatusCode::BAD_REQUEST, "Queue name is required, at most 60 characters."),
        (
            form("Slow", &[]).into_iter().map(|(k, v)| if k == "rona_seconds" { (k, "2") } else { (k, v) }).collect(),
            StatusCode::BAD_REQUEST,
            "No-answer time must be between 5 and 300 seconds.",
        ),
        (
            form("None", &[]).into_iter().filter(|(k, _)| !k.starts_with("channels")).collect(),
            StatusCode::BAD_REQUEST,
            "Choose at least one channel.",
        ),
    ];
    for (fields, status, message) in cases {
        let response = app.call(&admin, "queues/save", &fields).await;
        assert_eq!(response.status(), status, "{message}");
        assert_eq!(error_message(response).await, message);
    }
    let agent = app.signed_in(Role::Agent).await;
    assert_eq!(app.call(&agent, "queues/save", &form("Sneaky", &[])).await.status(), StatusCode::FORBIDDEN);
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
