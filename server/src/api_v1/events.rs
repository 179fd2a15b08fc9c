//! The event log as a feed an integration reads page by page and, after
//! being down, catches up from where it stopped: events in the order they
//! were stamped, only up to the moment before which every transaction has
//! committed, so a page never skips one that commits late.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use app::customer::view::rfc3339;
use app::engine::events::EventKind;
use app::error::AppError;
use app::integrations::Scope;
use app::state::AppState;

use super::{cursor, ApiError, Client, ErrorBody};

/// One event of the log: its `kind` says what happened (never a
/// supervisor's `SUPERVISE_*`; a representative's own state changes only
/// with `agents:read`), `detail` the kind's own fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    #[schema(inline)]
    pub kind: EventKind,
    pub help_session_id: Option<Uuid>,
    pub queue_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    /// The kind's own fields.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `after` for what comes next: present even when this page is
    /// empty, so polling carries on from here.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A previous page's `next_cursor`; without it, from the oldest event.
    pub after: Option<String>,
    /// Events per page, 1–500 (100 unless given).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// The event log, oldest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/events", operation_id = "list_events", tag = "events",
    security(("client_assertion" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "A bad cursor or limit (the message says which)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `help_sessions:read`", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    client: Client,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    client.require(Scope::HelpSessionsRead)?;
    // What this client may see: events about the help sessions it made
    // (all of them with `help_sessions:all`), representatives' own events
    // with `agents:read`, and never supervision.
    let mine = client.0.owner_unless(Scope::HelpSessionsAll);
    let agents = client.require(Scope::AgentsRead).is_ok();
    let Query(query) = query?;
    let limit = cursor::limit(query.limit.as_deref(), 100, 500)?;
    let (after_at, after_id) = match query.after.as_deref() {
        Some(raw) => cursor::decode::<i64>("after", raw)?,
        None => (OffsetDateTime::UNIX_EPOCH, 0),
    };
    let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
    let horizon = app::engine::events::settled_before(&mut conn).await?;
    let rows = sqlx::query!(
        "SELECT id, at, kind, help_session_id, queue_id, representative_id, detail FROM events
          WHERE (at, id) > ($1, $2) AND at < $3
            AND kind NOT LIKE 'SUPERVISE%'
            AND CASE WHEN help_session_id IS NULL THEN $6
                     ELSE $5::uuid IS NULL
                          OR EXISTS (SELECT 1 FROM help_sessions h WHERE h.id = events.help_session_id AND h.api_client_id = $5)
                END
          ORDER BY at, id LIMIT $4",
        after_at,
        after_id,
        horizon,
        limit,
        mine,
        agents
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(AppError::from)?;
    let next_cursor = rows.last().map_or_else(|| cursor::encode(after_at, after_id), |row| cursor::encode(row.at, row.id));
    let events = rows
        .into_iter()
        .map(|row| {
            let kind = row.kind.parse::<EventKind>().map_err(|_| {
                tracing::error!(kind = row.kind, "an event of a kind this server does not know");
                AppError::Internal
            })?;
            Ok(Event {
                id: row.id,
                at: rfc3339(row.at),
                kind,
                help_session_id: row.help_session_id,
                queue_id: row.queue_id,
                agent_id: row.representative_id,
                detail: row.detail,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(EventPage { events, next_cursor }))
}
