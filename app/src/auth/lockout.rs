//! Rate limiting of failed sign-ins, per account and per client address,
//! counted in PostgreSQL so every server instance sees the same tries.

use time::OffsetDateTime;
use sqlx::PgPool;

use crate::error::AppError;
use crate::state::SignInRules;

/// When the given email or address may try again, if either is locked now.
///
/// A key is locked while it has `max` failures inside the window; it opens
/// again when the oldest of its last `max` failures leaves the window.
pub async fn locked_until(
    pool: &PgPool,
    rules: &SignInRules,
    email: &str,
    client_addr: &str,
) -> Result<Option<OffsetDateTime>, AppError> {
    let window_secs = rules.window.as_seconds_f64();
    let row = sqlx::query!(
        r#"SELECT
             (SELECT failed_at FROM sign_in_failures
               WHERE email = $1 AND failed_at > now() - make_interval(secs => $3)
               ORDER BY failed_at DESC OFFSET $4 - 1 LIMIT 1) AS account_nth,
             (SELECT failed_at FROM sign_in_failures
               WHERE client_addr = $2 AND failed_at > now() - make_interval(secs => $3)
               ORDER BY failed_at DESC OFFSET $5 - 1 LIMIT 1) AS address_nth"#,
        email,
        client_addr,
        window_secs,
        rules.max_failures_per_account,
        rules.max_failures_per_address,
    )
    .fetch_one(pool)
    .await?;
    let until = [row.account_nth, row.address_nth]
        .into_iter()
        .flatten()
        .max()
        .map(|oldest| oldest + rules.window);
    Ok(until)
}

/// Records a failed try, and forgets tries that no longer count.
pub async fn record_failure(
    pool: &PgPool,
    rules: &SignInRules,
    email: &str,
    client_addr: &str,
) -> Result<(), AppError> {
    let window_secs = rules.window.as_seconds_f64();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures (email, client_addr) VALUES ($1, $2)",
        email,
        client_addr,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE failed_at < now() - make_interval(secs => $1)",
        window_secs,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures (not the
/// address's: one good password must not reopen an address that guesses).
pub async fn clear_account(pool: &PgPool, email: &str) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sign_in_failures WHERE email = $1", email)
        .execute(pool)
        .await?;
    Ok(())
}

/// The message shown while locked, in whole minutes rounded up.
pub fn locked_message(until: OffsetDateTime) -> AppError {
    let seconds = (until - OffsetDateTime::now_utc()).whole_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyRequests(format!(
        "Too many failed sign-in attempts. Please wait {minutes} {unit} and try again."
    ))
}
