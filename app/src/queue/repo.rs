//! Queues in PostgreSQL.

use sqlx::PgPool;
use uuid::Uuid;

use super::{Channel, Queue, RoutingMode, Strategy, WhenNobody};
use crate::error::AppError;

struct Row {
    id: Uuid,
    name: String,
    channels: Vec<String>,
    routing_mode: String,
    strategy: String,
    rona_seconds: i32,
    wrap_up_seconds: i32,
    service_level_seconds: i32,
    max_length: Option<i32>,
    max_wait_seconds: Option<i32>,
    when_nobody: String,
    nobody_message: String,
    auto_join: bool,
}

impl TryFrom<Row> for Queue {
    type Error = AppError;

    fn try_from(row: Row) -> Result<Self, AppError> {
        Ok(Queue {
            id: row.id,
            name: row.name,
            channels: row.channels.iter().map(|c| Channel::parse(c)).collect::<Result<_, _>>()?,
            routing_mode: RoutingMode::parse(&row.routing_mode)?,
            strategy: Strategy::parse(&row.strategy)?,
            rona_seconds: row.rona_seconds,
            wrap_up_seconds: row.wrap_up_seconds,
            service_level_seconds: row.service_level_seconds,
            max_length: row.max_length,
            max_wait_seconds: row.max_wait_seconds,
            when_nobody: WhenNobody::parse(&row.when_nobody)?,
            nobody_message: row.nobody_message,
            auto_join: row.auto_join,
        })
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<Queue>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, name, channels, routing_mode, strategy, rona_seconds, wrap_up_seconds,
                service_level_seconds, max_length, max_wait_seconds, when_nobody, nobody_message, auto_join
           FROM queues ORDER BY lower(name)"
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Queue::try_from).collect()
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Queue, AppError> {
    sqlx::query_as!(
        Row,
        "SELECT id, name, channels, routing_mode, strategy, rona_seconds, wrap_up_seconds,
                service_level_seconds, max_length, max_wait_seconds, when_nobody, nobody_message, auto_join
           FROM queues WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?
    .try_into()
}
