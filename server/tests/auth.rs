//! Signing in and out against a real database.

mod common;

use app::model::Role;
use common::{error_message, session_cookie, TestApp, PASSWORD};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_right_password_signs_in_and_opens_the_desk(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;
    let client = app.client();

    let response = app.login(&client, "Ann@Example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP by default: {cookie}");
    let desk = client.get(app.url("/rep")).send().await.unwrap();
    assert_eq!(desk.status(), StatusCode::OK);
    assert!(desk.text().await.unwrap().contains("Ann Lee"));
    let signed_in_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT last_sign_in_at FROM representatives WHERE email = 'ann@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(signed_in_at.is_some());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;

    let wrong_password = app.login(&app.client(), "ann@example.com", "not the password").await;
    let unknown_email = app.login(&app.client(), "nobody@example.com", "not the password").await;

    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    let (a, b) = (error_message(wrong_password).await, error_message(unknown_email).await);
    assert_eq!(a, "Email or password is incorrect.");
    assert_eq!(a, b);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_failed_sign_in_leaves_no_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;
    let client = app.client();

    app.login(&client, "ann@example.com", "not the password").await;

    let desk = client.get(app.url("/rep")).send().await.unwrap();
    assert_eq!(desk.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn empty_fields_are_a_400_with_a_message(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let response = app.login(&app.client(), "", "x").await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_message(response).await, "Email is required.");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn five_failures_lock_the_account_even_for_the_right_password(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;

    for attempt in 1..=4 {
        let response = app.login(&app.client(), "ann@example.com", "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let fifth = app.login(&app.client(), "ann@example.com", "guess").await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let right = app.login(&app.client(), "ann@example.com", PASSWORD).await;

    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let message = error_message(right).await;
    assert!(message.starts_with("Too many failed sign-in attempts. Please wait 15 minutes"), "{message}");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn concurrent_guesses_are_counted_before_they_are_checked(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;

    let guesses = (0..60).map(|n| {
        let app = &app;
        async move { app.login(&app.client(), "ann@example.com", &format!("guess {n}")).await.status() }
    });
    let statuses = futures_util::future::join_all(guesses).await;

    // At most five were checked against the password; the rest were refused
    // (when all arrive at once, each may see the others' reservations and
    // none is checked).
    let checked: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_in_failures WHERE email = 'ann@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(checked <= 5, "{checked} guesses were checked");
    let wrong = statuses.iter().filter(|status| **status == StatusCode::UNAUTHORIZED).count();
    assert!(wrong <= 5, "{statuses:?}");
    assert!(statuses.iter().all(|status| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(status)));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_office_signing_in_at_once_is_not_locked_out(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let emails: Vec<String> = (0..30).map(|n| format!("office{n}@example.com")).collect();
    for email in &emails {
        app.add_user(email, "Office Worker", Role::Agent).await;
    }

    let sign_ins = emails.iter().map(|email| {
        let app = &app;
        async move { app.login(&app.client(), email, PASSWORD).await.status() }
    });
    let statuses = futures_util::future::join_all(sign_ins).await;

    assert!(statuses.iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_unknown_email_locks_exactly_like_a_known_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.login(&app.client(), "nobody@example.com", "guess").await.status());
    }

    assert_eq!(&statuses[..4], &[StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(&statuses[4..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_lock_opens_when_the_failures_leave_the_window(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;
    for _ in 0..5 {
        app.login(&app.client(), "ann@example.com", "guess").await;
    }
    assert_eq!(app.login(&app.client(), "ann@example.com", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);

    // Sixteen minutes later (moving the records back instead of waiting).
    sqlx::query("UPDATE sign_in_failures SET failed_at = failed_at - interval '16 minutes'").execute(&app.pool).await.unwrap();

    assert_eq!(app.login(&app.client(), "ann@example.com", PASSWORD).await.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn one_address_guessing_many_accounts_is_locked(pool: PgPool) {
    let mut config = common::test_config();
    config.sign_in.max_failures_per_address = 8;
    let app = TestApp::spawn_with(pool, config).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;

    // Two tries each at four accounts: no account reaches its own limit.
    for n in 0..8 {
        let response = app.login(&app.client(), &format!("user{}@example.com", n % 4), "guess").await;
        if n < 7 {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {n}");
        } else {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "try {n}");
        }
    }

    // The same address cannot sign in to an untouched account either.
    let response = app.login(&app.client(), "ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_session_id_changes_at_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;
    app.add_user("bob@example.com", "Bob Park", Role::Agent).await;
    let client = app.client();
    let first = session_cookie(&app.login(&client, "ann@example.com", PASSWORD).await).unwrap();

    // Signing in again on the same browser (as someone else) must not keep
    // the session id that was there before.
    let second = session_cookie(&app.login(&client, "bob@example.com", PASSWORD).await).unwrap();

    assert_ne!(first, second);
    // The old id is gone from the store: replaying it opens nothing.
    let replay = app.client().get(app.url("/rep")).header("cookie", first).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    let desk = client.get(app.url("/rep")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains("Bob Park"));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn signing_out_ends_the_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = app.signed_in(Role::Agent).await;
    assert_eq!(client.get(app.url("/rep")).send().await.unwrap().status(), StatusCode::OK);

    let response = app.call(&client, "logout", &[]).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client.get(app.url("/rep")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session").fetch_one(&app.pool).await.unwrap();
    assert_eq!(sessions, 0);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_disabled_account_cannot_sign_in_and_loses_its_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;
    let client = app.client();
    assert_eq!(app.login(&client, "ann@example.com", PASSWORD).await.status(), StatusCode::OK);

    sqlx::query("UPDATE representatives SET disabled = true, session_generation = session_generation + 1")
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(client.get(app.url("/rep")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let again = app.login(&app.client(), "ann@example.com", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_message(again).await, "This account is disabled. Ask an admin to enable it.");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn next_brings_you_back_but_never_to_another_site(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Admin).await;

    let next = |next: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client()
                .post(app.url("/api/login"))
                .header("accept", "application/json")
                .form(&[("email", "ann@example.com"), ("password", PASSWORD), ("next", next)])
                .send()
                .await
                .unwrap();
            response.json::<String>().await.unwrap()
        }
    };

    assert_eq!(next("/admin/people").await, "/admin/people");
    assert_eq!(next("https://evil.example/").await, "/rep");
    assert_eq!(next("//evil.example/").await, "/rep");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn pages_ask_for_sign_in_and_come_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let response = app.client().get(app.url("/admin/people?tab=1")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login?next=/admin/people%3Ftab%3D1");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn cookies_are_secure_when_configured_for_https(pool: PgPool) {
    let mut config = common::test_config();
    config.secure_cookies = true;
    let app = TestApp::spawn_with(pool, config).await;
    app.add_user("ann@example.com", "Ann Lee", Role::Agent).await;

    let response = app.login(&app.client(), "ann@example.com", PASSWORD).await;

    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}
