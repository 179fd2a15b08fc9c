//! Queues and their live figures.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use app::customer::view::{numbers, Spot};
use app::customer::wait_model::in_words;
use app::integrations::Scope;
use app::metrics::board::board;
use app::queue::Channel;
use app::state::AppState;
use app::states::QueueId;

use super::error::path_id;
use super::{ApiError, Client, ErrorBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    pub id: Uuid,
    pub name: String,
    /// Of `video`, `audio`, `chat`, `callback`.
    pub channels: Vec<String>,
    /// `push` (offered to representatives) or `pull` (taken with "Next
    /// customer").
    pub routing_mode: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queues {
    pub queues: Vec<Queue>,
}

/// Every queue, by name.
#[utoipa::path(
    get, path = "/api/v1/queues", operation_id = "list_queues", tag = "queues",
    security(("client_assertion" = [])),
    responses(
        (status = 200, description = "Every queue", body = Queues),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `queues:read`", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>, client: Client) -> Result<Json<Queues>, ApiError> {
    client.require(Scope::QueuesRead)?;
    let rows = sqlx::query!(
        r#"SELECT id, name, channels AS "channels: Vec<Channel>", routing_mode FROM queues ORDER BY lower(name), id"#
    )
    .fetch_all(&state.pool)
    .await
    .map_err(app::error::AppError::from)?;
    let queues = rows
        .into_iter()
        .map(|row| Queue {
            id: row.id,
            name: row.name,
            channels: row.channels.iter().map(|channel| channel.as_str().to_owned()).collect(),
            routing_mode: row.routing_mode,
        })
        .collect();
    Ok(Json(Queues { queues }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStats {
    pub queue_id: Uuid,
    /// Customers waiting now (and being offered).
    pub waiting: i64,
    /// Seconds the longest-waiting customer has waited; null with nobody
    /// waiting.
    pub longest_wait_seconds: Option<f64>,
    /// Representatives READY for the queue.
    pub ready_agents: i64,
    /// Today so far (the display time zone): answered within the queue's
    /// threshold ÷ (answered + abandoned after it); null before anyone.
    pub service_level_today: Option<f64>,
    /// What a customer joining now would be shown, per channel.
    pub estimated_wait: Vec<ChannelEstimate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelEstimate {
    pub channel: String,
    /// The range, in seconds; null when it can't be estimated now.
    pub low_seconds: Option<f64>,
    pub high_seconds: Option<f64>,
    /// As the customer reads it: "about 2–4 minutes", "can't estimate
    /// right now".
    pub in_words: String,
}

/// A queue's live figures: who waits, how long, who is READY, today's
/// service level, and the wait a new customer would be shown.
#[utoipa::path(
    get, path = "/api/v1/queues/{queue_id}/stats", operation_id = "get_queue_stats", tag = "queues",
    security(("client_assertion" = [])),
    params(("queue_id" = String, Path, description = "The queue's id")),
    responses(
        (status = 200, description = "The queue's figures now", body = QueueStats),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `queues:read`", body = ErrorBody),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    client: Client,
    Path(queue_id): Path<String>,
) -> Result<Json<QueueStats>, ApiError> {
    client.require(Scope::QueuesRead)?;
    let queue = QueueId::from(path_id(&queue_id, "queue")?);
    let figures = numbers(&state.pool, queue).await?;
    let live = board(&state.pool, &state.metrics).await?;
    let line = live
        .queues
        .into_iter()
        .find(|line| line.id == queue.uuid())
        .ok_or_else(|| ApiError::from(app::error::AppError::NotFound("No such queue.".into())))?;
    let ahead_by_channel = sqlx::query!(
        r#"SELECT channel AS "channel: Channel", count(*) AS "ahead!" FROM queue_entries WHERE queue_id = $1 GROUP BY channel"#,
        queue.uuid()
    )
    .fetch_all(&state.pool)
    .await
    .map_err(app::error::AppError::from)?;
    let mut channels: Vec<Channel> = figures.channels.keys().copied().collect();
    channels.sort_by_key(|channel| channel.as_str());
    let estimated_wait = channels
        .into_iter()
        .map(|channel| {
            let ahead = ahead_by_channel.iter().find(|row| row.channel == channel).map_or(0, |row| row.ahead);
            let range = figures.range(channel, Spot { position: line.waiting + 1, ahead, offered: false });
            ChannelEstimate {
                channel: channel.as_str().to_owned(),
                low_seconds: range.map(|range| range.low),
                high_seconds: range.map(|range| range.high),
                in_words: range.map_or_else(|| "can't estimate right now".to_owned(), |range| in_words((range.low, range.high))),
            }
        })
        .collect();
    Ok(Json(QueueStats {
        queue_id: queue.uuid(),
        waiting: line.waiting,
        longest_wait_seconds: line.longest_wait_seconds,
        ready_agents: figures.ready,
        service_level_today: line.today.service_level(),
        estimated_wait,
    }))
}
