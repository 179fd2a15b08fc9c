//! The secrets the server must read back — API clients' signing secrets,
//! widgets' identify secrets, webhook receivers' keys — are stored sealed
//! (AES-256-GCM) with the server's key, `SWITCHBOARD_SECRET_KEY`: a copy of
//! the database alone (a backup, a dump, a read-only leak) signs nothing.
//! A sealed value is `sealed:v1:` and the base64 of its nonce and
//! ciphertext; what it is for (its column) is bound to it, so a value
//! moved to another column does not open.
//!
//! The database remembers a value sealed with its key (`secret_key_check`):
//! a server started with another key refuses to start instead of failing
//! every signature. Values stored before sealing existed are sealed when a
//! server starts, and read as they are until then.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::PgPool;

use crate::error::AppError;

const SEALED: &str = "sealed:v1:";

/// Bytes in a key.
pub const KEY_BYTES: usize = 32;

/// Where a sealed value is kept: it opens only there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    ApiClientSecret,
    WebhookSecret,
    WidgetSecret,
    KeyCheck,
}

impl Column {
    fn label(self) -> &'static [u8] {
        match self {
            Column::ApiClientSecret => b"api_clients.secret",
            Column::WebhookSecret => b"webhook_endpoints.secret",
            Column::WidgetSecret => b"widgets.secret",
            Column::KeyCheck => b"secret_key_check.sealed",
        }
    }
}

/// The server's key, sealing and opening stored secrets.
#[derive(Clone)]
pub struct Secrets(Arc<LessSafeKey>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// The key written as base64 (32 bytes).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| format!("is the base64 of {KEY_BYTES} random bytes (openssl rand -base64 {KEY_BYTES})"))?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| format!("must be {KEY_BYTES} bytes; this one has {}", bytes.len()))?;
        Ok(Self(Arc::new(LessSafeKey::new(key))))
    }

    /// A new random key, and how it is written (base64).
    pub fn generate() -> Result<(Self, String), AppError> {
        let mut bytes = [0u8; KEY_BYTES];
        SystemRandom::new().fill(&mut bytes).map_err(|_| random_failed())?;
        let text = STANDARD.encode(bytes);
        let secrets = Self::parse(&text).map_err(|_| AppError::Internal)?;
        Ok((secrets, text))
    }

    /// `plain`, sealed for `column`.
    pub fn seal(&self, column: Column, plain: &str) -> Result<String, AppError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| random_failed())?;
        let mut sealed = plain.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(column.label()), &mut sealed)
            .map_err(|_| AppError::Internal)?;
        let mut stored = nonce.to_vec();
        stored.append(&mut sealed);
        Ok(format!("{SEALED}{}", STANDARD.encode(stored)))
    }

    /// What `stored` in `column` holds. A value from before sealing is
    /// read as it is; one sealed with another key, or for another column,
    /// is refused (500, logged).
    pub fn open(&self, column: Column, stored: &str) -> Result<String, AppError> {
        let Some(sealed) = stored.strip_prefix(SEALED) else { return Ok(stored.to_owned()) };
        let opened = STANDARD.decode(sealed).ok().filter(|bytes| bytes.len() > NONCE_LEN).and_then(|mut bytes| {
            let mut sealed = bytes.split_off(NONCE_LEN);
            let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
            let plain = self.0.open_in_place(nonce, Aad::from(column.label()), &mut sealed).ok()?;
            String::from_utf8(plain.to_vec()).ok()
        });
        opened.ok_or_else(|| {
            tracing::error!(column = ?column, "a stored secret does not open with SWITCHBOARD_SECRET_KEY");
            AppError::Internal
        })
    }

    /// Whether a stored value is sealed.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED)
    }
}

fn random_failed() -> AppError {
    tracing::error!("the system's random number generator failed");
    AppError::Internal
}

/// Why the server may not start with its key.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    #[error(
        "SWITCHBOARD_SECRET_KEY is not the key this database's secrets were sealed with; every instance needs the \
         same key (and a restored database the key it was backed up with)"
    )]
    Mismatch,
    #[error(transparent)]
    Database(#[from] AppError),
}

/// At start: checks that `secrets` is the database's key (a new database
/// takes it), then seals the secrets stored before sealing existed.
/// Several servers may start at once.
pub async fn prepare(pool: &PgPool, secrets: &Secrets) -> Result<(), KeyRefused> {
    let check = secrets.seal(Column::KeyCheck, "switchboard")?;
    sqlx::query!("INSERT INTO secret_key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING", check)
        .execute(pool)
        .await
        .map_err(AppError::from)?;
    let stored = sqlx::query_scalar!("SELECT sealed FROM secret_key_check").fetch_one(pool).await.map_err(AppError::from)?;
    if !Secrets::is_sealed(&stored) || secrets.open(Column::KeyCheck, &stored).is_err() {
        return Err(KeyRefused::Mismatch);
    }
    let mut sealed = 0;
    for (id, secret, previous) in sqlx::query!(
        "SELECT id, secret, previous_secret FROM api_clients WHERE secret NOT LIKE 'sealed:%' OR previous_secret NOT LIKE 'sealed:%'"
    )
    .fetch_all(pool)
    .await
    .map_err(AppError::from)?
    .into_iter()
    .map(|row| (row.id, row.secret, row.previous_secret))
    {
        let seal = |value: &str| secrets.seal(Column::ApiClientSecret, &secrets.open(Column::ApiClientSecret, value)?);
        let previous = previous.as_deref().map(seal).transpose()?;
        sealed += sqlx::query!(
            "UPDATE api_clients SET secret = $3, previous_secret = $4 WHERE id = $1 AND secret = $2",
            id,
            secret,
            seal(&secret)?,
            previous
        )
        .execute(pool)
        .await
        .map_err(AppError::from)?
        .rows_affected();
    }
    sealed += seal_before(pool, secrets, "webhook_endpoints", Column::WebhookSecret).await?;
    sealed += seal_before(pool, secrets, "widgets", Column::WidgetSecret).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed the secrets stored before SWITCHBOARD_SECRET_KEY");
    }
    Ok(())
}

/// Seals the secrets of `table` stored before sealing; how many.
async fn seal_before(pool: &PgPool, secrets: &Secrets, table: &str, column: Column) -> Result<u64, AppError> {
    let mut sealed = 0;
    let unsealed: Vec<(uuid::Uuid, String)> =
        sqlx::query_as(&format!("SELECT id, secret FROM {table} WHERE secret NOT LIKE 'sealed:%'")).fetch_all(pool).await?;
    for (id, secret) in unsealed {
        sealed += sqlx::query(&format!("UPDATE {table} SET secret = $3 WHERE id = $1 AND secret = $2"))
            .bind(id)
            .bind(&secret)
            .bind(secrets.seal(column, &secret)?)
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secrets {
        Secrets::generate().unwrap().0
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_in_its_column_only() {
        let (secrets, other) = (key(), key());
        let sealed = secrets.seal(Column::WidgetSecret, "wsec_abc").unwrap();
        assert!(Secrets::is_sealed(&sealed) && !sealed.contains("wsec_abc"));
        assert_ne!(sealed, secrets.seal(Column::WidgetSecret, "wsec_abc").unwrap(), "a new nonce each time");
        assert_eq!(secrets.open(Column::WidgetSecret, &sealed).unwrap(), "wsec_abc");
        assert!(other.open(Column::WidgetSecret, &sealed).is_err(), "another key");
        assert!(secrets.open(Column::WebhookSecret, &sealed).is_err(), "another column");
        assert!(secrets.open(Column::WidgetSecret, "sealed:v1:AAAA").is_err(), "cut short");
        assert_eq!(secrets.open(Column::WidgetSecret, "from before").unwrap(), "from before");
    }

    #[test]
    fn a_key_is_32_bytes_of_base64() {
        assert!(Secrets::parse("not base64!").unwrap_err().contains("base64"));
        assert!(Secrets::parse(&STANDARD.encode([0u8; 16])).unwrap_err().contains("has 16"));
        let (_, text) = Secrets::generate().unwrap();
        assert!(Secrets::parse(&text).is_ok());
    }
}
