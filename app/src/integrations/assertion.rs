//! An API client's bearer token, checked (RFC 7523's client assertion): a
//! JWT the client signs itself with its secret, whose `iss` and `sub` are
//! its id, `aud` the site's `/api/v1`, `exp` at most 10 minutes after
//! `iat`, and `jti` never used before. The algorithm is the one the client
//! was registered with; the token's header never chooses it. Clocks may
//! differ by a minute either way.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Scope;
use crate::error::{AppError, ErrorCode};
use crate::secrets::{Column, Secrets};

/// Clock difference allowed between the client and this server.
pub const SKEW_SECONDS: u64 = 60;
/// The longest a token may live (`exp − iat`).
pub const MAX_LIFETIME_SECONDS: u64 = 600;

/// Who is calling: a client whose token passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub client: Uuid,
    pub scopes: Vec<Scope>,
}

impl Caller {
    /// Refuses unless the client was given `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Refusal> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Refusal::MissingScope(scope))
        }
    }

    /// Whose things this client reaches with `all` (a `*:all` scope): `None`
    /// for everyone's, else its own id (what it made).
    pub fn owner_unless(&self, all: Scope) -> Option<Uuid> {
        (!self.scopes.contains(&all)).then_some(self.client)
    }
}

/// Why a token is refused; each says so in its message, under its own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a JWT, or a claim of the wrong type.
    Malformed(String),
    /// `iss` names no registered client.
    UnknownClient,
    /// Signed with another algorithm than the client's.
    WrongAlgorithm,
    /// The signature does not match the client's secret.
    BadSignature,
    /// A claim that must be there is not (`exp`, `iat`, `aud`, `iss`,
    /// `sub`, `jti`).
    MissingClaim(&'static str),
    Expired,
    /// `iat` or `nbf` is in the future (beyond the skew allowed).
    NotYetValid,
    /// `exp` more than ten minutes after `iat`.
    TooLong,
    WrongAudience,
    /// `sub` is not the client's id.
    WrongSubject,
    /// This `jti` was used before.
    Replayed,
    /// The client is disabled.
    Disabled,
    /// The client lacks the scope this needs.
    MissingScope(Scope),
}

impl Refusal {
    /// The code the refusal is answered with (401, but 403 for a disabled
    /// client or a missing scope: [`AppError::status_code`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::Missing => ErrorCode::TokenMissing,
            Refusal::Malformed(_) => ErrorCode::TokenMalformed,
            Refusal::UnknownClient => ErrorCode::UnknownClient,
            Refusal::WrongAlgorithm => ErrorCode::WrongAlgorithm,
            Refusal::BadSignature => ErrorCode::BadSignature,
            Refusal::MissingClaim(_) => ErrorCode::ClaimMissing,
            Refusal::Expired => ErrorCode::TokenExpired,
            Refusal::NotYetValid => ErrorCode::TokenNotYetValid,
            Refusal::TooLong => ErrorCode::TokenLifetimeTooLong,
            Refusal::WrongAudience => ErrorCode::WrongAudience,
            Refusal::WrongSubject => ErrorCode::WrongSubject,
            Refusal::Replayed => ErrorCode::TokenReplayed,
            Refusal::Disabled => ErrorCode::ClientDisabled,
            Refusal::MissingScope(_) => ErrorCode::MissingScope,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Missing => "Send a token: Authorization: Bearer <JWT signed with your client secret>.".into(),
            Refusal::Malformed(why) => format!("The token is not a valid JWT: {why}."),
            Refusal::UnknownClient => "The token's iss is not a registered API client's id.".into(),
            Refusal::WrongAlgorithm => {
                "The token must be signed with HS256, the algorithm this client is registered with.".into()
            }
            Refusal::BadSignature => "The token's signature does not match the client's secret.".into(),
            Refusal::MissingClaim(claim) => format!("The token has no {claim} claim."),
            Refusal::Expired => "The token has expired (exp is past); sign a new one.".into(),
            Refusal::NotYetValid => "The token is not valid yet (iat or nbf is in the future); check your clock.".into(),
            Refusal::TooLong => format!("The token lives too long: exp may be at most {MAX_LIFETIME_SECONDS} s after iat."),
            Refusal::WrongAudience => "The token's aud is not this site's API (its /api/v1 address).".into(),
            Refusal::WrongSubject => "The token's sub must be the client's id, as its iss.".into(),
            Refusal::Replayed => "This token (its jti) was used before; sign a new one for every request.".into(),
            Refusal::Disabled => "This API client is disabled.".into(),
            Refusal::MissingScope(scope) => format!("This API client lacks the {} scope.", scope.as_str()),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused { code: refusal.code(), message: refusal.message() }
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Refused(refusal) => refusal.into(),
            Denied::Failed(error) => error,
        }
    }
}

/// A token refused, or the check itself failed (the database).
#[derive(Debug)]
pub enum Denied {
    Refused(Refusal),
    Failed(AppError),
}

impl From<Refusal> for Denied {
    fn from(refusal: Refusal) -> Self {
        Denied::Refused(refusal)
    }
}

impl From<AppError> for Denied {
    fn from(error: AppError) -> Self {
        Denied::Failed(error)
    }
}

impl From<sqlx::Error> for Denied {
    fn from(error: sqlx::Error) -> Self {
        Denied::Failed(error.into())
    }
}

/// Only the issuer, read before the signature is checked, to find whose
/// secret checks it.
#[derive(Deserialize)]
struct Issuer {
    iss: Option<String>,
}

/// The claims checked here rather than by `jsonwebtoken`.
#[derive(Deserialize)]
struct Claims {
    exp: Option<u64>,
    iat: Option<u64>,
    jti: Option<String>,
}

/// Checks `token` for `audience` (the site's `/api/v1` address); accepts
/// each token once.
pub async fn verify(pool: &PgPool, secrets: &Secrets, token: Option<&str>, audience: &str) -> Result<Caller, Denied> {
    let token = token.ok_or(Refusal::Missing)?;
    let issuer = jsonwebtoken::dangerous::insecure_decode::<Issuer>(token)
        .map_err(|error| Refusal::Malformed(error.to_string()))?
        .claims
        .iss
        .ok_or(Refusal::MissingClaim("iss"))?;
    let id = Uuid::parse_str(&issuer).map_err(|_| Refusal::UnknownClient)?;
    let client = sqlx::query!(
        r#"SELECT scopes, algorithm, secret, disabled_at IS NOT NULL AS "disabled!",
                  CASE WHEN previous_until > now() THEN previous_secret END AS previous
             FROM api_clients WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Refusal::UnknownClient)?;
    let algorithm: Algorithm = client.algorithm.parse().map_err(|_| {
        tracing::error!(client = %id, algorithm = client.algorithm, "a client registered with an unknown algorithm");
        AppError::Internal
    })?;
    let mut validation = Validation::new(algorithm);
    validation.leeway = SKEW_SECONDS;
    validation.validate_nbf = true;
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&issuer]);
    validation.sub = Some(issuer.clone());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let secret = secrets.open(Column::ApiClientSecret, &client.secret)?;
    let decoded = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation);
    // During a rotation the previous secret still signs.
    let decoded = match (decoded, &client.previous) {
        (Err(error), Some(previous)) if *error.kind() == ErrorKind::InvalidSignature => {
            let previous = secrets.open(Column::ApiClientSecret, previous)?;
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(previous.as_bytes()), &validation)
        }
        (decoded, _) => decoded,
    };
    let claims = decoded.map_err(refusal_of)?.claims;
    if client.disabled {
        return Err(Refusal::Disabled.into());
    }
    let now = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let issued = claims.iat.ok_or(Refusal::MissingClaim("iat"))?;
    if issued > now + SKEW_SECONDS {
        return Err(Refusal::NotYetValid.into());
    }
    // Checked present (a required claim) by `decode`.
    let exp = claims.exp.unwrap_or(0);
    if exp.saturating_sub(issued) > MAX_LIFETIME_SECONDS {
        return Err(Refusal::TooLong.into());
    }
    let jti = claims.jti.filter(|jti| !jti.is_empty()).ok_or(Refusal::MissingClaim("jti"))?;
    if jti.len() > 200 {
        return Err(Refusal::Malformed("jti is longer than 200 characters".into()).into());
    }
    let expires = OffsetDateTime::from_unix_timestamp(i64::try_from(exp.saturating_add(SKEW_SECONDS)).unwrap_or(i64::MAX))
        .map_err(|_| Refusal::Malformed("exp is out of range".into()))?;
    let first_use = sqlx::query_scalar!(
        "WITH seen AS (INSERT INTO api_token_ids (client_id, jti, expires_at) VALUES ($1, $2, $3)
                       ON CONFLICT DO NOTHING RETURNING 1),
              used AS (UPDATE api_clients SET last_used_at = now()
                        WHERE id = $1 AND EXISTS (SELECT 1 FROM seen)
                          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
         SELECT count(*) FROM seen",
        id,
        jti,
        expires
    )
    .fetch_one(pool)
    .await?;
    if first_use != Some(1) {
        return Err(Refusal::Replayed.into());
    }
    let scopes = client.scopes.iter().filter_map(|scope| Scope::parse(scope).ok()).collect();
    Ok(Caller { client: id, scopes })
}

fn refusal_of(error: jsonwebtoken::errors::Error) -> Refusal {
    match error.kind() {
        ErrorKind::ExpiredSignature => Refusal::Expired,
        ErrorKind::ImmatureSignature => Refusal::NotYetValid,
        ErrorKind::InvalidAudience => Refusal::WrongAudience,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => Refusal::WrongSubject,
        ErrorKind::InvalidAlgorithm => Refusal::WrongAlgorithm,
        ErrorKind::InvalidSignature => Refusal::BadSignature,
        ErrorKind::MissingRequiredClaim(claim) => Refusal::MissingClaim(match claim.as_str() {
            "exp" => "exp",
            "aud" => "aud",
            "iss" => "iss",
            _ => "sub",
        }),
        _ => Refusal::Malformed(error.to_string()),
    }
}
