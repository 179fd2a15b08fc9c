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
    /// The subject of a `connections` row (a customer's or an agent's,
    /// never both: a CHECK in the schema).
    fn of_row(help_session: Option<Uuid>, agent: Option<Uuid>) -> Option<Self> {
        match (help_session, agent) {
            (Some(help_session), _) => Some(Subject::Customer(help_session.into())),
            (None, Some(agent)) => Some(Subject::Agent(agent.into())),
            (None, None) => None,
        }
    }

    fn ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Subject::Customer(id) => (Some(id.uuid()), None),
            Subject::Agent(id) => (None, Some(id.uuid())),
        }
    }
}

/// Registers a server instance (and marks it alive).
pub async fn beat(engine: &Engine, instance: Uuid) -> Result<(), AppError> {
    sqlx::query!("INSERT INTO instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()", instance)
        .execute(engine.pool())
        .await?;
    Ok(())
}

/// Locks the row of the subject of a page: opens and closes of one
/// subject's pages take turns, so the last of two closing together always
/// sees that the other is gone.
async fn lock_subject(conn: &mut sqlx::PgConnection, subject: Subject) -> Result<(), AppError> {
    match subject {
        Subject::Customer(help_session) => {
            sqlx::query!("SELECT id FROM help_sessions WHERE id = $1 FOR UPDATE", help_session.uuid())
                .fetch_optional(&mut *conn)
                .await?;
        }
        Subject::Agent(agent) => {
            sqlx::query!("SELECT representative_id FROM agent_states WHERE representative_id = $1 FOR UPDATE", agent.uuid())
                .fetch_optional(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// A page opened: it is present again (a reload inside the grace period
/// changes nothing).
pub async fn open(engine: &Engine, instance: Uuid, subject: Subject) -> Result<Uuid, AppError> {
    let (help_session, agent) = subject.ids();
    let mut tx = engine.begin().await?;
    lock_subject(&mut tx, subject).await?;
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
            sqlx::query!(
                "UPDATE help_sessions SET customer_lost_at = NULL, customer_connected_at = coalesce(customer_connected_at, now())
                  WHERE id = $1",
                help_session.uuid()
            )
            .execute(&mut *tx)
            .await?;
            // A customer keeping their place is back: offered again.
            sqlx::query!("UPDATE queue_entries SET away = false WHERE help_session_id = $1 AND away", help_session.uuid())
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
    let Some(row) = sqlx::query!("SELECT help_session_id, representative_id FROM connections WHERE id = $1", connection)
        .fetch_optional(engine.pool())
        .await?
    else {
        return Ok(());
    };
    let Some(subject) = Subject::of_row(row.help_session_id, row.representative_id) else {
        return Ok(());
    };
    let mut tx = engine.begin().await?;
    lock_subject(&mut tx, subject).await?;
    sqlx::query!("DELETE FROM connections WHERE id = $1", connection).execute(&mut *tx).await?;
    mark_lost(&mut tx, subject).await?;
    tx.commit(engine).await?;
    Ok(())
}

/// The customer or agent of a connection that went is lost from now, when
/// it was their last.
async fn mark_lost(conn: &mut sqlx::PgConnection, subject: Subject) -> Result<(), AppError> {
    if let Subject::Customer(help_session) = subject {
        // A customer keeping their place is passed over while away.
        sqlx::query!(
            "UPDATE queue_entries e SET away = true FROM help_sessions h
              WHERE e.help_session_id = $1 AND h.id = $1 AND h.notify AND NOT e.away
                AND NOT EXISTS (SELECT 1 FROM connections WHERE help_session_id = $1)",
            help_session.uuid()
        )
        .execute(&mut *conn)
        .await?;
    }
    match subject {
        Subject::Customer(help_session) => sqlx::query!(
            "UPDATE help_sessions SET customer_lost_at = now()
              WHERE id = $1 AND customer_lost_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connections WHERE help_session_id = $1)",
            help_session.uuid()
        ),
        Subject::Agent(agent) => sqlx::query!(
            "UPDATE agent_states SET lost_at = now()
              WHERE representative_id = $1 AND lost_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connections WHERE representative_id = $1)",
            agent.uuid()
        ),
    }
    .execute(conn)
    .await?;
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
    let subjects: Vec<Subject> =
        gone.iter().filter_map(|row| Subject::of_row(row.help_session_id, row.representative_id)).collect();
    for subject in subjects {
        mark_lost(&mut tx, subject).await?;
    }
    tx.commit(engine).await?;
    Ok(gone.len())
}

/// How long pages may be away before their customer or agent counts as
/// gone.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A page that was open may be away this long (a reload, a blip).
    pub grace_seconds: f64,
    /// A help session no page ever connected to (or an API session never
    /// put in line) is given up after this long.
    pub unconnected_seconds: f64,
}

/// Reconciles the database with the sockets: this server's connection rows
/// that no socket holds any more (a close that failed, say, in a database
/// outage) are removed, their customer or agent marked lost if it was their
/// last; a customer present by the database's account but with no page
/// anywhere is marked lost, as is a session no page connected to in time.
/// (A representative may work without a desk page, through the API, so
/// only their desk's closing makes them lost.) Rows younger than a few
/// seconds are left to their socket.
pub async fn reconcile(engine: &Engine, instance: Uuid, held: &[Uuid], rules: Rules) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let stale = sqlx::query!(
        "DELETE FROM connections
          WHERE instance_id = $1 AND id <> ALL($2) AND opened_at < now() - interval '5 seconds'
         RETURNING help_session_id, representative_id",
        instance,
        held
    )
    .fetch_all(&mut *tx)
    .await?;
    let subjects: Vec<Subject> =
        stale.iter().filter_map(|row| Subject::of_row(row.help_session_id, row.representative_id)).collect();
    for subject in subjects {
        mark_lost(&mut tx, subject).await?;
    }
    tx.commit(engine).await?;
    // A session never connected counts as lost since it was due to connect,
    // so the grace period is already over when it is marked.
    sqlx::query!(
        "WITH open AS MATERIALIZED (
           -- Found through small tables and partial indexes, not by reading
           -- every session ever held.
           SELECT help_session_id AS id FROM queue_entries
           UNION SELECT id FROM help_sessions WHERE status IN ('active', 'on_hold') AND agent_id IS NOT NULL
           UNION SELECT id FROM help_sessions WHERE status = 'created')
         UPDATE help_sessions h
            SET customer_lost_at = CASE WHEN customer_connected_at IS NULL THEN now() - make_interval(secs => $2) ELSE now() END
           FROM open
          WHERE h.id = open.id
            AND status IN ('created', 'waiting', 'offered', 'active', 'on_hold') AND customer_lost_at IS NULL
            AND (customer_connected_at IS NOT NULL OR entered_at < now() - make_interval(secs => $1))
            AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.help_session_id = h.id)",
        rules.unconnected_seconds,
        rules.grace_seconds
    )
    .execute(engine.pool())
    .await?;
    // Those keeping their place with no page anywhere are away.
    sqlx::query!(
        "UPDATE queue_entries e SET away = true FROM help_sessions h
          WHERE h.notify AND h.status IN ('waiting', 'offered') AND h.customer_lost_at IS NOT NULL
            AND e.help_session_id = h.id AND NOT e.away"
    )
    .execute(engine.pool())
    .await?;
    Ok(())
}

/// Acts on everyone lost for longer than the grace period: a session never
/// put in line expires, a waiting customer is abandoned, a customer in conversation ends it, an agent hands
/// their customers back and is logged out. A callback (in line or on the
/// phone) and a customer keeping their place in line need no page.
pub async fn sweep_lost(engine: &Engine, grace_seconds: f64) -> Result<(), AppError> {
    let customers = sqlx::query!(
        r#"SELECT id AS "id: HelpSessionId", status AS "status: HelpStatus" FROM help_sessions
            WHERE customer_lost_at < now() - make_interval(secs => $1)
              AND status IN ('created', 'waiting', 'offered', 'active', 'on_hold')
              AND NOT (channel = 'callback' AND status <> 'created')
              AND NOT (notify AND status IN ('waiting', 'offered'))"#,
        grace_seconds
    )
    .fetch_all(engine.pool())
    .await?;
    for customer in customers {
        let result = if customer.status == HelpStatus::Created {
            line::discard(engine, customer.id).await
        } else if customer.status.in_line() {
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
