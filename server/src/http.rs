//! The HTTP router: health checks, the Leptos pages and server functions,
//! static files, and the layers around them (sessions, the page gate, body
//! limit, the shield, tracing).

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::CompressionLevel;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use tracing::Level;

use app::state::AppState;
use app::{shell, App};

use crate::api_status::api_status;
use crate::config::Config;
use crate::gate::gate;
use crate::live::Live;

/// Requests larger than this are refused with 413 before anything reads them.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The Leptos options for serving: where the built site is. Which bundle a
/// page loads is the shell's to say (`app::site`).
pub fn leptos_options(site_root: &str) -> LeptosOptions {
    LeptosOptions::builder().output_name("switchboard").site_root(site_root).site_pkg_dir("pkg").build()
}

/// The names of the built site's files; none when it was not built (the
/// pages are then sent without their bundle, which the log says once).
fn assets(site_root: &str) -> app::site::Assets {
    app::site::Assets::load(site_root).unwrap_or_else(|error| {
        tracing::warn!(%error, "the site is not built (scripts/build): pages are served without their scripts");
        app::site::Assets::default()
    })
}

/// The state every request sees.
pub async fn state(pool: PgPool, config: &Config) -> Result<AppState, app::error::AppError> {
    app::metrics::report::check_time_zone(&pool, &config.metrics.time_zone).await?;
    let secrets = config.secret_key.load().map_err(|error| {
        tracing::error!(%error, "the secret key");
        app::error::AppError::Internal
    })?;
    app::secrets::prepare(&pool, &secrets).await.map_err(|error| {
        tracing::error!(%error, "the secret key");
        app::error::AppError::Internal
    })?;
    Ok(AppState {
        engine: app::engine::Engine::new(pool.clone()),
        pool,
        leptos_options: leptos_options(&config.site_root),
        assets: assets(&config.site_root),
        sign_in: config.sign_in.clone(),
        secure_cookies: config.secure_cookies,
        ice: config.ice.clone(),
        metrics: config.metrics.clone(),
        limits: app::limits::Limits::new(config.limits.clone()),
        max_transfers: config.max_transfers,
        mail: match &config.smtp_url {
            Some(url) => Some(app::mail::Mailer::new(url, &config.mail_from, &config.public_url).map_err(|error| {
                tracing::error!(%error, "SWITCHBOARD_SMTP_URL");
                app::error::AppError::Internal
            })?),
            None => None,
        },
        public_url: config.public_url.clone(),
        secrets,
    })
}

/// The sign-in session's cookie.
pub const SESSION_COOKIE: &str = "switchboard_session";

/// The `name=value` of the session cookie a response sets, if any (for the
/// clients of the tests and the benchmarks).
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.strip_prefix(SESSION_COOKIE).is_some_and(|rest| rest.starts_with('=')))
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
}

/// Everything the server answers.
pub fn router(state: AppState, config: &Config, live: Live) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let assets = state.assets.clone();
    let page = move |options| shell(options, &assets);
    let metrics = crate::metrics::Metrics::new(config.metrics_access.clone());
    let shield = crate::shield::Shield::new(config);

    let store = PostgresStore::new(state.pool.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(config.session_idle_minutes)));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::sockets::router())
        .route("/admin/export.csv", get(crate::export::export))
        .merge(crate::help_api::router())
        .merge(crate::api_v1::router())
        .merge(crate::widget::router())
        .leptos_routes_with_context(&state, routes, move || provide_context(context_state.clone()), {
            let page = page.clone();
            move || page(shell_options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(metrics.clone(), crate::metrics::track))
        .route("/metrics", get(crate::metrics::scrape))
        // The bundles and the stylesheet: Brotli or gzip as the browser
        // accepts (made by `scripts/build --release`). Their names change
        // with their content, so a browser keeps them for a year without
        // asking again; the pages naming them are `no-cache`.
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, |response: &Response<_>| {
                    response.status().is_success().then(|| HeaderValue::from_static("public, max-age=31536000, immutable"))
                }))
                .service(ServeDir::new(format!("{}/pkg", config.site_root)).precompressed_br().precompressed_gzip()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(page))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::widget::frame_ancestors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
        .layer(axum::middleware::from_fn(api_status))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(shield.clone(), crate::shield::same_site_only))
        .layer(axum::middleware::from_fn(crate::shield::api_errors))
        .layer(axum::middleware::from_fn_with_state(shield.clone(), crate::shield::security_headers))
        .layer(axum::middleware::from_fn_with_state(shield, crate::shield::client))
        // Every response compressed as the browser accepts, once the layers
        // that read bodies are done (the customer's page: 5.6 kB becomes
        // 1.4 kB; the widget's loader 10.4 kB 3.3 kB). Brotli at quality 5,
        // which adds about 0.2 ms to a page (docs/benchmarks.md). The
        // bundles are compressed ahead (`/pkg`), so left alone; so are event
        // streams and bodies under 32 bytes.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let request_id =
                        request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(axum::Extension(live))
        .layer(axum::Extension(metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers too: 503 when it does not, so a load balancer stops
/// sending traffic here.
async fn readyz(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    let check = tokio::time::timeout(Duration::from_secs(2), sqlx::query("SELECT 1").execute(&pool)).await;
    match check {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("readiness check: database timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
