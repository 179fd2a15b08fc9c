//! The gate in front of every page: sign-in and role rules answered with the
//! right HTTP status before the page renders. Not signed in: 303 to
//! `/login?next=...`. Wrong role: the page renders its "no access" view with
//! 403. The setup page answers 404 once an admin exists.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::access::Area;
use app::auth::session;
use app::pages::guard::urlencode;
use app::state::AppState;

pub async fn gate(State(state): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();

    if path == "/setup" {
        return match app::people::repo::active_admin_exists(&state.pool).await {
            Ok(true) => with_status(next.run(request).await, StatusCode::NOT_FOUND),
            Ok(false) => next.run(request).await,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    }

    let Some(area) = Area::for_path(&path) else {
        return next.run(request).await;
    };
    match session::current(&session, &state.pool).await {
        Ok(Some(me)) if area.allows(me.role) => next.run(request).await,
        Ok(Some(_)) => with_status(next.run(request).await, StatusCode::FORBIDDEN),
        Ok(None) => {
            let here = request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or(path);
            Redirect::to(&format!("/login?next={}", urlencode(&here))).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}
