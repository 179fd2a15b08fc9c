//! Reading the buckets back: the figures of a range of days in the display
//! time zone, by queue, by representative, by hour of day and by day, in
//! one pass over the range's buckets.

use std::collections::HashMap;

use time::macros::format_description;
use time::{Date, Duration};
use uuid::Uuid;

use super::{Accuracy, Figures, Line, MetricsSettings, QueueChoice, Report, ReportQuery, Span};
use crate::error::AppError;
use crate::queue::Channel;

/// The longest custom range, in days.
const MAX_DAYS: i64 = 366;

fn parse_day(raw: Option<&str>, which: &str) -> Result<Date, AppError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    let day = Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::Invalid(format!("The {which} day must be a date like 2026-03-10 (got \"{raw}\").")))?;
    if !(2000..=9999).contains(&day.year()) {
        return Err(AppError::Invalid(format!("The {which} day must be between the years 2000 and 9999.")));
    }
    Ok(day)
}

/// Refuses a time zone PostgreSQL does not know (at start-up).
pub async fn check_time_zone(pool: &sqlx::PgPool, time_zone: &str) -> Result<(), AppError> {
    sqlx::query_scalar!("SELECT now() AT TIME ZONE $1", time_zone).fetch_one(pool).await.map(|_| ()).map_err(|_| {
        AppError::Invalid(format!(
            "SWITCHBOARD_TIME_ZONE: \"{time_zone}\" is not a time zone PostgreSQL knows (try an IANA name such as Europe/Paris)."
        ))
    })
}

/// Today in the display time zone.
pub async fn today(pool: &sqlx::PgPool, time_zone: &str) -> Result<Date, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT (now() AT TIME ZONE $1)::date AS "today!""#, time_zone).fetch_one(pool).await?)
}

/// The first and last day (inclusive) a query asks for.
pub async fn days(pool: &sqlx::PgPool, time_zone: &str, query: &ReportQuery) -> Result<(Span, Date, Date), AppError> {
    let span = Span::parse(&query.span)?;
    let today = today(pool, time_zone).await?;
    let (from, to) = match span {
        Span::Today => (today, today),
        Span::Last7 => (today - Duration::days(6), today),
        Span::Last30 => (today - Duration::days(29), today),
        Span::Custom => {
            let from = parse_day(query.from.as_deref(), "first")?;
            let to = parse_day(query.to.as_deref(), "last")?;
            if to < from {
                return Err(AppError::Invalid("The last day is before the first day.".into()));
            }
            if (to - from).whole_days() >= MAX_DAYS {
                return Err(AppError::Invalid(format!("A range can be at most {MAX_DAYS} days.")));
            }
            (from, to)
        }
    };
    Ok((span, from, to))
}

fn day_label(day: Date) -> String {
    // A date always formats with this description.
    day.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

pub async fn report(pool: &sqlx::PgPool, settings: &MetricsSettings, query: &ReportQuery) -> Result<Report, AppError> {
    let time_zone = settings.time_zone.as_str();
    let (span, from, to) = days(pool, time_zone, query).await?;
    let queues: Vec<QueueChoice> =
        sqlx::query_as!(QueueChoice, "SELECT id, name FROM queues ORDER BY lower(name)").fetch_all(pool).await?;
    if let Some(queue) = query.queue {
        if !queues.iter().any(|choice| choice.id == queue) {
            return Err(AppError::NotFound("No such queue.".into()));
        }
    }
    let names: HashMap<Uuid, String> = sqlx::query!("SELECT id, display_name FROM representatives")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.id, row.display_name))
        .collect();

    // GROUPING() has a bit set for each column summed over: 15 = the whole
    // range, 7 = per queue, 11 = per representative, 13 = per day, 14 = per hour.
    let rows = sqlx::query!(
        r#"WITH b AS (
             SELECT *, (bucket AT TIME ZONE $3)::date AS day, extract(hour FROM bucket AT TIME ZONE $3)::int AS hour
               FROM metric_buckets
              WHERE bucket >= ($1::date::timestamp AT TIME ZONE $3)
                AND bucket < (($2::date + 1)::timestamp AT TIME ZONE $3)
                AND ($4::uuid IS NULL OR queue_id = $4 OR queue_id = '00000000-0000-0000-0000-000000000000')
           )
           SELECT GROUPING(queue_id, representative_id, day, hour) AS "grouping!",
                  queue_id AS "queue_id?", representative_id AS "representative_id?", day, hour,
                  coalesce(sum(offered), 0)::bigint AS "offered!",
                  coalesce(sum(answered), 0)::bigint AS "answered!",
                  coalesce(sum(answered_in_sl), 0)::bigint AS "answered_in_sl!",
                  coalesce(sum(wait_seconds), 0)::float8 AS "wait_seconds!",
                  coalesce(sum(abandoned), 0)::bigint AS "abandoned!",
                  coalesce(sum(abandoned_after_sl), 0)::bigint AS "abandoned_after_sl!",
                  coalesce(sum(short_abandoned), 0)::bigint AS "short_abandoned!",
                  coalesce(sum(expired), 0)::bigint AS "expired!",
                  coalesce(sum(rona), 0)::bigint AS "rona!",
                  coalesce(sum(handled), 0)::bigint AS "handled!",
                  coalesce(sum(handle_seconds), 0)::float8 AS "handle_seconds!",
                  coalesce(sum(ratings), 0)::bigint AS "ratings!",
                  coalesce(sum(rating_sum), 0)::bigint AS "rating_sum!",
                  coalesce(sum(handling_seconds), 0)::float8 AS "handling_seconds!",
                  coalesce(sum(ready_idle_seconds), 0)::float8 AS "ready_idle_seconds!",
                  coalesce(sum(not_ready_seconds), 0)::float8 AS "not_ready_seconds!",
                  coalesce(sum(callbacks_requested), 0)::bigint AS "callbacks_requested!",
                  coalesce(sum(callback_attempts), 0)::bigint AS "callback_attempts!",
                  coalesce(sum(callbacks_reached), 0)::bigint AS "callbacks_reached!",
                  coalesce(sum(reach_seconds), 0)::float8 AS "reach_seconds!"
             FROM b
            GROUP BY GROUPING SETS ((), (queue_id), (representative_id), (day), (hour))"#,
        from,
        to,
        time_zone,
        query.queue
    )
    .fetch_all(pool)
    .await?;

    let mut total = Figures::default();
    let mut per_queue: HashMap<Uuid, Figures> = HashMap::new();
    let mut per_rep: HashMap<Uuid, Figures> = HashMap::new();
    let mut per_day: HashMap<Date, Figures> = HashMap::new();
    let mut per_hour: HashMap<i32, Figures> = HashMap::new();
    for row in rows {
        let figures = Figures {
            offered: row.offered,
            answered: row.answered,
            answered_in_sl: row.answered_in_sl,
            wait_seconds: row.wait_seconds,
            abandoned: row.abandoned,
            abandoned_after_sl: row.abandoned_after_sl,
            short_abandoned: row.short_abandoned,
            expired: row.expired,
            rona: row.rona,
            handled: row.handled,
            handle_seconds: row.handle_seconds,
            ratings: row.ratings,
            rating_sum: row.rating_sum,
            handling_seconds: row.handling_seconds,
            ready_idle_seconds: row.ready_idle_seconds,
            not_ready_seconds: row.not_ready_seconds,
            callbacks_requested: row.callbacks_requested,
            callback_attempts: row.callback_attempts,
            callbacks_reached: row.callbacks_reached,
            reach_seconds: row.reach_seconds,
        };
        match (row.grouping, row.queue_id, row.representative_id, row.day, row.hour) {
            (15, ..) => total = figures,
            (7, Some(queue), ..) if !queue.is_nil() => {
                per_queue.insert(queue, figures);
            }
            (11, _, Some(rep), ..) if !rep.is_nil() => {
                per_rep.insert(rep, figures);
            }
            (13, _, _, Some(day), _) => {
                per_day.insert(day, figures);
            }
            (14, _, _, _, Some(hour)) => {
                per_hour.insert(hour, figures);
            }
            _ => {}
        }
    }

    let by_queue = queues
        .iter()
        .filter(|choice| query.queue.is_none_or(|queue| queue == choice.id))
        .map(|choice| Line { label: choice.name.clone(), figures: per_queue.remove(&choice.id).unwrap_or_default() })
        .collect();
    let mut by_representative: Vec<Line> = per_rep
        .into_iter()
        .map(|(rep, figures)| Line { label: names.get(&rep).cloned().unwrap_or_else(|| "(removed)".into()), figures })
        .collect();
    by_representative.sort_by_key(|row| row.label.to_lowercase());
    let by_hour =
        (0..24).map(|hour| Line { label: format!("{hour:02}"), figures: per_hour.remove(&hour).unwrap_or_default() }).collect();
    let mut by_day = Vec::new();
    let mut day = from;
    while day <= to {
        by_day.push(Line { label: day_label(day), figures: per_day.remove(&day).unwrap_or_default() });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }

    let estimates = accuracy(pool, time_zone, from, to, query.queue).await?;

    Ok(Report {
        from: day_label(from),
        to: day_label(to),
        span,
        time_zone: time_zone.to_owned(),
        queue: query.queue,
        queues,
        total,
        by_queue,
        by_representative,
        by_hour,
        by_day,
        estimates,
    })
}

/// How often the first estimate held for the customers first shown one on
/// the days `from` to `to` (inclusive, in `time_zone`), per queue and
/// channel; one queue's only if `queue` is set.
pub async fn accuracy(
    pool: &sqlx::PgPool,
    time_zone: &str,
    from: Date,
    to: Date,
    queue: Option<Uuid>,
) -> Result<Vec<Accuracy>, AppError> {
    Ok(sqlx::query_as!(
        Accuracy,
        r#"SELECT q.name AS queue, h.channel AS "channel: Channel", count(*) AS "scored!",
                  count(*) FILTER (WHERE extract(epoch FROM h.answered_at - h.estimated_at)
                                         BETWEEN h.estimate_low AND h.estimate_high) AS "held!"
             FROM help_sessions h JOIN queues q ON q.id = h.queue_id
            WHERE h.estimated_at >= ($1::date::timestamp AT TIME ZONE $3)
              AND h.estimated_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
              AND h.answered_at IS NOT NULL
              AND ($4::uuid IS NULL OR h.queue_id = $4)
            GROUP BY q.name, h.channel
            ORDER BY lower(q.name), h.channel"#,
        from,
        to,
        time_zone,
        queue
    )
    .fetch_all(pool)
    .await?)
}
