//! A queue's opening hours and its rules for callbacks and for customers
//! keeping their place (SPEC §5, §7). Whether a queue is open at a moment,
//! and when it next opens, is the database's to say
//! (`engine/src/hours.sql`), in the queue's time zone.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The days of the week, ISO order (1 = Monday), as the admin page names them.
pub const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// When a queue is open: one interval on each day it opens, in its time
/// zone, and dates it stays closed. No days at all: always open (but on
/// closed dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpeningHours {
    /// An IANA zone name ("Europe/London"); the database checks it.
    pub time_zone: String,
    pub days: Vec<DayHours>,
    /// `YYYY-MM-DD`, in the queue's time zone.
    pub closed_dates: Vec<String>,
}

impl Default for OpeningHours {
    fn default() -> Self {
        Self { time_zone: "UTC".into(), days: Vec::new(), closed_dates: Vec::new() }
    }
}

/// One day's opening: `HH:MM` to `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: i16,
    pub opens: String,
    pub closes: String,
}

/// `HH:MM` (24 hours), or a clear 400 naming the field.
fn clock(field: &str, raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    let parsed = raw
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
        .filter(|(h, m)| *h < 24 && *m < 60 && raw.len() <= 5);
    match parsed {
        Some((h, m)) => Ok(format!("{h:02}:{m:02}")),
        None => Err(AppError::invalid(format!("{field} must be a time like 09:00."))),
    }
}

/// `YYYY-MM-DD` with a real month and day.
fn date(raw: &str) -> Result<String, AppError> {
    let bad = || AppError::invalid(format!("\"{raw}\" is not a date like 2026-12-25."));
    let parts: Vec<&str> = raw.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    let (y, m, d): (i32, u8, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if y.to_string().len() != 4 || !(1..=12).contains(&m) || d == 0 {
        return Err(bad());
    }
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    if d > month.length(y) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

impl OpeningHours {
    /// What an admin typed: a time zone, an opening and a closing time for
    /// each weekday (both empty: closed that day), and closed dates
    /// separated by commas or spaces.
    pub fn parse(time_zone: &str, opens: &[String], closes: &[String], closed_dates: &str) -> Result<Self, AppError> {
        let time_zone = time_zone.trim();
        if time_zone.is_empty() || time_zone.len() > 64 {
            return Err(AppError::invalid("Choose the queue's time zone, like Europe/London."));
        }
        crate::text::check("Time zone", time_zone, crate::text::Shape::Line)?;
        let mut days = Vec::new();
        for (index, name) in WEEKDAYS.iter().enumerate() {
            let open = opens.get(index).map(|s| s.trim()).unwrap_or_default();
            let close = closes.get(index).map(|s| s.trim()).unwrap_or_default();
            if open.is_empty() && close.is_empty() {
                continue;
            }
            let (open, close) = (clock(&format!("{name} opens"), open)?, clock(&format!("{name} closes"), close)?);
            if close <= open {
                return Err(AppError::invalid(format!("On {name} the queue must close after it opens.")));
            }
            days.push(DayHours { weekday: index as i16 + 1, opens: open, closes: close });
        }
        let mut dates = closed_dates
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|d| !d.is_empty())
            .map(date)
            .collect::<Result<Vec<_>, _>>()?;
        dates.sort();
        dates.dedup();
        if dates.len() > 366 {
            return Err(AppError::invalid("At most 366 closed dates."));
        }
        Ok(Self { time_zone: time_zone.to_owned(), days, closed_dates: dates })
    }

    /// The same hours checked as [`OpeningHours::parse`] checks what an
    /// admin typed (for hours that arrive as a value, not as text).
    pub fn checked(&self) -> Result<Self, AppError> {
        let each = |pick: fn(&DayHours) -> &String| -> Vec<String> {
            (1..=7).map(|weekday| self.day(weekday).map(|day| pick(day).clone()).unwrap_or_default()).collect()
        };
        Self::parse(&self.time_zone, &each(|day| &day.opens), &each(|day| &day.closes), &self.closed_dates.join(" "))
    }

    /// The day's hours, if the queue opens that weekday (1 = Monday).
    pub fn day(&self, weekday: i16) -> Option<&DayHours> {
        self.days.iter().find(|day| day.weekday == weekday)
    }
}

/// How callbacks are retried and when a customer keeping their place is
/// told their turn is near.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackRules {
    /// A callback not reached waits at least this long before the next try.
    pub retry_seconds: i32,
    /// Tries in all before it ends as unreachable.
    pub max_attempts: i32,
    /// A customer keeping their place is told at this position or nearer...
    pub notify_position: i32,
    /// ... or when their estimated wait is under this many seconds.
    pub notify_seconds: i32,
    /// Away at the front, they keep it this long.
    pub front_hold_seconds: i32,
}

impl Default for CallbackRules {
    /// The database's defaults.
    fn default() -> Self {
        Self { retry_seconds: 600, max_attempts: 3, notify_position: 2, notify_seconds: 120, front_hold_seconds: 180 }
    }
}

impl CallbackRules {
    /// Each given value in its range (a missing one keeps its default).
    pub fn parse(
        retry_seconds: Option<i32>,
        max_attempts: Option<i32>,
        notify_position: Option<i32>,
        notify_seconds: Option<i32>,
        front_hold_seconds: Option<i32>,
    ) -> Result<Self, AppError> {
        let defaults = Self::default();
        let within = |field: &str, value: Option<i32>, default: i32, low: i32, high: i32| {
            let value = value.unwrap_or(default);
            if (low..=high).contains(&value) {
                Ok(value)
            } else {
                Err(AppError::invalid(format!("{field} must be between {low} and {high}.")))
            }
        };
        Ok(Self {
            retry_seconds: within("Retry delay (seconds)", retry_seconds, defaults.retry_seconds, 1, 86_400)?,
            max_attempts: within("Attempts", max_attempts, defaults.max_attempts, 1, 20)?,
            notify_position: within("Notify at position", notify_position, defaults.notify_position, 1, 1000)?,
            notify_seconds: within(
                "Notify when the wait is under (seconds)",
                notify_seconds,
                defaults.notify_seconds,
                0,
                86_400,
            )?,
            front_hold_seconds: within("Front place kept (seconds)", front_hold_seconds, defaults.front_hold_seconds, 1, 86_400)?,
        })
    }

    /// The same rules, each value checked in its range.
    pub fn checked(self) -> Result<Self, AppError> {
        Self::parse(
            Some(self.retry_seconds),
            Some(self.max_attempts),
            Some(self.notify_position),
            Some(self.notify_seconds),
            Some(self.front_hold_seconds),
        )
    }
}

/// What keeps callbacks from filling a queue: they are exempt from the live
/// line's abandonment and maximum wait and are taken while it is closed or
/// unstaffed, so they have limits of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackLimits {
    /// Callbacks waiting at most (apart from the live line's maximum length).
    pub cap: i32,
    /// Open callbacks at most from one address (an IPv6 /64 counts as one).
    pub per_address: i32,
    /// A callback not reached this long after its window closed (or after
    /// it was asked for, without a window) ends as expired.
    pub expiry_hours: i32,
    /// Numbers called must start with one of these (`+44`, `+1`); empty:
    /// any. Keeps premium-rate numbers out.
    pub prefixes: Vec<String>,
}

impl Default for CallbackLimits {
    /// The database's defaults.
    fn default() -> Self {
        Self { cap: 100, per_address: 3, expiry_hours: 24, prefixes: Vec::new() }
    }
}

impl CallbackLimits {
    /// Each given value in its range (a missing one keeps its default);
    /// prefixes as typed, separated by spaces or commas.
    pub fn parse(
        cap: Option<i32>,
        per_address: Option<i32>,
        expiry_hours: Option<i32>,
        prefixes: &str,
    ) -> Result<Self, AppError> {
        let defaults = Self::default();
        let within = |field: &str, value: Option<i32>, default: i32, high: i32| {
            let value = value.unwrap_or(default);
            if (1..=high).contains(&value) {
                Ok(value)
            } else {
                Err(AppError::invalid(format!("{field} must be between 1 and {high}.")))
            }
        };
        let mut allowed = Vec::new();
        for prefix in prefixes.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            let digits = prefix.strip_prefix('+').unwrap_or("");
            if !(1..=6).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
                return Err(AppError::invalid(format!(
                    "Allowed callback prefixes are a + and 1 to 6 digits, like +44 or +1; \"{prefix}\" is not."
                )));
            }
            if !allowed.iter().any(|known| known == prefix) {
                allowed.push(prefix.to_owned());
            }
        }
        Ok(Self {
            cap: within("Callbacks waiting at most", cap, defaults.cap, 100_000)?,
            per_address: within("Open callbacks per address", per_address, defaults.per_address, 1000)?,
            expiry_hours: within("Callback expiry (hours)", expiry_hours, defaults.expiry_hours, 720)?,
            prefixes: allowed,
        })
    }

    /// The same limits, each value checked in its range and each prefix's form.
    pub fn checked(&self) -> Result<Self, AppError> {
        Self::parse(Some(self.cap), Some(self.per_address), Some(self.expiry_hours), &self.prefixes.join(" "))
    }

    /// Whether this queue calls `phone` (E.164).
    pub fn calls(&self, phone: &str) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|prefix| phone.starts_with(prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(opens: &[&str], closes: &[&str]) -> Result<OpeningHours, AppError> {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        OpeningHours::parse("Europe/London", &own(opens), &own(closes), "2026-12-25, 2026-12-26 2026-12-25")
    }

    #[test]
    fn an_admin_types_hours_and_closed_dates() {
        let hours = week(&["9:00", "09:00", "", "", "", "10:30", ""], &["17:00", "17:00", "", "", "", "14:00", ""]).unwrap();
        assert_eq!(hours.days.len(), 3);
        assert_eq!(hours.day(1).map(|d| (d.opens.as_str(), d.closes.as_str())), Some(("09:00", "17:00")));
        assert_eq!(hours.day(6).map(|d| d.opens.as_str()), Some("10:30"));
        assert!(hours.day(7).is_none(), "Sunday closed");
        assert_eq!(hours.closed_dates, ["2026-12-25", "2026-12-26"]);
        assert!(week(&["17:00"], &["09:00"]).unwrap_err().to_string().contains("close after it opens"));
        assert!(week(&["9am"], &["17:00"]).unwrap_err().to_string().contains("Monday opens"));
        assert!(week(&["09:00"], &[""]).unwrap_err().to_string().contains("Monday closes"));
        let bad_date = OpeningHours::parse("UTC", &[], &[], "2026-02-30");
        assert!(bad_date.unwrap_err().to_string().contains("2026-02-30"));
        // Hours that arrive as a value are checked the same way.
        assert_eq!(hours.checked().unwrap(), hours);
        let crafted =
            OpeningHours { days: vec![DayHours { weekday: 2, opens: "18:00".into(), closes: "08:00".into() }], ..hours };
        assert!(crafted.checked().unwrap_err().to_string().contains("Tuesday the queue must close after it opens"));
    }

    #[test]
    fn callback_rules_keep_defaults_and_bounds() {
        assert_eq!(CallbackRules::parse(None, None, None, None, None).unwrap(), CallbackRules::default());
        assert_eq!(CallbackRules::parse(Some(30), Some(2), None, None, None).unwrap().retry_seconds, 30);
        assert!(CallbackRules::parse(None, Some(0), None, None, None).is_err());
    }

    #[test]
    fn callback_limits_keep_defaults_bounds_and_prefixes() {
        assert_eq!(CallbackLimits::parse(None, None, None, "").unwrap(), CallbackLimits::default());
        let limits = CallbackLimits::parse(Some(5), Some(1), Some(48), "+44, +1 +44").unwrap();
        assert_eq!((limits.cap, limits.per_address, limits.expiry_hours), (5, 1, 48));
        assert_eq!(limits.prefixes, ["+44", "+1"]);
        assert!(limits.calls("+442079460958") && limits.calls("+14155550100") && !limits.calls("+882123456"));
        assert!(CallbackLimits::default().calls("+882123456"), "no prefixes: any number");
        for bad in ["44", "+", "+0", "+1234567", "+4a"] {
            assert!(CallbackLimits::parse(None, None, None, bad).is_err(), "{bad}");
        }
        assert!(CallbackLimits::parse(Some(0), None, None, "").is_err());
    }
}
