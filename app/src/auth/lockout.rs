//! Rate limiting of failed sign-ins, per account and per client address,
//! counted in PostgreSQL so every server instance sees the same tries.
//!
//! A try reserves its failure before the password is checked, so concurrent
//! guesses at one account count against each other: of any number sent at
//! once, at most the limit are checked. A right password takes its
//! reservation back. An address counts only tries that failed, so many
//! people signing in at once from one office are not refused for each
//! other's tries in flight.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::error::AppError;
use crate::state::SignInRules;

/// A try in progress, counted as a failure until it succeeds.
pub struct Reservation(i64);

/// Counts a try against the email and the address. Refused (429) when
/// either already has the limit of failures (or tries in progress) inside
/// the window.
pub async fn reserve(pool: &PgPool, rules: &SignInRules, email: &str, client_addr: &str) -> Result<Reservation, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO sign_in_failures (email, client_addr, settled) VALUES ($1, $2, false) RETURNING id",
        email,
        client_addr,
    )
    .fetch_one(pool)
    .await?;
    // Every try that committed before this count is in it, so the n-th of a
    // burst sees at least n - 1 others.
    if let Some(until) = locked_until(pool, rules, email, client_addr, Some(id)).await? {
        sqlx::query!("DELETE FROM sign_in_failures WHERE id = $1", id).execute(pool).await?;
        tracing::info!("sign-in refused while locked");
        return Err(locked_message(until));
    }
    Ok(Reservation(id))
}

/// The try failed: its reservation stays as the failure. Answers the lock
/// when this failure reached the limit, so the try that locks says so.
pub async fn failed(
    pool: &PgPool,
    rules: &SignInRules,
    email: &str,
    client_addr: &str,
    reservation: Reservation,
) -> Result<Option<AppError>, AppError> {
    sqlx::query!("UPDATE sign_in_failures SET settled = true WHERE id = $1", reservation.0).execute(pool).await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE failed_at < now() - make_interval(secs => $1)",
        rules.window.as_seconds_f64(),
    )
    .execute(pool)
    .await?;
    Ok(locked_until(pool, rules, email, client_addr, None).await?.map(locked_message))
}

/// The right password: the account's failures are forgiven, this try's
/// reservation with them (not the address's other failures: one good
/// password must not reopen an address that guesses).
pub async fn succeeded(pool: &PgPool, email: &str, reservation: Reservation) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sign_in_failures WHERE email = $1 OR id = $2", email, reservation.0).execute(pool).await?;
    Ok(())
}

/// When the email or address may try again, if either is locked, not
/// counting the try `except`.
///
/// A key is locked while it has `max` failures inside the window; it opens
/// again when the oldest of its last `max` failures leaves the window.
async fn locked_until(
    pool: &PgPool,
    rules: &SignInRules,
    email: &str,
    client_addr: &str,
    except: Option<i64>,
) -> Result<Option<OffsetDateTime>, AppError> {
    let row = sqlx::query!(
        r#"SELECT
             (SELECT failed_at FROM sign_in_failures
               WHERE email = $1 AND failed_at > now() - make_interval(secs => $3) AND id IS DISTINCT FROM $6
               ORDER BY failed_at DESC OFFSET $4 - 1 LIMIT 1) AS account_nth,
             (SELECT failed_at FROM sign_in_failures
               WHERE client_addr = $2 AND failed_at > now() - make_interval(secs => $3) AND settled
               ORDER BY failed_at DESC OFFSET $5 - 1 LIMIT 1) AS address_nth"#,
        email,
        client_addr,
        rules.window.as_seconds_f64(),
        rules.max_failures_per_account,
        rules.max_failures_per_address,
        except,
    )
    .fetch_one(pool)
    .await?;
    Ok([row.account_nth, row.address_nth].into_iter().flatten().max().map(|oldest| oldest + rules.window))
}

/// The message shown while locked, in whole minutes rounded up.
fn locked_message(until: OffsetDateTime) -> AppError {
    let seconds = (until - OffsetDateTime::now_utc()).whole_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyRequests {
        message: format!("Too many failed sign-in attempts. Please wait {minutes} {unit} and try again."),
        retry_after_seconds: seconds as u64,
    }
}
