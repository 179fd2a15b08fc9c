//! The service kit's HTTP API (SPEC §10), JSON in and out:
//!
//! - `POST /help/session` creates a help session: `{name, reason, channel,
//!   queue?, phone?}` → 201 `{help_session_id, token}`.
//! - `POST /help/queue` (customer bearer token) puts it in line → 200 with
//!   where it stands.
//! - `GET /help/session` (customer bearer token) → where it stands.
//! - `DELETE /help/queue` (a signed-in representative's session cookie)
//!   takes the head of the pull queues they serve → 200 with the customer, or
//!   204 when nobody is waiting.
//! - `DELETE /help/queue/{id}` (that session's bearer token) cancels → 204.
//! - `GET /back?token=` (the link in a "your turn is near" email) asks
//!   "Return to your place in line?"; its `POST /back` spends the link's
//!   token and keeps a fresh one in the page's cookie.
//!
//! Errors are `{"error": "..."}` with the status of their kind.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use app::client::ClientAddr;
use app::customer::request::HelpForm;
use app::customer::view::customer_view;
use app::customer::{CustomerView, HelpTicket};
use app::engine::line::{self, Left};
use app::engine::pull;
use app::error::AppError;
use app::queue::Channel;
use app::state::AppState;
use app::states::{HelpSessionId, QueueId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help/session", post(create_session).get(session_status))
        .route("/help/queue", post(enqueue).delete(dequeue))
        .route("/help/queue/{id}", delete(cancel))
        .route("/back", axum::routing::get(come_back).post(return_to_place))
}

#[derive(Deserialize)]
struct ComeBack {
    #[serde(default)]
    token: String,
}

/// The link in a "your turn is near" email (or an API client's
/// `customer_url`): a page that asks before anything happens. Opening a
/// link changes nothing, so a link someone else sent cannot put this
/// browser in their place; the customer's own click (a POST from this
/// page) does.
async fn come_back(State(state): State<AppState>, axum::extract::Query(back): axum::extract::Query<ComeBack>) -> Response {
    let usable = back.token.len() == 64 && back.token.bytes().all(|b| b.is_ascii_hexdigit());
    if !usable || !matches!(app::customer::token::session_of(&state.pool, &back.token).await, Ok(Some(_))) {
        return axum::response::Redirect::to("/").into_response();
    }
    let page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Return to your place</title>{}</head>
<body><main><section class="card narrow"><h1>Return to your place in line?</h1>
<form method="post" action="/back"><input type="hidden" name="token" value="{}"><button type="submit">Return to my place</button></form>
</section></main></body></html>"#,
        state.assets.stylesheet_link(),
        back.token
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"),
            // The site's own Referrer-Policy (same-origin) stays: with
            // no-referrer the browser posts the form with `Origin: null`,
            // which the door refuses as another site's.
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The customer's "Return to my place": the link's token is spent (it
/// works once) and this browser gets a fresh one in its cookie. A token
/// that no longer works: the start page.
async fn return_to_place(State(state): State<AppState>, axum::Form(back): axum::Form<ComeBack>) -> Response {
    let mut response = axum::response::Redirect::to("/").into_response();
    let Ok(Some(help_session)) = app::customer::token::spend(&state.pool, &back.token).await else {
        return response;
    };
    let Ok(fresh) = app::customer::token::issue(&state.pool, help_session).await else {
        return response;
    };
    if let Ok(cookie) = header::HeaderValue::from_str(&app::customer::token::cookie(
        &fresh,
        app::customer::token::Holder::Site { secure: state.secure_cookies },
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// An error as the API answers it.
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::api_status::answer(&self.0, Json(serde_json::json!({ "error": self.0.to_string(), "code": self.0.code() })))
    }
}

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    name: String,
    reason: String,
    channel: String,
    #[serde(default)]
    queue: Option<Uuid>,
    #[serde(default)]
    phone: Option<String>,
    /// A callback's preferred window, `FROM/UNTIL` in RFC 3339.
    #[serde(default)]
    window: Option<String>,
}

async fn create_session(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    headers: HeaderMap,
    Json(body): Json<NewSession>,
) -> ApiResult<(StatusCode, Json<HelpTicket>)> {
    state.limits.help_request(client)?;
    let queue = body.queue.map(|id| id.to_string()).unwrap_or_default();
    let form = HelpForm::parse(
        &state.pool,
        &queue,
        &body.name,
        &body.reason,
        &body.channel,
        body.phone.as_deref().unwrap_or(""),
        body.window.as_deref().unwrap_or(""),
    )
    .await?;
    let mut request = form.0;
    request.from_address = Some(client.to_string());
    request.language = Some(app::customer::request::browser_language(Some(&headers)));
    let help_session = line::create(&state.engine, request).await?;
    let token = app::customer::token::issue(&state.pool, help_session).await?;
    Ok((StatusCode::CREATED, Json(HelpTicket { help_session_id: help_session, token })))
}

/// The help session a bearer token reaches.
async fn bearer(state: &AppState, headers: &HeaderMap) -> ApiResult<HelpSessionId> {
    let help_session = match app::client::bearer(headers) {
        Some(token) => app::customer::token::session_of(&state.pool, token).await?,
        None => None,
    };
    help_session
        .ok_or_else(|| ApiError(AppError::Unauthorized("A valid customer token is needed (Authorization: Bearer ...).".into())))
}

async fn enqueue(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<CustomerView>> {
    let help_session = bearer(&state, &headers).await?;
    line::enqueue(&state.engine, help_session).await?;
    status_of(&state, help_session).await
}

async fn session_status(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<CustomerView>> {
    let help_session = bearer(&state, &headers).await?;
    status_of(&state, help_session).await
}

async fn status_of(state: &AppState, help_session: HelpSessionId) -> ApiResult<Json<CustomerView>> {
    let view = customer_view(&state.pool, help_session)
        .await?
        .ok_or_else(|| ApiError(AppError::NotFound("No such help session.".into())))?;
    Ok(Json(view))
}

async fn cancel(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<HelpSessionId>) -> ApiResult<StatusCode> {
    let help_session = bearer(&state, &headers).await?;
    if help_session != id {
        return Err(ApiError(AppError::Forbidden));
    }
    line::leave(&state.engine, id, Left::Cancelled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer a representative just took.
#[derive(Debug, Serialize)]
pub struct Dequeued {
    help_session_id: HelpSessionId,
    queue_id: QueueId,
    customer_name: String,
    reason: String,
    channel: Channel,
    phone: Option<String>,
}

async fn dequeue(State(state): State<AppState>, session: Session) -> ApiResult<Response> {
    let me = app::auth::session::current(&session, &state.pool).await?.ok_or_else(|| ApiError(AppError::sign_in_needed()))?;
    let Some(taken) = pull::next_customer(&state.engine, me.id.into()).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    Ok(Json(Dequeued {
        help_session_id: taken.help_session_id,
        queue_id: taken.queue_id,
        customer_name: taken.customer_name,
        reason: taken.reason,
        channel: taken.channel,
        phone: taken.phone,
    })
    .into_response())
}
