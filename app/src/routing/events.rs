//! The append-only event log, and the wake-up call to every server.
//!
//! Each transition appends its event inside its own transaction; the same
//! statement sends a NOTIFY, which PostgreSQL delivers to every listening
//! server only when (and if) the transaction commits.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AppError;

/// The channel servers LISTEN on.
pub const NOTIFY_CHANNEL: &str = "switchboard";

/// Appends an event and notifies every server of it at commit.
pub async fn log(
    conn: &mut PgConnection,
    kind: &str,
    help_session: Option<Uuid>,
    queue: Option<Uuid>,
    agent: Option<Uuid>,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"WITH logged AS (
             INSERT INTO events (kind, help_session_id, queue_id, representative_id, detail)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING kind
           )
           SELECT pg_notify('switchboard', json_build_object(
                    'kind', $1::text, 'session', $2::uuid, 'queue', $3::uuid, 'agent', $4::uuid)::text)
             FROM logged"#,
        kind,
        help_session,
        queue,
        agent,
        detail,
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// What a NOTIFY says: which event, about whom. Servers use it to decide
/// which of their open pages to update.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Notice {
    pub kind: String,
    pub session: Option<Uuid>,
    pub queue: Option<Uuid>,
    pub agent: Option<Uuid>,
}
