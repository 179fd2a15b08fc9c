//! Where a page of a list ended, handed to the client as an opaque string:
//! the last row's moment (to the microsecond, as PostgreSQL keeps it) and
//! its id, the two keys the lists are ordered by.

use std::fmt::Display;
use std::str::FromStr;

use base64::Engine as _;
use time::OffsetDateTime;

use super::ApiError;

pub fn encode(at: OffsetDateTime, id: impl Display) -> String {
    let micros = at.unix_timestamp_nanos() / 1000;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{micros}.{id}"))
}

/// A cursor given out by [`encode`], or a 400 naming the `field` it came in.
pub fn decode<Id: FromStr>(field: &str, raw: &str) -> Result<(OffsetDateTime, Id), ApiError> {
    let bad = || ApiError::invalid(format!("{field} is not a cursor this API gave out; pass next_cursor as it came."));
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (micros, id) = text.split_once('.').ok_or_else(bad)?;
    let micros: i128 = micros.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).map_err(|_| bad())?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// A page's size: `default` when not given, else a whole number from 1 to
/// `most`, or a 400 that says so.
pub fn limit(raw: Option<&str>, default: i64, most: i64) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| ApiError::invalid(format!("limit must be a whole number from 1 to {most}."))),
    }
}
