//! A customer's request for help, parsed at the boundary.

use sqlx::PgPool;
use uuid::Uuid;

use super::HelpTicket;
use crate::engine::line::{self, NewRequest, Window};
use crate::engine::Engine;
use crate::error::AppError;
use crate::language::Language;
use crate::queue::Channel;
use crate::text::{self, Shape};

pub const MAX_NAME: usize = 80;
pub const MAX_REASON: usize = 500;

#[derive(Debug, Clone)]
pub struct HelpForm(pub NewRequest);

/// A phone number in E.164: a plus, then 7 to 15 digits, the first not zero.
/// Spaces, dashes, dots and brackets people type are dropped first.
pub fn parse_phone(raw: &str) -> Result<String, AppError> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && (7..=15).contains(&digits.len())
        && !digits.starts_with('0');
    if valid {
        Ok(compact)
    } else {
        Err(AppError::invalid("Phone number must be in international format: a + and the country code, e.g. +44 20 7946 0958."))
    }
}

impl HelpForm {
    /// Checks every field and names the one that is wrong. With no queue
    /// given and only one queue, that one is meant.
    pub async fn parse(
        pool: &PgPool,
        queue: &str,
        name: &str,
        reason: &str,
        channel: &str,
        phone: &str,
        window: &str,
    ) -> Result<Self, AppError> {
        // One line: a name is shown (and once was mailed) as it is.
        let customer_name = text::required("Name", name, MAX_NAME, Shape::Line)?;
        let reason = text::required("Reason", reason, MAX_REASON, Shape::Lines)?;
        let channel = Channel::parse(channel)?;
        let phone = match channel {
            Channel::Callback => Some(parse_phone(phone)?),
            _ if phone.trim().is_empty() => None,
            _ => Some(parse_phone(phone)?),
        };
        let queue_id = if queue.trim().is_empty() {
            let only: Vec<Uuid> = sqlx::query_scalar!("SELECT id FROM queues LIMIT 2").fetch_all(pool).await?;
            match only.as_slice() {
                [one] => *one,
                _ => return Err(AppError::invalid("Choose what you need help with.")),
            }
        } else {
            Uuid::parse_str(queue.trim()).map_err(|_| AppError::invalid("Choose what you need help with."))?
        };
        let window = match channel {
            Channel::Callback => parse_window(window)?,
            _ => None,
        };
        Ok(Self(NewRequest {
            queue_id: queue_id.into(),
            customer_name,
            reason,
            channel,
            phone,
            priority: 0,
            window,
            from_api: None,
            from_widget: None,
            from_address: None,
            language: None,
        }))
    }
}

/// A callback's preferred window, `FROM/UNTIL` in RFC 3339 (empty: as soon
/// as possible): it must end after it starts, not be over, and start within
/// the next seven days.
pub fn parse_window(raw: &str) -> Result<Option<Window>, AppError> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::invalid("Choose a time for the call from the list.");
    let (from, until) = raw.split_once('/').ok_or_else(bad)?;
    let from = time::OffsetDateTime::parse(from, &Rfc3339).map_err(|_| bad())?;
    let until = time::OffsetDateTime::parse(until, &Rfc3339).map_err(|_| bad())?;
    let now = time::OffsetDateTime::now_utc();
    if until <= from || until <= now || from > now + time::Duration::days(7) {
        return Err(AppError::invalid("That time has passed or is too far ahead: choose one within the next 7 days."));
    }
    Ok(Some(Window { from, until }))
}

/// An optional email address (empty: none), checked.
pub fn parse_email(raw: &str) -> Result<Option<String>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > 254 || !email_address::EmailAddress::is_valid(raw) {
        return Err(AppError::invalid("That email address does not look right."));
    }
    Ok(Some(raw.to_owned()))
}

/// The customer's language, from their browser's `Accept-Language`
/// (English when it accepts none the customer side speaks).
pub fn browser_language(headers: Option<&axum::http::HeaderMap>) -> Language {
    headers
        .and_then(|headers| headers.get(axum::http::header::ACCEPT_LANGUAGE))
        .and_then(|value| value.to_str().ok())
        .and_then(Language::from_accept_language)
        .unwrap_or(Language::English)
}

/// Puts the request in its queue and signs the customer's token.
pub async fn enter(engine: &Engine, form: HelpForm) -> Result<HelpTicket, AppError> {
    let help_session = line::enter(engine, form.0).await?;
    let token = super::token::issue(engine.pool(), help_session).await?;
    Ok(HelpTicket { help_session_id: help_session, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164() {
        assert_eq!(parse_phone("+44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(parse_phone("+1 (415) 555-0100").unwrap(), "+14155550100");
        for bad in ["", "0207946", "44 20 7946 0958", "+0 123 4567", "+12", "+1234567890123456", "+1 415 CALL ME"] {
            assert!(parse_phone(bad).is_err(), "{bad:?}");
        }
    }
}
