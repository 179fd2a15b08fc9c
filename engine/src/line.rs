//! The line: a customer enters it (admission: the queue's channels, its
//! maximum length, and the nobody-logged-in rule) and leaves it without
//! being served (cancel, abandon, or the queue's maximum wait).
//!
//! A waiting customer is a row in `queue_entries`, ordered by priority (high
//! first), then by the time they entered; a customer given back keeps that
//! time, and so their place.

use super::offering;
use super::steps;
use sqlx::PgConnection;

use super::events::{log, About, Engine, Event, Tx};
use super::lock_agent;
use super::retrying;
use super::seats::{self, Change};
use crate::error::AppError;
use crate::queue::{Channel, RoutingMode, WhenNobody};
use crate::states::{AgentId, HelpSessionId, HelpStatus, QueueId};

/// A customer's request, parsed at the boundary.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub queue_id: QueueId,
    pub customer_name: String,
    pub reason: String,
    pub channel: Channel,
    pub phone: Option<String>,
    pub priority: i32,
    /// A callback's preferred window (`None`: as soon as possible).
    pub window: Option<Window>,
    /// Made by an API client (`None`: by the customer's own page).
    pub from_api: Option<FromApi>,
    /// Asked for through a website's widget.
    pub from_widget: Option<FromWidget>,
    /// The address a customer's own request came from (an IPv6 /64 as its
    /// network), for the callbacks open per address; `None` from an API
    /// client.
    pub from_address: Option<String>,
    /// The customer's language, when known.
    pub language: Option<crate::language::Language>,
}

/// The widget a customer asked through, and who the site vouched they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromWidget {
    pub widget: uuid::Uuid,
    pub identity: Option<crate::identity::Identity>,
}

/// The API client that made a help session, and its own reference for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromApi {
    pub client: uuid::Uuid,
    pub external_reference: Option<String>,
}

/// When a customer would like to be called back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: time::OffsetDateTime,
    pub until: time::OffsetDateTime,
}

/// Creates the help session and its place in the queue, in one transaction,
/// and offers it in the same one when the queue pushes. Refuses when the
/// queue is full, or when nobody is logged in for it and the queue says to
/// refuse (a callback request is always taken: it keeps its place).
pub async fn enter(engine: &Engine, request: NewRequest) -> Result<HelpSessionId, AppError> {
    retrying(|| enter_once(engine, request.clone())).await
}

/// One try of [`enter`].
#[tracing::instrument(skip_all, fields(queue = %request.queue_id))]
async fn enter_once(engine: &Engine, request: NewRequest) -> Result<HelpSessionId, AppError> {
    let mut tx = engine.begin().await?;
    if let Some(own) = asked_again(&mut tx, &request).await? {
        return Ok(own);
    }
    let mode = admit(&mut tx, request.queue_id, request.channel).await?;
    if let (Channel::Callback, Some(phone)) = (request.channel, &request.phone) {
        callback_admitted(&mut tx, request.queue_id, phone, request.from_address.as_deref()).await?;
    }
    let id = insert_session(&mut tx, &request, HelpStatus::Waiting).await?;
    insert_entry(&mut tx, id).await?;
    // The first offer rides in the same transaction: one commit from
    // entering to being offered.
    let offered = match mode {
        RoutingMode::Push => offering::offer_in(&mut tx, request.queue_id).await?,
        RoutingMode::Pull => None,
    };
    tx.commit(engine).await?;
    // When that offer went to somebody ahead of this customer, or was not
    // made (every agent with room was being offered someone by another
    // transaction at that moment), an agent may yet be free for this one:
    // look again now that the entry is visible to every transaction.
    if mode == RoutingMode::Push && offered.is_none_or(|offer| offer.help_session != id) {
        offering::dispatch(engine, request.queue_id).await;
    }
    Ok(id)
}

/// Creates a help session without queueing it (the service kit's
/// `POST /help/session`); `enqueue` puts it in line later.
pub async fn create(engine: &Engine, request: NewRequest) -> Result<HelpSessionId, AppError> {
    retrying(|| create_once(engine, request.clone())).await
}

/// One try of [`create`].
async fn create_once(engine: &Engine, request: NewRequest) -> Result<HelpSessionId, AppError> {
    let mut tx = engine.begin().await?;
    let channels =
        sqlx::query_scalar!(r#"SELECT channels AS "channels: Vec<Channel>" FROM queues WHERE id = $1"#, request.queue_id.uuid())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    if !channels.contains(&request.channel) {
        return Err(unoffered(request.channel));
    }
    if let Some(own) = asked_again(&mut tx, &request).await? {
        return Ok(own);
    }
    if let (Channel::Callback, Some(phone)) = (request.channel, &request.phone) {
        callback_admitted(&mut tx, request.queue_id, phone, request.from_address.as_deref()).await?;
    }
    let id = insert_session(&mut tx, &request, HelpStatus::Created).await?;
    tx.commit(engine).await?;
    Ok(id)
}

/// Puts a created help session in its queue. 409 when it is already in
/// line or past that.
pub async fn enqueue(engine: &Engine, help_session: HelpSessionId) -> Result<(), AppError> {
    retrying(|| enqueue_once(engine, help_session)).await
}

/// One try of [`enqueue`].
async fn enqueue_once(engine: &Engine, help_session: HelpSessionId) -> Result<(), AppError> {
    let mut tx = engine.begin().await?;
    let created = sqlx::query!(
        r#"SELECT queue_id AS "queue_id: QueueId", channel AS "channel: Channel", status AS "status: HelpStatus",
                  phone, requested_from
             FROM help_sessions WHERE id = $1 FOR UPDATE"#,
        help_session.uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such help session.".into()))?;
    if created.status != HelpStatus::Created {
        return Err(AppError::Conflict(format!("This help session is {} already, not waiting to be queued.", created.status)));
    }
    let mode = admit(&mut tx, created.queue_id, created.channel).await?;
    if let (Channel::Callback, Some(phone)) = (created.channel, &created.phone) {
        callback_admitted(&mut tx, created.queue_id, phone, None).await?;
    }
    sqlx::query!("UPDATE help_sessions SET status = 'waiting', entered_at = now() WHERE id = $1", help_session.uuid())
        .execute(&mut *tx)
        .await?;
    insert_entry(&mut tx, help_session).await?;
    tx.commit(engine).await?;
    if mode == RoutingMode::Push {
        offering::dispatch(engine, created.queue_id).await;
    }
    Ok(())
}

/// One open callback per queue and number. Asking again for a number
/// already waiting gives the callback back only to the API client that made
/// it (its retry); anybody else, a customer's page included, learns only
/// that it exists ([`AppError::CallbackExists`]): never its id, its token or
/// whose it is.
async fn asked_again(conn: &mut PgConnection, request: &NewRequest) -> Result<Option<HelpSessionId>, AppError> {
    let (Channel::Callback, Some(phone)) = (request.channel, &request.phone) else {
        return Ok(None);
    };
    let Some(open) = open_callback(conn, request.queue_id, phone).await? else {
        return Ok(None);
    };
    match (open.api_client, &request.from_api) {
        (Some(maker), Some(asker)) if maker == asker.client => Ok(Some(open.id)),
        _ => Err(AppError::CallbackExists),
    }
}

/// An open callback: its id, and the API client that made it.
pub struct OpenCallback {
    pub id: HelpSessionId,
    pub api_client: Option<uuid::Uuid>,
}

/// The open callback of `queue` to `phone`, if there is one.
pub async fn open_callback(conn: &mut PgConnection, queue: QueueId, phone: &str) -> Result<Option<OpenCallback>, AppError> {
    Ok(sqlx::query_as!(
        OpenCallback,
        r#"SELECT id AS "id: HelpSessionId", api_client_id AS api_client FROM help_sessions
            WHERE queue_id = $1 AND phone = $2 AND channel = 'callback'
              AND status IN ('created', 'waiting', 'offered', 'active', 'on_hold')"#,
        queue.uuid(),
        phone
    )
    .fetch_optional(conn)
    .await?)
}

/// A callback's own rules, past the line's: the queue calls this number
/// (its allowed prefixes), its callbacks waiting are under their cap (apart
/// from the live line's maximum length), and `from` (the address asking,
/// `None` when counted already) has fewer open than the queue allows.
pub(super) async fn callback_admitted(
    conn: &mut PgConnection,
    queue: QueueId,
    phone: &str,
    from: Option<&str>,
) -> Result<(), AppError> {
    let row = sqlx::query!(
        r#"SELECT name, callback_cap, callbacks_per_address, callback_expiry_hours, callback_prefixes,
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id AND e.channel = 'callback') AS "waiting!",
                  (SELECT count(*) FROM help_sessions h
                    WHERE h.queue_id = q.id AND h.requested_from = $2 AND h.channel = 'callback'
                      AND h.status IN ('created', 'waiting', 'offered', 'active', 'on_hold')) AS "from_address!"
             FROM queues q WHERE id = $1"#,
        queue.uuid(),
        from,
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    let limits = crate::queue::CallbackLimits {
        cap: row.callback_cap,
        per_address: row.callbacks_per_address,
        expiry_hours: row.callback_expiry_hours,
        prefixes: row.callback_prefixes,
    };
    if !limits.calls(phone) {
        return Err(AppError::invalid(format!(
            "For {}, we call back only numbers starting with {}.",
            row.name,
            limits.prefixes.join(" or ")
        )));
    }
    if row.waiting >= i64::from(limits.cap) {
        return Err(AppError::NotTaking(format!(
            "{} is not taking more callback requests right now. Please try again later.",
            row.name
        )));
    }
    if from.is_some() && row.from_address >= i64::from(limits.per_address) {
        return Err(AppError::NotTaking(
            "Enough callbacks are waiting from your connection already. We call those first; then you can ask again.".into(),
        ));
    }
    Ok(())
}

fn unoffered(channel: Channel) -> AppError {
    AppError::invalid(format!("This queue does not offer {}.", channel.label().to_lowercase()))
}

/// What a queue says about one more customer now: the one reading of its
/// rules for letting someone in, used by the line (`admit`) and by
/// transfers (`transfer::queue_can_take`).
pub(super) struct Room {
    pub name: String,
    pub routing_mode: RoutingMode,
    pub channels: Vec<Channel>,
    /// Its live line (callbacks aside) is at its maximum length.
    pub full: bool,
    /// Somebody who serves it is logged in.
    pub staffed: bool,
    pub when_nobody: WhenNobody,
    pub nobody_message: String,
    /// When it opens next, in its own time zone ("09:00 on Monday 30
    /// November, Europe/London"); `None` while it is open.
    pub closed_until: Option<String>,
}

/// The queue's room now; 404 when there is no such queue.
pub(super) async fn room(conn: &mut PgConnection, queue_id: QueueId) -> Result<Room, AppError> {
    let queue = sqlx::query!(
        r#"SELECT name, channels AS "channels: Vec<Channel>", routing_mode AS "routing_mode: RoutingMode", max_length,
                  when_nobody AS "when_nobody: WhenNobody", nobody_message,
                  -- Counted only for a queue with a limit: a count is as
                  -- long as the line. Callbacks have their own cap.
                  CASE WHEN q.max_length IS NULL THEN 0
                       ELSE (SELECT count(*) FROM queue_entries e
                              WHERE e.queue_id = q.id AND e.channel <> 'callback') END AS "waiting!",
                  -- Member by member, each a lookup of one row (as a join,
                  -- the planner may read every agent).
                  EXISTS (SELECT 1 FROM queue_members m
                           WHERE m.queue_id = q.id
                             AND (SELECT s.state <> 'LOGGED_OUT' FROM agent_states s
                                   WHERE s.representative_id = m.representative_id)) AS "staffed!",
                  CASE WHEN NOT queue_open(q.id, now()) THEN
                       coalesce(to_char(queue_next_open(q.id, now()) AT TIME ZONE q.time_zone,
                                        'HH24:MI "on" FMDay FMDD FMMonth') || ', ' || q.time_zone,
                                'a later date')
                  END AS closed_until
             FROM queues q WHERE id = $1"#,
        queue_id.uuid(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound("No such queue.".into()))?;
    Ok(Room {
        full: queue.max_length.is_some_and(|max| queue.waiting >= i64::from(max)),
        name: queue.name,
        routing_mode: queue.routing_mode,
        channels: queue.channels,
        staffed: queue.staffed,
        when_nobody: queue.when_nobody,
        nobody_message: queue.nobody_message,
        closed_until: queue.closed_until,
    })
}

/// The queue's rules for letting someone in; answers its routing mode.
async fn admit(conn: &mut PgConnection, queue_id: QueueId, channel: Channel) -> Result<RoutingMode, AppError> {
    let queue = room(conn, queue_id).await?;
    if !queue.channels.contains(&channel) {
        return Err(unoffered(channel));
    }
    if queue.full && channel != Channel::Callback {
        return Err(AppError::NotTaking(
            "The line is full right now. Please try again in a few minutes, or ask us to call you back later.".into(),
        ));
    }
    // Closed: only a callback is taken (it is called once the queue opens).
    if let Some(opens) = queue.closed_until.filter(|_| channel != Channel::Callback) {
        return Err(AppError::NotTaking(format!(
            "{} is closed now. It opens at {opens}; until then we can call you back.",
            queue.name
        )));
    }
    if !queue.staffed && queue.when_nobody == WhenNobody::Refuse && channel != Channel::Callback {
        return Err(AppError::NotTaking(queue.nobody_message));
    }
    Ok(queue.routing_mode)
}

async fn insert_session(conn: &mut PgConnection, request: &NewRequest, status: HelpStatus) -> Result<HelpSessionId, AppError> {
    let identity = request.from_widget.as_ref().and_then(|from| from.identity.as_ref());
    let id = sqlx::query_scalar!(
        r#"INSERT INTO help_sessions (queue_id, customer_name, reason, channel, phone, priority, status,
                                     callback_from, callback_until, api_client_id, external_reference,
                                     widget_id, verified_email, identified, requested_from, language)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id AS "id: HelpSessionId""#,
        request.queue_id.uuid(),
        request.customer_name,
        request.reason,
        request.channel.as_str(),
        request.phone,
        request.priority,
        status.as_str(),
        request.window.map(|w| w.from),
        request.window.map(|w| w.until),
        request.from_api.as_ref().map(|from| from.client),
        request
            .from_api
            .as_ref()
            .and_then(|from| from.external_reference.as_deref())
            .or(identity.and_then(|i| i.reference.as_deref())),
        request.from_widget.as_ref().map(|from| from.widget),
        identity.and_then(|identity| identity.email.as_deref()),
        identity.is_some(),
        request.from_address,
        request.language.map(|language| language.as_str()),
    )
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The session's waiting slot, ordered by the time it entered, and its
/// ENTER_QUEUE event.
/// A callback is not offered before its window opens.
async fn insert_entry(tx: &mut Tx, help_session: HelpSessionId) -> Result<(), AppError> {
    let entry = sqlx::query!(
        r#"INSERT INTO queue_entries (help_session_id, queue_id, channel, priority, enqueued_at, not_before)
           SELECT id, queue_id, channel, priority, entered_at, callback_from FROM help_sessions WHERE id = $1
           RETURNING queue_id AS "queue_id: QueueId", channel AS "channel: Channel", priority"#,
        help_session.uuid()
    )
    .fetch_one(&mut **tx)
    .await?;
    let about = About::help_session(help_session, entry.queue_id);
    log(tx, about, Event::EnterQueue { channel: entry.channel, priority: entry.priority }).await?;
    if entry.channel == Channel::Callback {
        log(tx, about, Event::CallbackRequested {}).await?;
    }
    Ok(())
}

/// How a waiting customer left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// They pressed "Leave queue" (or the API cancelled).
    Cancelled,
    /// Their page was gone for longer than the grace period.
    Abandoned,
}

/// A waiting (or being offered) customer leaves the queue. 404 when they are
/// not waiting any more.
pub async fn leave(engine: &Engine, help_session: HelpSessionId, how: Left) -> Result<(), AppError> {
    retrying(|| leave_once(engine, help_session, how)).await
}

/// One try of [`leave`].
async fn leave_once(engine: &Engine, help_session: HelpSessionId, how: Left) -> Result<(), AppError> {
    let not_waiting = || AppError::NotFound("You are not waiting in a queue.".into());
    loop {
        // If the customer is being offered, the agent's row is locked first
        // (the lock order); if the offer changes meanwhile, look again.
        let offered_to = sqlx::query!(
            r#"SELECT offered_to AS "offered_to: AgentId" FROM queue_entries WHERE help_session_id = $1"#,
            help_session.uuid()
        )
        .fetch_optional(engine.pool())
        .await?
        .ok_or_else(not_waiting)?
        .offered_to;
        let mut tx = engine.begin().await?;
        if let Some(agent) = offered_to {
            lock_agent(&mut tx, agent).await?;
        }
        let Some(entry) = sqlx::query!(
            r#"DELETE FROM queue_entries WHERE help_session_id = $1 AND offered_to IS NOT DISTINCT FROM $2
               RETURNING queue_id AS "queue_id: QueueId""#,
            help_session.uuid(),
            offered_to.map(AgentId::uuid)
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            continue;
        };
        if let Some(agent) = offered_to {
            let offer = sqlx::query!(
                r#"DELETE FROM offers WHERE help_session_id = $1
                   RETURNING channel AS "channel: Channel", transfer_from AS "transfer_from: AgentId""#,
                help_session.uuid()
            )
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(offer) = offer {
                seats::change(&mut tx, agent, offer.channel, Change::FreeLive).await?;
                // A transfer by name to this agent fails with it; the
                // representative who asked is told.
                if let Some(asked) = offer.transfer_from {
                    steps::transfer_failed(&mut tx, help_session, entry.queue_id, agent, asked, "the customer left").await?;
                }
            }
        }
        let (status, event) = match how {
            Left::Cancelled => (HelpStatus::Cancelled, Event::Cancel {}),
            Left::Abandoned => (HelpStatus::Abandoned, Event::Abandon {}),
        };
        sqlx::query!(
            "UPDATE help_sessions SET status = $2, ended_at = now() WHERE id = $1",
            help_session.uuid(),
            status.as_str()
        )
        .execute(&mut *tx)
        .await?;
        log(&mut tx, About::help_session(help_session, entry.queue_id).by(offered_to), event).await?;
        tx.commit(engine).await?;
        if let Some(agent) = offered_to {
            offering::dispatch_for_agent(engine, agent).await;
        }
        return Ok(());
    }
}

/// A session made through the API and never put in line is given up
/// (EXPIRED, with no event: it never entered a queue, so no figure counts
/// it). 404 when it is not waiting to be queued any more.
pub async fn discard(engine: &Engine, help_session: HelpSessionId) -> Result<(), AppError> {
    let discarded = sqlx::query!(
        "UPDATE help_sessions SET status = 'expired', ended_at = now() WHERE id = $1 AND status = 'created'",
        help_session.uuid()
    )
    .execute(engine.pool())
    .await?;
    if discarded.rows_affected() == 0 {
        return Err(AppError::NotFound("This help session is not waiting to be queued.".into()));
    }
    Ok(())
}

/// Customers who waited longer than their queue's maximum wait leave the
/// line (EXPIRE); their page offers a callback. Callbacks not reached in
/// time expire too.
pub async fn expire_long_waits(engine: &Engine) -> Result<usize, AppError> {
    let due = sqlx::query!(
        r#"SELECT e.help_session_id AS "help_session_id: HelpSessionId", e.queue_id AS "queue_id: QueueId"
             FROM queue_entries e JOIN queues q ON q.id = e.queue_id
            WHERE q.max_wait_seconds IS NOT NULL AND e.offered_to IS NULL AND e.channel <> 'callback'
              AND e.waiting_since < now() - make_interval(secs => q.max_wait_seconds)"#
    )
    .fetch_all(engine.pool())
    .await?;
    // A callback not reached within its window (or since it was asked
    // for, without one) and the queue's expiry after it.
    let callbacks = sqlx::query!(
        r#"SELECT e.help_session_id AS "help_session_id: HelpSessionId", e.queue_id AS "queue_id: QueueId"
             FROM queue_entries e JOIN queues q ON q.id = e.queue_id JOIN help_sessions h ON h.id = e.help_session_id
            WHERE e.channel = 'callback' AND e.offered_to IS NULL
              AND coalesce(h.callback_until, h.entered_at) < now() - make_interval(hours => q.callback_expiry_hours)"#
    )
    .fetch_all(engine.pool())
    .await?;
    let mut expired = 0;
    let due = due.into_iter().map(|e| (e.help_session_id, e.queue_id));
    for (help_session_id, queue_id) in due.chain(callbacks.into_iter().map(|e| (e.help_session_id, e.queue_id))) {
        let mut tx = engine.begin().await?;
        if expire(&mut tx, help_session_id, queue_id).await? {
            expired += 1;
        }
        tx.commit(engine).await?;
    }
    Ok(expired)
}

/// Takes a customer not being offered out of the line as expired, with
/// EXPIRE; false when they are not waiting so any more.
pub(super) async fn expire(tx: &mut Tx, help_session: HelpSessionId, queue: QueueId) -> Result<bool, AppError> {
    let removed =
        sqlx::query!("DELETE FROM queue_entries WHERE help_session_id = $1 AND offered_to IS NULL", help_session.uuid())
            .execute(&mut **tx)
            .await?;
    if removed.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!("UPDATE help_sessions SET status = 'expired', ended_at = now() WHERE id = $1", help_session.uuid())
        .execute(&mut **tx)
        .await?;
    log(tx, About::help_session(help_session, queue), Event::Expire {}).await?;
    Ok(true)
}
