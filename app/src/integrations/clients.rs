//! API clients in the database: registered, listed, rotated, disabled.

use rand::RngCore;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ApiClient, Scope, WithSecret};
use crate::customer::view::rfc3339;
use crate::error::AppError;
use crate::secrets::{Column, Secrets};

/// After a rotation the previous secret is accepted this long, so the
/// client's servers can change over without refusals.
pub const ROTATION_GRACE_HOURS: i64 = 24;

/// A client's name: what the admin recognises it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientName(String);

impl ClientName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        crate::text::required("Name", raw, Self::MAX_CHARS, crate::text::Shape::Line).map(Self)
    }
}

/// A new secret: 32 random bytes, base64url without padding (43
/// characters). The client signs with these characters as the HMAC key.
fn new_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Row {
    id: Uuid,
    name: String,
    scopes: Vec<String>,
    created_at: OffsetDateTime,
    rotated_at: Option<OffsetDateTime>,
    previous_until: Option<OffsetDateTime>,
    disabled_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
}

impl Row {
    fn client(self) -> ApiClient {
        ApiClient {
            id: self.id,
            name: self.name,
            // The table's check admits only known scopes.
            scopes: self.scopes.iter().filter_map(|scope| Scope::parse(scope).ok()).collect(),
            created_at: rfc3339(self.created_at),
            rotated_at: self.rotated_at.map(rfc3339),
            previous_until: self.previous_until.map(rfc3339),
            disabled_at: self.disabled_at.map(rfc3339),
            last_used_at: self.last_used_at.map(rfc3339),
        }
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<ApiClient>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, name, scopes, created_at, rotated_at, previous_until, disabled_at, last_used_at
           FROM api_clients ORDER BY created_at DESC, id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Row::client).collect())
}

pub async fn add(
    pool: &PgPool,
    secrets: &Secrets,
    name: &ClientName,
    scopes: &[Scope],
    by: Uuid,
) -> Result<WithSecret, AppError> {
    if scopes.is_empty() {
        return Err(AppError::invalid("Choose at least one scope."));
    }
    let mut scopes: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let secret = new_secret();
    let row = sqlx::query_as!(
        Row,
        "INSERT INTO api_clients (name, scopes, secret, created_by) VALUES ($1, $2, $3, $4)
         RETURNING id, name, scopes, created_at, rotated_at, previous_until, disabled_at, last_used_at",
        name.0,
        &scopes as &[&str],
        secrets.seal(Column::ApiClientSecret, &secret)?,
        by
    )
    .fetch_one(pool)
    .await?;
    Ok(WithSecret { client: row.client(), secret })
}

/// A new secret; the current one becomes the previous, accepted for
/// [`ROTATION_GRACE_HOURS`] (a secret rotated twice within that loses the
/// oldest at once).
pub async fn rotate(pool: &PgPool, secrets: &Secrets, id: Uuid) -> Result<WithSecret, AppError> {
    let secret = new_secret();
    let row = sqlx::query_as!(
        Row,
        "UPDATE api_clients
            SET previous_secret = secret, previous_until = now() + make_interval(hours => $3::int),
                secret = $2, rotated_at = now()
          WHERE id = $1
         RETURNING id, name, scopes, created_at, rotated_at, previous_until, disabled_at, last_used_at",
        id,
        secrets.seal(Column::ApiClientSecret, &secret)?,
        ROTATION_GRACE_HOURS as i32
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(no_such_client)?;
    Ok(WithSecret { client: row.client(), secret })
}

pub async fn set_disabled(pool: &PgPool, id: Uuid, disabled: bool) -> Result<ApiClient, AppError> {
    let row = sqlx::query_as!(
        Row,
        "UPDATE api_clients SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END WHERE id = $1
         RETURNING id, name, scopes, created_at, rotated_at, previous_until, disabled_at, last_used_at",
        id,
        disabled
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(no_such_client)?;
    Ok(row.client())
}

fn no_such_client() -> AppError {
    AppError::NotFound("No such API client.".into())
}

/// Forgets token ids past their expiry and idempotent answers older than a
/// day (the sweeper calls this).
pub async fn sweep(pool: &PgPool) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM api_token_ids WHERE expires_at < now() - interval '2 minutes'").execute(pool).await?;
    sqlx::query!("DELETE FROM widget_token_ids WHERE expires_at < now() - interval '2 minutes'").execute(pool).await?;
    sqlx::query!("DELETE FROM api_idempotency WHERE created_at < now() - interval '1 day'").execute(pool).await?;
    Ok(())
}
