//! The `switchboard user ...` commands, run as the real binary.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::TestApp;
use reqwest::StatusCode;
use sqlx::PgPool;

/// The URL of the test's own database (DATABASE_URL names the server).
fn database_url(pool: &PgPool) -> String {
    let name = pool.connect_options().get_database().unwrap().to_owned();
    let mut url = reqwest::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&name);
    url.to_string()
}

fn switchboard(pool: &PgPool, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("DATABASE_URL", database_url(pool))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_user_added_on_the_command_line_can_sign_in(pool: PgPool) {
    let output = switchboard(
        &pool,
        &["user", "add", "--email", "lee@example.com", "--name", "Lee Chan", "--role", "admin"],
        "lee's long password\n",
    );

    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("added Lee Chan <lee@example.com> as admin"));
    let app = TestApp::spawn(pool).await;
    let client = app.client();
    assert_eq!(app.login(&client, "lee@example.com", "lee's long password").await.status(), StatusCode::OK);
    assert_eq!(client.get(app.url("/admin")).send().await.unwrap().status(), StatusCode::OK);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_command_line_refuses_bad_input_with_a_message(pool: PgPool) {
    let short = switchboard(&pool, &["user", "add", "--email", "lee@example.com", "--name", "Lee"], "short\n");
    let bad_role = switchboard(&pool, &["user", "add", "--email", "lee@example.com", "--name", "Lee", "--role", "boss"], "");
    let bad_email = switchboard(&pool, &["user", "add", "--email", "lee", "--name", "Lee"], "");

    assert!(!short.status.success());
    assert!(text(&short).contains("Password must be at least 10 characters."), "{}", text(&short));
    assert!(text(&bad_role).contains("Role must be agent, supervisor or admin"), "{}", text(&bad_role));
    assert!(text(&bad_email).contains("is not a valid email address"), "{}", text(&bad_email));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM representatives").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn set_password_and_disable_work_from_the_command_line(pool: PgPool) {
    let add = switchboard(&pool, &["user", "add", "--email", "mo@example.com", "--name", "Mo"], "mo's first password\n");
    assert!(add.status.success(), "{}", text(&add));

    let reset = switchboard(&pool, &["user", "set-password", "--email", "MO@example.com"], "mo's second password\n");
    assert!(reset.status.success(), "{}", text(&reset));
    let app = TestApp::spawn(pool.clone()).await;
    assert_eq!(app.login(&app.client(), "mo@example.com", "mo's first password").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&app.client(), "mo@example.com", "mo's second password").await.status(), StatusCode::OK);

    let disable = switchboard(&pool, &["user", "disable", "--email", "mo@example.com"], "");
    assert!(disable.status.success(), "{}", text(&disable));
    assert_eq!(app.login(&app.client(), "mo@example.com", "mo's second password").await.status(), StatusCode::UNAUTHORIZED);

    let unknown = switchboard(&pool, &["user", "disable", "--email", "nobody@example.com"], "");
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("no account has the email nobody@example.com"));
}

#[sqlx::test(migrations = false)]
async fn migrate_creates_the_schema_and_is_repeatable(pool: PgPool) {
    let first = switchboard(&pool, &["migrate"], "");
    let second = switchboard(&pool, &["migrate"], "");

    assert!(first.status.success(), "{}", text(&first));
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&first).contains("migrations applied"));
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables
          WHERE table_schema IN ('public', 'tower_sessions') AND table_name <> '_sqlx_migrations'
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "public.agent_channels",
            "public.agent_states",
            "public.api_clients",
            "public.api_idempotency",
            "public.api_token_ids",
            "public.connections",
            "public.customer_tokens",
            "public.engine_definitions",
            "public.events",
            "public.help_sessions",
            "public.instances",
            "public.mail_outbox",
            "public.messages",
            "public.metric_agents",
            "public.metric_buckets",
            "public.metric_roll",
            "public.metric_sessions",
            "public.metric_totals",
            "public.offers",
            "public.participants",
            "public.queue_entries",
            "public.queue_hours",
            "public.queue_members",
            "public.queue_supervisors",
            "public.queues",
            "public.representatives",
            "public.secret_key_check",
            "public.setup_tokens",
            "public.sign_in_failures",
            "public.signals",
            "public.supervisions",
            "public.webhook_attempts",
            "public.webhook_deliveries",
            "public.webhook_endpoints",
            "public.webhook_settings",
            "public.widget_token_ids",
            "public.widgets",
            "tower_sessions.session",
        ]
    );
}
