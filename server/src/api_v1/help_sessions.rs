//! Help sessions through the API: a website backend puts a customer in line
//! (and opens the customer page or widget with the token it gets back),
//! reads where they stand, cancels, and lists sessions with filters.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use app::customer::request::HelpForm;
use app::customer::view::{customer_view, rfc3339};
use app::customer::CustomerView;
use app::engine::line::{self, FromApi, Left};
use app::error::{AppError, BodyRefused};
use app::integrations::Scope;
use app::queue::Channel;
use app::state::AppState;
use app::states::{HelpSessionId, HelpStatus};

use super::error::path_id;

use super::{cursor, idempotency, ApiError, Client, ErrorBody};

/// The longest external reference a client may attach.
const MAX_REFERENCE: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHelpSession {
    pub queue_id: Uuid,
    /// The customer's name, 1–80 characters.
    pub name: String,
    /// What they need help with, 1–500 characters.
    pub reason: String,
    /// `video`, `audio`, `chat` or `callback`, one the queue offers.
    pub channel: String,
    /// E.164 (`+` and the country code); required for `callback`.
    #[serde(default)]
    pub phone: Option<String>,
    /// Your own reference for this session (a CRM ticket), up to 200
    /// characters; given back on every read.
    #[serde(default)]
    pub external_reference: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HelpSession {
    pub id: Uuid,
    pub queue_id: Uuid,
    #[schema(inline)]
    pub channel: Channel,
    #[schema(inline)]
    pub status: HelpStatus,
    pub customer_name: String,
    pub reason: String,
    pub phone: Option<String>,
    pub external_reference: Option<String>,
    /// RFC 3339.
    pub entered_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    /// The representative serving (or who served) them.
    pub agent_id: Option<Uuid>,
    /// While waiting: 1 = next (read one session to get it; lists leave it
    /// null).
    pub position: Option<i64>,
    /// While waiting: the range the customer is shown, in words.
    pub estimated_wait: Option<String>,
    /// While waiting: the same range in numbers (absent when it cannot be
    /// estimated).
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub help_session: HelpSession,
    /// The customer's token: the customer page or widget opened with it
    /// shows this customer their place.
    pub token: String,
    /// The customer page for this session (it keeps the token).
    pub customer_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HelpSessionPage {
    pub help_sessions: Vec<HelpSession>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    pub next_cursor: Option<String>,
}

/// A waiting customer's estimated wait: the range they are shown, about 8
/// in 10 customers being answered inside it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Estimate {
    pub low_seconds: u32,
    pub high_seconds: u32,
    /// As the customer reads it: "about 4–9 minutes".
    pub text: String,
}

struct Row {
    id: Uuid,
    queue_id: Uuid,
    channel: Channel,
    status: HelpStatus,
    customer_name: String,
    reason: String,
    phone: Option<String>,
    external_reference: Option<String>,
    entered_at: OffsetDateTime,
    answered_at: Option<OffsetDateTime>,
    ended_at: Option<OffsetDateTime>,
    agent_id: Option<Uuid>,
}

impl Row {
    fn session(self) -> HelpSession {
        HelpSession {
            id: self.id,
            queue_id: self.queue_id,
            channel: self.channel,
            status: self.status,
            customer_name: self.customer_name,
            reason: self.reason,
            phone: self.phone,
            external_reference: self.external_reference,
            entered_at: rfc3339(self.entered_at),
            answered_at: self.answered_at.map(rfc3339),
            ended_at: self.ended_at.map(rfc3339),
            agent_id: self.agent_id,
            position: None,
            estimated_wait: None,
            estimate: None,
        }
    }
}

/// One session as the API shows it, with its place while waiting.
/// `mine`: the client whose sessions it may be (`None`: anyone's); another
/// client's is "no such" help session, as one that does not exist.
async fn session(state: &AppState, id: HelpSessionId, mine: Option<Uuid>) -> Result<HelpSession, ApiError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, queue_id, channel AS "channel: Channel", status AS "status: HelpStatus", customer_name, reason, phone,
                external_reference, entered_at, answered_at, ended_at, agent_id
           FROM help_sessions WHERE id = $1 AND ($2::uuid IS NULL OR api_client_id = $2)"#,
        id.uuid(),
        mine
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(AppError::from)?
    .ok_or_else(|| ApiError::from(AppError::NotFound("No such help session.".into())))?;
    let mut session = row.session();
    if let Some(CustomerView::Waiting { position, estimate, range_seconds, .. }) = customer_view(&state.pool, id).await? {
        session.position = Some(position);
        session.estimate =
            range_seconds.map(|(low_seconds, high_seconds)| Estimate { low_seconds, high_seconds, text: estimate.clone() });
        session.estimated_wait = Some(estimate);
    }
    Ok(session)
}

/// Puts a customer in line. With an `Idempotency-Key` header, the same key
/// and body give the same answer (for a day) and make one session.
#[utoipa::path(
    post, path = "/api/v1/help-sessions", operation_id = "create_help_session", tag = "help_sessions",
    security(("client_assertion" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe: 1–200 visible ASCII characters")),
    request_body = NewHelpSession,
    responses(
        (status = 201, description = "In line", body = Created),
        (status = 400, description = "A field breaks a rule (the message names it)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `help_sessions:write`", body = ErrorBody),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 409, description = "The queue is not taking customers now (full, closed, nobody on duty), a callback to this number made by somebody else is open (`callback_exists`), or the same Idempotency-Key is still being worked on", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used with another body", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    client.require(Scope::HelpSessionsWrite)?;
    let key = idempotency::key(&headers)?;
    let caller = client.0.client;
    idempotency::once(
        &state.pool,
        caller,
        key,
        &body,
        async {
            let request: NewHelpSession = json_body(&headers, &body)?;
            let created = enter(&state, caller, request).await?;
            Ok((StatusCode::CREATED, serde_json::to_value(created).map_err(|_| ApiError::from(AppError::Internal))?))
        },
        |answer| reissue(&state, answer),
    )
    .await
}

/// A replayed creation: the stored answer holds no token (the store keeps
/// none), so the session's caller gets fresh ones.
async fn reissue(state: &AppState, mut answer: serde_json::Value) -> Result<serde_json::Value, ApiError> {
    let Some(id) = answer["help_session"]["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) else {
        return Ok(answer);
    };
    let token = app::customer::token::issue(&state.pool, id.into()).await?;
    let link = app::customer::token::issue(&state.pool, id.into()).await?;
    answer["token"] = token.into();
    answer["customer_url"] = format!("{}/back?token={link}", state.public_url).into();
    Ok(answer)
}

/// The body as JSON of the shape asked for, or a 4xx naming what is wrong.
pub(super) fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError(AppError::InvalidBody {
            message: "Send the body as JSON (Content-Type: application/json).".into(),
            status: BodyRefused::NotJson,
        }));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError(AppError::InvalidBody { message: format!("The body does not fit: {error}."), status: BodyRefused::Shape })
    })
}

/// A client's own reference, checked: at most 200 characters on one line
/// (blank: none).
pub(super) fn external_reference(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(reference) if reference.chars().count() > MAX_REFERENCE => {
            Err(ApiError::invalid(format!("external_reference must be at most {MAX_REFERENCE} characters.")))
        }
        Some(reference) => {
            app::text::check("external_reference", reference, app::text::Shape::Line)?;
            Ok(Some(reference.to_owned()))
        }
    }
}

async fn enter(state: &AppState, client: Uuid, request: NewHelpSession) -> Result<Created, ApiError> {
    let reference = external_reference(request.external_reference.as_deref())?;
    let form = HelpForm::parse(
        &state.pool,
        &request.queue_id.to_string(),
        &request.name,
        &request.reason,
        &request.channel,
        request.phone.as_deref().unwrap_or(""),
        "",
    )
    .await?;
    let mut new = form.0;
    new.from_api = Some(FromApi { client, external_reference: reference });
    let id = line::enter(&state.engine, new).await?;
    let token = app::customer::token::issue(&state.pool, id).await?;
    // The link has a token of its own: opening it spends that one, not the
    // client's.
    let link = app::customer::token::issue(&state.pool, id).await?;
    Ok(Created {
        help_session: session(state, id, None).await?,
        customer_url: format!("{}/back?token={link}", state.public_url),
        token,
    })
}

/// One help session, with its place and estimate while waiting.
#[utoipa::path(
    get, path = "/api/v1/help-sessions/{help_session_id}", operation_id = "get_help_session", tag = "help_sessions",
    security(("client_assertion" = [])),
    params(("help_session_id" = String, Path, description = "The help session's id")),
    responses(
        (status = 200, description = "The help session", body = HelpSession),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `help_sessions:read`", body = ErrorBody),
        (status = 404, description = "No such help session", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn read(State(state): State<AppState>, client: Client, Path(id): Path<String>) -> Result<Json<HelpSession>, ApiError> {
    client.require(Scope::HelpSessionsRead)?;
    let id = HelpSessionId::from(path_id(&id, "help session")?);
    Ok(Json(session(&state, id, client.0.owner_unless(Scope::HelpSessionsAll)).await?))
}

/// Takes a waiting customer out of line (or gives up a session never put
/// in line).
#[utoipa::path(
    delete, path = "/api/v1/help-sessions/{help_session_id}", operation_id = "cancel_help_session", tag = "help_sessions",
    security(("client_assertion" = [])),
    params(("help_session_id" = String, Path, description = "The help session's id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `help_sessions:write`", body = ErrorBody),
        (status = 404, description = "No such help session", body = ErrorBody),
        (status = 409, description = "Not waiting any more (being served, or ended)", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn cancel(State(state): State<AppState>, client: Client, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    client.require(Scope::HelpSessionsWrite)?;
    let id = HelpSessionId::from(path_id(&id, "help session")?);
    session(&state, id, client.0.owner_unless(Scope::HelpSessionsAll)).await?;
    cancel_session(&state, id).await
}

/// Takes a session out of line (or gives up one never put in line); 404
/// when there is none, 409 when it is past waiting.
pub(super) async fn cancel_session(state: &AppState, id: HelpSessionId) -> Result<StatusCode, ApiError> {
    let status = sqlx::query_scalar!(r#"SELECT status AS "status: HelpStatus" FROM help_sessions WHERE id = $1"#, id.uuid())
        .fetch_optional(&state.pool)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| ApiError::from(AppError::NotFound("No such help session.".into())))?;
    let not_waiting = || {
        ApiError::from(AppError::Conflict(format!(
            "The help session is {}, not waiting: it can't be cancelled.",
            status.as_str()
        )))
    };
    let done = match status {
        HelpStatus::Created => line::discard(&state.engine, id).await,
        status if status.in_line() => line::leave(&state.engine, id, Left::Cancelled).await,
        _ => return Err(not_waiting()),
    };
    match done {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // Answered or gone between the read and the cancel.
        Err(AppError::NotFound(_)) => Err(not_waiting()),
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this queue's.
    #[param(value_type = Option<String>, format = Uuid)]
    pub queue_id: Option<String>,
    /// Only sessions in this status.
    pub status: Option<String>,
    /// Entered at or after this moment (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// Entered before this moment (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Sessions per page, 1–100 (50 unless given).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// Help sessions, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/help-sessions", operation_id = "list_help_sessions", tag = "help_sessions",
    security(("client_assertion" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of help sessions", body = HelpSessionPage),
        (status = 400, description = "A filter breaks a rule (the message names it)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Disabled, or without `help_sessions:read`", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HelpSessionPage>, ApiError> {
    client.require(Scope::HelpSessionsRead)?;
    let Query(query) = query?;
    let queue = query
        .queue_id
        .as_deref()
        .map(|raw| Uuid::parse_str(raw).map_err(|_| ApiError::invalid("queue_id must be a queue's id (a UUID).")))
        .transpose()?;
    let status = query
        .status
        .as_deref()
        .map(|raw| {
            HelpStatus::parse(raw).map_err(|_| ApiError::invalid(format!("status \"{raw}\" is not a help session status.")))
        })
        .transpose()?;
    let moment = |field: &str, raw: Option<&str>| {
        raw.map(|raw| {
            OffsetDateTime::parse(raw, &Rfc3339)
                .map_err(|_| ApiError::invalid(format!("{field} must be a moment in RFC 3339, e.g. 2026-11-30T09:00:00Z.")))
        })
        .transpose()
    };
    let from = moment("from", query.from.as_deref())?;
    let until = moment("until", query.until.as_deref())?;
    let limit = cursor::limit(query.limit.as_deref(), 50, 100)?;
    let after = query.cursor.as_deref().map(|raw| cursor::decode::<Uuid>("cursor", raw)).transpose()?;
    let mut rows = sqlx::query_as!(
        Row,
        r#"SELECT id, queue_id, channel AS "channel: Channel", status AS "status: HelpStatus", customer_name, reason, phone,
                  external_reference, entered_at, answered_at, ended_at, agent_id
             FROM help_sessions
            WHERE ($1::uuid IS NULL OR queue_id = $1)
              AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR entered_at >= $3)
              AND ($4::timestamptz IS NULL OR entered_at < $4)
              AND ($5::timestamptz IS NULL OR (entered_at, id) < ($5, $6::uuid))
              AND ($8::uuid IS NULL OR api_client_id = $8)
            ORDER BY entered_at DESC, id DESC
            LIMIT $7"#,
        queue,
        status.map(HelpStatus::as_str),
        from,
        until,
        after.map(|(entered_at, _)| entered_at),
        after.map(|(_, id)| id),
        limit + 1,
        client.0.owner_unless(Scope::HelpSessionsAll),
    )
    .fetch_all(&state.pool)
    .await
    .map_err(AppError::from)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|row| cursor::encode(row.entered_at, row.id)) } else { None };
    Ok(Json(HelpSessionPage { help_sessions: rows.into_iter().map(Row::session).collect(), next_cursor }))
}
