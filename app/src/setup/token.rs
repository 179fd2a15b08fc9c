//! Setup tokens: random, shown once in the log, stored only as a hash.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::auth::password;
use crate::error::AppError;
use crate::model::{DisplayName, Email, NewPassword, Role};
use crate::people::repo;

use super::SetupState;

/// How long a setup link stays valid.
const LIFETIME_HOURS: i32 = 24;

/// Serializes setup across instances: one transaction at a time may check
/// that no admin exists and create one.
const SETUP_LOCK: i64 = 0x5357_4254_5345_5455; // "SWBTSETU"

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// With no active admin, makes a fresh setup token (earlier unused ones stop
/// working) and returns it for the log. With an admin, returns `None`.
pub async fn issue_if_needed(pool: &PgPool) -> Result<Option<String>, AppError> {
    if repo::active_admin_exists(pool).await? {
        return Ok(None);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let mut tx = pool.begin().await?;
    sqlx::query!("DELETE FROM setup_tokens WHERE used_at IS NULL").execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO setup_tokens (token_hash, expires_at)
         VALUES ($1, now() + make_interval(hours => $2))",
        digest(&token),
        LIFETIME_HOURS,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(token))
}

pub async fn status(pool: &PgPool, token: &str) -> Result<SetupState, AppError> {
    if repo::active_admin_exists(pool).await? {
        return Ok(SetupState::Done);
    }
    let valid = sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM setup_tokens
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
           ) AS "valid!""#,
        digest(token),
    )
    .fetch_one(pool)
    .await?;
    Ok(if valid { SetupState::Open } else { SetupState::BadToken })
}

/// Creates the first admin and uses up the token, in one transaction.
pub async fn create_admin(
    pool: &PgPool,
    token: &str,
    email: &Email,
    name: &DisplayName,
    new_password: NewPassword,
) -> Result<(), AppError> {
    let gone = || AppError::NotFound("This setup link is not valid any more.".into());
    // Nothing is hashed for a wrong token or once an admin exists.
    if status(pool, token).await? != SetupState::Open {
        return Err(gone());
    }
    // Hash before taking the lock: hashing is slow and needs no database.
    let hash = password::hash(new_password).await?;
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SETUP_LOCK).execute(&mut *tx).await?;
    let admin_exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM representatives WHERE role = 'admin' AND NOT disabled) AS "exists!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    if admin_exists {
        return Err(gone());
    }
    let used = sqlx::query!(
        "UPDATE setup_tokens SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
        digest(token),
    )
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        return Err(gone());
    }
    let admin = repo::insert(&mut tx, email, name, Role::Admin, &hash).await?;
    tx.commit().await?;
    tracing::info!(representative = %admin.id, "first admin created through the setup link");
    Ok(())
}
