//! The widget's server side (the panel itself is a page of the app,
//! `/widget`): the loader script, the loader's question "may this site show
//! the key?", the key's colours for the panel, and the panel's
//! `frame-ancestors`, which lets only the key's sites frame it.

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use app::state::AppState;
use app::widget::repo;

/// The loader, as sites include it.
const LOADER: &str = include_str!("loader.js");

pub fn router() -> Router<AppState> {
    Router::new().route("/widget.js", get(loader)).route("/widget/config", get(config)).route("/widget/theme.css", get(theme))
}

#[derive(Deserialize)]
struct Key {
    #[serde(default)]
    key: String,
}

/// Any site may load the script; it does nothing until the server says
/// the site may show its key. Cached for five minutes.
async fn loader() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            (header::HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("cross-origin")),
        ],
        LOADER,
    )
        .into_response()
}

/// The loader asks whether its page's site may show the key: only when
/// the key is enabled and the page's `Origin` is one of its sites is the
/// answer readable there (CORS for that origin alone); otherwise 403 or 404
/// without it, and the loader shows nothing.
async fn config(State(state): State<AppState>, Query(Key { key }): Query<Key>, headers: HeaderMap) -> Response {
    let refused = |status: StatusCode, code: &str, message: &str| {
        (status, Json(serde_json::json!({ "error": { "code": code, "message": message } }))).into_response()
    };
    let widget = match repo::enabled(&state.pool, &key).await {
        Ok(widget) => widget,
        Err(app::error::AppError::NotFound(message)) => return refused(StatusCode::NOT_FOUND, "unknown_key", &message),
        Err(_) => return refused(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The widget cannot be shown right now."),
    };
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if !widget.allows(origin) {
        tracing::info!(origin, key, "widget asked for from a site not on its list");
        return refused(StatusCode::FORBIDDEN, "origin_not_allowed", "This site may not show this widget.");
    }
    let mut response = Json(serde_json::json!({
        "switchboard": app::widget::MESSAGE_VERSION,
        "accent": widget.accent,
        "label": "Talk to us",
    }))
    .into_response();
    let headers = response.headers_mut();
    if let Ok(origin) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The key's colour for the panel, as a stylesheet (the pages' policy
/// allows styles from this site only, never inline).
async fn theme(State(state): State<AppState>, Query(Key { key }): Query<Key>) -> Response {
    let accent = match repo::enabled(&state.pool, &key).await {
        Ok(widget) => widget.accent,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"))], format!(":root {{ --accent: {accent}; }}\n"))
        .into_response()
}

/// The panel (`/widget?key=…`) may be framed by its key's sites and no
/// other: the page's `frame-ancestors 'none'` becomes the key's origins. An
/// unknown or disabled key keeps `'none'`, and the page answers 404.
pub async fn frame_ancestors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() != "/widget" {
        return next.run(request).await;
    }
    let key = Query::<Key>::try_from_uri(request.uri()).map(|query| query.0.key).unwrap_or_default();
    let origins = repo::enabled(&state.pool, &key).await.map(|widget| widget.origins).ok();
    let mut response = next.run(request).await;
    let Some(origins) = origins else {
        // The page says the help is not available here.
        if response.status().is_success() {
            *response.status_mut() = StatusCode::NOT_FOUND;
        }
        return response;
    };
    let policy = response.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|value| value.to_str().ok());
    let framed = policy.map(|policy| policy.replace("frame-ancestors 'none'", &format!("frame-ancestors {}", origins.join(" "))));
    if let Some(value) = framed.and_then(|policy| HeaderValue::from_str(&policy).ok()) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
