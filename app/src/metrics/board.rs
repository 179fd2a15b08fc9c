//! The live board: who is waiting now and for how long, what the
//! representatives are doing, and each queue's figures for today so far.

use std::collections::HashMap;

use uuid::Uuid;

use super::{AgentCounts, Figures, LiveBoard, LiveQueue, MetricsSettings, ReportQuery};
use crate::error::AppError;
use crate::states::AgentState;

/// One queue's line now.
pub struct QueueLine {
    pub id: Uuid,
    pub name: String,
    /// Waiting or being offered.
    pub waiting: i64,
    /// Since the longest-waiting customer entered; None with nobody waiting.
    pub longest: Option<f64>,
}

/// Every queue's line now, by name.
pub async fn lines(pool: &sqlx::PgPool) -> Result<Vec<QueueLine>, AppError> {
    Ok(sqlx::query_as!(
        QueueLine,
        r#"SELECT q.id, q.name, count(e.help_session_id) AS "waiting!",
                  extract(epoch FROM now() - min(e.enqueued_at))::float8 AS longest
             FROM queues q LEFT JOIN queue_entries e ON e.queue_id = q.id
            GROUP BY q.id ORDER BY lower(q.name)"#
    )
    .fetch_all(pool)
    .await?)
}

pub async fn board(pool: &sqlx::PgPool, settings: &MetricsSettings) -> Result<LiveBoard, AppError> {
    let waiting = lines(pool).await?;
    let today_query = ReportQuery { span: "today".into(), from: None, to: None, queue: None };
    let today = super::report::report(pool, settings, &today_query).await?;
    let mut today_by_queue: HashMap<Uuid, Figures> = HashMap::new();
    for (choice, line) in today.queues.iter().zip(today.by_queue) {
        today_by_queue.insert(choice.id, line.figures);
    }
    let queues = waiting
        .into_iter()
        .map(|row| LiveQueue {
            id: row.id,
            name: row.name,
            waiting: row.waiting,
            longest_wait_seconds: row.longest,
            today: today_by_queue.remove(&row.id).unwrap_or_default(),
        })
        .collect();

    Ok(LiveBoard { queues, agents: agent_counts(pool).await? })
}

/// Signed-in representatives by what they are doing now.
pub async fn agent_counts(pool: &sqlx::PgPool) -> Result<AgentCounts, AppError> {
    let agents = sqlx::query!(
        r#"SELECT s.state AS "state: AgentState", s.reason,
                  count(h.id) FILTER (WHERE h.status IN ('active', 'on_hold')) AS "talking!",
                  count(h.id) FILTER (WHERE h.status = 'wrap_up') AS "wrapping!"
             FROM agent_states s
             LEFT JOIN help_sessions h ON h.agent_id = s.representative_id AND h.status IN ('active', 'on_hold', 'wrap_up')
            WHERE s.state <> 'LOGGED_OUT'
            GROUP BY s.representative_id"#
    )
    .fetch_all(pool)
    .await?;
    let mut counts = AgentCounts::default();
    let mut reasons: HashMap<String, i64> = HashMap::new();
    for agent in agents {
        if agent.talking > 0 {
            counts.busy += 1;
        } else if agent.wrapping > 0 {
            counts.wrap_up += 1;
        } else if agent.state == AgentState::Ready {
            counts.ready += 1;
        } else {
            *reasons.entry(agent.reason.unwrap_or_else(|| "No reason".into())).or_default() += 1;
        }
    }
    counts.not_ready = reasons.into_iter().collect();
    counts.not_ready.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(counts)
}
