//! Checking an email and password, with the lock-out rules around it.

use sqlx::PgPool;

use super::{lockout, password};
use crate::error::AppError;
use crate::model::{Me, Role};
use crate::state::SignInRules;

/// A successful check: who signed in and the credentials generation their
/// session must carry.
pub struct Verified {
    pub me: Me,
    pub generation: i32,
}

const WRONG: &str = "Email or password is incorrect.";

/// Checks the credentials. Whatever goes wrong, the message is the same for
/// an unknown email and a wrong password.
#[tracing::instrument(skip_all, fields(client_addr = %client_addr))]
pub async fn verify(
    pool: &PgPool,
    rules: &SignInRules,
    email: &str,
    password: String,
    client_addr: &str,
) -> Result<Verified, AppError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::invalid("Email is required."));
    }
    if password.is_empty() {
        return Err(AppError::invalid("Password is required."));
    }
    crate::text::check("Email", &email, crate::text::Shape::Line)?;
    if email.len() > 254 || password.chars().count() > 1024 {
        return Err(AppError::Unauthorized(WRONG.into()));
    }

    let reservation = lockout::reserve(pool, rules, &email, client_addr).await?;

    let row = sqlx::query!(
        r#"SELECT id, email, display_name, role, password_hash, disabled, session_generation
             FROM representatives WHERE lower(email) = $1"#,
        email,
    )
    .fetch_optional(pool)
    .await?;

    let stored_hash = row.as_ref().map(|row| row.password_hash.clone());
    let matches = password::verify(password, stored_hash).await?;

    match row {
        Some(row) if matches => {
            if row.disabled {
                // Only someone who knows the password learns this.
                return Err(AppError::Unauthorized("This account is disabled. Ask an admin to enable it.".into()));
            }
            lockout::succeeded(pool, &email, reservation).await?;
            sqlx::query!("UPDATE representatives SET last_sign_in_at = now() WHERE id = $1", row.id).execute(pool).await?;
            tracing::info!(representative = %row.id, "signed in");
            Ok(Verified {
                me: Me { id: row.id, email: row.email, display_name: row.display_name, role: Role::parse(&row.role)? },
                generation: row.session_generation,
            })
        }
        _ => {
            tracing::info!("sign-in failed");
            match lockout::failed(pool, rules, &email, client_addr, reservation).await? {
                Some(locked) => Err(locked),
                None => Err(AppError::Unauthorized(WRONG.into())),
            }
        }
    }
}
