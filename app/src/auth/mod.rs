//! Signing representatives in and out, and checking what they may open.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

#[cfg(feature = "ssr")]
pub mod lockout;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod sign_in;

/// Signs in with email and password. Answers the page to go to next (a path
/// on this site), or why not: 400 for an empty field, 401 for a wrong email
/// or password (the same answer for both), 429 while locked out.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: String) -> Result<String, AppError> {
    use crate::access::safe_next;
    let state = crate::state::app_state()?;
    let client_addr = ssr::client_addr()?.to_string();
    let verified = sign_in::verify(&state.pool, &state.sign_in, &email, password, &client_addr).await?;
    let session = ssr::session().await?;
    session::start(&session, verified.me.id, verified.generation).await?;
    let next = if next.trim().is_empty() { None } else { Some(next.as_str()) };
    Ok(safe_next(next))
}

/// Signs out of this browser.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = ssr::session().await?;
    session::end(&session).await
}

/// Who is signed in on this browser, if anyone.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    let state = crate::state::app_state()?;
    let session = ssr::session().await?;
    session::current(&session, &state.pool).await
}

#[cfg(feature = "ssr")]
pub use ssr::{client_addr, require, session as tower_session};

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::request::Parts;
    use leptos::prelude::use_context;
    use tower_sessions::Session;

    use crate::access::Area;
    use crate::client::ClientAddr;
    use crate::error::AppError;
    use crate::model::Me;
    use crate::state::{app_state, AppState};

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "no session layer in front of server functions");
            AppError::Internal
        })
    }

    /// The address the request came from, as the server's outermost layer
    /// worked it out.
    pub fn client_addr() -> Result<ClientAddr, AppError> {
        use_context::<Parts>().and_then(|parts| parts.extensions.get::<ClientAddr>().copied()).ok_or_else(|| {
            tracing::error!("no client address layer in front of server functions");
            AppError::Internal
        })
    }

    /// The signed-in representative, if their role opens `area`: 401 when
    /// nobody is signed in, 403 when the role does not reach.
    pub async fn require(area: Area) -> Result<(Me, AppState), AppError> {
        let state = app_state()?;
        let session = session().await?;
        let me = super::session::allowed(&session, &state.pool, area).await?;
        Ok((me, state))
    }
}
