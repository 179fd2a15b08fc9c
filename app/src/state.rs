//! Server-side state every request can reach: the database pool, Leptos'
//! options and the sign-in rules. Provided to server functions as context.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use crate::error::AppError;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    /// The engine (the same pool, and the wake-up sender).
    pub engine: crate::engine::Engine,
    pub leptos_options: LeptosOptions,
    /// The bundles' and the stylesheet's names in the built site.
    pub assets: crate::site::Assets,
    pub sign_in: SignInRules,
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// STUN and TURN servers for the conversations' calls.
    pub ice: crate::conversation::ice::IceConfig,
    /// The display time zone and the short-abandon threshold.
    pub metrics: crate::metrics::settings::MetricsSettings,
    /// Rates and counts the anonymous may not exceed.
    pub limits: crate::limits::Limits,
    /// How many times one customer may be transferred.
    pub max_transfers: i32,
    /// Email to customers keeping their place; `None` without SMTP settings.
    pub mail: Option<crate::mail::Mailer>,
    /// The site's public address (`SWITCHBOARD_PUBLIC_URL`, no trailing
    /// slash): API clients' tokens are addressed to its `/api/v1`.
    pub public_url: String,
    /// The key stored secrets are sealed with (`SWITCHBOARD_SECRET_KEY`).
    pub secrets: crate::secrets::Secrets,
}

/// How hard guessing passwords is made.
#[derive(Debug, Clone)]
pub struct SignInRules {
    /// Failures for one email within `window` that lock further tries.
    pub max_failures_per_account: i32,
    /// Failures from one client address within `window` that lock it.
    pub max_failures_per_address: i32,
    pub window: time::Duration,
}

impl Default for SignInRules {
    fn default() -> Self {
        Self { max_failures_per_account: 5, max_failures_per_address: 20, window: time::Duration::minutes(15) }
    }
}

/// The state, inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState is not provided to server functions");
        AppError::Internal
    })
}
