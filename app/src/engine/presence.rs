//! Presence: which pages are open, on which server. A page's WebSocket is a
//! row under its server; the last one to close marks its customer or agent
//! lost, and the sweeper acts once they stay lost past the grace period. A
//! server that stops beating is presumed dead, with its pages.

use uuid::Uuid;

use super::agents;
use super::control::{self, EndedBy};
use super::events::Engine;
use super::line::{self, Left};
use crate::error::AppError;
use crate::states::{AgentId, HelpSessionId, HelpStatus};

/// Whose page it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Customer(HelpSessionId),
    Agent(AgentId),
}

impl Subject {
    fn ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Subject::Customer(id) => (Some(id.uuid()), None),
            Subject::Agent(id) => (None, Some(id.uuid())),
        }
    }
}

/// Registers a server instance (and marks it alive).
pub async fn beat(engine: &Engine, instance: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()",
        instance
    )
    .execute(engine.pool())
    .await?;
    Ok(())
}

/// A page opened: it is present again (a reload inside the grace period
/// changes nothing).
pub async fn open(engine: &Engine, instance: Uuid, subject: Subject) -> Result<Uuid, AppError> {
    let (help_session, agent) = subject.ids();
    let mut tx = engine.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO connections (id, instance_id, help_session_id, representative_id)
         VALUES (gen_random_uuid(), $1, $2, $3) RETURNING id",
        instance,
        help_session,
        agent
    )
    .fetch_one(&mut *tx)
    .await?;
    match subject {
        Subject::Customer(help_session) => {
            sqlx::query!("UPDATE help_sessions SET customer_lost_at = NULL WHERE id = $1", help_session.uuid())
                .execute(&mut *tx)
                .await?;
        }
        Subject::Agent(agent) => {
            sqlx::query!("UPDATE agent_states SET lost_at = NULL WHERE representative_id = $1", agent.uuid())
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit(engine).await?;
    Ok(id)
}

/// A page closed. If it was the last one of its customer or agent, they are
/// lost from now (the grace period starts).
pub async fn close(engine: &Engine, connection: Uuid) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let Some(row) = sqlx::query!(
        "DELETE FROM connections WHERE id = $1 RETURNING help_session_id, representative_id",
        connection
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(());
    };
    mark_lost(&mut tx, row.help_session_id, row.representative_id).await?;
    tx.commit(engine).await?;
    Ok(())
}

async fn mark_lost(
    conn: &mut sqlx::PgConnection,
    help_session: Option<Uuid>,
    agent: Option<Uuid>,
) -> Result<(), AppError> {
    // A connection belongs to a customer or an agent, never both (a CHECK
    // in the schema), so one of the two updates runs.
    if let Some(help_session) = help_session {
        sqlx::query!(
            "UPDATE help_sessions SET customer_lost_at = now()
              WHERE id = $1 AND customer_lost_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connections WHERE help_session_id = $1)",
            help_session
        )
        .execute(&mut *conn)
        .await?;
    }
    if let Some(agent) = agent {
        sqlx::query!(
            "UPDATE agent_states SET lost_at = now()
              WHERE representative_id = $1 AND lost_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connections WHERE representative_id = $1)",
            agent
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Servers silent for longer than `dead_after` are removed with their pages.
pub async fn reap_dead_instances(engine: &Engine, dead_after_seconds: f64) -> Result<usize, AppError> {
    let mut tx = engine.begin().await?;
    let gone = sqlx::query!(
        "WITH dead AS (DELETE FROM instances WHERE seen_at < now() - make_interval(secs => $1) RETURNING id)
         DELETE FROM connections WHERE instance_id IN (SELECT id FROM dead)
         RETURNING help_session_id, representative_id",
        dead_after_seconds
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &gone {
        mark_lost(&mut tx, row.help_session_id, row.representative_id).await?;
    }
    tx.commit(engine).await?;
    Ok(gone.len())
}

/// Acts on everyone lost for longer than the grace period: a waiting
/// customer is abandoned, a customer in conversation ends it, an agent hands
/// their customers back and is logged out.
pub async fn sweep_lost(engine: &Engine, grace_seconds: f64) -> Result<(), AppError> {
    let customers = sqlx::query!(
        r#"SELECT id AS "id: HelpSessionId", status AS "status: HelpStatus" FROM help_sessions
            WHERE customer_lost_at < now() - make_interval(secs => $1)
              AND status IN ('waiting', 'offered', 'active', 'on_hold')"#,
        grace_seconds
    )
    .fetch_all(engine.pool())
    .await?;
    for customer in customers {
        let result = if customer.status.in_line() {
            line::leave(engine, customer.id, Left::Abandoned).await
        } else {
            control::end(engine, customer.id, EndedBy::Customer).await
        };
        match result {
            Ok(()) | Err(AppError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let lost = sqlx::query_scalar!(
        r#"SELECT representative_id AS "agent: AgentId" FROM agent_states
            WHERE lost_at < now() - make_interval(secs => $1) AND state <> 'LOGGED_OUT'"#,
        grace_seconds
    )
    .fetch_all(engine.pool())
    .await?;
    for agent in lost {
        agents::hand_back(engine, agent, "Connection lost").await?;
    }
    Ok(())
}
