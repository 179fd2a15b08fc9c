//! The wallboard read from the database, and who supervises what.

use std::collections::HashMap;

use sqlx::PgPool;

use super::{Joined, WallCustomer, WallQueue, WallRepresentative, Wallboard};
use crate::conversation::roles::Role as PartRole;
use crate::error::AppError;
use crate::metrics::MetricsSettings;
use crate::model::Me;
use crate::queue::{Channel, Thresholds};
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

/// The queues `me` supervises: every queue for an admin, the ones an admin
/// gave them for a supervisor, none for anyone else.
pub async fn supervised(pool: &PgPool, me: &Me) -> Result<Vec<QueueId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT q.id AS "id: QueueId" FROM queues q
            WHERE $2 = 'admin'
               OR ($2 = 'supervisor' AND EXISTS (SELECT 1 FROM queue_supervisors s
                                                  WHERE s.queue_id = q.id AND s.representative_id = $1))
            ORDER BY lower(q.name)"#,
        me.id,
        me.role.as_str()
    )
    .fetch_all(pool)
    .await?)
}

pub async fn wallboard(pool: &PgPool, settings: &MetricsSettings, me: &Me) -> Result<Wallboard, AppError> {
    let queues = supervised(pool, me).await?;
    let ids: Vec<uuid::Uuid> = queues.iter().map(|q| q.uuid()).collect();
    let live = crate::metrics::board::board(pool, settings).await?;
    let mut today: HashMap<uuid::Uuid, crate::metrics::LiveQueue> = live.queues.into_iter().map(|q| (q.id, q)).collect();
    let rows = sqlx::query!(
        r#"SELECT q.id AS "id: QueueId", q.wait_amber_seconds, q.wait_red_seconds, q.level_amber_percent, q.level_red_percent,
                  (SELECT count(*) FROM queue_members m JOIN agent_states s ON s.representative_id = m.representative_id
                    WHERE m.queue_id = q.id AND s.state = 'READY') AS "ready!"
             FROM queues q WHERE q.id = ANY ($1) ORDER BY lower(q.name)"#,
        &ids
    )
    .fetch_all(pool)
    .await?;
    let queues = rows
        .into_iter()
        .filter_map(|row| {
            let line = today.remove(&row.id.uuid())?;
            Some(WallQueue {
                id: row.id,
                name: line.name,
                waiting: line.waiting,
                longest_wait_seconds: line.longest_wait_seconds,
                ready: row.ready,
                today: line.today,
                thresholds: Thresholds {
                    wait_amber_seconds: row.wait_amber_seconds,
                    wait_red_seconds: row.wait_red_seconds,
                    level_amber_percent: row.level_amber_percent,
                    level_red_percent: row.level_red_percent,
                },
            })
        })
        .collect();

    let people = sqlx::query!(
        r#"SELECT r.id AS "id: AgentId", r.display_name, s.state AS "state: AgentState", s.reason,
                  extract(epoch FROM now() - s.state_since)::bigint AS "state_seconds!",
                  (SELECT count(*) FROM events e
                    WHERE e.representative_id = r.id AND e.kind = 'RONA'
                      AND e.at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2)) AS "missed!"
             FROM representatives r JOIN agent_states s ON s.representative_id = r.id
            WHERE NOT r.disabled
              AND EXISTS (SELECT 1 FROM queue_members m WHERE m.representative_id = r.id AND m.queue_id = ANY ($1))
            ORDER BY s.state = 'LOGGED_OUT', lower(r.display_name)"#,
        &ids,
        settings.time_zone
    )
    .fetch_all(pool)
    .await?;
    let agents: Vec<uuid::Uuid> = people.iter().map(|p| p.id.uuid()).collect();
    let mut customers: HashMap<AgentId, Vec<WallCustomer>> = HashMap::new();
    for row in sqlx::query!(
        r#"SELECT p.representative_id AS "agent: AgentId", h.id AS "id: HelpSessionId", h.customer_name,
                  h.channel AS "channel: Channel", q.name AS queue,
                  CASE WHEN p.left_at IS NULL THEN h.status ELSE 'wrap_up' END AS "status!: HelpStatus",
                  extract(epoch FROM now() - CASE WHEN p.left_at IS NOT NULL THEN p.left_at ELSE
                      greatest(p.joined_at, (SELECT max(e.at) FROM events e
                                              WHERE e.help_session_id = h.id AND e.kind IN ('HOLD', 'RESUME'))) END
                  )::bigint AS "status_seconds!"
             FROM participants p JOIN help_sessions h ON h.id = p.help_session_id JOIN queues q ON q.id = p.queue_id
            WHERE p.representative_id = ANY ($1) AND p.wrapped_at IS NULL
            ORDER BY p.joined_at"#,
        &agents
    )
    .fetch_all(pool)
    .await?
    {
        customers.entry(row.agent).or_default().push(WallCustomer {
            help_session_id: row.id,
            customer_name: row.customer_name,
            channel: row.channel,
            queue: row.queue,
            status: row.status,
            status_seconds: row.status_seconds.max(0),
        });
    }
    let representatives = people
        .into_iter()
        .map(|row| WallRepresentative {
            customers: customers.remove(&row.id).unwrap_or_default(),
            id: row.id,
            name: row.display_name,
            state: row.state,
            reason: row.reason,
            state_seconds: row.state_seconds.max(0),
            missed_today: row.missed,
        })
        .collect();
    let joined = joined(pool, me.id.into()).await?;
    Ok(Wallboard { queues, representatives, joined })
}

/// The live conversations `supervisor` is in now, as they joined them.
pub async fn joined(pool: &PgPool, supervisor: AgentId) -> Result<Vec<Joined>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT h.id AS "id: HelpSessionId", h.customer_name, h.channel AS "channel: Channel", q.name AS queue,
                  ARRAY(SELECT r.display_name FROM participants p JOIN representatives r ON r.id = p.representative_id
                         WHERE p.help_session_id = h.id AND p.left_at IS NULL ORDER BY p.joined_at) AS "representatives!",
                  s.role AS "mode: PartRole", h.status = 'on_hold' AS "on_hold!", s.asked_at IS NOT NULL AS "asked!"
             FROM supervisions s JOIN help_sessions h ON h.id = s.help_session_id JOIN queues q ON q.id = h.queue_id
            WHERE s.supervisor_id = $1 AND s.left_at IS NULL AND h.status IN ('active', 'on_hold')
            ORDER BY s.joined_at"#,
        supervisor.uuid()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| Joined {
        help_session_id: row.id,
        customer_name: row.customer_name,
        channel: row.channel,
        queue: row.queue,
        representatives: row.representatives,
        mode: row.mode,
        on_hold: row.on_hold,
        asked: row.asked,
    })
    .collect())
}
