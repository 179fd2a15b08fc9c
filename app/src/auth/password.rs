//! Argon2id hashing. Hashing is deliberately slow and takes 19 MiB, so it
//! runs on the blocking pool, never stalls the async workers, and at most
//! one per core runs at once: a burst of sign-ins waits its turn instead of
//! taking the server's memory.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::AppError;
use crate::model::NewPassword;

/// Hashes a new password into a PHC string (algorithm, parameters and salt
/// included).
pub async fn hash(password: NewPassword) -> Result<String, AppError> {
    let _turn = turn().await?;
    tokio::task::spawn_blocking(move || hash_blocking(password.expose())).await?
}

/// A turn at hashing: one per core at a time.
async fn turn() -> Result<SemaphorePermit<'static>, AppError> {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    TURNS.get_or_init(|| Semaphore::new(cores)).acquire().await.map_err(|_| AppError::Internal)
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|error| {
        tracing::error!(%error, "could not hash a password");
        AppError::Internal
    })
}

/// Checks a password against a stored hash. With no stored hash (no such
/// account) it checks against a throwaway hash, so the answer takes as long
/// either way and timing does not tell which emails exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    let _turn = turn().await?;
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match &stored {
            Some(hash) => (hash.as_str(), true),
            None => (dummy_hash(), false),
        };
        let parsed = PasswordHash::new(hash).map_err(|error| {
            tracing::error!(%error, "a stored password hash does not parse");
            AppError::Internal
        })?;
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(matches && real)
    })
    .await?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // Hashing a fixed string with default parameters cannot fail.
        hash_blocking("no account has this password").unwrap_or_default()
    })
}
