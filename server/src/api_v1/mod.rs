//! `/api/v1` (SPEC §10): the versioned API for website backends and
//! integrations, called as an API client with a bearer token the client
//! signs itself (`app::integrations::assertion`). JSON in and out; every
//! error is `{"error": {"code", "message"}}`; unknown fields are refused.
//! The OpenAPI document is generated from the handlers' annotations
//! ([`ApiDoc`]) and served at `/api/v1/openapi.json`, with a reference page
//! rendered from it at `/api/v1/docs`.

mod agents;
mod callbacks;
mod cursor;
mod docs;
mod error;
mod events;
mod help_sessions;
mod idempotency;
mod queues;
mod webhooks;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{any, get, post, put};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use app::engine::events::webhook;
use app::integrations::assertion::{self, Caller};
use app::integrations::{Scope, WebhookType};
use app::state::AppState;

pub use docs::fits_published;
pub use error::{ApiError, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(docs::openapi_json))
        .route("/api/v1/docs", get(docs::reference))
        .route("/api/v1/queues", get(queues::list))
        .route("/api/v1/queues/{queue_id}/stats", get(queues::stats))
        .route("/api/v1/help-sessions", get(help_sessions::list).post(help_sessions::create))
        .route("/api/v1/help-sessions/{help_session_id}", get(help_sessions::read).delete(help_sessions::cancel))
        .route("/api/v1/callbacks", post(callbacks::create))
        .route("/api/v1/callbacks/{callback_id}", get(callbacks::read).delete(callbacks::cancel))
        .route("/api/v1/agents", get(agents::list))
        .route("/api/v1/agents/{agent_id}/state", put(agents::set_state))
        .route("/api/v1/events", get(events::feed))
        .route("/api/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/v1/webhooks/{endpoint_id}", get(webhooks::read).delete(webhooks::delete))
        .route("/api/v1/webhooks/{endpoint_id}/enabled", put(webhooks::set_enabled))
        .route("/api/v1/webhooks/{endpoint_id}/resend", post(webhooks::resend))
        .route("/api/v1/{*rest}", any(no_such_operation))
}

async fn no_such_operation() -> ApiError {
    ApiError(app::error::AppError::NotFound("No such API operation; see /api/v1/docs.".into()))
}

/// The OpenAPI document, from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        version = "1",
        description = "For website backends and integrations. Call as an API client: sign a JWT (HS256) with \
                       your client secret, iss = sub = your client id, aud = this site's /api/v1 address, \
                       exp at most 10 minutes after iat, a fresh jti for every request, and send it as \
                       Authorization: Bearer <JWT>."
    ),
    paths(
        queues::list, queues::stats,
        help_sessions::create, help_sessions::list, help_sessions::read, help_sessions::cancel,
        callbacks::create, callbacks::read, callbacks::cancel,
        agents::list, agents::set_state,
        events::feed,
        webhooks::list, webhooks::create, webhooks::read, webhooks::delete, webhooks::set_enabled, webhooks::resend,
    ),
    components(schemas(
        WebhookType, webhook::WebhookIds, webhook::EnteredFields, webhook::AnsweredFields, webhook::WrappedUpFields,
        webhook::RequeuedFields, webhook::TransferredFields, webhook::CallbackAttemptedFields, webhook::AgentStateFields,
        webhook::RatingFields,
    )),
    modifiers(&BearerToken),
    tags((name = "queues", description = "Queues and their live figures"),
         (name = "help_sessions", description = "Customers asking for help"),
         (name = "callbacks", description = "Calls back to customers, requested by a website backend"),
         (name = "agents", description = "Representatives and their states, for workforce tools"),
         (name = "events", description = "The event log as a feed, to catch up after downtime"),
         (name = "webhooks", description = "Where events are sent, signed and retried"))
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_assertion",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A JWT the API client signs with its secret (RFC 7523 client assertion)."))
                    .build(),
            ),
        );
    }
}

/// An API client whose token passed every check and that is within its
/// rate; a handler then asks for the scope it needs.
pub struct Client(pub Caller);

impl Client {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        Ok(self.0.require(scope)?)
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = app::client::bearer(&parts.headers);
        let audience = format!("{}/api/v1", state.public_url);
        let caller = assertion::verify(&state.pool, &state.secrets, token, &audience).await?;
        state.limits.api_request(caller.client)?;
        Ok(Client(caller))
    }
}
