//! Webhook endpoints in the database: registered with the event types they
//! want and a secret each, enabled or not; their deliveries and every
//! attempt, and "resend". The trigger in `engine/webhooks.sql` makes the
//! deliveries; `server/src/webhooks.rs` sends them, with the bodies
//! rendered here from their events (`engine::events::webhook`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use std::collections::HashMap;

use engine::events::webhook::{Webhook, WebhookType};
use engine::events::{EventRow, Logged};

use super::{Delivery, DeliveryAttempt, WebhookEndpoint, WithWebhookSecret};
use crate::customer::view::rfc3339;
use crate::error::AppError;
use crate::secrets::{Column, Secrets};

/// A new endpoint's secret as Standard Webhooks writes it: `whsec_` and
/// the base64 of 24 random bytes, the HMAC key.
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The `webhook-signature` of a delivery (Standard Webhooks): `v1,` and the
/// base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, AppError> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| AppError::Internal)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| AppError::Internal)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// The types a receiver may ask for, in order.
pub fn types() -> Vec<WebhookType> {
    let mut types = WebhookType::ALL.to_vec();
    types.sort_by_key(|hook| hook.as_str());
    types
}

/// Each delivery's body, by delivery id: its event's payload, rendered
/// from the typed event (or the payload it was queued with, before the
/// sender rendered them). A delivery whose event does not render has none.
pub async fn bodies(pool: &PgPool, deliveries: &[Uuid]) -> Result<HashMap<Uuid, String>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT d.id, d.payload, e.id AS "event_id?", e.at AS "at?", e.kind AS "kind?", e.help_session_id, e.queue_id,
                  e.representative_id, e.detail AS "detail?",
                  CASE WHEN e.help_session_id IS NOT NULL
                       THEN (SELECT count(*) FROM events x WHERE x.help_session_id = e.help_session_id AND x.id <= e.id) END
                  AS sequence
             FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id
            WHERE d.id = ANY ($1)"#,
        deliveries
    )
    .fetch_all(pool)
    .await?;
    let mut bodies = HashMap::new();
    for row in rows {
        if let Some(payload) = row.payload {
            bodies.insert(row.id, payload.to_string());
            continue;
        }
        let (Some(id), Some(at), Some(kind), Some(detail)) = (row.event_id, row.at, row.kind, row.detail) else {
            tracing::error!(delivery = %row.id, "a webhook delivery's event is gone");
            continue;
        };
        let event = EventRow {
            id,
            at,
            kind,
            help_session_id: row.help_session_id,
            queue_id: row.queue_id,
            representative_id: row.representative_id,
            detail,
        };
        let rendered = Logged::try_from(event).ok().and_then(|logged| Webhook::of(&logged, row.sequence));
        match rendered.map(|payload| serde_json::to_string(&payload)) {
            Some(Ok(body)) => {
                bodies.insert(row.id, body);
            }
            _ => tracing::error!(delivery = %row.id, "a webhook delivery's event renders no payload"),
        }
    }
    Ok(bodies)
}

/// A receiver's address, checked: http(s), with a host, at most 2,000
/// characters. Where it may point is checked when sending.
pub fn parse_url(raw: &str) -> Result<String, AppError> {
    let url = raw.trim();
    let bad = || AppError::invalid("URL must be an http:// or https:// address with a host, at most 2,000 characters.");
    let parsed = url::Url::parse(url).map_err(|_| bad())?;
    let valid = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && url.len() <= 2000
        && !url.chars().any(char::is_whitespace);
    if !valid {
        return Err(bad());
    }
    Ok(url.to_owned())
}

struct EndpointRow {
    id: Uuid,
    url: String,
    description: String,
    event_types: Vec<WebhookType>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    pending: i64,
    failed: i64,
}

impl EndpointRow {
    fn endpoint(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            event_types: self.event_types,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since.map(rfc3339),
            created_at: rfc3339(self.created_at),
            pending: self.pending,
            failed: self.failed,
        }
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<WebhookEndpoint>, AppError> {
    endpoints(pool, None, None).await
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<WebhookEndpoint, AppError> {
    get_of(pool, id, None).await
}

/// The endpoints API client `owner` registered (`None`: everyone's).
pub async fn list_of(pool: &PgPool, owner: Option<Uuid>) -> Result<Vec<WebhookEndpoint>, AppError> {
    endpoints(pool, None, owner).await
}

/// One endpoint, if API client `owner` registered it (`None`: anyone's);
/// another's is "no such" endpoint, as one that does not exist.
pub async fn get_of(pool: &PgPool, id: Uuid, owner: Option<Uuid>) -> Result<WebhookEndpoint, AppError> {
    endpoints(pool, Some(id), owner).await?.pop().ok_or_else(no_such_endpoint)
}

/// Every endpoint (`only` none) or one, of `owner` (none: anyone's), with
/// its pending and failed counts.
async fn endpoints(pool: &PgPool, only: Option<Uuid>, owner: Option<Uuid>) -> Result<Vec<WebhookEndpoint>, AppError> {
    let rows = sqlx::query_as!(
        EndpointRow,
        r#"SELECT e.id, e.url, e.description, e.event_types AS "event_types: Vec<WebhookType>", e.enabled, e.disabled_reason, e.failing_since, e.created_at,
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS "pending!",
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS "failed!"
             FROM webhook_endpoints e
            WHERE ($1::uuid IS NULL OR e.id = $1) AND ($2::uuid IS NULL OR e.api_client_id = $2)
            ORDER BY e.created_at DESC, e.id"#,
        only,
        owner
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(EndpointRow::endpoint).collect())
}

fn no_such_endpoint() -> AppError {
    AppError::NotFound("No such webhook endpoint.".into())
}

/// Registers an endpoint (`owner`: the API client that does, none for an
/// admin); the answer holds its secret, shown once.
pub async fn add(
    pool: &PgPool,
    secrets: &Secrets,
    owner: Option<Uuid>,
    url: &str,
    description: &str,
    event_types: &[WebhookType],
) -> Result<WithWebhookSecret, AppError> {
    let url = parse_url(url)?;
    let description = description.trim();
    if description.chars().count() > 200 {
        return Err(AppError::invalid("Description must be at most 200 characters."));
    }
    crate::text::check("Description", description, crate::text::Shape::Line)?;
    if event_types.is_empty() {
        return Err(AppError::invalid("Choose at least one event type."));
    }
    let mut event_types: Vec<String> = event_types.iter().map(|hook| hook.as_str().to_owned()).collect();
    event_types.sort();
    event_types.dedup();
    let secret = new_secret();
    let id = sqlx::query_scalar!(
        "INSERT INTO webhook_endpoints (url, description, event_types, secret, api_client_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        url,
        description,
        &event_types,
        secrets.seal(Column::WebhookSecret, &secret)?,
        owner
    )
    .fetch_one(pool)
    .await?;
    Ok(WithWebhookSecret { endpoint: get(pool, id).await?, secret })
}

/// Enables (clearing why it was disabled, and its failures) or disables.
pub async fn set_enabled(pool: &PgPool, id: Uuid, enabled: bool) -> Result<WebhookEndpoint, AppError> {
    let done = sqlx::query!(
        "UPDATE webhook_endpoints
            SET enabled = $2,
                disabled_reason = CASE WHEN $2 THEN NULL ELSE coalesce(disabled_reason, 'Disabled by an admin.') END,
                failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END
          WHERE id = $1",
        id,
        enabled
    )
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(no_such_endpoint());
    }
    get(pool, id).await
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<(), AppError> {
    let done = sqlx::query!("DELETE FROM webhook_endpoints WHERE id = $1", id).execute(pool).await?;
    if done.rows_affected() == 0 {
        return Err(no_such_endpoint());
    }
    Ok(())
}

/// The endpoint's latest deliveries (at most `limit`), newest first, each
/// with its attempts.
pub async fn deliveries(pool: &PgPool, endpoint: Uuid, limit: i64) -> Result<Vec<Delivery>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, type AS "kind: WebhookType", status, attempts, created_at, delivered_at, next_attempt_at
             FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"#,
        endpoint,
        limit
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut bodies = bodies(pool, &ids).await?;
    let attempts = sqlx::query!(
        "SELECT delivery_id, attempted_at, status_code, error, duration_ms FROM webhook_attempts
          WHERE delivery_id = ANY ($1) ORDER BY attempted_at",
        &ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Delivery {
            attempts: attempts
                .iter()
                .filter(|attempt| attempt.delivery_id == row.id)
                .map(|attempt| DeliveryAttempt {
                    at: rfc3339(attempt.attempted_at),
                    status_code: attempt.status_code,
                    error: attempt.error.clone(),
                    duration_ms: attempt.duration_ms,
                })
                .collect(),
            id: row.id,
            event_type: row.kind,
            status: row.status.clone(),
            created_at: rfc3339(row.created_at),
            delivered_at: row.delivered_at.map(rfc3339),
            next_attempt_at: (row.status == "pending").then(|| rfc3339(row.next_attempt_at)),
            payload: bodies.remove(&row.id).unwrap_or_default(),
        })
        .collect())
}

/// Sends deliveries again, as new (the same `webhook-id`): one by its id,
/// or all of an endpoint's made in a time range. Answers how many.
pub async fn resend(
    pool: &PgPool,
    endpoint: Uuid,
    one: Option<Uuid>,
    from: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
) -> Result<u64, AppError> {
    if one.is_none() && from.is_none() && until.is_none() {
        return Err(AppError::invalid("Say which deliveries to send again: one, or a time range."));
    }
    let done = sqlx::query!(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL
          WHERE endpoint_id = $1 AND ($2::uuid IS NULL OR id = $2)
            AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at < $4)",
        endpoint,
        one,
        from,
        until
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// A moment as RFC 3339, or as a `datetime-local` field writes it
/// (`2026-11-30T09:00`, taken as UTC).
pub fn parse_moment(raw: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .or_else(|| time::PrimitiveDateTime::parse(raw, local).ok().map(time::PrimitiveDateTime::assume_utc))
}

/// Whether receivers may be on private addresses (and loopback).
pub async fn allow_private(pool: &PgPool) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!("SELECT allow_private FROM webhook_settings").fetch_one(pool).await?)
}

pub async fn set_allow_private(pool: &PgPool, allow: bool) -> Result<(), AppError> {
    sqlx::query!("UPDATE webhook_settings SET allow_private = $1", allow).execute(pool).await?;
    Ok(())
}
