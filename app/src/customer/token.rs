//! Customer tokens: a JWT naming one help session, signed with the servers'
//! shared key (HS256). A token reaches that help session and nothing else.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;
use crate::states::HelpSessionId;

/// How long a customer token works: long enough for any wait and
/// conversation, short enough that an old one is useless.
const LIFETIME_SECONDS: i64 = 24 * 60 * 60;

#[derive(Clone)]
pub struct CustomerKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for CustomerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKeys(..)")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The help session.
    sub: Uuid,
    exp: i64,
    /// Marks the token as a customer's, so no other token type can pass.
    aud: String,
}

const AUDIENCE: &str = "switchboard-customer";

impl CustomerKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// The configured secret, or else the one all servers share through the
    /// database (made on first use).
    pub async fn load(pool: &PgPool, configured: Option<&str>) -> Result<Self, AppError> {
        if let Some(secret) = configured {
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let mut candidate = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut candidate);
        let secret = sqlx::query_scalar!(
            "WITH made AS (
               INSERT INTO server_secrets (name, value) VALUES ('customer_token', $1)
               ON CONFLICT (name) DO NOTHING RETURNING value
             )
             SELECT value AS \"value!\" FROM made
             UNION ALL SELECT value FROM server_secrets WHERE name = 'customer_token'
             LIMIT 1",
            &candidate[..]
        )
        .fetch_one(pool)
        .await?;
        Ok(Self::from_secret(&secret))
    }

    pub fn issue(&self, help_session: HelpSessionId) -> Result<String, AppError> {
        let claims = Claims {
            sub: help_session.uuid(),
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + LIFETIME_SECONDS,
            aud: AUDIENCE.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|error| {
            tracing::error!(%error, "could not sign a customer token");
            AppError::Internal
        })
    }

    /// The help session a token names, if the token is genuine and current.
    pub fn verify(&self, token: &str) -> Option<HelpSessionId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        decode::<Claims>(token, &self.decoding, &validation).ok().map(|data| HelpSessionId(data.claims.sub))
    }
}

/// Keeps the token in an HttpOnly cookie: scripts on the page cannot read it,
/// the page's WebSocket and server functions send it along.
pub fn set_cookie(token: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    append_cookie(&format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LIFETIME_SECONDS}{secure}", super::COOKIE));
}

pub fn clear_cookie() {
    append_cookie(&format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", super::COOKIE));
}

fn append_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(value),
    ) {
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

/// The help session of this request's customer cookie, inside a server function.
pub fn from_cookie(keys: &CustomerKeys) -> Option<HelpSessionId> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    token_in(&parts.headers).and_then(|token| keys.verify(&token))
}
