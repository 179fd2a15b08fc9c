//! Schemathesis (from PyPI; `make test` installs it in end2end/.venv) fuzzes
//! every operation of `/api/v1` from the OpenAPI document against the real
//! server, as an API client with every scope: no answer may be a 5xx, and
//! every answer must match the document (status, content type, schema).

mod common;

use std::path::Path;
use std::process::Command;

use common::{test_config, TestApp};
use sqlx::PgPool;

/// Relative to the server crate, where `cargo test` runs.
const SCHEMATHESIS: &str = "../end2end/.venv/bin/schemathesis";
const HOOKS: &str = "../end2end/api";

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn every_operation_answers_as_its_document_says(pool: PgPool) {
    let (program, hooks) = (Path::new(SCHEMATHESIS).canonicalize(), Path::new(HOOKS).canonicalize().unwrap());
    assert!(program.is_ok(), "Schemathesis is missing: `make test` installs it (scripts/install-tools --test)");
    let mut config = test_config();
    config.limits.api_per_client_per_minute = 1_000_000;
    let app = TestApp::spawn_with(pool, config.clone()).await;
    let secret = "a-secret-for-the-fuzzer-only";
    let client: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO api_clients (name, scopes, secret)
         VALUES ('Schemathesis', '{help_sessions:write,help_sessions:read,callbacks:write,queues:read,agents:read,agents:write,webhooks:manage}', $1)
         RETURNING id",
    )
    .bind(secret)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let queue: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO queues (name, routing_mode, when_nobody) VALUES ('Fuzzed', 'push', 'accept') RETURNING id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let document = app.url("/api/v1/openapi.json");
    // Schemathesis keeps its examples database where it runs: not in the
    // checkout.
    let scratch = tempfile::tempdir().unwrap();

    let run = tokio::task::spawn_blocking(move || {
        Command::new(program.unwrap())
            .args(["run", &document, "--checks", "all", "--exclude-checks", "positive_data_acceptance"])
            .args(["--max-examples", "25", "--seed", "1", "--workers", "2", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "client_assertion")
            .env("PYTHONPATH", hooks)
            .env("SB_CLIENT_ID", client.to_string())
            .env("SB_CLIENT_SECRET", secret)
            .env("SB_QUEUE_ID", queue.to_string())
            .env("SB_AUDIENCE", format!("{}/api/v1", config.public_url))
            .current_dir(scratch.path())
            .output()
            .unwrap()
    })
    .await
    .unwrap();

    let printed = format!("{}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{printed}");
    assert!(run.status.success(), "Schemathesis found failures:\n{printed}");
}
