//! Customer tokens: random, naming one help session; only their SHA-256 is
//! kept. A token reaches its help session and nothing else, while the
//! session is open and for a while after it ended (to see how it ended and
//! rate it); then it stops working.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::AppError;
use crate::states::HelpSessionId;

/// How long after its session ended a token still works.
const AFTER_END_SECONDS: f64 = 30.0 * 60.0;
/// The cookie's lifetime: longer than any wait; the database decides
/// whether the token still works.
const COOKIE_SECONDS: i64 = 24 * 60 * 60;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Makes the token of a new help session.
pub async fn issue(pool: &PgPool, help_session: HelpSessionId) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    sqlx::query!(
        "INSERT INTO customer_tokens (token_hash, help_session_id) VALUES ($1, $2)",
        digest(&token),
        help_session.uuid()
    )
    .execute(pool)
    .await?;
    Ok(token)
}

/// The help session a token reaches now, if any.
pub async fn session_of(pool: &PgPool, token: &str) -> Result<Option<HelpSessionId>, AppError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let help_session = sqlx::query_scalar!(
        r#"SELECT t.help_session_id AS "id: HelpSessionId"
             FROM customer_tokens t JOIN help_sessions h ON h.id = t.help_session_id
            WHERE t.token_hash = $1
              AND (h.ended_at IS NULL OR h.ended_at > now() - make_interval(secs => $2))"#,
        digest(token),
        AFTER_END_SECONDS
    )
    .fetch_optional(pool)
    .await?;
    Ok(help_session)
}

/// Spends a token: the help session it reached, and it reaches nothing
/// any more (a link's token works once).
pub async fn spend(pool: &PgPool, token: &str) -> Result<Option<HelpSessionId>, AppError> {
    let Some(help_session) = session_of(pool, token).await? else {
        return Ok(None);
    };
    let spent = sqlx::query!("DELETE FROM customer_tokens WHERE token_hash = $1", digest(token)).execute(pool).await?;
    Ok((spent.rows_affected() == 1).then_some(help_session))
}

/// Where the customer's page runs, which decides how the cookie is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// This site's own page (`secure`: served over HTTPS).
    Site { secure: bool },
    /// The widget's panel, framed by another site: the browser sends a
    /// cookie there only when it is `SameSite=None` (which needs `Secure`;
    /// browsers take it from `localhost` over HTTP too), and keeps it
    /// `Partitioned` (CHIPS): one jar per embedding site, so it survives
    /// that site's page changes and no other site sees it.
    Widget,
}

/// Keeps the token in an HttpOnly cookie: scripts on the page cannot read it,
/// the page's WebSocket and server functions send it along.
pub fn set_cookie(token: &str, holder: Holder) {
    append_cookie(&cookie(token, holder));
}

/// The `Set-Cookie` value that keeps the token.
pub fn cookie(token: &str, holder: Holder) -> String {
    let kept = match holder {
        Holder::Site { secure: false } => "SameSite=Lax",
        Holder::Site { secure: true } => "SameSite=Lax; Secure",
        Holder::Widget => "SameSite=None; Secure; Partitioned",
    };
    format!("{}={token}; Path=/; HttpOnly; Max-Age={COOKIE_SECONDS}; {kept}", super::COOKIE)
}

/// Forgets the token, on the site's page and in a widget alike.
pub fn clear_cookie() {
    append_cookie(&format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", super::COOKIE));
    append_cookie(&format!("{}=; Path=/; HttpOnly; SameSite=None; Secure; Partitioned; Max-Age=0", super::COOKIE));
}

fn append_cookie(value: &str) {
    if let (Some(response), Ok(value)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(value))
    {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// The customer's token from the request's cookie header.
pub fn token_in(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == super::COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The help session of this request's customer cookie, inside a server
/// function.
pub async fn from_cookie(pool: &PgPool) -> Result<Option<HelpSessionId>, AppError> {
    let token = leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|parts| token_in(&parts.headers));
    match token {
        Some(token) => session_of(pool, &token).await,
        None => Ok(None),
    }
}
