//! Widget keys in the database, and their settings parsed at the boundary.

use rand::RngCore;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Widget, WithWidgetSecret};
use crate::customer::view::rfc3339;
use crate::error::AppError;
use crate::secrets::{Column, Secrets};
use crate::text::{self, Shape};

const MAX_NAME: usize = 100;
const MAX_GREETING: usize = 300;
const MAX_ORIGINS: usize = 20;

/// A key's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub name: String,
    pub origins: Vec<String>,
    pub queues: Vec<Uuid>,
    pub accent: String,
    pub greeting: String,
}

impl Settings {
    pub async fn parse(
        pool: &PgPool,
        name: &str,
        origins: &str,
        queues: &[Uuid],
        accent: &str,
        greeting: &str,
    ) -> Result<Self, AppError> {
        let name = text::required("Name", name, MAX_NAME, Shape::Line)?;
        let greeting = text::required("Greeting", greeting, MAX_GREETING, Shape::Line)?;
        let mut parsed = Vec::new();
        for raw in origins.split(|c: char| c.is_whitespace() || c == ',').filter(|raw| !raw.is_empty()) {
            let origin = parse_origin(raw)?;
            if !parsed.contains(&origin) {
                parsed.push(origin);
            }
        }
        if parsed.is_empty() {
            return Err(AppError::invalid("Allowed sites: give at least one, e.g. https://shop.example."));
        }
        if parsed.len() > MAX_ORIGINS {
            return Err(AppError::invalid(format!("Allowed sites: at most {MAX_ORIGINS}.")));
        }
        let mut queues = queues.to_vec();
        queues.sort_unstable();
        queues.dedup();
        let known: i64 =
            sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM queues WHERE id = ANY($1)"#, &queues).fetch_one(pool).await?;
        if queues.is_empty() || known != queues.len() as i64 {
            return Err(AppError::invalid("Queues: choose at least one queue the widget offers."));
        }
        Ok(Self { name, origins: parsed, queues, accent: parse_accent(accent)?, greeting })
    }
}

/// A site's origin as browsers send it: `https://shop.example` or
/// `http://localhost:8080`, nothing after the host and port.
pub fn parse_origin(raw: &str) -> Result<String, AppError> {
    let bad =
        || AppError::invalid(format!("Allowed sites: \"{raw}\" is not a site's address like https://shop.example (no path)."));
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

/// `#rrggbb` (any case in, lower case kept).
fn parse_accent(raw: &str) -> Result<String, AppError> {
    let accent = raw.trim().to_ascii_lowercase();
    let valid = accent.len() == 7 && accent.starts_with('#') && accent[1..].chars().all(|c| c.is_ascii_hexdigit());
    if valid {
        Ok(accent)
    } else {
        Err(AppError::invalid("Colour must be like #2457c5."))
    }
}

/// 16 random bytes, base64url: the public key (`wk_` and 22 characters).
fn new_key() -> String {
    format!("wk_{}", random(16))
}

/// 32 random bytes, base64url (43 characters): the site's backend signs
/// with these characters as the HMAC key.
fn new_secret() -> String {
    random(32)
}

fn random(len: usize) -> String {
    use base64::Engine;
    let mut bytes = vec![0u8; len];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Row {
    id: Uuid,
    key: String,
    name: String,
    origins: Vec<String>,
    queue_ids: Vec<Uuid>,
    accent: String,
    greeting: String,
    enabled: bool,
    created_at: OffsetDateTime,
}

impl Row {
    fn widget(self) -> Widget {
        Widget {
            id: self.id,
            key: self.key,
            name: self.name,
            origins: self.origins,
            queues: self.queue_ids,
            accent: self.accent,
            greeting: self.greeting,
            enabled: self.enabled,
            created_at: rfc3339(self.created_at),
        }
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<Widget>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, key, name, origins, queue_ids, accent, greeting, enabled, created_at FROM widgets ORDER BY created_at DESC, id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Row::widget).collect())
}

pub async fn add(pool: &PgPool, secrets: &Secrets, settings: &Settings) -> Result<WithWidgetSecret, AppError> {
    let secret = new_secret();
    let row = sqlx::query_as!(
        Row,
        "INSERT INTO widgets (key, name, origins, queue_ids, accent, greeting, secret) VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, key, name, origins, queue_ids, accent, greeting, enabled, created_at",
        new_key(),
        settings.name,
        &settings.origins,
        &settings.queues,
        settings.accent,
        settings.greeting,
        secrets.seal(Column::WidgetSecret, &secret)?
    )
    .fetch_one(pool)
    .await?;
    Ok(WithWidgetSecret { widget: row.widget(), secret })
}

fn not_found() -> AppError {
    AppError::NotFound("No such widget key.".into())
}

pub async fn update(pool: &PgPool, id: Uuid, settings: &Settings) -> Result<Widget, AppError> {
    let row = sqlx::query_as!(
        Row,
        "UPDATE widgets SET name = $2, origins = $3, queue_ids = $4, accent = $5, greeting = $6 WHERE id = $1
         RETURNING id, key, name, origins, queue_ids, accent, greeting, enabled, created_at",
        id,
        settings.name,
        &settings.origins,
        &settings.queues,
        settings.accent,
        settings.greeting
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    Ok(row.widget())
}

pub async fn set_enabled(pool: &PgPool, id: Uuid, enabled: bool) -> Result<Widget, AppError> {
    let row = sqlx::query_as!(
        Row,
        "UPDATE widgets SET enabled = $2 WHERE id = $1
         RETURNING id, key, name, origins, queue_ids, accent, greeting, enabled, created_at",
        id,
        enabled
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    Ok(row.widget())
}

pub async fn rotate(pool: &PgPool, secrets: &Secrets, id: Uuid) -> Result<WithWidgetSecret, AppError> {
    let secret = new_secret();
    let row = sqlx::query_as!(
        Row,
        "UPDATE widgets SET secret = $2 WHERE id = $1
         RETURNING id, key, name, origins, queue_ids, accent, greeting, enabled, created_at",
        id,
        secrets.seal(Column::WidgetSecret, &secret)?
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    Ok(WithWidgetSecret { widget: row.widget(), secret })
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<(), AppError> {
    let deleted = sqlx::query!("DELETE FROM widgets WHERE id = $1", id).execute(pool).await?.rows_affected();
    if deleted == 0 {
        return Err(not_found());
    }
    Ok(())
}

/// An enabled key, as the loader, the panel and a request through it use
/// it.
#[derive(Debug, Clone)]
pub struct Enabled {
    pub id: Uuid,
    pub key: String,
    pub origins: Vec<String>,
    pub queues: Vec<Uuid>,
    pub accent: String,
    pub greeting: String,
    /// Its secret as stored (sealed): `secret` opens it.
    sealed_secret: String,
}

impl Enabled {
    /// The secret identify tokens are signed with.
    pub fn secret(&self, secrets: &Secrets) -> Result<String, AppError> {
        secrets.open(Column::WidgetSecret, &self.sealed_secret)
    }

    /// Whether a page of `origin` may show it.
    pub fn allows(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|origin| self.origins.contains(&origin))
    }
}

/// The key if it exists and is enabled; otherwise refused the same way
/// (a disabled key tells nothing more than an unknown one).
pub async fn enabled(pool: &PgPool, key: &str) -> Result<Enabled, AppError> {
    let unavailable = || AppError::NotFound("This help widget is not available.".into());
    if key.len() > 40 {
        return Err(unavailable());
    }
    sqlx::query_as!(
        Enabled,
        r#"SELECT id, key, origins, queue_ids AS queues, accent, greeting, secret AS sealed_secret FROM widgets WHERE key = $1 AND enabled"#,
        key
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        assert_eq!(parse_origin("https://Shop.Example/").unwrap(), "https://shop.example");
        assert_eq!(parse_origin("https://shop.example:443").unwrap(), "https://shop.example");
        assert_eq!(parse_origin("http://localhost:8080").unwrap(), "http://localhost:8080");
        assert_eq!(parse_origin("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in ["shop.example", "https://shop.example/help", "ftp://shop.example", "https://", "https://a b", "*"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accents_are_hex_colours() {
        assert_eq!(parse_accent(" #2457C5 ").unwrap(), "#2457c5");
        assert!(parse_accent("red").is_err());
        assert!(parse_accent("#12345").is_err());
        assert!(parse_accent("#1234567").is_err());
    }
}
