//! An admin manages representatives through the server functions behind
//! `/admin/people`.

mod common;

use app::model::{Person, Role};
use common::{error_message, TestApp, PASSWORD};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_added_representative_can_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;

    let response = app
        .call(
            &admin,
            "people/add",
            &[
                ("email", "Cara@Example.com"),
                ("display_name", " Cara Diaz "),
                ("role", "supervisor"),
                ("password", "cara's long password"),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let person: Person = response.json().await.unwrap();
    assert_eq!(person.display_name, "Cara Diaz");
    assert_eq!(person.role, Role::Supervisor);
    let cara = app.client();
    assert_eq!(app.login(&cara, "cara@example.com", "cara's long password").await.status(), StatusCode::OK);
    assert_eq!(cara.get(app.url("/supervisor")).send().await.unwrap().status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_email_in_use_in_any_case_is_a_409(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("dan@example.com", "Dan", Role::Agent).await;

    let response = app
        .call(
            &admin,
            "people/add",
            &[("email", "DAN@example.com"), ("display_name", "Dan 2"), ("role", "agent"), ("password", "a long password")],
        )
        .await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_message(response).await, "DAN@example.com already has an account.");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn bad_input_is_a_400_that_names_the_problem(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let cases = [
        (["not-an-email", "Eve", "agent", "a long password"], "\"not-an-email\" is not a valid email address."),
        (["eve@example.com", "", "agent", "a long password"], "Name is required."),
        (["eve@example.com", "Eve", "root", "a long password"], "Role must be agent, supervisor or admin, not \"root\"."),
        (["eve@example.com", "Eve", "agent", "short"], "Password must be at least 10 characters."),
    ];

    for ([email, name, role, password], message) in cases {
        let response = app
            .call(&admin, "people/add", &[("email", email), ("display_name", name), ("role", role), ("password", password)])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
        assert_eq!(error_message(response).await, message);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM representatives WHERE email = 'eve@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

async fn id_of(app: &TestApp, email: &str) -> String {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM representatives WHERE lower(email) = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    id.to_string()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn role_changes_take_effect_on_the_next_request(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("fay@example.com", "Fay", Role::Agent).await;
    let fay = app.client();
    app.login(&fay, "fay@example.com", PASSWORD).await;
    assert_eq!(fay.get(app.url("/supervisor")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let id = id_of(&app, "fay@example.com").await;
    let response = app.call(&admin, "people/role", &[("id", id.as_str()), ("role", "supervisor")]).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(fay.get(app.url("/supervisor")).send().await.unwrap().status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn disabling_signs_out_and_enabling_lets_back_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("gus@example.com", "Gus", Role::Agent).await;
    let gus = app.client();
    app.login(&gus, "gus@example.com", PASSWORD).await;
    let id = id_of(&app, "gus@example.com").await;

    let disabled = app.call(&admin, "people/disabled", &[("id", id.as_str()), ("disabled", "true")]).await;

    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(gus.get(app.url("/rep")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login(&app.client(), "gus@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let enabled = app.call(&admin, "people/disabled", &[("id", id.as_str()), ("disabled", "false")]).await;
    assert_eq!(enabled.status(), StatusCode::OK);
    assert_eq!(app.login(&app.client(), "gus@example.com", PASSWORD).await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_reset_password_replaces_the_old_one_and_ends_sessions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.signed_in(Role::Admin).await;
    app.add_user("hal@example.com", "Hal", Role::Agent).await;
    let hal = app.client();
    app.login(&hal, "hal@example.com", PASSWORD).await;
    let id = id_of(&app, "hal@example.com").await;

    let response = app.call(&admin, "people/password", &[("id", id.as_str()), ("password", "hal's brand new password")]).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(hal.get(app.url("/rep")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login(&app.client(), "hal@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&app.client(), "hal@example.com", "hal's brand new password").await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_last_admin_cannot_be_demoted_or_disabled(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ida@example.com", "Ida", Role::Admin).await;
    let ida = app.client();
    app.login(&ida, "ida@example.com", PASSWORD).await;
    let id = id_of(&app, "ida@example.com").await;

    let demote = app.call(&ida, "people/role", &[("id", id.as_str()), ("role", "agent")]).await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    let disable = app.call(&ida, "people/disabled", &[("id", id.as_str()), ("disabled", "true")]).await;
    assert_eq!(disable.status(), StatusCode::CONFLICT);

    let role: String = sqlx::query_scalar("SELECT role FROM representatives WHERE email = 'ida@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "admin");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn two_admins_demoting_each_other_at_once_leave_one_admin(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("jo@example.com", "Jo", Role::Admin).await;
    app.add_user("kim@example.com", "Kim", Role::Admin).await;
    let (jo, kim) = (app.client(), app.client());
    app.login(&jo, "jo@example.com", PASSWORD).await;
    app.login(&kim, "kim@example.com", PASSWORD).await;
    let (jo_id, kim_id) = (id_of(&app, "jo@example.com").await, id_of(&app, "kim@example.com").await);

    let demote_kim = [("id", kim_id.as_str()), ("role", "agent")];
    let demote_jo = [("id", jo_id.as_str()), ("role", "agent")];
    let (a, b) = tokio::join!(app.call(&jo, "people/role", &demote_kim), app.call(&kim, "people/role", &demote_jo),);

    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM representatives WHERE role = 'admin' AND NOT disabled")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(admins, 1, "statuses {} and {}", a.status(), b.status());
}
