//! A flood of setup requests, in a test process of its own: it measures
//! the process's peak memory, which tests running beside it (each hashing
//! passwords) would raise.

mod common;

use common::{admin_form, TestApp};
use reqwest::StatusCode;
use sqlx::PgPool;

/// The peak resident memory of this test process, in MiB.
fn peak_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_flood_of_setup_requests_costs_no_memory(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app::setup::token::issue_if_needed(&app.pool).await.unwrap().unwrap();
    assert_eq!(app.call(&app.client(), "setup/admin", &admin_form(&token, "root@example.com")).await.status(), StatusCode::OK);
    let before = peak_mib();

    // Each Argon2 hash takes 19 MiB: 160 at once took gigabytes.
    let calls = (0..160).map(|n| {
        let app = &app;
        let token = if n % 2 == 0 { token.clone() } else { format!("guess{n}") };
        async move { app.call(&app.client(), "setup/admin", &admin_form(&token, "evil@example.com")).await.status() }
    });
    let statuses = futures_util::future::join_all(calls).await;

    assert!(statuses.iter().all(|status| *status == StatusCode::NOT_FOUND), "{statuses:?}");
    let grown = peak_mib().saturating_sub(before);
    assert!(grown < 150, "the peak grew by {grown} MiB");
}
