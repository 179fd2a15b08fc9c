//! Queues in PostgreSQL.

use sqlx::PgPool;
use uuid::Uuid;

use super::hours::DayHours;
use super::{
    CallbackLimits, CallbackRules, Channel, OpeningHours, Queue, QueueSettings, RoutingMode, Strategy, Thresholds, WhenNobody,
};
use crate::error::AppError;
use crate::language::Language;

struct Row {
    id: Uuid,
    name: String,
    channels: Vec<String>,
    routing_mode: String,
    strategy: String,
    rona_seconds: i32,
    wrap_up_seconds: i32,
    service_level_seconds: i32,
    max_length: Option<i32>,
    max_wait_seconds: Option<i32>,
    when_nobody: String,
    nobody_message: String,
    auto_join: bool,
    wait_amber_seconds: Option<i32>,
    wait_red_seconds: Option<i32>,
    level_amber_percent: Option<i32>,
    level_red_percent: Option<i32>,
    hide_monitoring: bool,
    time_zone: String,
    closed_dates: Vec<String>,
    callback_retry_seconds: i32,
    callback_max_attempts: i32,
    notify_position: i32,
    notify_seconds: i32,
    front_hold_seconds: i32,
    callback_cap: i32,
    callbacks_per_address: i32,
    callback_expiry_hours: i32,
    callback_prefixes: Vec<String>,
    language: Option<String>,
}

impl TryFrom<Row> for Queue {
    type Error = AppError;

    fn try_from(row: Row) -> Result<Self, AppError> {
        Ok(Queue {
            id: row.id,
            settings: QueueSettings {
                name: row.name,
                channels: row.channels.iter().map(|c| Channel::parse(c)).collect::<Result<_, _>>()?,
                routing_mode: RoutingMode::parse(&row.routing_mode)?,
                strategy: Strategy::parse(&row.strategy)?,
                rona_seconds: row.rona_seconds,
                wrap_up_seconds: row.wrap_up_seconds,
                service_level_seconds: row.service_level_seconds,
                max_length: row.max_length,
                max_wait_seconds: row.max_wait_seconds,
                when_nobody: WhenNobody::parse(&row.when_nobody)?,
                nobody_message: row.nobody_message,
                auto_join: row.auto_join,
                thresholds: Thresholds {
                    wait_amber_seconds: row.wait_amber_seconds,
                    wait_red_seconds: row.wait_red_seconds,
                    level_amber_percent: row.level_amber_percent,
                    level_red_percent: row.level_red_percent,
                },
                hide_monitoring: row.hide_monitoring,
                hours: OpeningHours { time_zone: row.time_zone, days: Vec::new(), closed_dates: row.closed_dates },
                callbacks: CallbackRules {
                    retry_seconds: row.callback_retry_seconds,
                    max_attempts: row.callback_max_attempts,
                    notify_position: row.notify_position,
                    notify_seconds: row.notify_seconds,
                    front_hold_seconds: row.front_hold_seconds,
                },
                callback_limits: CallbackLimits {
                    cap: row.callback_cap,
                    per_address: row.callbacks_per_address,
                    expiry_hours: row.callback_expiry_hours,
                    prefixes: row.callback_prefixes,
                },
                language: row.language.as_deref().map(Language::parse).transpose()?,
            },
        })
    }
}

pub async fn list(pool: &PgPool) -> Result<Vec<Queue>, AppError> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, name, channels, routing_mode, strategy, rona_seconds, wrap_up_seconds,
                service_level_seconds, max_length, max_wait_seconds, when_nobody, nobody_message, auto_join,
                wait_amber_seconds, wait_red_seconds, level_amber_percent, level_red_percent, hide_monitoring,
                time_zone, ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(closed_dates) d ORDER BY d) AS "closed_dates!",
                callback_retry_seconds, callback_max_attempts, notify_position, notify_seconds, front_hold_seconds,
                callback_cap, callbacks_per_address, callback_expiry_hours, callback_prefixes, language
           FROM queues ORDER BY lower(name)"#
    )
    .fetch_all(pool)
    .await?;
    let mut queues: Vec<Queue> = rows.into_iter().map(Queue::try_from).collect::<Result<_, _>>()?;
    for queue in &mut queues {
        queue.settings.hours.days = days(pool, queue.id).await?;
    }
    Ok(queues)
}

/// A queue's weekly opening hours, Monday first.
async fn days(pool: &PgPool, queue: Uuid) -> Result<Vec<DayHours>, AppError> {
    Ok(sqlx::query_as!(
        DayHours,
        r#"SELECT weekday, to_char(opens, 'HH24:MI') AS "opens!", to_char(closes, 'HH24:MI') AS "closes!"
             FROM queue_hours WHERE queue_id = $1 ORDER BY weekday"#,
        queue
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Queue, AppError> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, name, channels, routing_mode, strategy, rona_seconds, wrap_up_seconds,
                service_level_seconds, max_length, max_wait_seconds, when_nobody, nobody_message, auto_join,
                wait_amber_seconds, wait_red_seconds, level_amber_percent, level_red_percent, hide_monitoring,
                time_zone, ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(closed_dates) d ORDER BY d) AS "closed_dates!",
                callback_retry_seconds, callback_max_attempts, notify_position, notify_seconds, front_hold_seconds,
                callback_cap, callbacks_per_address, callback_expiry_hours, callback_prefixes, language
           FROM queues WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    let mut queue = Queue::try_from(row)?;
    queue.settings.hours.days = days(pool, queue.id).await?;
    Ok(queue)
}

pub async fn list_with_members(pool: &PgPool) -> Result<Vec<super::QueueWithMembers>, AppError> {
    let queues = list(pool).await?;
    let mut teams = Vec::with_capacity(queues.len());
    for queue in queues {
        teams.push(team(pool, queue).await?);
    }
    Ok(teams)
}

/// A queue with who serves it and who supervises it.
async fn team(pool: &PgPool, queue: Queue) -> Result<super::QueueWithMembers, AppError> {
    let members =
        sqlx::query_scalar!("SELECT representative_id FROM queue_members WHERE queue_id = $1", queue.id).fetch_all(pool).await?;
    let supervisors = sqlx::query_scalar!("SELECT representative_id FROM queue_supervisors WHERE queue_id = $1", queue.id)
        .fetch_all(pool)
        .await?;
    Ok(super::QueueWithMembers { queue, members, supervisors })
}

/// Creates or updates a queue and replaces its members and supervisors
/// (only supervisors and admins can be), in one transaction. 409 for a
/// name in use; 404 for an unknown queue.
pub async fn save(
    pool: &PgPool,
    id: Option<Uuid>,
    settings: &QueueSettings,
    members: &[Uuid],
    supervisors: &[Uuid],
) -> Result<super::QueueWithMembers, AppError> {
    let channels: Vec<String> = settings.channels.iter().map(|c| c.as_str().to_owned()).collect();
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS "known!""#,
        settings.hours.time_zone
    )
    .fetch_one(pool)
    .await?;
    if !known {
        return Err(AppError::invalid(format!("\"{}\" is not a time zone this server knows.", settings.hours.time_zone)));
    }
    let mut tx = pool.begin().await?;
    let saved = sqlx::query_scalar!(
        "INSERT INTO queues (id, name, channels, routing_mode, strategy, rona_seconds, wrap_up_seconds,
                             service_level_seconds, max_length, max_wait_seconds, when_nobody, nobody_message, auto_join,
                             wait_amber_seconds, wait_red_seconds, level_amber_percent, level_red_percent, hide_monitoring,
                             time_zone, closed_dates, callback_retry_seconds, callback_max_attempts, notify_position,
                             notify_seconds, front_hold_seconds, callback_cap, callbacks_per_address,
                             callback_expiry_hours, callback_prefixes, language)
         VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20::text[]::date[], $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)
         ON CONFLICT (id) DO UPDATE SET
             name = EXCLUDED.name, channels = EXCLUDED.channels, routing_mode = EXCLUDED.routing_mode,
             strategy = EXCLUDED.strategy, rona_seconds = EXCLUDED.rona_seconds,
             wrap_up_seconds = EXCLUDED.wrap_up_seconds, service_level_seconds = EXCLUDED.service_level_seconds,
             max_length = EXCLUDED.max_length, max_wait_seconds = EXCLUDED.max_wait_seconds,
             when_nobody = EXCLUDED.when_nobody, nobody_message = EXCLUDED.nobody_message,
             auto_join = EXCLUDED.auto_join, wait_amber_seconds = EXCLUDED.wait_amber_seconds,
             wait_red_seconds = EXCLUDED.wait_red_seconds, level_amber_percent = EXCLUDED.level_amber_percent,
             level_red_percent = EXCLUDED.level_red_percent, hide_monitoring = EXCLUDED.hide_monitoring,
             time_zone = EXCLUDED.time_zone, closed_dates = EXCLUDED.closed_dates,
             callback_retry_seconds = EXCLUDED.callback_retry_seconds,
             callback_max_attempts = EXCLUDED.callback_max_attempts, notify_position = EXCLUDED.notify_position,
             notify_seconds = EXCLUDED.notify_seconds, front_hold_seconds = EXCLUDED.front_hold_seconds,
             callback_cap = EXCLUDED.callback_cap, callbacks_per_address = EXCLUDED.callbacks_per_address,
             callback_expiry_hours = EXCLUDED.callback_expiry_hours, callback_prefixes = EXCLUDED.callback_prefixes,
             language = EXCLUDED.language
         RETURNING id",
        id,
        settings.name,
        &channels,
        settings.routing_mode.as_str(),
        settings.strategy.as_str(),
        settings.rona_seconds,
        settings.wrap_up_seconds,
        settings.service_level_seconds,
        settings.max_length,
        settings.max_wait_seconds,
        settings.when_nobody.as_str(),
        settings.nobody_message,
        settings.auto_join,
        settings.thresholds.wait_amber_seconds,
        settings.thresholds.wait_red_seconds,
        settings.thresholds.level_amber_percent,
        settings.thresholds.level_red_percent,
        settings.hide_monitoring,
        settings.hours.time_zone,
        &settings.hours.closed_dates,
        settings.callbacks.retry_seconds,
        settings.callbacks.max_attempts,
        settings.callbacks.notify_position,
        settings.callbacks.notify_seconds,
        settings.callbacks.front_hold_seconds,
        settings.callback_limits.cap,
        settings.callback_limits.per_address,
        settings.callback_limits.expiry_hours,
        &settings.callback_limits.prefixes,
        settings.language.map(|language| language.as_str()),
    )
    .fetch_one(&mut *tx)
    .await;
    let saved = match saved {
        Ok(saved) => saved,
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(AppError::Conflict(format!("A queue named \"{}\" exists already.", settings.name)))
        }
        Err(error) => return Err(error.into()),
    };
    if id.is_some_and(|id| id != saved) {
        return Err(AppError::NotFound("No such queue.".into()));
    }
    sqlx::query!("DELETE FROM queue_members WHERE queue_id = $1 AND NOT (representative_id = ANY ($2))", saved, members)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "INSERT INTO queue_members (queue_id, representative_id)
         SELECT $1, id FROM representatives WHERE id = ANY ($2) ON CONFLICT DO NOTHING",
        saved,
        members
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM queue_supervisors WHERE queue_id = $1 AND NOT (representative_id = ANY ($2))", saved, supervisors)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "INSERT INTO queue_supervisors (queue_id, representative_id)
         SELECT $1, id FROM representatives WHERE id = ANY ($2) AND role IN ('supervisor', 'admin')
         ON CONFLICT DO NOTHING",
        saved,
        supervisors
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM queue_hours WHERE queue_id = $1", saved).execute(&mut *tx).await?;
    for day in &settings.hours.days {
        sqlx::query!(
            "INSERT INTO queue_hours (queue_id, weekday, opens, closes) VALUES ($1, $2, $3::text::time, $4::text::time)",
            saved,
            day.weekday,
            day.opens,
            day.closes
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    team(pool, get(pool, saved).await?).await
}
