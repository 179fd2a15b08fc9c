//! The engine's SQL functions and the indexes they walk have one current
//! definition each: the `.sql` files beside the Rust that calls them (and
//! `webhook_type`, written from its Rust `match`). They
//! are applied at every start-up, after the migrations, in one transaction
//! under an advisory lock (so servers starting together take turns):
//! functions with `CREATE OR REPLACE`, indexes with `CREATE INDEX IF NOT
//! EXISTS`. A change to a function is a diff of its file; a function whose
//! arguments or result change, or an index whose definition changes, gets
//! its old form dropped in the file (`DROP ... IF EXISTS`) before the new
//! one, and an index a new name.
//!
//! The text applied is kept in `engine_definitions`; a server starting with
//! the same files does nothing more. That matters while other servers work:
//! even `CREATE INDEX IF NOT EXISTS` locks its table against writes, and
//! locking tables one after another, against transactions that write them
//! in another order, deadlocks. When the files did change, such a deadlock
//! is possible still; PostgreSQL gives one side up (the other servers'
//! transitions run themselves again) and applying is tried again.

use std::time::Duration;

use sqlx::PgPool;

/// The files, in the order they are applied (see [`definitions`]).
const FILES: [(&str, &str); 5] = [
    ("engine/src/seats.sql", include_str!("seats.sql")),
    ("engine/src/hours.sql", include_str!("hours.sql")),
    ("engine/src/offers.sql", include_str!("offers.sql")),
    ("engine/src/pull.sql", include_str!("pull.sql")),
    ("engine/src/webhooks.sql", include_str!("webhooks.sql")),
];

/// Every definition, in the order applied, with where it comes from: the
/// files, and before the trigger that calls it, `webhook_type`, written
/// from the Rust `match` that maps event kinds to webhook types.
pub fn definitions() -> Vec<(&'static str, String)> {
    let mut all: Vec<(&str, String)> = Vec::new();
    for (file, sql) in FILES {
        if file == "engine/src/webhooks.sql" {
            all.push(("engine/src/events/webhook.rs", crate::events::webhook::type_function()));
        }
        all.push((file, sql.to_owned()));
    }
    all
}

/// Any number; the same on every server.
const LOCK: i64 = 0x5357_4942_4f41_5244; // "SWIBOARD"

/// How many times applying is tried when it keeps losing to deadlocks.
const ATTEMPTS: u32 = 5;

/// Applies every definition, unless the database holds them already.
pub async fn apply(pool: &PgPool) -> Result<(), sqlx::Error> {
    let definitions = definitions();
    let text: String = definitions.iter().map(|(_, sql)| sql.as_str()).collect();
    let mut attempt = 1;
    loop {
        match apply_once(pool, &definitions, &text).await {
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("40P01") && attempt < ATTEMPTS => {
                tracing::warn!(attempt, %error, "applying the engine's SQL definitions lost to a deadlock; trying again");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn apply_once(pool: &PgPool, definitions: &[(&str, String)], text: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK).execute(&mut *tx).await?;
    let applied: Option<String> = sqlx::query_scalar("SELECT applied FROM engine_definitions").fetch_optional(&mut *tx).await?;
    if applied.as_deref() == Some(text) {
        return tx.commit().await;
    }
    for (_, sql) in definitions {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO engine_definitions (applied) VALUES ($1)
         ON CONFLICT (only_row) DO UPDATE SET applied = EXCLUDED.applied, applied_at = now()",
    )
    .bind(text)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
