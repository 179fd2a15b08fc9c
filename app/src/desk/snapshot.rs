//! The desk, read from the database in a few queries.

use sqlx::PgPool;

use super::{
    CallbackCall, ChannelSeat, CustomerCard, Desk, EarlierSession, Handover, JoinRequest, OfferCard, PastConversation, QueueLine,
    TransferChoices, TransferColleague, TransferQueue, WarmTransfer,
};
use crate::conversation::roles::Role;
use crate::engine::events::{Event, TransferStage};
use crate::error::AppError;
use crate::language::Language;
use crate::queue::{Channel, RoutingMode};
use crate::states::{AgentId, AgentState, HelpSessionId, HelpStatus, QueueId};

/// The desk of `agent` as of one moment: its reads share one read-only
/// snapshot (a customer is never shown both offered and taken).
pub async fn desk(pool: &PgPool, agent: AgentId) -> Result<Desk, AppError> {
    let agent = agent.uuid();
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let state = sqlx::query!(
        r#"SELECT s.state AS "state: AgentState", s.reason, r.display_name,
                  (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS "as_of!"
             FROM agent_states s JOIN representatives r ON r.id = s.representative_id
            WHERE s.representative_id = $1"#,
        agent
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such representative.".into()))?;
    let channels = sqlx::query!(
        "SELECT channel, ready, live, sessions, max_live, max_sessions FROM agent_channels
          WHERE representative_id = $1
          ORDER BY array_position(ARRAY['video', 'audio', 'chat', 'callback'], channel)",
        agent
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ChannelSeat {
            channel: Channel::parse(&row.channel)?,
            ready: row.ready,
            live: row.live,
            sessions: row.sessions,
            max_live: row.max_live,
            max_sessions: row.max_sessions,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let offers = sqlx::query!(
        r#"SELECT o.help_session_id AS "help_session_id: HelpSessionId", h.customer_name, h.reason, o.channel, q.name AS queue,
                  extract(epoch FROM now() - h.entered_at)::bigint AS "waited!",
                  (extract(epoch FROM o.expires_at - now()) * 1000)::bigint AS "expires_in_ms!",
                  t.display_name AS "transferred_by?", o.transfer_from IS NOT NULL AS "by_name!", h.transfer_note,
                  a.display_name AS "asked_by?", o.joins = 'consult' AS "warm?",
                  h.phone, h.attempts, q.callback_max_attempts, h.language AS "language: Language"
             FROM offers o JOIN help_sessions h ON h.id = o.help_session_id JOIN queues q ON q.id = o.queue_id
             LEFT JOIN representatives t ON t.id = h.transferred_by
             LEFT JOIN representatives a ON a.id = o.transfer_from AND o.joins IS NOT NULL
            WHERE o.representative_id = $1 ORDER BY o.offered_at"#,
        agent
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        Ok(OfferCard {
            help_session_id: row.help_session_id,
            customer_name: row.customer_name,
            reason: row.reason,
            channel: Channel::parse(&row.channel)?,
            queue: row.queue,
            waited_seconds: row.waited,
            expires_in_ms: row.expires_in_ms.max(0),
            transferred: row.transferred_by.filter(|_| row.asked_by.is_none()).map(|by| Handover {
                by,
                by_name: row.by_name,
                note: row.transfer_note,
            }),
            join_with: row.asked_by.map(|asker| JoinRequest { asker, warm: row.warm.unwrap_or(false) }),
            callback: callback_call(&row.channel, row.phone, row.attempts, row.callback_max_attempts, false),
            language: row.language,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    // Every part not wrapped up yet: live ones show the conversation's
    // status, ended ones are in wrap-up (with what became of a transfer
    // this representative made: the last TRANSFER they logged in the part).
    let customers = sqlx::query!(
        r#"SELECT h.id AS "id: HelpSessionId", h.customer_name, h.identified, h.verified_email, h.reason, h.channel, h.phone,
                  h.language AS "language: Language",
                  q.name AS queue,
                  CASE WHEN p.left_at IS NULL THEN h.status ELSE 'wrap_up' END AS "status!: HelpStatus",
                  p.role AS "role: Role",
                  CASE WHEN p.left_at IS NULL AND h.parts > 1
                       THEN ARRAY(SELECT r.display_name || CASE WHEN o.role = 'agent' THEN '' ELSE ' (colleague)' END
                                    FROM participants o JOIN representatives r ON r.id = o.representative_id
                                   WHERE o.help_session_id = h.id AND o.left_at IS NULL AND o.representative_id <> $1
                                   ORDER BY o.joined_at)
                       ELSE '{}' END AS "others!",
                  CASE WHEN p.left_at IS NOT NULL
                       THEN greatest(0, q.wrap_up_seconds - extract(epoch FROM now() - p.left_at))::bigint END
                       AS wrap_up_left,
                  t.display_name AS "transferred_by?", h.transfer_note,
                  coalesce(h.transferred_by <> $1, false) AS "transferred_here!",
                  CASE WHEN p.left_at IS NULL AND p.role = 'agent' AND h.parts > 1 THEN
                      (SELECT r.display_name FROM participants o JOIN representatives r ON r.id = o.representative_id
                        WHERE o.help_session_id = h.id AND o.role = 'consult' AND o.left_at IS NULL)
                  END AS "consulting?",
                  CASE WHEN p.left_at IS NULL AND p.asked THEN
                      (SELECT r.display_name FROM offers o JOIN representatives r ON r.id = o.representative_id
                        WHERE o.help_session_id = h.id AND o.joins = 'consult')
                  END AS "consult_asked?",
                  -- Only a part that asked for something looks for it.
                  CASE WHEN p.asked THEN
                      (SELECT jsonb_build_object(
                                  'kind', e.kind, 'detail', e.detail,
                                  'to_queue', (SELECT name FROM queues WHERE id = (e.detail->>'to_queue')::uuid),
                                  'to_agent', (SELECT display_name FROM representatives
                                                WHERE id = (e.detail->>'to_agent')::uuid))
                         FROM events e
                        WHERE e.help_session_id = h.id AND e.kind IN ('TRANSFER', 'CONFERENCE')
                          AND e.representative_id = $1 AND e.at >= p.joined_at
                        ORDER BY e.id DESC LIMIT 1)
                  END AS "asked?: sqlx::types::Json<Asked>",
                  extract(epoch FROM now() - CASE WHEN p.left_at IS NOT NULL THEN p.left_at ELSE
                      greatest(p.joined_at, (SELECT max(e.at) FROM events e
                                              WHERE e.help_session_id = h.id AND e.kind IN ('HOLD', 'RESUME'))) END
                  )::bigint AS "status_seconds!",
                  extract(epoch FROM coalesce(h.answered_at, now()) - h.entered_at)::bigint AS "waited_seconds!",
                  p.left_at IS NULL AND NOT q.hide_monitoring
                      AND EXISTS (SELECT 1 FROM supervisions s WHERE s.help_session_id = h.id
                                     AND s.left_at IS NULL AND s.role = 'monitor') AS "monitored!",
                  sv.name AS "supervisor_name?", sv.role AS "supervisor_role?: Role",
                  h.attempts, q.callback_max_attempts, h.reached_at IS NOT NULL AS "reached!"
             FROM participants p
             JOIN help_sessions h ON h.id = p.help_session_id
             JOIN queues q ON q.id = p.queue_id
             LEFT JOIN representatives t ON t.id = h.transferred_by
             LEFT JOIN LATERAL (SELECT r.display_name AS name, s.role FROM supervisions s
                                  JOIN representatives r ON r.id = s.supervisor_id
                                 WHERE s.help_session_id = h.id AND s.left_at IS NULL AND p.left_at IS NULL
                                   AND s.role IN ('whisper', 'barge')) sv ON true
            WHERE p.representative_id = $1 AND p.wrapped_at IS NULL
            ORDER BY p.joined_at"#,
        agent
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        let outcome = row.asked.and_then(|asked| {
            let Asked { kind, detail, to_queue, to_agent } = asked.0;
            let event = Event::from_columns(&kind, detail).ok()?;
            outcome(&event, to_queue.as_deref().unwrap_or("the queue"), to_agent.as_deref())
        });
        Ok(CustomerCard {
            help_session_id: row.id,
            customer_name: row.customer_name,
            language: row.language,
            identified: row.identified,
            verified_email: row.verified_email,
            reason: row.reason,
            channel: Channel::parse(&row.channel)?,
            phone: row.phone.clone(),
            queue: row.queue,
            status: row.status,
            wrap_up_left_seconds: row.wrap_up_left,
            transferred: row.transferred_by.filter(|_| row.transferred_here).map(|by| Handover {
                by,
                by_name: false,
                note: row.transfer_note,
            }),
            outcome,
            warm_transfer: match (row.consulting, row.consult_asked) {
                (Some(colleague), _) => Some(WarmTransfer { colleague, joined: true }),
                (None, Some(colleague)) => Some(WarmTransfer { colleague, joined: false }),
                (None, None) => None,
            },
            role: row.role,
            others: row.others,
            status_seconds: row.status_seconds.max(0),
            waited_seconds: row.waited_seconds.max(0),
            monitored: row.monitored,
            supervisor: row.supervisor_name.zip(row.supervisor_role),
            callback: callback_call(&row.channel, row.phone.clone(), row.attempts, row.callback_max_attempts, row.reached),
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let queues = sqlx::query!(
        r#"SELECT q.id AS "id: QueueId", q.name, q.routing_mode,
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id) AS "waiting!"
             FROM queues q JOIN queue_members m ON m.queue_id = q.id
            WHERE m.representative_id = $1 ORDER BY lower(q.name)"#,
        agent
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        Ok(QueueLine { id: row.id, name: row.name, routing_mode: RoutingMode::parse(&row.routing_mode)?, waiting: row.waiting })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    let recent = sqlx::query!(
        r#"SELECT h.id AS "id: HelpSessionId", h.customer_name, h.channel, p.left_at AS "ended_at!", p.disposition, p.note,
                  h.rating, h.rating_comment, CASE WHEN h.channel = 'callback' THEN h.attempts END AS calls,
                  CASE WHEN h.parts > 1
                       THEN ARRAY(SELECT r.display_name FROM participants o JOIN representatives r ON r.id = o.representative_id
                                   WHERE o.help_session_id = h.id AND o.role IN ('agent', 'conference')
                                   GROUP BY r.id, r.display_name ORDER BY min(o.joined_at))
                       ELSE ARRAY[$2] END AS "representatives!"
             FROM participants p JOIN help_sessions h ON h.id = p.help_session_id
            WHERE p.representative_id = $1 AND p.wrapped_at IS NOT NULL AND p.role IN ('agent', 'conference')
            ORDER BY p.wrapped_at DESC LIMIT 10"#,
        agent,
        state.display_name
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|row| {
        Ok(PastConversation {
            help_session_id: row.id,
            customer_name: row.customer_name,
            channel: Channel::parse(&row.channel)?,
            ended_at: row.ended_at.format(time::macros::format_description!("[hour]:[minute]")).unwrap_or_default(),
            disposition: row.disposition.filter(|d| !d.is_empty()),
            note: row.note.filter(|n| !n.is_empty()),
            rating: row.rating,
            rating_comment: row.rating_comment,
            representatives: row.representatives,
            calls: row.calls,
        })
    })
    .collect::<Result<Vec<_>, AppError>>()?;
    tx.commit().await?;
    Ok(Desk { as_of: state.as_of, state: state.state, reason: state.reason, channels, offers, customers, queues, recent })
}

/// The last transfer or request to join a part made, with its target's
/// names.
#[derive(Debug, serde::Deserialize)]
struct Asked {
    kind: String,
    detail: serde_json::Value,
    to_queue: Option<String>,
    to_agent: Option<String>,
}

/// What became of a transfer or a request to join, for the desk of the
/// representative who made it; `None` for other events.
fn outcome(event: &Event, to_queue: &str, to_agent: Option<&str>) -> Option<String> {
    let colleague = to_agent.unwrap_or("Your colleague");
    if let Event::Conference { stage, reason, .. } = event {
        return Some(match stage {
            TransferStage::Requested => format!("Asking {colleague} to join…"),
            TransferStage::Accepted | TransferStage::Completed => format!("{colleague} joined."),
            TransferStage::Cancelled => format!("{colleague} is no longer asked to join."),
            TransferStage::Failed => match reason.as_deref() {
                Some("declined") => format!("{colleague} declined to join."),
                Some("missed") => format!("{colleague} did not answer."),
                Some("logged out") => format!("{colleague} logged out."),
                _ => format!("{colleague} could not join."),
            },
        });
    }
    let Event::Transfer { stage, reason, warm, .. } = event else { return None };
    if *warm {
        return Some(match stage {
            TransferStage::Requested => format!("Asking {colleague} to take the customer over…"),
            TransferStage::Accepted => format!("{colleague} joined: the customer is on hold while you talk."),
            TransferStage::Completed => format!("{colleague} took the customer over."),
            TransferStage::Cancelled => "Transfer cancelled: the customer is back with you.".to_owned(),
            TransferStage::Failed => match reason.as_deref() {
                Some("declined") => format!("{colleague} declined the transfer."),
                Some("missed") => format!("{colleague} did not answer."),
                _ => format!("{colleague} could not take the customer."),
            },
        });
    }
    Some(match (stage, to_agent) {
        (TransferStage::Requested, None) => format!("Transferred to {to_queue}."),
        (TransferStage::Requested, Some(name)) => format!("Transferring to {name}: waiting for them to accept."),
        (TransferStage::Accepted | TransferStage::Completed, _) => format!("{colleague} took the customer."),
        (TransferStage::Cancelled, _) => "Transfer cancelled.".to_owned(),
        (TransferStage::Failed, _) => {
            let what = match reason.as_deref() {
                Some("declined") => format!("{colleague} declined"),
                Some("missed") => format!("{colleague} did not answer"),
                Some("logged out") => format!("{colleague} logged out"),
                Some("the customer left") => return Some(format!("The customer left before {colleague} answered.")),
                _ => format!("{colleague} could not take the customer"),
            };
            format!("{what}: the customer is back at the front of {to_queue}'s line.")
        }
    })
}

/// 404 unless the help session is this agent's (a part not wrapped up).
pub async fn own(pool: &PgPool, agent: AgentId, help_session: HelpSessionId) -> Result<(), AppError> {
    let mine = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM participants
                           WHERE help_session_id = $1 AND representative_id = $2 AND wrapped_at IS NULL) AS "mine!""#,
        help_session.uuid(),
        agent.uuid()
    )
    .fetch_one(pool)
    .await?;
    if mine {
        Ok(())
    } else {
        Err(AppError::NotFound("This is not one of your customers.".into()))
    }
}

/// Every queue that takes the conversation's channel, with its line and
/// who is READY, and every other signed-in representative.
pub async fn transfer_targets(pool: &PgPool, agent: AgentId, help_session: HelpSessionId) -> Result<TransferChoices, AppError> {
    let channel =
        sqlx::query_scalar!(r#"SELECT channel AS "channel: Channel" FROM help_sessions WHERE id = $1"#, help_session.uuid())
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query!(
        r#"SELECT q.id AS "id: QueueId", q.name,
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id) AS "waiting!",
                  (SELECT count(*) FROM queue_entries e WHERE e.queue_id = q.id AND e.channel = $1) AS "on_channel!"
             FROM queues q WHERE $1 = ANY (q.channels) ORDER BY lower(q.name)"#,
        channel.as_str()
    )
    .fetch_all(pool)
    .await?;
    let mut queues = Vec::with_capacity(rows.len());
    for row in rows {
        let numbers = crate::customer::view::numbers(pool, row.id).await?;
        let estimate = match numbers.waiting(
            channel,
            crate::customer::view::Spot { position: row.waiting + 1, ahead: row.on_channel, offered: false },
            None,
            Default::default(),
        ) {
            crate::customer::CustomerView::Waiting { estimate, .. } => estimate,
            _ => String::new(),
        };
        queues.push(TransferQueue { id: row.id, name: row.name, waiting: row.waiting, ready: numbers.ready, estimate });
    }
    let colleagues = sqlx::query!(
        r#"SELECT r.id AS "id: AgentId", r.display_name, s.state AS "state: AgentState", s.reason
             FROM representatives r JOIN agent_states s ON s.representative_id = r.id
            WHERE r.id <> $1 AND NOT r.disabled AND s.state <> 'LOGGED_OUT'
            ORDER BY lower(r.display_name)"#,
        agent.uuid()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| TransferColleague { id: row.id, name: row.display_name, state: row.state, reason: row.reason })
    .collect();
    Ok(TransferChoices { queues, colleagues })
}

/// The other help sessions of the customer with the same phone number as
/// `help_session`'s, newest first (none when they gave no number).
pub async fn earlier_sessions(pool: &PgPool, help_session: HelpSessionId) -> Result<Vec<EarlierSession>, AppError> {
    sqlx::query!(
        r#"SELECT o.id AS "id: HelpSessionId", o.entered_at, o.channel AS "channel: Channel", q.name AS queue,
                  o.status AS "status: HelpStatus", o.reason, o.rating,
                  ARRAY(SELECT r.display_name FROM participants p JOIN representatives r ON r.id = p.representative_id
                         WHERE p.help_session_id = o.id AND p.role IN ('agent', 'conference')
                         GROUP BY r.id, r.display_name ORDER BY min(p.joined_at)) AS "representatives!",
                  last.disposition AS "disposition?", last.note AS "note?"
             FROM help_sessions h
             JOIN help_sessions o ON o.phone = h.phone AND o.id <> h.id
             JOIN queues q ON q.id = o.queue_id
             LEFT JOIN LATERAL (SELECT p.disposition, p.note FROM participants p
                                 WHERE p.help_session_id = o.id AND p.wrapped_at IS NOT NULL
                                 ORDER BY p.wrapped_at DESC LIMIT 1) last ON true
            WHERE h.id = $1
            ORDER BY o.entered_at DESC LIMIT 10"#,
        help_session.uuid()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        Ok(EarlierSession {
            help_session_id: row.id,
            asked_at: row
                .entered_at
                .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"))
                .unwrap_or_default(),
            channel: row.channel,
            queue: row.queue,
            status: row.status,
            reason: row.reason,
            representatives: row.representatives,
            disposition: row.disposition.filter(|d| !d.is_empty()),
            note: row.note.filter(|n| !n.is_empty()),
            rating: row.rating,
        })
    })
    .collect()
}

/// Who owns the help session's conversation now (or last did).
pub async fn owner(pool: &PgPool, help_session: HelpSessionId) -> Result<Option<AgentId>, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT agent_id AS "agent: AgentId" FROM help_sessions WHERE id = $1"#, help_session.uuid())
        .fetch_optional(pool)
        .await?
        .flatten())
}

/// A callback's call, for a session on the callback channel with a number.
fn callback_call(channel: &str, phone: Option<String>, attempts: i32, max_attempts: i32, reached: bool) -> Option<CallbackCall> {
    phone.filter(|_| channel == Channel::Callback.as_str()).map(|phone| CallbackCall { phone, attempts, max_attempts, reached })
}
