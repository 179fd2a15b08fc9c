//! The engine's SQL functions and the indexes they walk have one current
//! definition each: the `.sql` files beside the Rust that calls them. They
//! are applied at every start-up, after the migrations, in one transaction
//! under an advisory lock (so servers starting together take turns):
//! functions with `CREATE OR REPLACE`, indexes with `CREATE INDEX IF NOT
//! EXISTS`. A change to a function is a diff of its file; a function whose
//! arguments or result change, or an index whose definition changes, gets
//! its old form dropped in the file (`DROP ... IF EXISTS`) before the new
//! one, and an index a new name.

use sqlx::PgPool;

/// The files, in the order they are applied.
pub const FILES: [(&str, &str); 4] = [
    ("app/src/engine/seats.sql", include_str!("seats.sql")),
    ("app/src/engine/hours.sql", include_str!("hours.sql")),
    ("app/src/engine/offers.sql", include_str!("offers.sql")),
    ("app/src/engine/pull.sql", include_str!("pull.sql")),
];

/// Any number; the same on every server.
const LOCK: i64 = 0x5357_4942_4f41_5244; // "SWIBOARD"

/// Applies every definition.
pub async fn apply(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK).execute(&mut *tx).await?;
    for (_, sql) in FILES {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
    }
    tx.commit().await
}
