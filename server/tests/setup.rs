//! The one-time setup link that creates the first admin.

mod common;

use common::{admin_form, error_message, TestApp};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_setup_token_creates_the_admin_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app::setup::token::issue_if_needed(&app.pool).await.unwrap().expect("no admin yet, so a token");
    let page = app.client().get(app.url(&format!("/setup?token={token}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Create the admin account"));

    let first = app.call(&app.client(), "setup/admin", &admin_form(&token, "root@example.com")).await;
    let second = app.call(&app.client(), "setup/admin", &admin_form(&token, "other@example.com")).await;

    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::NOT_FOUND);
    let admins: Vec<String> =
        sqlx::query_scalar("SELECT email FROM representatives WHERE role = 'admin'").fetch_all(&app.pool).await.unwrap();
    assert_eq!(admins, ["root@example.com"]);
    // The page is gone now, and no new token is issued on the next start.
    let page = app.client().get(app.url(&format!("/setup?token={token}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(app::setup::token::issue_if_needed(&app.pool).await.unwrap().is_none());
    // And the new admin signs in.
    let client = app.client();
    assert_eq!(app.login(&client, "root@example.com", "the first admin's password").await.status(), StatusCode::OK);
    assert_eq!(client.get(app.url("/admin/people")).send().await.unwrap().status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_wrong_or_replaced_token_creates_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let old = app::setup::token::issue_if_needed(&app.pool).await.unwrap().unwrap();
    // A restart issues a new link; the old one stops working.
    let new = app::setup::token::issue_if_needed(&app.pool).await.unwrap().unwrap();
    assert_ne!(old, new);

    let wrong = app.call(&app.client(), "setup/admin", &admin_form("0000", "a@example.com")).await;
    let replaced = app.call(&app.client(), "setup/admin", &admin_form(&old, "a@example.com")).await;

    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert_eq!(replaced.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_message(replaced).await, "This setup link is not valid any more.");
    let page = app.client().get(app.url(&format!("/setup?token={old}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("This setup link does not work"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM representatives").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn setup_checks_the_form_and_keeps_the_token_on_a_mistake(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app::setup::token::issue_if_needed(&app.pool).await.unwrap().unwrap();
    let mut form = admin_form(&token, "root@example.com");
    form[4].1 = "something else entirely";

    let mismatch = app.call(&app.client(), "setup/admin", &form).await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_message(mismatch).await, "The two passwords differ.");

    let retry = app.call(&app.client(), "setup/admin", &admin_form(&token, "root@example.com")).await;
    assert_eq!(retry.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn concurrent_uses_of_one_token_make_one_admin(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app::setup::token::issue_if_needed(&app.pool).await.unwrap().unwrap();
    let emails: Vec<String> = (0..8).map(|n| format!("admin{n}@example.com")).collect();

    let calls = emails.iter().map(|email| {
        let app = &app;
        let token = token.clone();
        async move { app.call(&app.client(), "setup/admin", &admin_form(&token, email)).await.status() }
    });
    let statuses = futures_util::future::join_all(calls).await;

    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM representatives WHERE role = 'admin'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(admins, 1);
}
